/* Load generator for the demo server benchmark (C, so that it is not the bottleneck).
 * Usage: loadgen <host> <port> <connections> <warmup_ms> <measure_ms> <server_pid> [idle]
 * Opens <connections> TCP connections (at most 256 at a time not yet welcomed), waits for every "Welcome", then
 * drives them all in lock-step (send a message, wait for its answer, send the next) on one epoll loop. After the
 * warm-up it counts the answers for <measure_ms> and reads the server's CPU time (utime + stime from /proc/<pid>/stat, its child processes' included) at the
 * start and end of that window. Prints one JSON line.
 * With "idle": connects and takes the Welcomes, prints a JSON line, then holds the connections open, idle,
 * until killed (for the server's memory per connection).
 * Latency: each answer's time since its message was sent, over the measured window, reported as p50 and p99 in
 * microseconds. RLIMIT_NOFILE is raised first (below), so that 10000 connections fit.
 * SIGUSR1 makes it print "answers N" on stderr, N the answers received so far (scripts/bench/instr.js counts the
 * messages of its own window that way).
 *
 * Paired: loadgen <host> <port> <connections> <warmup_ms> <measure_ms> <server_pid> pair <port2> <pid2> <slice_ms>
 * drives two servers in turns, <connections> clients each: one server's clients for a slice of <slice_ms>, then,
 * once its answers in flight have all come back, the other's, and so on (the idle server waits in its poll).
 * The measured window is whole turns, from an instant when both are idle to another: each server's CPU, answers
 * and latency are then its own, and both were measured through the same minutes. On a shared machine whose
 * speed drifts by tens of percent over minutes, two servers measured in turns compare far more steadily than
 * two measured one after the other. Prints one JSON line with "a" and "b", each as in the single form, "seconds"
 * being the time its own turns took. */
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

static int cmp_float(const void* a, const void* b) {
  float x = *(const float*)a, y = *(const float*)b;
  return (x > y) - (x < y);
}

enum { CONNECTING, WELCOME, WAITING };
/* busy: a message sent, its answer not yet back. */
struct conn { int fd; int state; int got; int busy; double sent; };

/* One server under load: its clients are conns[first .. first + n - 1]. */
struct target {
  int pid;
  int first;
  int busy;               /* its clients with a message in flight */
  long long counted;      /* answers in the measured window */
  double active_ms;       /* the measured window's time in its turns */
  long long cpu;          /* its CPU time in them, in clock ticks */
  int cpu_failed;         /* a reading of it failed: cpu is unknown */
  long long cpu0;         /* at the start of its current turn (or of the window) */
  size_t lat_n, lat_cap;
  float* lat;             /* microseconds, answers in the measured window */
};

static int send_message(struct conn* c, struct target* t) {
  c->sent = now_ms();
  c->busy = 1;
  t->busy++;
  return send(c->fd, "hello", 5, MSG_NOSIGNAL) == 5;
}

