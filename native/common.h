// Shared helpers of the native layer: argument readers and the Node-style errno error.
// Every exported function is one system call (EINTR retried where the call is short), with errno captured
// at once. The TypeScript layer checks arguments first and gives the friendly messages; these readers
// check again so that no JavaScript value can make the native code misbehave.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
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
// The same for a value (an argument of a raw Node-API callback, see RawCallback). Inline, with the errors out of
// line: these readers are on every hot path, and building the messages made each call save six registers and a
// frame for strings it never built (about 50 instructions per argument, callgrind).
[[noreturn]] void ThrowIntError(napi_env env, napi_status status, const char* name, int64_t min, int64_t max);
inline int64_t IntValue(napi_env env, napi_value v, const char* name, int64_t min, int64_t max) {
  double d;  // one Node-API call, which also tells a non-number apart
  napi_status status = napi_get_value_double(env, v, &d);
  if (status != napi_ok || !(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || std::trunc(d) != d) {
    ThrowIntError(env, status, name, min, max);
  }
  return static_cast<int64_t>(d);
}
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
// The same for any value: the element `index` of the list `name` when index >= 0 (the TypeError then names
// `name[index]`), else the argument `name`.
Bytes BytesOf(Napi::Env env, Napi::Value v, const char* name, long index = -1);
// BytesOf's look at a value without throwing: false when it is not bytes or Node-API refuses (the environment
// is stopping).
bool TryBytesOf(napi_env env, napi_value v, Bytes* out);

// Like BytesArg, but also accepts a string, whose UTF-8 bytes are copied into `storage`.
Bytes DataArg(const Napi::CallbackInfo& info, size_t i, const char* name, std::string& storage);
Bytes DataOf(napi_env env, napi_value v, const char* name, std::string& storage);

// Timeout argument in milliseconds: -1 waits forever, otherwise 0..INT32_MAX.
int TimeoutArg(const Napi::CallbackInfo& info, size_t i);

// Milliseconds left of a wait that started at `start_ns` (monotonic clock) for `timeout_ms`.
int64_t MonotonicNs();
int RemainingMs(int64_t start_ns, int timeout_ms);

// Whether the environment is being torn down: its worker terminated (worker.terminate(), or the process
// exiting while the worker runs) or the process ending. From the moment Node asks for that, Node-API refuses
// to run JavaScript in it, and says so as napi_pending_exception with no exception pending (node-addon-api's
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS relies on the same sign). Callable on the environment's own thread only.
bool EnvStopping(napi_env env);

// The longest a blocking wait sleeps before it checks EnvStopping again.
constexpr int kWaitSliceMs = 50;

// A blocking wait that its environment's teardown can end. `call(ms)` is one select/poll/epoll_wait that waits
// at most `ms` (-1: no limit) and returns its result with errno set. SlicedWait makes the call with `timeout`
// (-1: forever) cut into slices of at most kWaitSliceMs, until it reports something or fails (EINTR is retried)
// or the whole timeout has passed. Why: worker.terminate() cannot interrupt a system call, and a worker blocked
// in one holds up its terminate(), and process.exit() or the natural end of the main thread (Node joins every
// worker thread first), for as long as the call waits: forever, with no timeout. Between slices, a wait whose
// environment is stopping returns 0 ("nothing ready", as a timeout) at once; the thread's JavaScript is being
// terminated and ends at its next check. A timeout of 0 is one call, with no slicing and no check.
template <typename Call>
int SlicedWait(napi_env env, int timeout, Call call) {
  if (timeout == 0) {
    int r;
    do {
      r = call(0);
    } while (r < 0 && errno == EINTR);
    return r;
  }
  int64_t start = timeout > 0 ? MonotonicNs() : 0;
  for (;;) {
    int left = RemainingMs(start, timeout);  // -1: no limit
    bool last = left >= 0 && left <= kWaitSliceMs;
    int r = call(last ? left : kWaitSliceMs);
    if (r > 0 || (r < 0 && errno != EINTR)) return r;
    if (r == 0 && last) return 0;
    if (EnvStopping(env)) return 0;
  }
}

// The body of a raw Node-API callback, for the per-message functions (recvInto, send): `body(argc, argv)` gets
// the first N arguments (the missing ones undefined, argc the number passed). These functions let trailing
// arguments be left out (argc), meaning the default: reading an argument is a Node-API call, and the hot paths of
// the JavaScript layer leave out what is the default. An explicit undefined is still a TypeError. node-addon-api's CallbackInfo asks
// Node-API for six arguments, `this` and the data pointer, and wraps the result; per message, that and its
// wrapper were about 100 instructions per call (callgrind). A C++ exception becomes the JavaScript exception, as
// node-addon-api's wrapper makes it.
template <size_t N, typename Body>
napi_value RawCallback(napi_env env, napi_callback_info cbinfo, Body body) {
  try {
    size_t argc = N;
    napi_value argv[N];
    NAPI_THROW_IF_FAILED(env, napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr), nullptr);
    return body(argc, argv);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// Exports a raw Node-API callback as `name`.
inline void ExportRaw(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn));
  exports.Set(name, Napi::Value(env, fn));
}

