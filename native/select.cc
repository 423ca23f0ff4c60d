// select(2). fd_set is a fixed bitmap of FD_SETSIZE bits: an fd at or past it would be written out of bounds,
// so every fd is copied out of JavaScript memory once and checked before any set is touched.
#include <sys/select.h>

#include <algorithm>
#include <memory>
#include <new>

#include "common.h"

namespace sockfd {
namespace {

// The three lists as one private copy of the caller's fds. The caller's Int32Array may be backed by a
// SharedArrayBuffer that another thread writes while this thread waits: every fd is read from JavaScript memory
// exactly once, into this copy, which alone is checked and used (a second read could meet an fd past FD_SETSIZE
// after the check, and FD_SET would write out of bounds). Short lists stay on the stack.
class FdCopy {
 public:
  // `ok()` is false when a long list's memory could not be had (no std::bad_alloc: node-addon-api catches only
  // Napi::Error, and anything else leaving a callback ends the process).
  explicit FdCopy(size_t n) : n_(n) {
    if (n > kInline) heap_.reset(new (std::nothrow) int[n]);
  }
  bool ok() const { return n_ <= kInline || heap_ != nullptr; }
  int* data() { return heap_ ? heap_.get() : inline_; }
  size_t size() const { return n_; }

 private:
  static constexpr size_t kInline = 64;
  size_t n_;
  int inline_[kInline];
  std::unique_ptr<int[]> heap_;
};

struct FdList {
  const int* fds;
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

// Writes 1 to out[k] where the k-th fd of `list` is in `set` (its first occurrence only: a duplicate in the
// input is reported once), else 0. Reads the fds from the checked copy, never from `out`.
void MarkReady(fd_set* set, const FdList& list, bool any, int32_t* out) {
  for (size_t k = 0; k < list.count; k++) {
    int fd = list.fds[k];
    bool ready = any && FD_ISSET(fd, set);
    if (ready) FD_CLR(fd, set);
    out[k] = ready ? 1 : 0;
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
  // Read once, check the copy, use only the copy.
  FdCopy copy(all.length);
  if (!copy.ok()) ThrowErrno(env, ENOMEM, "select");
  int* fds = copy.data();
  for (size_t k = 0; k < all.length; k++) {
    int fd = all.data[k];
    if (fd < 0 || fd >= FD_SETSIZE) {
      ThrowRangeError(env, "The value of \"fd\" is out of range. select() takes fds >= 0 and < FD_SETSIZE (" +
                               std::to_string(FD_SETSIZE) + "); received " + std::to_string(fd));
    }
    fds[k] = fd;
  }
  FdList lists[3] = {{fds, nr}, {fds + nr, nw}, {fds + nr + nw, all.length - nr - nw}};
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
  // The flags go back into the caller's array: its length was read once and a shared buffer cannot shrink, and
  // nothing on this thread can resize or detach a non-shared one during the call (no JavaScript runs here).
  int32_t* out = all.data;
  for (int k = 0; k < 3; k++) {
    MarkReady(&sets[k], lists[k], r > 0, out);
    out += lists[k].count;
  }
  return Napi::Number::New(env, r);
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, Select, "select"));
}

}  // namespace sockfd
