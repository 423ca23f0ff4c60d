// sendfile(2), Linux's: bytes from a file (or any fd the kernel can splice from) to a socket without a copy
// through user memory. One call; "would block" on a non-blocking socket is null.
#include <sys/sendfile.h>

#include "common.h"

namespace sockfd {
namespace {

// sendfile(outFd, inFd, offset (-1: the file's own position, which then advances), count) -> bytes | null.
// With an offset the file's position is neither used nor changed.
Napi::Value SendFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int out_fd = static_cast<int>(IntArg(info, 0, "outFd", 0, INT32_MAX));
  int in_fd = static_cast<int>(IntArg(info, 1, "inFd", 0, INT32_MAX));
  int64_t offset = IntArg(info, 2, "offset", -1, (int64_t{1} << 53) - 1);
  size_t count = static_cast<size_t>(IntArg(info, 3, "count", 0, (int64_t{1} << 53) - 1));
  off_t off = static_cast<off_t>(offset);
  ssize_t n;
  do {
    n = ::sendfile(out_fd, in_fd, offset < 0 ? nullptr : &off, count);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, err, "sendfile");
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitSendfile(Napi::Env env, Napi::Object exports) {
  exports.Set("sendfile", Napi::Function::New(env, SendFile, "sendfile"));
}

}  // namespace sockfd
