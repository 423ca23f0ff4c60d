/* The C reference for the readiness benchmark: the same system calls sockfd makes, from C, in the same run.
 * Usage: readiness <select|poll|epoll> <N> <iterations> <repeats>
 * Watches N fds for reading: N-1 idle unbound UDP sockets and one end of a socketpair with a byte waiting,
 * so exactly one is ready; each call has timeout 0. Prints one JSON line: the best ns per call over repeats
 * (each repeat times <iterations> calls), and the median.
 * With a fifth argument "threaded", an idle second thread exists during the run, as in any Node process
 * (V8 and libuv start several): the kernel then takes a reference on each fd it polls (fdget's shortcut is
 * for single-threaded processes only), which makes select and poll dearer per fd whoever calls them. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s select|poll|epoll N iterations repeats\n", argv[0]); return 2; }
  const char* call = argv[1];
  int n = atoi(argv[2]), iters = atoi(argv[3]), repeats = atoi(argv[4]);
  int threaded = argc > 5 && strcmp(argv[5], "threaded") == 0;
  if (threaded && start_idle_thread() != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
  int* fds = calloc(n, sizeof(int));
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) { perror("socketpair"); return 1; }
  if (write(pair[1], "x", 1) != 1) { perror("write"); return 1; }
  for (int i = 0; i < n - 1; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0) { perror("socket"); return 1; }
  }
  fds[n - 1] = pair[0];
  int maxfd = 0;
  for (int i = 0; i < n; i++) if (fds[i] > maxfd) maxfd = fds[i];
  if (strcmp(call, "select") == 0 && maxfd >= FD_SETSIZE) { printf("{\"call\":\"select\",\"n\":%d,\"refused\":true}\n", n); return 0; }

  fd_set master; FD_ZERO(&master);
  struct pollfd* pfds = calloc(n, sizeof(struct pollfd));
  int epfd = -1;
  struct epoll_event* evs = calloc(n, sizeof(struct epoll_event));
  for (int i = 0; i < n; i++) {
    if (strcmp(call, "select") == 0) FD_SET(fds[i], &master);
    pfds[i].fd = fds[i]; pfds[i].events = POLLIN;
  }
  if (strcmp(call, "epoll") == 0) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n; i++) {
      struct epoll_event e = { .events = EPOLLIN, .data.fd = fds[i] };
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &e) < 0) { perror("epoll_ctl"); return 1; }
    }
  }
  double* results = calloc(repeats, sizeof(double));
  volatile long sink = 0;
  for (int r = 0; r < repeats; r++) {
    double t0 = now_ns();
    for (int it = 0; it < iters; it++) {
      int ready = 0;
      if (call[0] == 's') {
        fd_set rs; memcpy(&rs, &master, sizeof(rs));
        struct timeval tv = {0, 0};
        int rc = select(maxfd + 1, &rs, NULL, NULL, &tv);
        /* find the ready fds, as a caller must */
        for (int i = 0, found = 0; i < n && found < rc; i++) if (FD_ISSET(fds[i], &rs)) { ready = fds[i]; found++; }
      } else if (call[0] == 'p') {
        int rc = poll(pfds, n, 0);
        for (int i = 0, found = 0; i < n && found < rc; i++) if (pfds[i].revents) { ready = pfds[i].fd; found++; }
      } else {
        int rc = epoll_wait(epfd, evs, n, 0);
        for (int i = 0; i < rc; i++) ready = evs[i].data.fd;
      }
      sink += ready;
    }
    results[r] = (now_ns() - t0) / iters;
  }
  qsort(results, repeats, sizeof(double), cmp);
  printf("{\"call\":\"%s\",\"n\":%d,\"threaded\":%s,\"best\":%.1f,\"median\":%.1f}\n", call, n,
         threaded ? "true" : "false", results[0], results[repeats / 2]);
  return sink == -1;
}
