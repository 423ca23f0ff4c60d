/* The C side of scripts/bench/crossing.js: the time per call of two system calls that do almost nothing in
 * the kernel, in a tight loop: recv on an empty non-blocking socket (EAGAIN) and fcntl(F_GETFL).
 * Usage: crossing <calls>. Prints one JSON line: {"recv": ns, "fcntl": ns}, each the best of 3 loops.
 * An idle second thread runs meanwhile, as in every Node process (clock.h): Node's side pays for it too. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "clock.h"

int main(int argc, char** argv) {
  long calls = argc > 1 ? atol(argv[1]) : 1000000;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) return 1;
  if (start_idle_thread() != 0) return 1;
  char buf[1024];
  double best_recv = 1e18, best_fcntl = 1e18;
  for (int r = 0; r < 3; r++) {
    double t0 = now_ns();
    for (long i = 0; i < calls; i++) recv(sv[0], buf, sizeof(buf), 0);
    double t1 = now_ns();
    for (long i = 0; i < calls; i++) fcntl(sv[0], F_GETFL, 0);
    double t2 = now_ns();
    if ((t1 - t0) / calls < best_recv) best_recv = (t1 - t0) / calls;
    if ((t2 - t1) / calls < best_fcntl) best_fcntl = (t2 - t1) / calls;
  }
  printf("{\"recv\":%.1f,\"fcntl\":%.1f}\n", best_recv, best_fcntl);
  return 0;
}
