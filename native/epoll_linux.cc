// epoll(7), Linux only (epoll_stub.cc elsewhere). The kernel's data word carries the fd.
#include <sys/epoll.h>

#include <algorithm>
#include <memory>

#include "common.h"

namespace sockfd {
namespace {

constexpr int64_t kMaxEvents = 1 << 20;

Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int flags = Int32Arg(info, 0, "flags");
  int fd = ::epoll_create1(flags);
  if (fd < 0) ThrowErrno(info.Env(), errno, "epoll_create1");
  return OwningFds(&fd, 1, [&] { return Napi::Number::New(info.Env(), fd); });
}

// epollCtl(epfd, op, fd, events)
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  int epfd = FdArg(info, 0);
  int op = Int32Arg(info, 1, "op");
  int fd = FdArg(info, 2);
  epoll_event ev{};
  ev.events = static_cast<uint32_t>(IntArg(info, 3, "events", 0, UINT32_MAX));
  ev.data.u64 = 0;
  ev.data.fd = fd;
  int r;
  do {
    r = ::epoll_ctl(epfd, op, fd, &ev);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), errno, "epoll_ctl");
  return info.Env().Undefined();
}

int WaitRetry(napi_env env, int epfd, epoll_event* events, int max, int timeout) {
  return SlicedWait(env, timeout, [&](int ms) { return ::epoll_wait(epfd, events, max, ms); });
}

// Where epoll_wait writes its events: a per-thread area of kPerCall events (48 KiB), allocated on first use and
// never grown. A call asks the kernel for at most that many: epoll_wait reports "up to maxevents", and what is
// left stays in the ready list for the next call (epoll(7): successive calls round-robin through it), so
// nothing is lost, and one call with a huge maxEvents costs no megabytes kept for the thread's lifetime, nor an
// allocation per call. Left uninitialized: only the entries the kernel wrote are read.
constexpr int kPerCall = 4096;

epoll_event* EventBuffer() {
  thread_local std::unique_ptr<epoll_event[]> events(new epoll_event[kPerCall]);
  return events.get();
}

// epollWait(epfd, maxEvents, timeoutMs) -> [{ fd, events }]
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = FdArg(info, 0);
  int max = static_cast<int>(IntArg(info, 1, "maxEvents", 1, kMaxEvents));
  int timeout = TimeoutArg(info, 2);
  epoll_event* events = EventBuffer();
  int r = WaitRetry(env, epfd, events, std::min(max, kPerCall), timeout);
  if (r < 0) ThrowErrno(env, errno, "epoll_wait");
  Napi::Array out = Napi::Array::New(env, r);
  for (int k = 0; k < r; k++) {
    Napi::Object e = Napi::Object::New(env);
    DefineOwn(e, "fd", events[k].data.fd);
    DefineOwn(e, "events", Napi::Number::New(env, events[k].events));
    DefineOwn(out, static_cast<uint32_t>(k), e);
  }
  return out;
}

// epollWaitInto(epfd, out: Int32Array, timeoutMs) -> n; out[2k] = fd, out[2k+1] = events. Allocates nothing.
Napi::Value EpollWaitInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = FdArg(info, 0);
  Int32Span out = Int32ArrayArg(info, 1, "out");
  int32_t* o = out.data;
  size_t pairs = out.length / 2;
  if (pairs < 1) ThrowRangeError(env, "The \"out\" array must hold at least one (fd, events) pair");
  int max = static_cast<int>(std::min<size_t>(pairs, kMaxEvents));
  int timeout = TimeoutArg(info, 2);
  epoll_event* events = EventBuffer();
  int r = WaitRetry(env, epfd, events, std::min(max, kPerCall), timeout);
  if (r < 0) ThrowErrno(env, errno, "epoll_wait");
  for (int k = 0; k < r; k++) {
    o[2 * k] = events[k].data.fd;
    o[2 * k + 1] = static_cast<int32_t>(events[k].events);
  }
  return Napi::Number::New(env, r);
}

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports) {
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("epollCtl", Napi::Function::New(env, EpollCtl, "epollCtl"));
  exports.Set("epollWait", Napi::Function::New(env, EpollWait, "epollWait"));
  exports.Set("epollWaitInto", Napi::Function::New(env, EpollWaitInto, "epollWaitInto"));
  exports.Set("hasEpoll", Napi::Boolean::New(env, true));
}

}  // namespace sockfd
