// select(2). fd_set is a fixed bitmap of FD_SETSIZE bits: an fd at or past it would be written out of bounds,
// so every fd is checked before any set is touched.
#include <sys/select.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace sockfd {
namespace {

struct FdList {
  int32_t* fds;
  size_t count;
};

int Fill(fd_set* set, const FdList& list) {
  FD_ZERO(set);
  int max = -1;
  for (size_t k = 0; k < list.count; k++) {
    FD_SET(list.fds[k], set);
    if (list.fds[k] > max) max = list.fds[k];
  }
  return max;
}

// Overwrites each fd of `list` with 1 if it is in `set` (its first occurrence only: a duplicate in the input is
// reported once), else 0.
void MarkReady(fd_set* set, const FdList& list, bool any) {
  for (size_t k = 0; k < list.count; k++) {
    int fd = list.fds[k];
    bool ready = any && FD_ISSET(fd, set);
    if (ready) FD_CLR(fd, set);
    list.fds[k] = ready ? 1 : 0;
  }
}

// select(fds: Int32Array, nRead, nWrite, timeoutMs) -> number of ready fds (as select(2) counts them).
// fds holds the read fds, then the write fds, then the except fds (the rest of the array). On return each entry
// is 1 where that fd is ready for its set, else 0: no JavaScript array is made, and the caller maps the flags
// back to the objects it was given.
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Int32Span all = Int32ArrayArg(info, 0, "fds");
  size_t nr = static_cast<size_t>(IntArg(info, 1, "nRead", 0, static_cast<int64_t>(all.length)));
  size_t nw = static_cast<size_t>(IntArg(info, 2, "nWrite", 0, static_cast<int64_t>(all.length - nr)));
  int timeout = TimeoutArg(info, 3);
  // Every fd is checked before any set is touched: FD_SET past FD_SETSIZE writes out of bounds.
  for (size_t k = 0; k < all.length; k++) {
    if (all.data[k] < 0 || all.data[k] >= FD_SETSIZE) {
      ThrowRangeError(env, "The value of \"fd\" is out of range. select() takes fds >= 0 and < FD_SETSIZE (" +
                               std::to_string(FD_SETSIZE) + "); received " + std::to_string(all.data[k]));
    }
  }
  FdList lists[3] = {{all.data, nr}, {all.data + nr, nw}, {all.data + nr + nw, all.length - nr - nw}};
  fd_set sets[3];
  int r = SlicedWait(env, timeout, [&](int wait) {
    // select() clears the sets when it times out or fails: fill them for each call.
    int nfds = 0;
    for (int k = 0; k < 3; k++) nfds = std::max(nfds, Fill(&sets[k], lists[k]) + 1);
    struct timeval tv;
    if (wait >= 0) {
      tv.tv_sec = wait / 1000;
      tv.tv_usec = (wait % 1000) * 1000;
    }
    return ::select(nfds, &sets[0], &sets[1], &sets[2], wait >= 0 ? &tv : nullptr);
  });
  if (r < 0) ThrowErrno(env, errno, "select");
  for (int k = 0; k < 3; k++) MarkReady(&sets[k], lists[k], r > 0);
  return Napi::Number::New(env, r);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, Select, "select"));
}

}  // namespace sockfd
