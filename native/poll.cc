// poll(2). The entries travel in one caller-owned Int32Array of (fd, events, revents) triples; poll writes the
// revents column in place, so a call allocates nothing on the JavaScript heap.
#include <poll.h>

#include <memory>
#include <new>
#include <vector>

#include "common.h"

namespace sockfd {
namespace {

// poll(entries: Int32Array of 3*n, n, timeoutMs) -> number of entries with non-zero revents
Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Int32Span entries = Int32ArrayArg(info, 0, "entries");
  int32_t* e = entries.data;
  size_t capacity = entries.length / 3;
  size_t n = static_cast<size_t>(IntArg(info, 1, "count", 0, static_cast<int64_t>(capacity)));
  int timeout = TimeoutArg(info, 2);
  // The entries are read from JavaScript memory once each, into this private array, which alone is checked and
  // handed to the kernel: the caller's array may be a SharedArrayBuffer that another thread writes meanwhile.
  // Short lists use a per-thread area kept between calls; a long one gets its own memory, freed on return.
  constexpr size_t kKeep = 256;
  thread_local std::vector<pollfd> kept(kKeep);
  // A list longer than RLIMIT_NOFILE is the kernel's EINVAL, but it comes after the copy: memory for it may
  // not be there, which is ENOMEM here, not a std::bad_alloc (node-addon-api lets only Napi::Error through).
  std::unique_ptr<pollfd[]> own;
  if (n > kKeep) {
    own.reset(new (std::nothrow) pollfd[n]);
    if (!own) ThrowErrno(env, ENOMEM, "poll");
  }
  pollfd* fds = n > kKeep ? own.get() : kept.data();
  for (size_t k = 0; k < n; k++) {
    int32_t events = e[3 * k + 1];
    if (events < 0 || events > 0xFFFF) {
      ThrowRangeError(env, "The value of \"events\" is out of range. It must be >= 0 and <= 0xFFFF; received " +
                               std::to_string(events));
    }
    fds[k].fd = e[3 * k];
    fds[k].events = static_cast<short>(events);
    fds[k].revents = 0;
  }
  int r = SlicedWait(env, timeout, [&](int ms) { return ::poll(fds, static_cast<nfds_t>(n), ms); });
  if (r < 0) ThrowErrno(env, errno, "poll");
  for (size_t k = 0; k < n; k++) e[3 * k + 2] = static_cast<uint16_t>(fds[k].revents);
  return Napi::Number::New(env, r);
}

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
}

}  // namespace sockfd
