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
 * The measured window is whole turns, from an instant when both are idle to another, and each server's CPU time
 * is counted in its own turns: its CPU, answers and latency are its own, and both were measured through the same
 * minutes. On a shared machine whose speed drifts by tens of percent over minutes, two servers measured in turns
 * compare far more steadily than two measured one after the other. The second server's clients are a child
 * process's (so that each process needs fds for one server's clients only: 10000 each, under a hard limit of
 * 20000), and the two pass the turn over a pipe. Prints one JSON line with "a" and "b", each as in the single
 * form, "seconds" being the time its own turns took. */
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
#include <sys/wait.h>
#include <stdint.h>
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

/* utime + stime of one process, in clock ticks; its stime added to *sys. */
static long long own_cpu_ticks(int pid, long long* sys) {
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
  *sys += stime;
  return utime + stime;
}

/* utime + stime of a process and its descendants (the child processes of --io prefork), in clock ticks: the
 * children listed in /proc/<pid>/task/<tid>/children, for each thread. Their stime (the kernel's part) is
 * stored in *sys. */
static long long cpu_ticks(int pid, long long* sys) {
  *sys = 0;
  long long total = own_cpu_ticks(pid, sys);
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
      long long csys;
      long long c = cpu_ticks(child, &csys);
      if (c > 0) { /* a child that exited meanwhile counts no more */
        total += c;
        *sys += csys;
      }
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

/* The server this process drives, and what it measured of it. */
struct target {
  int pid;
  int busy;               /* its clients with a message in flight */
  long long counted;      /* answers in the measured window */
  double active_ms;       /* the measured window's time in its turns */
  long long cpu;          /* its CPU time in them, in clock ticks */
  long long sys;          /* the kernel's part of it (stime) */
  int cpu_failed;         /* a reading of it failed: cpu is unknown */
  long long cpu0, sys0;   /* at the start of its current turn (or of the window) */
  size_t lat_n, lat_cap;
  float* lat;             /* microseconds, answers in the measured window */
};

static int send_message(struct conn* c, struct target* t) {
  c->sent = now_ms();
  c->busy = 1;
  t->busy++;
  return send(c->fd, "hello", 5, MSG_NOSIGNAL) == 5;
}

static void print_target(FILE* out, const struct target* t, int n, int welcomed, int refused, int errors, double seconds, long hz) {
  double cpu_s = t->cpu_failed ? -1 : (double)t->cpu / hz;
  double sys_s = t->cpu_failed ? -1 : (double)t->sys / hz;
  double p50 = -1, p99 = -1;
  if (t->lat_n > 0) {
    qsort(t->lat, t->lat_n, sizeof(float), cmp_float);
    p50 = t->lat[(size_t)(0.50 * (t->lat_n - 1))];
    p99 = t->lat[(size_t)(0.99 * (t->lat_n - 1))];
  }
  fprintf(out, "{\"connections\":%d,\"welcomed\":%d,\"refused\":%d,\"errors\":%d,\"messages\":%lld,\"seconds\":%.3f,"
         "\"serverCpuSeconds\":%.3f,\"serverSysSeconds\":%.3f,\"p50Us\":%.1f,\"p99Us\":%.1f}", n, welcomed, refused, errors,
         t->counted, seconds, cpu_s, sys_s, p50, p99);
}

/* The paired form's messages over its pipes (one byte each). To the child: run a turn, measured or not (warm-up);
 * report and exit. To the parent: ready (all its clients welcomed); turn done. */
enum { MSG_TURN = 'm', MSG_WARM = 'w', MSG_QUIT = 'q', MSG_READY = 'r', MSG_DONE = 'd' };
#define PEER ((uint32_t)-1) /* the epoll tag of the pipe from the other process */

static void tell(int fd, char m) {
  while (write(fd, &m, 1) < 0 && errno == EINTR) {}
}

/* A paired side's turn: on while its clients send; ending once its time is up (no more messages: it ends when
 * the answers in flight are back); measured or a warm-up turn. */
struct turn { int on, ending, measured; double start, end; };

/* Every welcomed client sends its message at once: the start of the lock-step traffic, or of a turn. */
static void send_all(struct target* tg, struct conn* conns, int opened, int* errors) {
  for (int i = 0; i < opened; i++) {
    if (conns[i].fd < 0 || conns[i].state != WAITING) continue;
    if (!send_message(&conns[i], tg)) (*errors)++;
  }
}

/* Adds the server's CPU time since tg->cpu0 to tg->cpu (or marks it unknown, if a reading failed). */
static void add_cpu(struct target* tg) {
  long long sys1;
  long long cpu1 = cpu_ticks(tg->pid, &sys1);
  if (tg->cpu0 < 0 || cpu1 < 0) tg->cpu_failed = 1;
  else {
    tg->cpu += cpu1 - tg->cpu0;
    tg->sys += sys1 - tg->sys0;
  }
}

/* Starts this side's turn: every client sends its message at once, as at the start of the single form. */
static void begin_turn(struct turn* tn, int measured, double slice, struct target* tg, struct conn* conns, int opened, int* errors) {
  tn->on = 1;
  tn->ending = 0;
  tn->measured = measured;
  tn->start = now_ms();
  tn->end = tn->start + slice;
  if (measured) tg->cpu0 = cpu_ticks(tg->pid, &tg->sys0);
  send_all(tg, conns, opened, errors);
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
  /* Paired: this process drives the first server (the leader, which keeps time) or, forked, the second. */
  int leader = 0, follower = 0, to_peer = -1, from_peer = -1, report_fd = -1;
  pid_t child = -1;
  if (paired) {
    int down[2], up[2], rep[2];
    if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) { perror("pipe"); return 1; }
    fflush(stdout);
    child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
      follower = 1;
      port = atoi(argv[8]);
      server_pid = atoi(argv[9]);
      from_peer = down[0];
      to_peer = up[1];
      report_fd = rep[1];
      close(down[1]); close(up[0]); close(rep[0]);
    } else {
      leader = 1;
      from_peer = up[0];
      to_peer = down[1];
      report_fd = rep[0];
      close(down[0]); close(up[1]); close(rep[1]);
    }
  }
  struct rlimit rl;
  rlim_t want = (rlim_t)n + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
      fprintf(stderr, "loadgen: %d clients need %lu fds; RLIMIT_NOFILE allows %lu\n", n, (unsigned long)want, (unsigned long)rl.rlim_cur);
      return 1;
    }
  }
  struct target tg;
  memset(&tg, 0, sizeof(tg));
  tg.pid = server_pid;
  tg.cpu0 = -1;
  tg.lat_cap = 1 << 16;
  tg.lat = malloc(tg.lat_cap * sizeof(float));
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (paired) {
    struct epoll_event e = { .events = EPOLLIN, .data.u32 = PEER };
    epoll_ctl(ep, EPOLL_CTL_ADD, from_peer, &e);
  }
  struct conn* conns = calloc(n, sizeof(struct conn));
  int errors = 0, refused = 0;
  /* Connections are opened a batch at a time: at most kInFlight connected but not yet welcomed. Opening 10000 at
   * once overflows the server's accept queue; with SYN cookies the kernel then drops the last ACK of handshakes
   * the client already saw complete, and those clients wait for ever for a Welcome. */
  const int kInFlight = 256;
  int opened = 0, started = 0;
  struct epoll_event* evs = calloc(n + 1, sizeof(struct epoll_event));
  char buf[4096];
  long long total = 0;
  int welcomed = 0, alive = n;
  double start = now_ms(), t0 = 0, t_end = 0;
  int measuring = 0;
  /* Paired: this side's turn; whether the child said it is ready (leader), or this side did (child). */
  struct turn tn = { 0, 0, 0, 0, 0 };
  int ready_told = 0, peer_ready = 0;
  struct sigaction report = { .sa_handler = on_report }; /* no SA_RESTART: epoll_wait returns at once */
  sigemptyset(&report.sa_mask);
  sigaction(SIGUSR1, &report, NULL);
  signal(SIGPIPE, SIG_IGN);
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
    int all_in = welcomed + refused >= n;
    if (!paired) {
      if (!started && all_in && !idle) {
        /* Everyone is in: start the lock-step traffic, all clients at once. Before this the server only accepts,
         * so a server busy answering early clients cannot starve its own accept loop. */
        started = 1;
        send_all(&tg, conns, opened, &errors);
      }
      if (!measuring && all_in && t0 == 0) t0 = t + warmup; /* warm-up starts once all are in */
      if (!measuring && t0 != 0 && t >= t0) { measuring = 1; tg.cpu0 = cpu_ticks(server_pid, &tg.sys0); t_end = t + measure; t0 = t; }
      if (measuring && t >= t_end) {
        add_cpu(&tg);
        break;
      }
    } else {
      if (all_in && follower && !ready_told) { tell(to_peer, MSG_READY); ready_told = 1; }
      if (leader && !started && all_in && peer_ready) {
        /* Both sides' clients are in (the servers only accepted so far): the warm-up begins, with this side. */
        started = 1;
        t0 = t + warmup;
        begin_turn(&tn, 0, slice, &tg, conns, opened, &errors);
      }
      if (tn.on && !tn.ending && t >= tn.end) tn.ending = 1;
      if (tn.on && tn.ending && tg.busy == 0) {
        /* This side's turn is over: its server is idle. A measured turn adds its time and its server's CPU. */
        double now = now_ms();
        tn.on = 0;
        if (tn.measured) {
          add_cpu(&tg);
          tg.active_ms += now - tn.start;
        }
        tell(to_peer, follower ? MSG_DONE : measuring ? MSG_TURN : MSG_WARM);
      }
    }
    if (t - start > 60000 + warmup + 2 * measure) { fprintf(stderr, "loadgen: timed out (%d of %d welcomed)\n", welcomed, n); break; }
    if (alive == 0 && !paired) break;
    int r = epoll_wait(ep, evs, n + 1, 50);
    for (int k = 0; k < r; k++) { /* r is -1 (EINTR) after a SIGUSR1: nothing to do until the next turn */
      if (evs[k].data.u32 == PEER) {
        char m = 0;
        ssize_t got = read(from_peer, &m, 1);
        if (got == 0) { fprintf(stderr, "loadgen: the other side ended\n"); return 1; }
        if (got < 0) continue;
        if (leader && m == MSG_READY) {
          peer_ready = 1;
        } else if (leader && m == MSG_DONE) {
          /* Both servers idle: the measured window opens and closes at such instants, before this side's turn,
           * so that it holds whole turns of each. */
          double now = now_ms();
          if (!measuring && now >= t0) {
            measuring = 1;
            t_end = now + measure;
          } else if (measuring && now >= t_end) {
            goto finish;
          }
          begin_turn(&tn, measuring, slice, &tg, conns, opened, &errors);
        } else if (follower && (m == MSG_TURN || m == MSG_WARM)) {
          begin_turn(&tn, m == MSG_TURN, slice, &tg, conns, opened, &errors);
        } else if (follower && m == MSG_QUIT) {
          goto finish;
        }
        continue;
      }
      int i = (int)evs[k].data.u32;
      struct conn* c = &conns[i];
      ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        if (c->state == WELCOME) refused++; else errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        if (c->busy) { c->busy = 0; tg.busy--; }
        alive--;
        continue;
      }
      if (c->state == WELCOME) {
        c->got += got;
        if (c->got < 7) continue; /* "Welcome" may come in pieces */
        c->state = WAITING;
        welcomed++;
        continue; /* its first message goes when everyone is in */
      }
      total++;
      if (c->busy) { c->busy = 0; tg.busy--; }
      if (paired ? tn.on && tn.measured : measuring) {
        tg.counted++;
        if (tg.lat_n == tg.lat_cap) {
          tg.lat_cap *= 2;
          tg.lat = realloc(tg.lat, tg.lat_cap * sizeof(float));
          if (!tg.lat) { perror("realloc"); return 1; }
        }
        tg.lat[tg.lat_n++] = (float)((now_ms() - c->sent) * 1e3);
      }
      /* The next message, unless this side's turn is off or ending. */
      if (!idle && (!paired || (tn.on && !tn.ending)) && !send_message(c, &tg)) errors++;
    }
  }
finish:;
  long hz = sysconf(_SC_CLK_TCK);
  if (!paired) {
    print_target(stdout, &tg, n, welcomed, refused, errors, measuring ? (now_ms() - t0) / 1e3 : 0, hz);
    printf("\n");
  } else if (follower) {
    FILE* out = fdopen(report_fd, "w");
    if (out) {
      print_target(out, &tg, n, welcomed, refused, errors, tg.active_ms / 1e3, hz);
      fclose(out);
    }
  } else {
    tell(to_peer, MSG_QUIT);
    char other[1024];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof(other) - 1 && ((got = read(report_fd, other + len, sizeof(other) - 1 - len)) > 0 || (got < 0 && errno == EINTR))) {
      if (got > 0) len += (size_t)got;
    }
    other[len] = 0;
    waitpid(child, NULL, 0);
    if (len == 0) { fprintf(stderr, "loadgen: no report from the second server's side\n"); return 1; }
    printf("{\"a\":");
    print_target(stdout, &tg, n, welcomed, refused, errors, tg.active_ms / 1e3, hz);
    printf(",\"b\":%s}\n", other);
  }
  free(tg.lat);
  for (int i = 0; i < opened; i++) if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
