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

FdList FdListArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Int32Span a = Int32ArrayArg(info, i, name);
  FdList list{a.data, a.length};
  for (size_t k = 0; k < list.count; k++) {
    if (list.fds[k] < 0 || list.fds[k] >= FD_SETSIZE) {
      ThrowRangeError(info.Env(), "The value of \"fd\" is out of range. select() takes fds >= 0 and < FD_SETSIZE (" +
                                      std::to_string(FD_SETSIZE) + "); received " + std::to_string(list.fds[k]));
    }
  }
  return list;
}

int Fill(fd_set* set, const FdList& list) {
  FD_ZERO(set);
  int max = -1;
  for (size_t k = 0; k < list.count; k++) {
    FD_SET(list.fds[k], set);
    if (list.fds[k] > max) max = list.fds[k];
  }
  return max;
}

// The fds of `list` that are in `set`, in input order, each once.
Napi::Array Ready(Napi::Env env, fd_set* set, const FdList& list) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (size_t k = 0; k < list.count; k++) {
    int fd = list.fds[k];
    if (FD_ISSET(fd, set)) {
      out.Set(n++, fd);
      FD_CLR(fd, set);  // a duplicate in the input is reported once
    }
  }
  return out;
}

// select(readFds: Int32Array, writeFds: Int32Array, exceptFds: Int32Array, timeoutMs) -> [readable, writable, exceptional]
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FdList lists[3] = {FdListArg(info, 0, "readFds"), FdListArg(info, 1, "writeFds"), FdListArg(info, 2, "exceptFds")};
  int timeout = TimeoutArg(info, 3);
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
  Napi::Array out = Napi::Array::New(env, 3);
  for (uint32_t k = 0; k < 3; k++) {
    if (r == 0) {
      out.Set(k, Napi::Array::New(env));
    } else {
      out.Set(k, Ready(env, &sets[k], lists[k]));
    }
  }
  return out;
}

}  // namespace

void InitSelect(Napi::Env env, Napi::Object exports) {
  exports.Set("select", Napi::Function::New(env, Select, "select"));
}

}  // namespace sockfd
