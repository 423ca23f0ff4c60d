#include <uv.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

#include "common.h"

namespace sockfd {

namespace {

[[noreturn]] void ThrowCoded(Napi::Error error, const char* code) {
  DefineOwn(error.Value(), "code", Napi::String::New(error.Env(), code));
  throw error;
}

// The errno names libuv has none for (uv_err_name says "Unknown system error N", and leaks memory doing it), as
// the C headers and Node's os.constants.errno spell them. Socket calls can return several: a blocking connect
// with SO_SNDTIMEO fails with EINPROGRESS, a reset can be ENETRESET.
const char* ExtraErrnoName(int err) {
  switch (err) {
#define SOCKFD_ERRNO_NAME(e) \
  case e:                    \
    return #e;
#ifdef EINPROGRESS
    SOCKFD_ERRNO_NAME(EINPROGRESS)
#endif
#ifdef ENETRESET
    SOCKFD_ERRNO_NAME(ENETRESET)
#endif
#ifdef EPFNOSUPPORT
    SOCKFD_ERRNO_NAME(EPFNOSUPPORT)
#endif
#ifdef ETOOMANYREFS
    SOCKFD_ERRNO_NAME(ETOOMANYREFS)
#endif
#ifdef EBADFD
    SOCKFD_ERRNO_NAME(EBADFD)
#endif
#ifdef EBADMSG
    SOCKFD_ERRNO_NAME(EBADMSG)
#endif
#ifdef ETIME
    SOCKFD_ERRNO_NAME(ETIME)
#endif
#ifdef ENOLINK
    SOCKFD_ERRNO_NAME(ENOLINK)
#endif
#ifdef EDEADLK
    SOCKFD_ERRNO_NAME(EDEADLK)
#endif
#ifdef ENOLCK
    SOCKFD_ERRNO_NAME(ENOLCK)
#endif
#ifdef ENOMSG
    SOCKFD_ERRNO_NAME(ENOMSG)
#endif
#ifdef EDQUOT
    SOCKFD_ERRNO_NAME(EDQUOT)
#endif
#ifdef ESTALE
    SOCKFD_ERRNO_NAME(ESTALE)
#endif
#ifdef ECHILD
    SOCKFD_ERRNO_NAME(ECHILD)
#endif
#ifdef ENOEXEC
    SOCKFD_ERRNO_NAME(ENOEXEC)
#endif
#ifdef EDOM
    SOCKFD_ERRNO_NAME(EDOM)
#endif
#ifdef EREMOTE
    SOCKFD_ERRNO_NAME(EREMOTE)
#endif
#ifdef ECOMM
    SOCKFD_ERRNO_NAME(ECOMM)
#endif
#undef SOCKFD_ERRNO_NAME
    default:
      return nullptr;
  }
}

size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:  // a kind this build does not know: no bytes, rather than a guess
      return 0;
  }
}

}  // namespace

std::string ErrnoName(int err) {
  // libuv's names are Node's names: util.getSystemErrorName(-err) gives the same string.
  char buf[64];
  uv_err_name_r(-err, buf, sizeof(buf));
  if (std::strncmp(buf, "Unknown", 7) != 0) return buf;
  const char* extra = ExtraErrnoName(err);
  return extra != nullptr ? extra : buf;
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& address, int port) {
  const std::string code = ErrnoName(err);
  std::string message = std::string(syscall) + " " + code;
  if (!address.empty()) {
    message += " " + address;
    if (port >= 0) message += ":" + std::to_string(port);
  }
  Napi::Error error = Napi::Error::New(env, message);
  DefineOwn(error.Value(), "errno", Napi::Number::New(env, -err));
  DefineOwn(error.Value(), "code", Napi::String::New(env, code));
  DefineOwn(error.Value(), "syscall", Napi::String::New(env, syscall));
  if (!address.empty()) {
    DefineOwn(error.Value(), "address", Napi::String::New(env, address));
    if (port >= 0) DefineOwn(error.Value(), "port", Napi::Number::New(env, port));
  }
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& address, int port) {
  throw ErrnoError(env, err, syscall, address, port);
}

void ThrowTypeError(Napi::Env env, const std::string& message) {
  ThrowCoded(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_TYPE");
}

void ThrowRangeError(Napi::Env env, const std::string& message) {
  ThrowCoded(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE");
}

void ThrowIntError(napi_env env, napi_status status, const char* name, int64_t min, int64_t max) {
  if (status != napi_ok) ThrowTypeError(env, std::string("The \"") + name + "\" argument must be of type number");
  ThrowRangeError(env, std::string("The value of \"") + name + "\" is out of range. It must be an integer >= " +
                           std::to_string(min) + " and <= " + std::to_string(max));
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  return IntValue(info.Env(), info[i], name, min, max);
}

Int32Span Int32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_int32_array) {
    napi_value ignored;
    napi_get_and_clear_last_exception(info.Env(), &ignored);
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be an Int32Array");
  }
  if (data == nullptr) length = 0;  // detached
  return Int32Span{static_cast<int32_t*>(data), length};
}

Bytes BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return BytesOf(info.Env(), info[i], name);
}

