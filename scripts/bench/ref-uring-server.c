/* The C io_uring reference server for the demo benchmark: the demo protocol on one io_uring, the design of
 * sockfd's uring model without JavaScript: a multishot accept, a multishot recv per client from a provided-buffer
 * ring (1024-byte buffers: one message each, as recv(1024)), the answer sent at once, cancel and close through
 * the ring. Raw system calls and <linux/io_uring.h>, no liburing. Usage: ref-uring-server <port>. Prints
 * "listening <port>" when ready. Needs Linux 6.0+ (multishot recv). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_ACCEPT_MULTISHOT
#define IORING_ACCEPT_MULTISHOT (1U << 0)
#endif
#ifndef IORING_RECV_MULTISHOT
#define IORING_RECV_MULTISHOT (1U << 1)
#endif
#ifndef IORING_ASYNC_CANCEL_FD
#define IORING_ASYNC_CANCEL_FD (1U << 1)
#endif
#ifndef IORING_ASYNC_CANCEL_ALL
#define IORING_ASYNC_CANCEL_ALL (1U << 0)
#endif

enum { ENTRIES = 1024, NBUF = 4096, BUFSZ = 1024, GROUP = 0 };
enum { T_ACCEPT = 1, T_RECV, T_SEND, T_CANCEL, T_CLOSE };

static int ring_fd;
static unsigned *sq_head, *sq_tail, sq_mask, sq_entries, *cq_head, *cq_tail, cq_mask;
static struct io_uring_sqe* sqes;
static struct io_uring_cqe* cqes;
static unsigned local_tail, pending;
static struct io_uring_buf* bufs; /* the provided-buffer ring; bufs[0].resv is its tail */
static uint16_t buf_tail;
static char* buf_data;
static char answers[100][4];
/* Per fd: closing (its cancel and close are queued): late completions of its recv are ignored, and a second
 * close is never queued (the number may belong to a new connection by then). A new accept of the number clears it. */
enum { MAXFD = 1 << 21 };
static unsigned char closing[MAXFD];
static int answer_len[100];

static struct io_uring_sqe* get_sqe(void) {
  if (local_tail - __atomic_load_n(sq_head, __ATOMIC_ACQUIRE) >= sq_entries) {
    int r = syscall(__NR_io_uring_enter, ring_fd, pending, 0, 0, NULL, 0);
    if (r > 0) pending -= r;
  }
  struct io_uring_sqe* s = &sqes[local_tail & sq_mask];
  memset(s, 0, sizeof(*s));
  local_tail++;
  __atomic_store_n(sq_tail, local_tail, __ATOMIC_RELEASE);
  pending++;
  return s;
}

static uint64_t ud(int type, int fd) { return ((uint64_t)type << 32) | (uint32_t)fd; }

static void recycle(uint16_t bid) {
  struct io_uring_buf* b = &bufs[buf_tail & (NBUF - 1)];
  b->addr = (uint64_t)(buf_data + (size_t)bid * BUFSZ);
  b->len = BUFSZ;
  b->bid = bid;
  buf_tail++;
  __atomic_store_n(&bufs[0].resv, buf_tail, __ATOMIC_RELEASE);
}

static void q_accept(int ls) {
  struct io_uring_sqe* s = get_sqe();
  s->opcode = IORING_OP_ACCEPT;
  s->fd = ls;
  s->accept_flags = SOCK_CLOEXEC;
  s->ioprio = IORING_ACCEPT_MULTISHOT;
  s->user_data = ud(T_ACCEPT, ls);
}
static void q_recv(int fd) {
  struct io_uring_sqe* s = get_sqe();
  s->opcode = IORING_OP_RECV;
  s->fd = fd;
  s->ioprio = IORING_RECV_MULTISHOT;
  s->flags = IOSQE_BUFFER_SELECT;
  s->buf_group = GROUP;
  s->user_data = ud(T_RECV, fd);
}
static void q_send(int fd, const char* data, int len) {
  struct io_uring_sqe* s = get_sqe();
  s->opcode = IORING_OP_SEND;
  s->fd = fd;
  s->addr = (uint64_t)data; /* static memory: alive until the completion */
  s->len = len;
  s->msg_flags = MSG_NOSIGNAL;
  s->user_data = ud(T_SEND, fd);
}
/* Cancel what is in flight on fd, then close it: submitted in order, so the cancel sees the fd still open. */
static void q_close(int fd) {
  if (fd < MAXFD) {
    if (closing[fd]) return;
    closing[fd] = 1;
  }
  struct io_uring_sqe* s = get_sqe();
  s->opcode = IORING_OP_ASYNC_CANCEL;
  s->fd = fd;
  s->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  s->user_data = ud(T_CANCEL, fd);
  s = get_sqe();
  s->opcode = IORING_OP_CLOSE;
  s->fd = fd;
  s->user_data = ud(T_CLOSE, fd);
}

