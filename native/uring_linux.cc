// io_uring(7), Linux only (uring_stub.cc elsewhere): a ring owned by the calling thread, driven by raw system
// calls through the kernel's own uapi header (no liburing).
//
// Memory the kernel writes or reads asynchronously is never JavaScript memory: a SharedArrayBuffer can change
// under us, a resizable ArrayBuffer shrink, a transferred one move or be freed, long before the completion.
// So a recv lands in memory of the ring (a slot buffer) and is copied into the caller's buffer when its
// completion is drained; a send copies its bytes into a slot buffer when it is queued; a timeout's timespec
// lives in its slot; a provided-buffer ring and the completion array are memory the addon allocated, handed to
// JavaScript as external ArrayBuffers that free it only once both the ring and JavaScript are done with it.
//
// user_data carries (slot + 1) << 40 | op << 32 | the caller's 31-bit userData, so a completion finds its slot
// (what to copy, what to release) and names its operation (for its error) with no lookup.
//
// Closing a ring with operations in flight cancels them all and waits (at most kCloseWaitMs) for their
// completions, closing the fds of accepts nobody took; memory the kernel may still write after that is leaked
// on purpose rather than freed under it.
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <vector>

#include "common.h"
#include "sockaddr.h"

#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_ACCEPT_MULTISHOT
#define IORING_ACCEPT_MULTISHOT (1U << 0)
#endif
#ifndef IORING_RECV_MULTISHOT
#define IORING_RECV_MULTISHOT (1U << 1)
#endif
#ifndef IORING_ASYNC_CANCEL_ALL
#define IORING_ASYNC_CANCEL_ALL (1U << 0)
#endif
#ifndef IORING_ASYNC_CANCEL_FD
#define IORING_ASYNC_CANCEL_FD (1U << 1)
#endif
#ifndef IORING_ASYNC_CANCEL_ANY
#define IORING_ASYNC_CANCEL_ANY (1U << 2)
#endif

