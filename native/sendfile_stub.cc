// sendfile(2) as sockfd exposes it is Linux's (the BSDs and macOS have other signatures). Elsewhere the function
// exists and fails with ENOSYS when called, so that the module loads.
#include "common.h"

namespace sockfd {
namespace {

Napi::Value NotHere(const Napi::CallbackInfo& info) {
  ThrowErrno(info.Env(), ENOSYS, "sendfile");
}

}  // namespace

void InitSendfile(Napi::Env env, Napi::Object exports) {
  exports.Set("sendfile", Napi::Function::New(env, NotHere, "sendfile"));
}

}  // namespace sockfd
