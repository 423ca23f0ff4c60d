/* Load generator for the demo server benchmark (C, so that it is not the bottleneck).
 * Usage: loadgen <host> <port> <connections> <warmup_ms> <measure_ms> <server_pid> [idle]
 * Opens <connections> TCP connections (at most 256 at a time not yet welcomed), waits for every "Welcome", then
 * drives them all in lock-step (send a message, wait for its answer, send the next) on one epoll loop. After the
 * warm-up it counts the answers for <measure_ms> and reads the server's CPU time (utime + stime from /proc/<pid>/stat, its child processes' included) at the
 * start and end of that window. Prints one JSON line.
 * With "idle": connects and takes the Welcomes, prints a JSON line, then holds the connections open, idle,
 * until killed (for the server's memory per connection).
 * Latency: each answer's time since its message was sent, over the measured window, reported as p50 and p99 in
 * microseconds. RLIMIT_NOFILE is raised to its hard limit first, so that 10000 connections fit.
 * SIGUSR1 makes it print "answers N" on stderr, N the answers received so far (scripts/bench/instr.js counts the
 * messages of its own window that way). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t report_requested = 0;
static void on_report(int sig) {
  (void)sig;
  report_requested = 1;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* utime + stime of one process, in clock ticks. */
static long long own_cpu_ticks(int pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (!p) return -1;
  long long utime = 0, stime = 0;
  /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2) return -1;
  return utime + stime;
}

/* utime + stime of a process and its descendants (the child processes of --io prefork), in clock ticks: the
 * children listed in /proc/<pid>/task/<tid>/children, for each thread. */
static long long cpu_ticks(int pid) {
  long long total = own_cpu_ticks(pid);
  if (total < 0) return -1;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", pid);
  DIR* tasks = opendir(path);
  if (!tasks) return total;
  struct dirent* t;
  while ((t = readdir(tasks)) != NULL) {
    if (t->d_name[0] == '.') continue;
    char cpath[320];
    snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", pid, t->d_name);
    FILE* f = fopen(cpath, "r");
    if (!f) continue;
    int child;
    while (fscanf(f, "%d", &child) == 1) {
      long long c = cpu_ticks(child);
      if (c > 0) total += c; /* a child that exited meanwhile counts no more */
    }
    fclose(f);
  }
  closedir(tasks);
  return total;
}

enum { CONNECTING, WELCOME, WAITING };
struct conn { int fd; int state; int got; double sent; };

