// The addon's entry point: the export table and nothing else. The module keeps no global state, so that it
// loads and works in several worker_threads at once.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sockfd::InitSocket(env, exports);
  sockfd::InitIo(env, exports);
  sockfd::InitSelect(env, exports);
  sockfd::InitPoll(env, exports);
  sockfd::InitResolve(env, exports);
  sockfd::InitEpoll(env, exports);
  sockfd::InitSelectors(env, exports);
  sockfd::InitWatcher(env, exports);
  sockfd::InitNetdb(env, exports);
  sockfd::InitDup(env, exports);
  sockfd::InitSendfile(env, exports);
  sockfd::InitMsg(env, exports);
  sockfd::InitUring(env, exports);
  sockfd::InitConstants(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sockfd, Init)