static int is_exit(const char* b, ssize_t n) {
  ssize_t s = 0, e = n;
  while (s < e && isspace((unsigned char)b[s])) s++;
  while (e > s && isspace((unsigned char)b[e - 1])) e--;
  return e - s == 4 && memcmp(b + s, "exit", 4) == 0;
}

static int setup(void) {
  unsigned tiers[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
                      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE, IORING_SETUP_CQSIZE, 0};
  struct io_uring_params p;
  int fd = -1;
  for (unsigned i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
    memset(&p, 0, sizeof(p));
    p.flags = tiers[i];
    p.cq_entries = ENTRIES * 4;
    fd = syscall(__NR_io_uring_setup, ENTRIES, &p);
    if (fd >= 0 || errno != EINVAL) break;
  }
  if (fd < 0) {
    perror("io_uring_setup");
    return -1;
  }
  size_t sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_bytes > sq_bytes) sq_bytes = cq_bytes; /* IORING_FEAT_SINGLE_MMAP (5.4+) */
  char* sq = mmap(NULL, sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || sqes == MAP_FAILED) {
    perror("mmap");
    return -1;
  }
  sq_head = (unsigned*)(sq + p.sq_off.head);
  sq_tail = (unsigned*)(sq + p.sq_off.tail);
  sq_mask = *(unsigned*)(sq + p.sq_off.ring_mask);
  sq_entries = *(unsigned*)(sq + p.sq_off.ring_entries);
  unsigned* array = (unsigned*)(sq + p.sq_off.array);
  for (unsigned i = 0; i < sq_entries; i++) array[i] = i;
  cq_head = (unsigned*)(sq + p.cq_off.head);
  cq_tail = (unsigned*)(sq + p.cq_off.tail);
  cq_mask = *(unsigned*)(sq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe*)(sq + p.cq_off.cqes);
  local_tail = *sq_tail;
  ring_fd = fd;
  bufs = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  buf_data = mmap(NULL, (size_t)NBUF * BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)bufs, .ring_entries = NBUF, .bgid = GROUP};
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
    perror("io_uring_register(PBUF_RING)");
    return -1;
  }
  for (int i = 0; i < NBUF; i++) recycle(i);
  return 0;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 9999;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < 100; i++) answer_len[i] = snprintf(answers[i], sizeof(answers[i]), "%d", i + 1);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (bind(ls, (struct sockaddr*)&sa, sizeof(sa)) < 0 || listen(ls, 511) < 0) {
    perror("bind/listen");
    return 1;
  }
  if (setup() < 0) return 1;
  socklen_t len = sizeof(sa);
  getsockname(ls, (struct sockaddr*)&sa, &len);
  printf("listening %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  q_accept(ls);
  for (;;) {
    int r = syscall(__NR_io_uring_enter, ring_fd, pending, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      perror("io_uring_enter");
      return 1;
    }
    pending -= (unsigned)r < pending ? (unsigned)r : pending;
    unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
      struct io_uring_cqe* c = &cqes[head & cq_mask];
      int type = (int)(c->user_data >> 32), fd = (int)(uint32_t)c->user_data, res = c->res;
      unsigned flags = c->flags;
      if (type == T_ACCEPT) {
        if (res >= MAXFD) {
          close(res);
        } else if (res >= 0) {
          closing[res] = 0;
          q_send(res, "Welcome", 7);
          q_recv(res);
        }
        if (!(flags & IORING_CQE_F_MORE)) q_accept(ls);
      } else if (type == T_RECV) {
        if (fd < MAXFD && closing[fd]) {
          if (res > 0) recycle(flags >> IORING_CQE_BUFFER_SHIFT);
          continue;
        }
        int more = (flags & IORING_CQE_F_MORE) != 0;
        if (res > 0) {
          uint16_t bid = flags >> IORING_CQE_BUFFER_SHIFT;
          int quit = is_exit(buf_data + (size_t)bid * BUFSZ, res);
          recycle(bid);
          if (quit) {
            q_close(fd);
          } else {
            int a = rand() % 100;
            q_send(fd, answers[a], answer_len[a]);
            if (!more) q_recv(fd); /* ENOBUFS-free end of a multishot (rare): queue it again */
          }
        } else if (res == -ENOBUFS) {
          q_recv(fd); /* the buffers were recycled in this loop: try again */
        } else if (res != -ECANCELED) {
          q_close(fd); /* end of stream or error */
        }
      }
      /* T_SEND, T_CANCEL, T_CLOSE: nothing to do */
    }
    __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
  }
}
