// io_uring is Linux's. Elsewhere the class and the probe exist and fail with ENOSYS, so that the module loads
// and ioUringSupport() can say why.
#include "common.h"

namespace sockfd {
namespace {

Napi::Value NotHere(const Napi::CallbackInfo& info) {
  ThrowErrno(info.Env(), ENOSYS, "io_uring_setup");
}

Napi::Value Probe(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), -ENOSYS); }

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("IoUring", Napi::Function::New(env, NotHere, "IoUring"));
  exports.Set("ioUringProbe", Napi::Function::New(env, Probe, "ioUringProbe"));
  exports.Set("hasIoUring", Napi::Boolean::New(env, false));
}

}  // namespace sockfd
