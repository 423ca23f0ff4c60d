// Shared helpers of the native layer: argument readers and the Node-style errno error.
// Every exported function is one system call (EINTR retried where the call is short), with errno captured
// at once. The TypeScript layer checks arguments first and gives the friendly messages; these readers
// check again so that no JavaScript value can make the native code misbehave.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sockfd {

// The errno name: libuv's (which is Node's), else the C name for the few libuv lacks (EINPROGRESS...).
std::string ErrnoName(int err);
// Throws a Node-style system error: message "<syscall> <CODE>[ <address>]", code, errno (negative),
// syscall, and address/port when given (port < 0 means none; a Unix path is an address, as in Node).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& address = "", int port = -1);
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& address = "",
                             int port = -1);

// TypeError with code ERR_INVALID_ARG_TYPE / RangeError with code ERR_OUT_OF_RANGE.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);

// The i-th argument as an integer in [min, max]; TypeError when it is not a number, RangeError when it is
// not an integer in range.
int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
inline int FdArg(const Napi::CallbackInfo& info, size_t i = 0) {
  return static_cast<int>(IntArg(info, i, "fd", 0, INT32_MAX));
}
inline int Int32Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<int>(IntArg(info, i, name, INT32_MIN, INT32_MAX));
}

// The elements of an Int32Array argument (TypeError for anything else); {nullptr, 0} when detached.
struct Int32Span {
  int32_t* data;
  size_t length;
};
Int32Span Int32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// A view of the bytes of a Buffer, TypedArray, DataView or ArrayBuffer argument. TypeError otherwise.
struct Bytes {
  uint8_t* data;
  size_t length;
};
Bytes BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Like BytesArg, but also accepts a string, whose UTF-8 bytes are copied into `storage`.
Bytes DataArg(const Napi::CallbackInfo& info, size_t i, const char* name, std::string& storage);

// Timeout argument in milliseconds: -1 waits forever, otherwise 0..INT32_MAX.
int TimeoutArg(const Napi::CallbackInfo& info, size_t i);

// Milliseconds left of a wait that started at `start_ns` (monotonic clock) for `timeout_ms`.
int64_t MonotonicNs();
int RemainingMs(int64_t start_ns, int timeout_ms);

// Module registration: each source file adds its functions to the exports object.
void InitSocket(Napi::Env env, Napi::Object exports);
void InitIo(Napi::Env env, Napi::Object exports);
void InitSelect(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);
void InitResolve(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);
void InitEpoll(Napi::Env env, Napi::Object exports);
void InitSelectors(Napi::Env env, Napi::Object exports);
void InitWatcher(Napi::Env env, Napi::Object exports);

// Stops and releases this environment's watcher of `fd`, if it has one (close() calls it first).
void StopWatcherForClose(napi_env env, int fd);

// The selectors' event bits (Python's selectors.EVENT_READ / EVENT_WRITE).
constexpr int kEventRead = 1;
constexpr int kEventWrite = 2;

}  // namespace sockfd
