/* The C reference server for the demo benchmark: the demo protocol on one epoll loop, level-triggered,
 * non-blocking, one read per readiness report, every ready client read before the round's answers are sent: the
 * same design as sockfd's epoll model (lib/demo/models/multiplex.ts), without JavaScript. Usage: ref-server
 * <port>. Prints "listening" when ready. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_exit(const char* b, ssize_t n) {
  ssize_t s = 0, e = n;
  while (s < e && isspace((unsigned char)b[s])) s++;
  while (e > s && isspace((unsigned char)b[e - 1])) e--;
  return e - s == 4 && memcmp(b + s, "exit", 4) == 0;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 9999;
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (bind(ls, (struct sockaddr*)&sa, sizeof(sa)) < 0 || listen(ls, 511) < 0) { perror("bind/listen"); return 1; }
  socklen_t len = sizeof(sa);
  getsockname(ls, (struct sockaddr*)&sa, &len);
  printf("listening %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event e = { .events = EPOLLIN, .data.fd = ls };
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
  struct epoll_event evs[1024];
  char buf[1024], answer[8];
  int due[1024]; /* the clients read this round, answered after the reads */
  for (;;) {
    int r = epoll_wait(ep, evs, 1024, -1);
    int nd = 0;
    for (int k = 0; k < r; k++) {
      int fd = evs[k].data.fd;
      if (fd == ls) {
        for (;;) {
          int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          send(c, "Welcome", 7, MSG_NOSIGNAL);
          struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0 || is_exit(buf, n)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        continue;
      }
      due[nd++] = fd;
    }
    for (int k = 0; k < nd; k++) {
      int m = snprintf(answer, sizeof(answer), "%d", rand() % 100 + 1);
      send(due[k], answer, m, MSG_NOSIGNAL);
    }
  }
}