static int cmp_float(const void* a, const void* b) {
  float x = *(const float*)a, y = *(const float*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 7) { fprintf(stderr, "usage: %s host port connections warmup_ms measure_ms server_pid\n", argv[0]); return 2; }
  const char* host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]), server_pid = atoi(argv[6]);
  int idle = argc > 7 && strcmp(argv[7], "idle") == 0;
  double warmup = atof(argv[4]), measure = atof(argv[5]);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  size_t lat_n = 0, lat_cap = 1 << 16;
  float* lat = malloc(lat_cap * sizeof(float)); /* microseconds, answers in the measured window */
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn* conns = calloc(n, sizeof(struct conn));
  int errors = 0, refused = 0;
  /* Connections are opened a batch at a time: at most kInFlight connected but not yet welcomed. Opening 10000 at
   * once overflows the server's accept queue; with SYN cookies the kernel then drops the last ACK of handshakes
   * the client already saw complete, and those clients wait for ever for a Welcome. */
  const int kInFlight = 256;
  int opened = 0, started = 0;
  struct epoll_event* evs = calloc(n, sizeof(struct epoll_event));
  char buf[4096];
  long long counted = 0, total = 0;
  int welcomed = 0, alive = n;
  double start = now_ms(), t0 = 0, t_end = 0;
  long long cpu0 = -1, cpu1 = -1;
  int measuring = 0;
  struct sigaction report = { .sa_handler = on_report }; /* no SA_RESTART: epoll_wait returns at once */
  sigemptyset(&report.sa_mask);
  sigaction(SIGUSR1, &report, NULL);
  for (;;) {
    double t = now_ms();
    if (report_requested) {
      report_requested = 0;
      fprintf(stderr, "answers %lld\n", total);
    }
    if (idle && welcomed + refused >= n) {
      printf("{\"connections\":%d,\"welcomed\":%d,\"refused\":%d}\n", n, welcomed, refused);
      fflush(stdout);
      for (;;) pause();
    }
    while (opened < n && opened - (welcomed + refused) < kInFlight) {
      int i = opened++;
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) { perror("socket"); return 1; }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (connect(fd, (struct sockaddr*)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) { perror("connect"); return 1; }
      conns[i].fd = fd;
      conns[i].state = WELCOME;
      struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (unsigned)i };
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
    if (!started && welcomed + refused >= n && !idle) {
      /* Everyone is in: start the lock-step traffic, all clients at once. Before this the server only accepts,
       * so a server busy answering early clients cannot starve its own accept loop. */
      started = 1;
      for (int i = 0; i < opened; i++) {
        if (conns[i].fd < 0 || conns[i].state != WAITING) continue;
        conns[i].sent = now_ms();
        if (send(conns[i].fd, "hello", 5, MSG_NOSIGNAL) != 5) errors++;
      }
    }
    if (!measuring && welcomed + refused >= n && t0 == 0) t0 = t + warmup; /* warm-up starts once all are in */
    if (!measuring && t0 != 0 && t >= t0) { measuring = 1; counted = 0; cpu0 = cpu_ticks(server_pid); t_end = t + measure; t0 = t; }
    if (measuring && t >= t_end) { cpu1 = cpu_ticks(server_pid); break; }
    if (t - start > 60000 + warmup + measure) { fprintf(stderr, "loadgen: timed out (%d of %d welcomed)\n", welcomed, n); break; }
    if (alive == 0) break;
    int r = epoll_wait(ep, evs, n, 50);
    for (int k = 0; k < r; k++) { /* r is -1 (EINTR) after a SIGUSR1: nothing to do until the next turn */
      struct conn* c = &conns[evs[k].data.u32];
      ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        if (c->state == WELCOME) refused++; else errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        alive--;
        continue;
      }
      if (c->state == WELCOME) {
        c->got += got;
        if (c->got < 7) continue; /* "Welcome" may come in pieces */
        c->state = WAITING;
        welcomed++;
        continue; /* its first message goes when everyone is in */
      } else {
        total++;
        if (measuring) {
          counted++;
          if (lat_n == lat_cap) {
            lat_cap *= 2;
            lat = realloc(lat, lat_cap * sizeof(float));
            if (!lat) { perror("realloc"); return 1; }
          }
          lat[lat_n++] = (float)((now_ms() - c->sent) * 1e3);
        }
      }
      c->sent = now_ms();
      if (!idle && send(c->fd, "hello", 5, MSG_NOSIGNAL) != 5) errors++;
    }
  }
  double seconds = measuring ? (now_ms() - t0) / 1e3 : 0;
  long hz = sysconf(_SC_CLK_TCK);
  double cpu_s = (cpu0 >= 0 && cpu1 >= 0) ? (double)(cpu1 - cpu0) / hz : -1;
  double p50 = -1, p99 = -1;
  if (lat_n > 0) {
    qsort(lat, lat_n, sizeof(float), cmp_float);
    p50 = lat[(size_t)(0.50 * (lat_n - 1))];
    p99 = lat[(size_t)(0.99 * (lat_n - 1))];
  }
  printf("{\"connections\":%d,\"welcomed\":%d,\"refused\":%d,\"errors\":%d,\"messages\":%lld,\"seconds\":%.3f,"
         "\"serverCpuSeconds\":%.3f,\"p50Us\":%.1f,\"p99Us\":%.1f}\n", n, welcomed, refused, errors, counted, seconds, cpu_s,
         p50, p99);
  free(lat);
  for (int i = 0; i < opened; i++) if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
