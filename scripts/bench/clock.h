/* What the C benchmark programs that time system calls against Node's share (readiness.c, crossing.c): a
 * monotonic clock in ns, and an idle second thread, as every Node process has (V8 and libuv start several). The
 * thread matters: in a multi-threaded process the kernel takes a reference on the fd of each call (fdget's
 * shortcut is for single-threaded processes only), which makes select and poll dearer per fd, and any call on
 * an fd a little dearer, whoever makes it. Included by file name, from the including file's directory: each
 * program still compiles from its one .c file (servers.js's compile(), with -pthread). */
#ifndef SOCKFD_BENCH_CLOCK_H
#define SOCKFD_BENCH_CLOCK_H
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void* idle_thread(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

/* Starts the idle thread; 0, or pthread_create's error. */
static int start_idle_thread(void) {
  pthread_t t;
  return pthread_create(&t, NULL, idle_thread, NULL);
}
#endif