namespace {
// Any view in one Node-API call, the per-message case (a Buffer): napi_get_buffer_info takes every
// ArrayBufferView (node::Buffer::HasInstance) and reads the pointer once and the byte length once, which V8
// computes for a length-tracking or out-of-bounds view as napi_get_typedarray_info's does. False where it
// refuses (an ArrayBuffer, a string, anything else, or a Node that takes Uint8Arrays only): BytesOf decides.
bool ViewBytes(napi_env env, napi_value v, Bytes* out) {
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_buffer_info(env, v, &data, &length) != napi_ok) return false;
  *out = Bytes{static_cast<uint8_t*>(data), data == nullptr ? 0 : length};  // no pointer: detached
  return true;
}

// Everything ViewBytes refused: the checks by kind (an ArrayBuffer first: recvAsync reads into one; a view,
// should this Node's napi_get_buffer_info take Uint8Arrays only). Throws nothing: `*is` false when the value is
// none of them, and the status of a Node-API call that failed.
napi_status PeekOtherBytes(napi_env env, napi_value v, Bytes* out, bool* is) {
  void* data = nullptr;
  size_t length = 0;
  napi_status st;
  *is = false;
  if ((st = napi_is_arraybuffer(env, v, is)) != napi_ok) return st;
  if (*is) {
    if ((st = napi_get_arraybuffer_info(env, v, &data, &length)) != napi_ok) return st;
  } else {
    if ((st = napi_is_typedarray(env, v, is)) != napi_ok) return st;
    if (*is) {
      napi_typedarray_type type;
      size_t count;
      napi_value ab;
      size_t offset;
      // One look at the view: its length read twice could differ (a length-tracking view of a growable
      // SharedArrayBuffer that another thread grows), and the pointer and length used must come from one read.
      if ((st = napi_get_typedarray_info(env, v, &type, &count, &data, &ab, &offset)) != napi_ok) return st;
      length = count * ElementSize(type);
    } else {
      if ((st = napi_is_dataview(env, v, is)) != napi_ok || !*is) return st;
      napi_value ab;
      size_t offset;
      if ((st = napi_get_dataview_info(env, v, &length, &data, &ab, &offset)) != napi_ok) return st;
    }
  }
  *out = Bytes{static_cast<uint8_t*>(data), data == nullptr ? 0 : length};  // no pointer: detached
  return napi_ok;
}

// PeekOtherBytes, or its Node-API error, or the TypeError.
Bytes OtherBytes(Napi::Env env, Napi::Value v, const char* name, long index) {
  Bytes b{nullptr, 0};
  bool is = false;
  NAPI_THROW_IF_FAILED(env, PeekOtherBytes(env, v, &b, &is), Bytes{});
  if (!is) {
    ThrowTypeError(env, std::string("The \"") + name + (index >= 0 ? "[" + std::to_string(index) + "]" : std::string()) +
                            "\" argument must be an instance of Buffer, TypedArray, DataView or ArrayBuffer");
  }
  return b;
}
}  // namespace

bool TryBytesOf(napi_env env, napi_value v, Bytes* out) {
  bool is = false;
  return ViewBytes(env, v, out) || (PeekOtherBytes(env, v, out, &is) == napi_ok && is);
}

Bytes BytesOf(Napi::Env env, Napi::Value v, const char* name, long index) {
  Bytes view;
  if (ViewBytes(env, v, &view)) return view;
  return OtherBytes(env, v, name, index);
}

Bytes DataOf(napi_env env, napi_value v, const char* name, std::string& storage) {
  Bytes view;
  if (ViewBytes(env, v, &view)) return view;  // the usual case first: no type test before it
  Napi::Value value(env, v);
  if (value.IsString()) {
    storage = value.As<Napi::String>().Utf8Value();
    return Bytes{reinterpret_cast<uint8_t*>(storage.data()), storage.size()};
  }
  return OtherBytes(env, value, name, -1);  // not BytesOf: ViewBytes has refused it already
}

Bytes DataArg(const Napi::CallbackInfo& info, size_t i, const char* name, std::string& storage) {
  return DataOf(info.Env(), info[i], name, storage);
}

int TimeoutArg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int>(IntArg(info, i, "timeout", -1, INT32_MAX));
}

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int RemainingMs(int64_t start_ns, int timeout_ms) {
  if (timeout_ms < 0) return -1;
  int64_t elapsed_ns = MonotonicNs() - start_ns;
  int64_t left_ns = static_cast<int64_t>(timeout_ms) * 1000000 - elapsed_ns;
  if (left_ns <= 0) return 0;
  return static_cast<int>((left_ns + 999999) / 1000000);  // round up, as the caller asked for at least this
}

bool EnvStopping(napi_env env) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  // Coercing a boolean runs no JavaScript, but is a call Node-API makes only where JavaScript may run.
  napi_value value, out;
  bool stopping = false;
  if (napi_get_boolean(env, true, &value) == napi_ok && napi_coerce_to_bool(env, value, &out) != napi_ok) {
    bool pending = true;
    stopping = napi_is_exception_pending(env, &pending) == napi_ok && !pending;
  }
  napi_close_handle_scope(env, scope);
  return stopping;
}

}  // namespace sockfd