namespace sockfd {
namespace {

// The operations, as the fourth number of each completion says them (lib/uring.ts has the same list).
enum Op : uint8_t {
  kNone = 0,
  kAccept = 1,
  kRecv = 2,
  kRecvMultishot = 3,
  kSend = 4,
  kClose = 5,
  kCancel = 6,
  kNop = 7,
  kTimeout = 8,
  kInternal = 255,  // the ring's own cancel-everything at close: never shown
};

constexpr int64_t kMaxEntries = 32768;
constexpr int64_t kMaxUserData = INT32_MAX;
constexpr uint32_t kMaxSlots = (1u << 24) - 2;
constexpr int kCloseWaitMs = 1000;
constexpr int kInts = 4;  // per completion: userData, res, flags, op
constexpr size_t kMaxIo = 1u << 30;
constexpr size_t kKeepSlotBytes = 64 * 1024;

int SysSetup(unsigned entries, io_uring_params* p) { return static_cast<int>(::syscall(__NR_io_uring_setup, entries, p)); }
int SysEnter(int fd, unsigned submit, unsigned min, unsigned flags, const void* arg, size_t argsz) {
  return static_cast<int>(::syscall(__NR_io_uring_enter, fd, submit, min, flags, arg, argsz));
}
int SysRegister(int fd, unsigned op, const void* arg, unsigned n) {
  return static_cast<int>(::syscall(__NR_io_uring_register, fd, op, arg, n));
}

template <typename T>
T LoadAcquire(const T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
template <typename T>
void StoreRelease(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

// Memory shared by the ring and a JavaScript ArrayBuffer: freed when the last of the two lets go.
struct Shared {
  std::atomic<int> refs{2};
  void* data;
  size_t size;
  bool mapped;  // mmap (page-aligned, for the kernel) or operator new
  void Release() {
    if (refs.fetch_sub(1) != 1) return;
    if (mapped) {
      ::munmap(data, size);
    } else {
      ::operator delete(data);
    }
    delete this;
  }
};

void FinalizeShared(napi_env, void*, void* hint) { static_cast<Shared*>(hint)->Release(); }

// An external ArrayBuffer over `s`; takes one of its references (released by the finalizer, or here on failure).
Napi::ArrayBuffer SharedArrayBufferOf(Napi::Env env, Shared* s) {
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, s->data, s->size, FinalizeShared, s, &ab);
  if (st != napi_ok) {
    s->Release();
    ThrowErrno(env, ENOTSUP, "io_uring_setup");  // a Node built without external buffers (a V8 sandbox)
  }
  return Napi::ArrayBuffer(env, ab);
}

Shared* NewShared(size_t size, bool mapped) {
  void* data;
  if (mapped) {
    data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) return nullptr;
  } else {
    data = ::operator new(size, std::nothrow);
    if (data == nullptr) return nullptr;
    std::memset(data, 0, size);
  }
  Shared* s = new Shared();
  s->data = data;
  s->size = size;
  s->mapped = mapped;
  return s;
}

struct Slot {
  uint64_t user_data = 0;  // 0: free
  uint32_t next_free = 0;
  std::unique_ptr<uint8_t[]> mem;  // recv lands here, send is copied here
  size_t cap = 0;
  napi_ref target = nullptr;  // recv: the caller's buffer, until its completion is drained
  size_t offset = 0, length = 0;
  __kernel_timespec ts{};
  bool want_address = false;  // accept: the kernel writes the peer's address into mem (sockaddr_storage, then len)
};

// The peer address of the k-th accept completion of the last drain, when its accept asked for it.
struct AcceptedAddress {
  sockaddr_storage storage;
  socklen_t length;
};

static_assert(sizeof(io_uring_buf) == 16 && offsetof(io_uring_buf, resv) == 14, "io_uring_buf's layout");

struct BufferRing {
  uint16_t group;
  uint32_t count, size;
  io_uring_buf_ring* ring = nullptr;  // page-aligned, count entries
  size_t ring_bytes = 0;
  Shared* data = nullptr;  // count * size bytes
  uint16_t tail = 0;
};

class Ring;

// The event-loop side: an eventfd registered with the ring, polled by libuv.
struct Poller {
  uv_poll_t poll;
  Ring* ring;  // null once the ring let go of it
  int efd;
  napi_env env;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool closing = false;
};

void OnPollerClosed(uv_handle_t* h);
void OnPollerTeardown(napi_async_cleanup_hook_handle hook, void* arg);

class Ring : public Napi::ObjectWrap<Ring> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "IoUring",
        {InstanceMethod<&Ring::Info>("info"), InstanceMethod<&Ring::Accept>("accept"),
         InstanceMethod<&Ring::Recv>("recv"), InstanceMethod<&Ring::RecvMultishot>("recvMultishot"),
         InstanceMethod<&Ring::Send>("send"), InstanceMethod<&Ring::CloseFd>("closeFd"),
         InstanceMethod<&Ring::Cancel>("cancel"), InstanceMethod<&Ring::CancelFd>("cancelFd"),
         InstanceMethod<&Ring::Nop>("nop"), InstanceMethod<&Ring::Timeout>("timeout"),
         InstanceMethod<&Ring::Submit>("submit"), InstanceMethod<&Ring::Wait>("wait"),
         InstanceMethod<&Ring::Pending>("pending"), InstanceMethod<&Ring::Inflight>("inflight"),
         InstanceMethod<&Ring::AddBufferRing>("addBufferRing"), InstanceMethod<&Ring::Recycle>("recycle"),
         InstanceMethod<&Ring::Start>("start"), InstanceMethod<&Ring::Stop>("stop"),
         InstanceMethod<&Ring::RefHandle>("ref"), InstanceMethod<&Ring::UnrefHandle>("unref"),
         InstanceMethod<&Ring::Close>("close"), InstanceMethod<&Ring::AcceptedAddressOf>("acceptedAddress")});
  }

  // new IoUring(entries, setupFlags): setupFlags -1 tries the best the kernel takes, else exactly those.
  explicit Ring(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ring>(info) {
    Napi::Env env = info.Env();
    unsigned entries = static_cast<unsigned>(IntArg(info, 0, "entries", 1, kMaxEntries));
    int64_t wanted = IntArg(info, 1, "setupFlags", -1, UINT32_MAX);
    // Everything that can throw or run JavaScript comes before the ring exists; after it, only failures that
    // undo what was acquired (the destructor does not run when a constructor throws).
    const unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    const unsigned tiers[] = {base | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                              base | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN, base, 0};
    io_uring_params p{};
    int fd = -1;
    if (wanted >= 0) {
      p.flags = static_cast<unsigned>(wanted);
      p.cq_entries = entries * 4;
      fd = SysSetup(entries, &p);
    } else {
      for (unsigned flags : tiers) {
        std::memset(&p, 0, sizeof(p));
        p.flags = flags;
        p.cq_entries = entries * 4;
        fd = SysSetup(entries, &p);
        if (fd >= 0 || errno != EINVAL) break;
      }
    }
    if (fd < 0) ThrowErrno(env, errno, "io_uring_setup");
    fd_ = fd;
    params_ = p;
    try {
      Map(env);
      size_t bytes = static_cast<size_t>(cq_entries_) * kInts * sizeof(int32_t);
      Shared* s = NewShared(bytes, false);
      if (s == nullptr) ThrowErrno(env, ENOMEM, "io_uring_setup");
      out_ = s;
      // The ArrayBuffer takes the second reference now, so that a failure below leaves nothing to undo twice.
      completions_.Reset(SharedArrayBufferOf(env, s), 1);
    } catch (...) {
      Unmap();
      ::close(fd_);
      fd_ = -1;
      if (out_ != nullptr) out_->Release();
      out_ = nullptr;
      throw;
    }
  }

  ~Ring() override {
    watching_ = false;  // no Unref() from a destructor: the object is going anyway
    if (poller_ != nullptr) StopPoller();
    CloseRing();
    if (out_ != nullptr) out_->Release();
  }

  // How many drain-callback-submit rounds one event-loop wake-up may make before it yields to the loop.
  static constexpr int kRoundsPerWake = 4;

  // The completions waiting in the CQ ring, after `Drain` has taken what it took.
  unsigned CqReady() const { return LoadAcquire(cq_tail_) - *cq_head_; }

  // The event loop's wake-up: runs deferred work, drains, calls back, submits what the callback queued.
  void OnReady() {
    napi_env env = Env();
    if (fd_ < 0) return;
    Napi::HandleScope scope(env);
    retired_.clear();  // no callback of theirs is running now
    uint64_t v;
    while (::read(poller_->efd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
    // The eventfd is a hint: with DEFER_TASKRUN the completions exist only once the task work runs here.
    unsigned flags = (defer_ || pending_ > 0 || Overflowed()) ? IORING_ENTER_GETEVENTS : 0;
    if (flags != 0 || pending_ > 0) EnterRetry(pending_, 0, flags);
    for (int round = 1;; round++) {
      int n = Drain(true);
      if (n > 0 && !callback_.IsEmpty()) {
        napi_value self = Value();
        napi_value fn = callback_.Value();
        napi_value args[1] = {Napi::Number::New(env, n)};
        napi_value result;
        if (napi_make_callback(env, *context_, self, fn, 1, args, &result) != napi_ok) {
          bool pending = false;
          napi_value exception;
          if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
              napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
            napi_fatal_exception(env, exception);
          }
          return;
        }
      }
      if (fd_ < 0) return;  // closed by the callback
      // Submitting what the callback queued (with DEFER_TASKRUN, also running the task work that completes it:
      // a send to a loopback socket usually completes right here).
      if (pending_ > 0) EnterRetry(pending_, 0, defer_ ? IORING_ENTER_GETEVENTS : 0);
      if (poller_ == nullptr) return;  // unwatched by the callback
      if (CqReady() == 0 && !Overflowed()) return;
      // Completions already there (those of the sends just submitted, more than one array's worth, or new
      // arrivals): deliver them now, a few rounds at most, instead of a write to the eventfd and a whole loop
      // turn (epoll_wait, read, enter) for each; after that, the next loop turn, so that other I/O and timers
      // run in between.
      if (round >= kRoundsPerWake) {
        uint64_t one = 1;
        (void)!::write(poller_->efd, &one, sizeof(one));
        return;
      }
    }
  }

  void DetachPoller() {
    poller_ = nullptr;
    if (watching_) {
      watching_ = false;
      Unref();
    }
  }

 private:
  int fd_ = -1;
  io_uring_params params_{};
  bool defer_ = false;
  void* sq_map_ = nullptr;
  size_t sq_map_bytes_ = 0;
  void* cq_map_ = nullptr;
  size_t cq_map_bytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_bytes_ = 0;
  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_flags_ = nullptr;
  unsigned sq_mask_ = 0, sq_entries_ = 0;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0, cq_entries_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  unsigned local_tail_ = 0;
  unsigned pending_ = 0;  // queued, not yet submitted
  unsigned inflight_ = 0;  // slots in use: submitted or queued, not yet completed for good
  std::deque<Slot> slots_;  // a deque: growing it moves no slot, and the kernel may hold a pointer into one
  uint32_t free_head_ = 0;  // 1-based; 0: none
  std::deque<BufferRing> buf_rings_;
  Shared* out_ = nullptr;
  std::vector<AcceptedAddress> addresses_;  // by completion index of the last drain; length 0: none asked
  int last_drained_ = 0;  // completions the last delivering drain wrote
  Napi::Reference<Napi::ArrayBuffer> completions_;
  bool leaked_ = false;
  // Event loop
  Poller* poller_ = nullptr;
  bool watching_ = false;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<std::unique_ptr<Napi::AsyncContext>> retired_;  // of stopped watches, destroyed outside callbacks

  bool Overflowed() const { return sq_flags_ != nullptr && (LoadAcquire(sq_flags_) & IORING_SQ_CQ_OVERFLOW) != 0; }

  void Map(Napi::Env env) {
    io_uring_params& p = params_;
    defer_ = (p.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
    sq_map_bytes_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cq_map_bytes_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) sq_map_bytes_ = cq_map_bytes_ = std::max(sq_map_bytes_, cq_map_bytes_);
    sq_map_ = ::mmap(nullptr, sq_map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (sq_map_ == MAP_FAILED) {
      sq_map_ = nullptr;
      ThrowErrno(env, errno, "mmap");
    }
    if (single) {
      cq_map_ = sq_map_;
    } else {
      cq_map_ = ::mmap(nullptr, cq_map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_CQ_RING);
      if (cq_map_ == MAP_FAILED) {
        cq_map_ = nullptr;
        ThrowErrno(env, errno, "mmap");
      }
    }
    sqes_bytes_ = p.sq_entries * sizeof(io_uring_sqe);
    void* sqes = ::mmap(nullptr, sqes_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) ThrowErrno(env, errno, "mmap");
    sqes_ = static_cast<io_uring_sqe*>(sqes);
    auto* sq = static_cast<uint8_t*>(sq_map_);
    auto* cq = static_cast<uint8_t*>(cq_map_);
    sq_head_ = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
    sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    sq_flags_ = reinterpret_cast<unsigned*>(sq + p.sq_off.flags);
    sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    sq_entries_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_entries);
    unsigned* array = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    for (unsigned i = 0; i < sq_entries_; i++) array[i] = i;  // SQ index k is SQE k, for good
    cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
    cq_entries_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_entries);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    local_tail_ = *sq_tail_;
  }

  void Unmap() {
    if (sqes_ != nullptr) ::munmap(sqes_, sqes_bytes_);
    if (cq_map_ != nullptr && cq_map_ != sq_map_) ::munmap(cq_map_, cq_map_bytes_);
    if (sq_map_ != nullptr) ::munmap(sq_map_, sq_map_bytes_);
    sqes_ = nullptr;
    cq_map_ = sq_map_ = nullptr;
    sq_flags_ = nullptr;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    DefineOwn(o, "fd", fd_);
    DefineOwn(o, "features", Napi::Number::New(env, params_.features));
    DefineOwn(o, "flags", Napi::Number::New(env, params_.flags));
    DefineOwn(o, "sqEntries", Napi::Number::New(env, sq_entries_));
    DefineOwn(o, "cqEntries", Napi::Number::New(env, cq_entries_));
    DefineOwn(o, "completions", completions_.Value());
    return o;
  }

  void Live(const char* what) {
    if (fd_ < 0) ThrowErrno(Env(), EBADF, what);
  }

  // io_uring_enter, EINTR retried. Returns the number submitted; throws on failure.
  int EnterRetry(unsigned submit, unsigned min, unsigned flags, const void* arg = nullptr, size_t argsz = 0) {
    int r;
    do {
      r = SysEnter(fd_, submit, min, flags, arg, argsz);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == ETIME) return 0;
      ThrowErrno(Env(), errno, "io_uring_enter");
    }
    pending_ -= std::min<unsigned>(pending_, static_cast<unsigned>(r));
    return r;
  }

  // The next SQE, zeroed; a full SQ is submitted first to make room.
  io_uring_sqe* NextSqe(const char* what) {
    Live(what);
    if (local_tail_ - LoadAcquire(sq_head_) >= sq_entries_) {
      EnterRetry(pending_, 0, 0);
      if (local_tail_ - LoadAcquire(sq_head_) >= sq_entries_) ThrowErrno(Env(), EBUSY, what);
    }
    io_uring_sqe* sqe = &sqes_[local_tail_ & sq_mask_];
    std::memset(sqe, 0, sizeof(*sqe));
    return sqe;
  }

  // Publishes the SQE just filled: the kernel takes it at the next io_uring_enter.
  void Publish() {
    local_tail_++;
    StoreRelease(sq_tail_, local_tail_);
    pending_++;
    inflight_++;
  }

  // A free slot, 1-based. Growing the deque allocates; a steady state reuses freed slots.
  uint32_t TakeSlot(const char* what) {
    if (free_head_ != 0) {
      uint32_t s = free_head_;
      free_head_ = slots_[s - 1].next_free;
      return s;
    }
    if (slots_.size() >= kMaxSlots) ThrowErrno(Env(), EBUSY, what);
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size());
  }

  void FreeSlot(uint32_t s) {
    Slot& slot = slots_[s - 1];
    if (slot.target != nullptr) {
      napi_delete_reference(Env(), slot.target);
      slot.target = nullptr;
    }
    slot.user_data = 0;
    if (slot.cap > kKeepSlotBytes) {  // a big recv or send: not kept for the next user of the slot
      slot.mem.reset();
      slot.cap = 0;
    }
    slot.next_free = free_head_;
    free_head_ = s;
    inflight_--;
  }

  static uint64_t Encode(uint32_t slot, Op op, uint32_t user) {
    return (static_cast<uint64_t>(slot) << 40) | (static_cast<uint64_t>(op) << 32) | user;
  }

  uint32_t UserArg(const Napi::CallbackInfo& info, size_t i) {
    return static_cast<uint32_t>(IntArg(info, i, "userData", 0, kMaxUserData));
  }

  // The one step of every queueing method that acquires: everything that can throw has been done before it.
  // Only NextSqe (a full SQ that cannot be submitted) can still fail, and it comes first.
  void Queue(io_uring_sqe* sqe, uint32_t slot, Op op, uint32_t user) {
    sqe->user_data = Encode(slot, op, user);
    slots_[slot - 1].user_data = sqe->user_data;
    Publish();
  }

  // Where a queued operation's bytes live: the slot's own buffer, grown (never shrunk) to `len`.
  uint8_t* SlotMem(Slot& slot, size_t len) {
    if (slot.cap < len || slot.mem == nullptr) {
      size_t cap = std::max<size_t>(len, 64);
      slot.mem.reset(new (std::nothrow) uint8_t[cap]);
      slot.cap = slot.mem == nullptr ? 0 : cap;
      if (slot.mem == nullptr) ThrowErrno(Env(), ENOMEM, "io_uring");
    }
    return slot.mem.get();
  }

  // accept(fd, userData, multishot, flags, wantAddress): flags are accept4's (SOCK_NONBLOCK); SOCK_CLOEXEC is
  // always added. A single-shot accept can have the kernel write the peer's address (acceptedAddress() gives it);
  // a multishot one cannot (every accept would write the one buffer).
  Napi::Value Accept(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    uint32_t user = UserArg(info, 1);
    bool multishot = info[2].ToBoolean();
    int flags = Int32Arg(info, 3, "flags");
    bool want_address = !multishot && info[4].ToBoolean();
    io_uring_sqe* sqe = NextSqe("accept");
    uint32_t s = TakeSlot("accept");
    Slot& slot = slots_[s - 1];
    slot.want_address = want_address;
    if (want_address) {
      uint8_t* mem;
      try {
        mem = SlotMem(slot, sizeof(AcceptedAddress));
      } catch (...) {
        slot.next_free = free_head_;
        free_head_ = s;
        throw;
      }
      auto* a = reinterpret_cast<AcceptedAddress*>(mem);
      a->length = sizeof(a->storage);
      sqe->addr = reinterpret_cast<uint64_t>(&a->storage);
      sqe->addr2 = reinterpret_cast<uint64_t>(&a->length);
    }
    sqe->opcode = IORING_OP_ACCEPT;
    sqe->fd = fd;
    sqe->accept_flags = static_cast<uint32_t>(flags) | SOCK_CLOEXEC;
    if (multishot) sqe->ioprio = IORING_ACCEPT_MULTISHOT;
    Queue(sqe, s, kAccept, user);
    return info.Env().Undefined();
  }

  // recv(fd, buffer, offset, length, flags, userData): the bytes land in the ring's memory and are copied into
  // buffer[offset, offset + length) when the completion is drained (see Deliver).
  Napi::Value Recv(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info);
    Bytes b = BytesArg(info, 1, "buffer");
    size_t offset = static_cast<size_t>(IntArg(info, 2, "offset", 0, static_cast<int64_t>(b.length)));
    size_t length = static_cast<size_t>(IntArg(info, 3, "length", 0, static_cast<int64_t>(std::min(b.length - offset, kMaxIo))));
    int flags = Int32Arg(info, 4, "flags");
    uint32_t user = UserArg(info, 5);
    io_uring_sqe* sqe = NextSqe("recv");
    uint32_t s = TakeSlot("recv");
    Slot& slot = slots_[s - 1];
    uint8_t* mem;
    try {
      mem = SlotMem(slot, length);
      NAPI_THROW_IF_FAILED(env, napi_create_reference(env, info[1], 1, &slot.target), Napi::Value());
    } catch (...) {
      slot.next_free = free_head_;  // back to the free list, never queued
      free_head_ = s;
      throw;
    }
    slot.offset = offset;
    slot.length = length;
    // With MSG_TRUNC on a stream socket the kernel discards bytes without writing them and still counts them, so
    // the slot's memory (an earlier operation's bytes, or uninitialized) would be copied out as if received:
    // zeros instead (on a datagram socket the kernel writes what fits over them).
    if (Truncating(flags)) std::memset(mem, 0, length);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->addr = reinterpret_cast<uint64_t>(mem);
    sqe->len = static_cast<uint32_t>(length);
    sqe->msg_flags = static_cast<uint32_t>(flags);
    Queue(sqe, s, kRecv, user);
    return env.Undefined();
  }

  // recvMultishot(fd, group, flags, userData): the kernel picks each buffer from the provided-buffer ring
  // `group`; completions name it (IORING_CQE_F_BUFFER, bid in flags >> 16) until one comes without F_MORE.
  Napi::Value RecvMultishot(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    uint16_t group = static_cast<uint16_t>(IntArg(info, 1, "group", 0, UINT16_MAX));
    int flags = Int32Arg(info, 2, "flags");
    // A provided buffer is the ring's memory, shared by every recv of its group: with MSG_TRUNC on a stream the
    // kernel would write nothing into it and still count the bytes, so res would cover an earlier message's.
    if (Truncating(flags)) ThrowRangeError(info.Env(), "A multishot recv cannot take MSG_TRUNC");
    uint32_t user = UserArg(info, 3);
    io_uring_sqe* sqe = NextSqe("recv");
    uint32_t slot = TakeSlot("recv");
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->msg_flags = static_cast<uint32_t>(flags);
    sqe->ioprio = IORING_RECV_MULTISHOT;
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = group;
    Queue(sqe, slot, kRecvMultishot, user);
    return info.Env().Undefined();
  }

  // send(fd, data, flags, userData): the bytes are copied now; the caller's buffer is free at once.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    std::string storage;
    Bytes b = DataArg(info, 1, "data", storage);
    if (b.length > kMaxIo) ThrowRangeError(info.Env(), "The \"data\" argument must be at most 1 GiB");
    int flags = Int32Arg(info, 2, "flags");
    uint32_t user = UserArg(info, 3);
    io_uring_sqe* sqe = NextSqe("send");
    uint32_t s = TakeSlot("send");
    Slot& slot = slots_[s - 1];
    uint8_t* mem;
    try {
      mem = SlotMem(slot, b.length);
    } catch (...) {
      slot.next_free = free_head_;
      free_head_ = s;
      throw;
    }
    if (b.length > 0) std::memcpy(mem, b.data, b.length);
    sqe->opcode = IORING_OP_SEND;
    sqe->fd = fd;
    sqe->addr = reinterpret_cast<uint64_t>(mem);
    sqe->len = static_cast<uint32_t>(b.length);
    sqe->msg_flags = static_cast<uint32_t>(flags);
    Queue(sqe, s, kSend, user);
    return info.Env().Undefined();
  }

  Napi::Value CloseFd(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    uint32_t user = UserArg(info, 1);
    io_uring_sqe* sqe = NextSqe("close");
    uint32_t slot = TakeSlot("close");
    // As close() does: a watch() of the fd is stopped first, or libuv would go on polling a closed number (and
    // abort when its epoll_ctl fails). Its owner is told last, once the entry is queued: JavaScript may run
    // there, and may use (or close) this ring.
    napi_value told = StopWatcherForClose(info.Env(), fd);
    sqe->opcode = IORING_OP_CLOSE;
    sqe->fd = fd;
    Queue(sqe, slot, kClose, user);
    TellStopped(info.Env(), told);
    return info.Env().Undefined();
  }

  // cancel(targetUserData, userData): the first operation in flight with that userData; ENOENT when none.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    uint32_t target = static_cast<uint32_t>(IntArg(info, 0, "target", 0, kMaxUserData));
    uint32_t user = UserArg(info, 1);
    io_uring_sqe* sqe = NextSqe("cancel");
    uint64_t match = Encode(0, kNone, target);  // matches nothing: the kernel answers ENOENT
    for (const Slot& slot : slots_) {
      uint8_t op = static_cast<uint8_t>(slot.user_data >> 32);
      if (slot.user_data != 0 && static_cast<uint32_t>(slot.user_data) == target && op != kCancel && op != kInternal) {
        match = slot.user_data;
        break;
      }
    }
    uint32_t slot = TakeSlot("cancel");
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = match;
    Queue(sqe, slot, kCancel, user);
    return info.Env().Undefined();
  }

  // cancelFd(fd, userData): every operation in flight on fd; res is how many (0: none).
  Napi::Value CancelFd(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    uint32_t user = UserArg(info, 1);
    io_uring_sqe* sqe = NextSqe("cancel");
    uint32_t slot = TakeSlot("cancel");
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = fd;
    sqe->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    Queue(sqe, slot, kCancel, user);
    return info.Env().Undefined();
  }

  Napi::Value Nop(const Napi::CallbackInfo& info) {
    uint32_t user = UserArg(info, 0);
    io_uring_sqe* sqe = NextSqe("nop");
    uint32_t slot = TakeSlot("nop");
    sqe->opcode = IORING_OP_NOP;
    sqe->fd = -1;
    Queue(sqe, slot, kNop, user);
    return info.Env().Undefined();
  }

  // timeout(ms, userData): completes with ETIME after ms milliseconds (or ECANCELED when cancelled).
  Napi::Value Timeout(const Napi::CallbackInfo& info) {
    int64_t ms = IntArg(info, 0, "ms", 0, INT32_MAX);
    uint32_t user = UserArg(info, 1);
    io_uring_sqe* sqe = NextSqe("timeout");
    uint32_t s = TakeSlot("timeout");
    Slot& slot = slots_[s - 1];
    slot.ts.tv_sec = ms / 1000;
    slot.ts.tv_nsec = (ms % 1000) * 1000000;
    sqe->opcode = IORING_OP_TIMEOUT;
    sqe->fd = -1;
    sqe->addr = reinterpret_cast<uint64_t>(&slot.ts);
    sqe->len = 1;
    Queue(sqe, s, kTimeout, user);
    return info.Env().Undefined();
  }

  // submit() -> how many SQEs the kernel took. One io_uring_enter for everything queued.
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Live("io_uring_enter");
    int r = pending_ == 0 ? 0 : EnterRetry(pending_, 0, 0);
    return Napi::Number::New(info.Env(), r);
  }

  Napi::Value Pending(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pending_); }
  Napi::Value Inflight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), inflight_); }

  // wait(min, timeoutMs) -> completions written to the array. Submits what is queued, waits for at least `min`
  // completions (in slices of kWaitSliceMs, so that terminating the worker is never held up), then drains.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    unsigned min = static_cast<unsigned>(IntArg(info, 0, "min", 0, kMaxEntries * 4));
    int timeout = TimeoutArg(info, 1);
    Live("io_uring_enter");
    if (min > cq_entries_) min = cq_entries_;
    if (pending_ > 0 || defer_ || Overflowed()) EnterRetry(pending_, 0, IORING_ENTER_GETEVENTS);
    if (min > 0 && CqReady() < min && timeout != 0) {
      if ((params_.features & IORING_FEAT_EXT_ARG) == 0) ThrowErrno(env, ENOTSUP, "io_uring_enter");
      int64_t start = timeout > 0 ? MonotonicNs() : 0;
      while (CqReady() < min) {
        int left = RemainingMs(start, timeout);
        if (left == 0) break;
        int slice = (left < 0 || left > kWaitSliceMs) ? kWaitSliceMs : left;
        __kernel_timespec ts{slice / 1000, (slice % 1000) * 1000000LL};
        io_uring_getevents_arg arg{};
        arg.ts = reinterpret_cast<uint64_t>(&ts);
        EnterRetry(pending_, min, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
        if (CqReady() >= min) break;
        if (EnvStopping(env)) break;
      }
    }
    return Napi::Number::New(env, Drain(true));
  }

  // Takes completions off the CQ ring: into the array (`deliver`), at most one array's worth; or (closing) all,
  // discarding them, closing the fds of accepts nobody will take.
  int Drain(bool deliver) {
    int32_t* out = static_cast<int32_t*>(out_->data);
    unsigned head = *cq_head_;
    unsigned tail = LoadAcquire(cq_tail_);
    int n = 0;
    while (head != tail && (!deliver || static_cast<unsigned>(n) < cq_entries_)) {
      const io_uring_cqe& cqe = cqes_[head & cq_mask_];
      uint64_t ud = cqe.user_data;
      int32_t res = cqe.res;
      uint32_t flags = cqe.flags;
      head++;
      uint32_t s = static_cast<uint32_t>(ud >> 40);
      Op op = static_cast<Op>((ud >> 32) & 0xff);
      bool more = (flags & IORING_CQE_F_MORE) != 0;
      bool addressed = false;
      if (s != 0 && s <= slots_.size()) {
        Slot& slot = slots_[s - 1];
        if (op == kRecv && deliver) res = CopyOut(slot, res);
        if (op == kAccept && deliver && slot.want_address && res >= 0) {
          if (addresses_.size() < cq_entries_) addresses_.resize(cq_entries_);  // once, on first use
          addresses_[n] = *reinterpret_cast<const AcceptedAddress*>(slot.mem.get());
          addresses_[n].length = std::min<socklen_t>(addresses_[n].length, sizeof(sockaddr_storage));
          addressed = true;
        }
        if (!more) FreeSlot(s);
      }
      if (op == kInternal) continue;
      if (!deliver) {
        if (op == kAccept && res >= 0) ::close(res);
        if (op == kRecvMultishot && (flags & IORING_CQE_F_BUFFER) != 0) RecycleBid(flags);
        continue;
      }
      if (!addressed && !addresses_.empty()) addresses_[n].length = 0;
      int32_t* o = out + static_cast<size_t>(n) * kInts;
      o[0] = static_cast<int32_t>(ud & 0xffffffffu);
      o[1] = res;
      o[2] = static_cast<int32_t>(flags);
      o[3] = op;
      n++;
    }
    StoreRelease(cq_head_, head);
    if (deliver) last_drained_ = n;
    return n;
  }

  // acceptedAddress(i) -> the peer address of completion i of the last drain (an accept that asked for it), or null.
  Napi::Value AcceptedAddressOf(const Napi::CallbackInfo& info) {
    size_t i = static_cast<size_t>(IntArg(info, 0, "index", 0, kMaxEntries * 4));
    if (i >= addresses_.size() || i >= static_cast<size_t>(last_drained_) || addresses_[i].length == 0) {
      return info.Env().Null();
    }
    return AddressToJs(info.Env(), addresses_[i].storage, addresses_[i].length);
  }

  // A recv completion: copies the bytes into the caller's window as it is now (read once). A window that no
  // longer holds them (the buffer shrank or was detached meanwhile) gets nothing, and res says EFAULT. At most
  // the window's length is copied, whatever res says: with MSG_TRUNC a datagram's res is its real length, which
  // can exceed the window and the slot's memory (the kernel wrote what fit); res is passed on as the kernel gave it.
  int32_t CopyOut(Slot& slot, int32_t res) {
    if (res <= 0 || slot.target == nullptr) return res;
    napi_env env = Env();
    napi_value v;
    if (napi_get_reference_value(env, slot.target, &v) != napi_ok || v == nullptr) return -EFAULT;
    uint8_t* data = nullptr;
    size_t length = 0;
    bool is;
    if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
      napi_typedarray_type type;
      size_t count;
      napi_value ab;
      size_t off;
      void* d;
      if (napi_get_typedarray_info(env, v, &type, &count, &d, &ab, &off) != napi_ok) return -EFAULT;
      size_t unit = 1;
      switch (type) {
        case napi_int16_array: case napi_uint16_array: unit = 2; break;
        case napi_int32_array: case napi_uint32_array: case napi_float32_array: unit = 4; break;
        case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: unit = 8; break;
        default: unit = 1;
      }
      data = static_cast<uint8_t*>(d);
      length = count * unit;
    } else if (napi_is_dataview(env, v, &is) == napi_ok && is) {
      napi_value ab;
      size_t off;
      void* d;
      if (napi_get_dataview_info(env, v, &length, &d, &ab, &off) != napi_ok) return -EFAULT;
      data = static_cast<uint8_t*>(d);
    } else {
      void* d;
      if (napi_get_arraybuffer_info(env, v, &d, &length) != napi_ok) return -EFAULT;
      data = static_cast<uint8_t*>(d);
    }
    size_t n = std::min(static_cast<size_t>(res), slot.length);  // slot.length <= slot.cap (SlotMem)
    if (data == nullptr || slot.offset > length || n > length - slot.offset) return -EFAULT;
    std::memcpy(data + slot.offset, slot.mem.get(), n);
    return res;
  }

  // --- Provided-buffer rings ---

  // addBufferRing(group, count, size) -> ArrayBuffer of count * size bytes: buffer bid is [bid * size, +size).
  Napi::Value AddBufferRing(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint16_t group = static_cast<uint16_t>(IntArg(info, 0, "group", 0, UINT16_MAX));
    uint32_t count = static_cast<uint32_t>(IntArg(info, 1, "count", 1, 32768));
    uint32_t size = static_cast<uint32_t>(IntArg(info, 2, "size", 1, 1 << 20));
    if ((count & (count - 1)) != 0) ThrowRangeError(env, "The value of \"count\" is out of range. It must be a power of 2");
    if (static_cast<uint64_t>(count) * size > (1ull << 30)) ThrowRangeError(env, "count * size must be at most 1 GiB");
    Live("io_uring_register");
    for (const BufferRing& br : buf_rings_) {
      if (br.group == group) ThrowErrno(env, EEXIST, "io_uring_register");
    }
    Shared* data = NewShared(static_cast<size_t>(count) * size, true);
    if (data == nullptr) ThrowErrno(env, ENOMEM, "mmap");
    Napi::ArrayBuffer ab = SharedArrayBufferOf(env, data);  // takes one reference, even when it throws
    size_t ring_bytes = static_cast<size_t>(count) * sizeof(io_uring_buf);
    void* mem = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      int err = errno;
      data->Release();
      ThrowErrno(env, err, "mmap");
    }
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(mem);
    reg.ring_entries = count;
    reg.bgid = group;
    if (SysRegister(fd_, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
      int err = errno;
      ::munmap(mem, ring_bytes);
      data->Release();
      ThrowErrno(env, err, "io_uring_register");
    }
    buf_rings_.push_back(BufferRing{group, count, size, static_cast<io_uring_buf_ring*>(mem), ring_bytes, data, 0});
    BufferRing& br = buf_rings_.back();
    for (uint32_t bid = 0; bid < count; bid++) Put(br, static_cast<uint16_t>(bid));
    PublishTail(br);
    return ab;
  }

  // The ring is an array of io_uring_buf whose first entry's `resv` is the tail. Addressed as such, not through
  // io_uring_buf_ring's flexible array: in C++ the header's __DECLARE_FLEX_ARRAY puts an empty struct (1 byte
  // there, 0 in C) before it, which would shift every entry by 8 bytes.
  static io_uring_buf* Bufs(BufferRing& br) { return reinterpret_cast<io_uring_buf*>(br.ring); }
  static void PublishTail(BufferRing& br) { StoreRelease(&Bufs(br)[0].resv, br.tail); }

  void Put(BufferRing& br, uint16_t bid) {
    io_uring_buf& b = Bufs(br)[br.tail & (br.count - 1)];
    b.addr = reinterpret_cast<uint64_t>(static_cast<uint8_t*>(br.data->data) + static_cast<size_t>(bid) * br.size);
    b.len = br.size;
    b.bid = bid;
    br.tail++;
  }

  BufferRing* FindGroup(uint16_t group) {
    for (BufferRing& br : buf_rings_) {
      if (br.group == group) return &br;
    }
    return nullptr;
  }

  // A buffer the closing ring drains without delivering goes back to its ring (the group is not in the CQE:
  // with one ring per group, the buffer id's ring is ambiguous, so only a ring with one group recycles here).
  void RecycleBid(uint32_t flags) {
    if (buf_rings_.size() != 1) return;
    BufferRing& br = buf_rings_.front();
    uint16_t bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (bid >= br.count) return;
    Put(br, bid);
    PublishTail(br);
  }

  // recycle(group, bid): hands buffer bid back to the kernel.
  Napi::Value Recycle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint16_t group = static_cast<uint16_t>(IntArg(info, 0, "group", 0, UINT16_MAX));
    int64_t bid = IntArg(info, 1, "bid", 0, UINT16_MAX);
    Live("recycle");
    BufferRing* br = FindGroup(group);
    if (br == nullptr) ThrowErrno(env, ENOENT, "recycle");
    if (bid >= br->count) ThrowRangeError(env, "The value of \"bid\" is out of range. It must be < the ring's count");
    Put(*br, static_cast<uint16_t>(bid));
    PublishTail(*br);
    return env.Undefined();
  }

  // --- The event loop ---

  // start(callback(count)): completions on the event loop. An eventfd registered with the ring and polled by
  // libuv wakes it; each wake-up drains every completion into the array and calls back once.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) ThrowTypeError(env, "The \"callback\" argument must be of type function");
    Live("start");
    if (poller_ != nullptr) ThrowErrno(env, EBUSY, "start");
    // What can run JavaScript (async_hooks init callbacks) or throw, first.
    auto context = std::make_unique<Napi::AsyncContext>(env, "sockfd.uring", info.This().As<Napi::Object>());
    Napi::FunctionReference cb = Napi::Persistent(info[0].As<Napi::Function>());
    Live("start");  // the hooks may have closed the ring
    if (poller_ != nullptr) ThrowErrno(env, EBUSY, "start");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowErrno(env, ENOSYS, "start");
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) ThrowErrno(env, errno, "eventfd");
    if (SysRegister(fd_, IORING_REGISTER_EVENTFD, &efd, 1) < 0) {
      int err = errno;
      ::close(efd);
      ThrowErrno(env, err, "io_uring_register");
    }
    auto* p = new Poller{};
    p->ring = this;
    p->efd = efd;
    p->env = env;
    int rc = uv_poll_init(loop, &p->poll, efd);
    if (rc < 0) {
      SysRegister(fd_, IORING_UNREGISTER_EVENTFD, nullptr, 0);
      ::close(efd);
      delete p;
      ThrowErrno(env, -rc, "start");
    }
    p->poll.data = p;
    rc = uv_poll_start(&p->poll, UV_READABLE, OnPoll);
    if (rc == 0 && napi_add_async_cleanup_hook(env, OnPollerTeardown, p, &p->hook) != napi_ok) rc = UV_ENOMEM;
    if (rc < 0) {
      SysRegister(fd_, IORING_UNREGISTER_EVENTFD, nullptr, 0);
      p->ring = nullptr;
      p->closing = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&p->poll), OnPollerClosed);  // closes efd
      ThrowErrno(env, -rc, "start");
    }
    poller_ = p;
    context_ = std::move(context);
    callback_ = std::move(cb);
    Ref();  // while watching, the ring must live to be told
    watching_ = true;
    // Completions that came before the eventfd was registered would never be signalled.
    if (CqReady() > 0 || defer_) {
      uint64_t one = 1;
      (void)!::write(efd, &one, sizeof(one));
    }
    return env.Undefined();
  }

  static void OnPoll(uv_poll_t* poll, int status, int events) {
    Poller* p = static_cast<Poller*>(poll->data);
    if (p == nullptr || p->ring == nullptr || p->closing) return;
    if (EnvStopping(p->env)) return;
    try {
      p->ring->OnReady();
    } catch (const Napi::Error& e) {
      // io_uring_enter failed: the process's uncaught exception, as for any callback that throws.
      napi_fatal_exception(p->env, e.Value());
    } catch (...) {
    }
  }

  void StopPoller() {
    Poller* p = poller_;
    if (p == nullptr) return;
    DetachPoller();
    if (fd_ >= 0) SysRegister(fd_, IORING_UNREGISTER_EVENTFD, nullptr, 0);
    p->ring = nullptr;
    p->closing = true;
    uv_poll_stop(&p->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->poll), OnPollerClosed);
    callback_.Reset();
    // Not destroyed here: unwatch() may be running inside the callback that this context is making.
    if (context_ != nullptr) retired_.push_back(std::move(context_));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPoller();
    return info.Env().Undefined();
  }

  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    if (poller_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
    return info.Env().Undefined();
  }
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    if (poller_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
    return info.Env().Undefined();
  }

  // --- Closing ---

  // Cancels everything in flight and waits for it (bounded), closes the fd, unmaps. Runs no JavaScript.
  void CloseRing() {
    if (fd_ < 0) return;
    if (inflight_ > 0) {
      // Queued but unsubmitted SQEs are submitted with the cancel and cancelled by it (or complete).
      if (local_tail_ - LoadAcquire(sq_head_) >= sq_entries_) SysEnter(fd_, pending_, 0, 0, nullptr, 0);
      if (local_tail_ - LoadAcquire(sq_head_) < sq_entries_) {
        io_uring_sqe* sqe = &sqes_[local_tail_ & sq_mask_];
        std::memset(sqe, 0, sizeof(*sqe));
        sqe->opcode = IORING_OP_ASYNC_CANCEL;
        sqe->fd = -1;
        sqe->cancel_flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
        sqe->user_data = Encode(0, kInternal, 0);
        local_tail_++;
        StoreRelease(sq_tail_, local_tail_);
        pending_++;
      }
      int64_t start = MonotonicNs();
      bool ext = (params_.features & IORING_FEAT_EXT_ARG) != 0;
      for (;;) {
        Drain(false);
        if (inflight_ == 0) break;
        int left = RemainingMs(start, kCloseWaitMs);
        if (left == 0 || !ext) break;
        __kernel_timespec ts{0, std::min(left, 20) * 1000000LL};
        io_uring_getevents_arg arg{};
        arg.ts = reinterpret_cast<uint64_t>(&ts);
        int r = SysEnter(fd_, pending_, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
        if (r > 0) pending_ -= std::min<unsigned>(pending_, static_cast<unsigned>(r));
        if (r < 0 && errno != ETIME && errno != EINTR && errno != EBUSY) break;
      }
    }
    bool quiet = inflight_ == 0;
    for (BufferRing& br : buf_rings_) {
      io_uring_buf_reg reg{};
      reg.bgid = br.group;
      if (quiet) SysRegister(fd_, IORING_UNREGISTER_PBUF_RING, &reg, 1);
    }
    ::close(fd_);
    fd_ = -1;
    Unmap();
    if (quiet) {
      for (BufferRing& br : buf_rings_) {
        ::munmap(br.ring, br.ring_bytes);
        br.data->Release();
      }
      buf_rings_.clear();
      for (size_t i = 0; i < slots_.size(); i++) {
        if (slots_[i].target != nullptr) napi_delete_reference(Env(), slots_[i].target);
      }
      slots_.clear();
    } else {
      // The kernel may still write into what in-flight operations were given: leak it rather than free it.
      leaked_ = true;
      for (Slot& slot : slots_) {
        (void)slot.mem.release();
        if (slot.target != nullptr) napi_delete_reference(Env(), slot.target);
        slot.target = nullptr;
      }
      new std::deque<Slot>(std::move(slots_));
      buf_rings_.clear();  // their memory stays mapped, their data references are never released
    }
    free_head_ = 0;
    inflight_ = 0;
    pending_ = 0;
  }

  // close() -> whether everything in flight completed (false: some memory was left to the kernel).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPoller();
    CloseRing();
    return Napi::Boolean::New(info.Env(), !leaked_);
  }

  friend void OnPollerTeardown(napi_async_cleanup_hook_handle, void*);
};