// Creates an own, enumerable, writable data property on an object this code has just made, as an object literal
// does: by definition, never through [[Set]], so a setter that JavaScript put on Object.prototype or
// Array.prototype (for "fd", "0", "code"...) is never called. Building a result or an error runs no JavaScript,
// and cannot close, reuse or see an fd it is about to hand over.
inline void DefineOwn(const Napi::Object& obj, const char* key, napi_value value) {
  napi_property_descriptor d{key, nullptr, nullptr, nullptr, nullptr, value, napi_default_jsproperty, nullptr};
  NAPI_THROW_IF_FAILED_VOID(obj.Env(), napi_define_properties(obj.Env(), obj, 1, &d));
}
template <typename V>
void DefineOwn(const Napi::Object& obj, const char* key, const V& value) {
  DefineOwn(obj, key, static_cast<napi_value>(Napi::Value::From(obj.Env(), value)));
}
template <typename V>
void DefineOwn(const Napi::Object& obj, uint32_t index, const V& value) {
  DefineOwn(obj, std::to_string(index).c_str(), value);
}

// Builds a result that carries fds the kernel has just created: if building it fails (Node-API refuses to
// allocate in a worker that is being terminated, say), the fds are closed before the error leaves, so that no
// path leaks one. `build` makes the JavaScript value.
template <typename Build>
Napi::Value OwningFds(const int* fds, size_t count, Build build) {
  try {
    return build();
  } catch (...) {
    for (size_t k = 0; k < count; k++) ::close(fds[k]);
    throw;
  }
}

// Whether a receive's flags include MSG_TRUNC (never, where the platform has none).
inline bool Truncating(int flags) {
#ifdef MSG_TRUNC
  return (flags & MSG_TRUNC) != 0;
#else
  return false;
#endif
}

// Memory for a receive with MSG_TRUNC, zero-filled. With MSG_TRUNC the kernel may count bytes it never wrote (a
// stream socket discards them and returns how many), and which happened is not known without another system
// call, so the memory a result is copied from must hold zeros wherever the kernel wrote nothing. calloc gives
// that: a block above malloc's mmap threshold (128 KiB, rising to at most 32 MiB as glibc adapts) comes from
// fresh pages, which read as zeros and cost nothing until written, so recv(fd, 2**31 - 1, MSG_TRUNC) that gets
// 10 bytes touches a page, not 2 GiB (a memset of the whole Buffer did: seconds, and minutes under
// AddressSanitizer); a smaller block is zeroed by calloc itself. Throws ENOMEM if it cannot be had (ASan, by
// default, aborts instead).
struct FreeBytes {
  void operator()(uint8_t* p) const { std::free(p); }
};
using ZeroedBytes = std::unique_ptr<uint8_t, FreeBytes>;
inline ZeroedBytes ZeroedRecvMemory(Napi::Env env, size_t size, const char* syscall) {
  ZeroedBytes mem(static_cast<uint8_t*>(std::calloc(size == 0 ? 1 : size, 1)));
  if (!mem) ThrowErrno(env, ENOMEM, syscall);
  return mem;
}

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
void InitUring(Napi::Env env, Napi::Object exports);
void InitNetdb(Napi::Env env, Napi::Object exports);
void InitDup(Napi::Env env, Napi::Object exports);
void InitSendfile(Napi::Env env, Napi::Object exports);

// A getaddrinfo/getnameinfo failure (EAI_*) as libuv numbers it (UV_EAI_*, negative), so that the error's code
// is libuv's name and util.getSystemErrorName(err.errno) gives it back (resolve.cc).
int TranslateEai(int rc);
void InitMsg(Napi::Env env, Napi::Object exports);

// Stops and releases this environment's watcher of `fd`, if it has one (close() calls it first). Runs no
// JavaScript. Returns the function to tell (a batched watcher's owner, the async methods' Readiness), or null:
// the caller passes it to TellStopped once it has finished what it does, since JavaScript may run there.
napi_value StopWatcherForClose(napi_env env, int fd);
// Tells a batched watcher's owner that close(fd) stopped it (see StopWatcherForClose). Runs JavaScript: call it
// last, with nothing left to do after that depends on state the JavaScript may change. Takes null (nothing).
void TellStopped(napi_env env, napi_value fn);

// The selectors' event bits (Python's selectors.EVENT_READ / EVENT_WRITE).
constexpr int kEventRead = 1;
constexpr int kEventWrite = 2;

}  // namespace sockfd
