// dup(2), as Python's socket.dup and os.dup make it: the copy is close-on-exec (F_DUPFD_CLOEXEC, one fcntl).
#include <fcntl.h>

#include "common.h"

namespace sockfd {
namespace {

// dup(fd) -> a new fd, close-on-exec
Napi::Value Dup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) ThrowErrno(env, errno, "dup");
  return OwningFds(&copy, 1, [&] { return Napi::Number::New(env, copy); });
}

}  // namespace

void InitDup(Napi::Env env, Napi::Object exports) {
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
}

}  // namespace sockfd