void OnPollerClosed(uv_handle_t* h) {
  Poller* p = reinterpret_cast<Poller*>(h);
  ::close(p->efd);
  napi_async_cleanup_hook_handle hook = p->hook;
  delete p;
  if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
}

// The environment is going away (a worker exits): close the handle; its close callback removes this hook.
void OnPollerTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  Poller* p = static_cast<Poller*>(arg);
  if (p->closing) return;  // uv_close is under way: its callback removes the hook and so ends the wait
  if (p->ring != nullptr) p->ring->DetachPoller();
  p->ring = nullptr;
  p->closing = true;
  uv_poll_stop(&p->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->poll), OnPollerClosed);
}

// ioUringProbe() -> features (>= 0), or -errno: what io_uring_setup says, without throwing.
Napi::Value Probe(const Napi::CallbackInfo& info) {
  io_uring_params p{};
  int fd = SysSetup(1, &p);
  if (fd < 0) return Napi::Number::New(info.Env(), -errno);
  ::close(fd);
  return Napi::Number::New(info.Env(), p.features);
}

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("IoUring", Ring::Define(env));
  exports.Set("ioUringProbe", Napi::Function::New(env, Probe, "ioUringProbe"));
  exports.Set("hasIoUring", Napi::Boolean::New(env, true));
}

}  // namespace sockfd
