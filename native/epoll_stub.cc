// epoll is Linux's. Elsewhere the functions exist and fail with ENOSYS when called, so that the module loads.
#include "common.h"

namespace sockfd {
namespace {

Napi::Value NotHere(const Napi::CallbackInfo& info) {
  ThrowErrno(info.Env(), ENOSYS, "epoll");
}

}  // namespace

void InitEpoll(Napi::Env env, Napi::Object exports) {
  for (const char* name : {"epollCreate", "epollCtl", "epollWait", "epollWaitInto"}) {
    exports.Set(name, Napi::Function::New(env, NotHere, name));
  }
  exports.Set("hasEpoll", Napi::Boolean::New(env, false));
}

}  // namespace sockfd