static void print_target(const struct target* t, int n, int welcomed, int refused, int errors, double seconds, long hz) {
  double cpu_s = t->cpu_failed ? -1 : (double)t->cpu / hz;
  double p50 = -1, p99 = -1;
  if (t->lat_n > 0) {
    qsort(t->lat, t->lat_n, sizeof(float), cmp_float);
    p50 = t->lat[(size_t)(0.50 * (t->lat_n - 1))];
    p99 = t->lat[(size_t)(0.99 * (t->lat_n - 1))];
  }
  printf("{\"connections\":%d,\"welcomed\":%d,\"refused\":%d,\"errors\":%d,\"messages\":%lld,\"seconds\":%.3f,"
         "\"serverCpuSeconds\":%.3f,\"p50Us\":%.1f,\"p99Us\":%.1f}", n, welcomed, refused, errors, t->counted, seconds, cpu_s,
         p50, p99);
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s host port connections warmup_ms measure_ms server_pid [idle | pair port2 pid2 slice_ms]\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]), server_pid = atoi(argv[6]);
  int idle = argc > 7 && strcmp(argv[7], "idle") == 0;
  int paired = argc > 7 && strcmp(argv[7], "pair") == 0;
  if (paired && argc < 11) { fprintf(stderr, "loadgen: pair takes port2 pid2 slice_ms\n"); return 2; }
  double warmup = atof(argv[4]), measure = atof(argv[5]), slice = paired ? atof(argv[10]) : 0;
  int nt = paired ? 2 : 1; /* targets */
  int all = nt * n;        /* clients, all targets' */
  /* RLIMIT_NOFILE: raised to its hard limit, and the hard limit itself where it is too low for every client and
   * the process may raise it (root, as here: a paired run of 10000 connections needs 20000 fds and more). */
  struct rlimit rl;
  rlim_t want = (rlim_t)all + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_max < want) {
      struct rlimit more = { want, want };
      if (setrlimit(RLIMIT_NOFILE, &more) == 0) rl = more;
    }
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
      fprintf(stderr, "loadgen: %d clients need %lu fds; RLIMIT_NOFILE allows %lu (raise its hard limit)\n", all,
              (unsigned long)want, (unsigned long)rl.rlim_cur);
      return 1;
    }
  }
  struct target tg[2];
  struct sockaddr_in sa[2];
  int welcomed_of[2] = {0, 0}, refused_of[2] = {0, 0}, errors_of[2] = {0, 0};
  for (int k = 0; k < nt; k++) {
    memset(&tg[k], 0, sizeof(tg[k]));
    tg[k].pid = k == 0 ? server_pid : atoi(argv[9]);
    tg[k].first = k * n;
    tg[k].cpu0 = -1;
    tg[k].lat_cap = 1 << 16;
    tg[k].lat = malloc(tg[k].lat_cap * sizeof(float));
    memset(&sa[k], 0, sizeof(sa[k]));
    sa[k].sin_family = AF_INET;
    sa[k].sin_port = htons(k == 0 ? port : atoi(argv[8]));
    inet_pton(AF_INET, host, &sa[k].sin_addr);
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn* conns = calloc(all, sizeof(struct conn));
  int errors = 0, refused = 0;
  /* Connections are opened a batch at a time: at most kInFlight connected but not yet welcomed. Opening 10000 at
   * once overflows the server's accept queue; with SYN cookies the kernel then drops the last ACK of handshakes
   * the client already saw complete, and those clients wait for ever for a Welcome. */
  const int kInFlight = 256;
  int opened = 0, started = 0;
  struct epoll_event* evs = calloc(all, sizeof(struct epoll_event));
  char buf[4096];
  long long total = 0;
  int welcomed = 0, alive = all;
  double start = now_ms(), t0 = 0, t_end = 0;
  int measuring = 0;
  /* Paired: whose turn it is, whether that turn is ending (its clients send no more; the turn passes once the
   * answers in flight are back), and when it began and ends. */
  int act = 0, ending = 0;
  double turn_start = 0, turn_end = 0;
  struct sigaction report = { .sa_handler = on_report }; /* no SA_RESTART: epoll_wait returns at once */
  sigemptyset(&report.sa_mask);
  sigaction(SIGUSR1, &report, NULL);
  for (;;) {
    double t = now_ms();
    if (report_requested) {
      report_requested = 0;
      fprintf(stderr, "answers %lld\n", total);
    }
    if (idle && welcomed + refused >= all) {
      printf("{\"connections\":%d,\"welcomed\":%d,\"refused\":%d}\n", n, welcomed, refused);
      fflush(stdout);
      for (;;) pause();
    }
    while (opened < all && opened - (welcomed + refused) < kInFlight) {
      int i = opened++;
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) { perror("socket"); return 1; }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (connect(fd, (struct sockaddr*)&sa[i / n], sizeof(sa[0])) < 0 && errno != EINPROGRESS) { perror("connect"); return 1; }
      conns[i].fd = fd;
      conns[i].state = WELCOME;
      struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (unsigned)i };
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
    if (!started && welcomed + refused >= all && !idle) {
      /* Everyone is in: start the lock-step traffic, all clients (of the first target) at once. Before this the
       * servers only accept, so a server busy answering early clients cannot starve its own accept loop. */
      started = 1;
      turn_start = now_ms();
      turn_end = turn_start + slice;
      for (int i = tg[act].first; i < tg[act].first + n; i++) {
        if (conns[i].fd < 0 || conns[i].state != WAITING) continue;
        if (!send_message(&conns[i], &tg[act])) { errors++; errors_of[act]++; }
      }
    }
    if (!paired) {
      if (!measuring && welcomed + refused >= n && t0 == 0) t0 = t + warmup; /* warm-up starts once all are in */
      if (!measuring && t0 != 0 && t >= t0) { measuring = 1; tg[0].cpu0 = cpu_ticks(server_pid); t_end = t + measure; t0 = t; }
      if (measuring && t >= t_end) {
        long long cpu1 = cpu_ticks(server_pid);
        if (tg[0].cpu0 < 0 || cpu1 < 0) tg[0].cpu_failed = 1;
        else tg[0].cpu = cpu1 - tg[0].cpu0;
        break;
      }
    } else if (started) {
      if (t0 == 0) t0 = t + warmup;
      if (!ending && t >= turn_end) ending = 1;
      if (ending && tg[act].busy == 0) {
        /* Both servers idle: the turn passes. The measured window opens and closes at such an instant, before
         * the first target's turn, so that it holds whole turns of each. A server's CPU time is counted in its
         * own turns only: what a model spends while it waits for clients that send nothing (nonblocking's
         * passes) is not part of its cost per message under load. */
        double now = now_ms();
        if (measuring) {
          struct target* done = &tg[act];
          long long cpu1 = cpu_ticks(done->pid);
          done->active_ms += now - turn_start;
          if (done->cpu0 < 0 || cpu1 < 0) done->cpu_failed = 1;
          else done->cpu += cpu1 - done->cpu0;
        }
        act = 1 - act;
        if (act == 0 && !measuring && now >= t0) {
          measuring = 1;
          t_end = now + measure;
        } else if (act == 0 && measuring && now >= t_end) {
          break;
        }
        if (measuring) tg[act].cpu0 = cpu_ticks(tg[act].pid);
        ending = 0;
        turn_start = now_ms();
        turn_end = turn_start + slice;
        for (int i = tg[act].first; i < tg[act].first + n; i++) {
          if (conns[i].fd < 0 || conns[i].state != WAITING) continue;
          if (!send_message(&conns[i], &tg[act])) { errors++; errors_of[act]++; }
        }
      }
    }
    if (t - start > 60000 + warmup + 2 * measure) { fprintf(stderr, "loadgen: timed out (%d of %d welcomed)\n", welcomed, all); break; }
    if (alive == 0) break;
    int r = epoll_wait(ep, evs, all, 50);
    for (int k = 0; k < r; k++) { /* r is -1 (EINTR) after a SIGUSR1: nothing to do until the next turn */
      int i = (int)evs[k].data.u32;
      struct conn* c = &conns[i];
      struct target* tc = &tg[i / n];
      ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        if (c->state == WELCOME) { refused++; refused_of[i / n]++; } else { errors++; errors_of[i / n]++; }
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        if (c->busy) { c->busy = 0; tc->busy--; }
        alive--;
        continue;
      }
      if (c->state == WELCOME) {
        c->got += got;
        if (c->got < 7) continue; /* "Welcome" may come in pieces */
        c->state = WAITING;
        welcomed++;
        welcomed_of[i / n]++;
        continue; /* its first message goes when everyone is in */
      }
      total++;
      if (c->busy) { c->busy = 0; tc->busy--; }
      if (measuring) {
        tc->counted++;
        if (tc->lat_n == tc->lat_cap) {
          tc->lat_cap *= 2;
          tc->lat = realloc(tc->lat, tc->lat_cap * sizeof(float));
          if (!tc->lat) { perror("realloc"); return 1; }
        }
        tc->lat[tc->lat_n++] = (float)((now_ms() - c->sent) * 1e3);
      }
      /* The next message, unless the turn is another target's or is ending. */
      if (!idle && (i / n == act && !ending) && !send_message(c, tc)) { errors++; errors_of[i / n]++; }
    }
  }
  long hz = sysconf(_SC_CLK_TCK);
  if (!paired) {
    print_target(&tg[0], n, welcomed, refused, errors, measuring ? (now_ms() - t0) / 1e3 : 0, hz);
    printf("\n");
  } else {
    printf("{\"a\":");
    print_target(&tg[0], n, welcomed_of[0], refused_of[0], errors_of[0], tg[0].active_ms / 1e3, hz);
    printf(",\"b\":");
    print_target(&tg[1], n, welcomed_of[1], refused_of[1], errors_of[1], tg[1].active_ms / 1e3, hz);
    printf("}\n");
  }
  for (int k = 0; k < nt; k++) free(tg[k].lat);
  for (int i = 0; i < opened; i++) if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
