// Data transfer: recv, recvInto, recvfrom, recvfromInto, send, sendto. One system call each, EINTR retried;
// "would block" (EAGAIN) is returned as null, never thrown.
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "sockaddr.h"

namespace sockfd {
namespace {

constexpr size_t kScratchSize = 64 * 1024;
constexpr int64_t kMaxRecvSize = INT32_MAX;

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// send's flags when the caller passes none (see Send).
#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;
#endif

// Small reads land in a per-thread scratch area and are copied into a Buffer of the exact size, so that a
// recv(fd, 65536) that returns 10 bytes costs 10 bytes of JavaScript memory, as Python's recv does.
uint8_t* Scratch() {
  thread_local std::unique_ptr<uint8_t[]> scratch(new uint8_t[kScratchSize]);
  return scratch.get();
}

ssize_t RecvRetry(int fd, void* buf, size_t len, int flags, sockaddr_storage* from, socklen_t* fromlen) {
  ssize_t n;
  do {
    if (from != nullptr) {
      *fromlen = sizeof(*from);
      n = ::recvfrom(fd, buf, len, flags, reinterpret_cast<sockaddr*>(from), fromlen);
    } else {
      n = ::recv(fd, buf, len, flags);
    }
  } while (n < 0 && errno == EINTR);
  return n;
}

// Receives up to `size` bytes into a new Buffer; null when it would block.
// With MSG_TRUNC: on a datagram socket the kernel copies what fits and returns the datagram's real length; on a
// stream socket (TCP) it discards up to `len` bytes, writes nothing and returns how many it discarded. Which
// one happened is not known without another system call, so with MSG_TRUNC the memory the result is copied
// from holds zeros before the call (the per-thread scratch area is zeroed; a larger read goes into fresh
// zeroed memory, see ZeroedRecvMemory): what is returned is then bytes of this socket or zeros, never an
// earlier recv's bytes (from any socket of this thread) or uninitialized memory.
Napi::Value RecvBuffer(const Napi::CallbackInfo& info, const char* syscall, sockaddr_storage* from, socklen_t* fromlen) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  size_t size = static_cast<size_t>(IntArg(info, 1, "size", 0, kMaxRecvSize));
  int flags = Int32Arg(info, 2, "flags");
  const bool truncating = Truncating(flags);
  // Reads into `buf` (size bytes) and returns what the kernel reported, or null for would-block. With
  // MSG_TRUNC on a datagram the kernel reports the real length, which can exceed what was read: the caller
  // copies min(n, size).
  auto receive = [&](uint8_t* buf) -> ssize_t {
    ssize_t n = RecvRetry(fd, buf, size, flags, from, fromlen);
    if (n < 0) {
      int err = errno;
      if (WouldBlock(err)) return -1;
      ThrowErrno(env, err, syscall);
    }
    return n;
  };
  if (size <= kScratchSize) {
    uint8_t* buf = Scratch();
    if (truncating) std::memset(buf, 0, size);
    ssize_t n = receive(buf);
    if (n < 0) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, buf, std::min(static_cast<size_t>(n), size));
  }
  if (truncating) {
    ZeroedBytes mem = ZeroedRecvMemory(env, size, syscall);
    ssize_t n = receive(mem.get());
    if (n < 0) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, mem.get(), std::min(static_cast<size_t>(n), size));
  }
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, size);  // uninitialized: only written bytes go out
  ssize_t n = receive(buf.Data());
  if (n < 0) return env.Null();
  size_t got = std::min(static_cast<size_t>(n), size);
  if (got == size) return buf;
  return Napi::Buffer<uint8_t>::Copy(env, buf.Data(), got);
}

// recv(fd, size, flags) -> Buffer (empty at end of stream) | null
Napi::Value Recv(const Napi::CallbackInfo& info) { return RecvBuffer(info, "recv", nullptr, nullptr); }

// The sender's address as recvfrom reported it, or null when the kernel filled in none: a connection-oriented
// socket such as TCP reports no source address (CPython's recvfrom gives None there too). No getpeername behind
// the caller's back: one system call per native function; a caller who wants the peer asks getpeername.
Napi::Value SenderToJs(Napi::Env env, const sockaddr_storage& from, socklen_t fromlen) {
  if (fromlen == 0) return env.Null();
  return AddressToJs(env, from, fromlen);
}

// recvfrom(fd, size, flags) -> { data, address } | null
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  sockaddr_storage from;
  socklen_t fromlen = 0;
  Napi::Value data = RecvBuffer(info, "recvfrom", &from, &fromlen);
  if (data.IsNull()) return data;
  Napi::Object out = Napi::Object::New(info.Env());
  DefineOwn(out, "data", data);
  DefineOwn(out, "address", SenderToJs(info.Env(), from, fromlen));
  return out;
}

// The writable window [offset, offset + length) of a byte array, checked against its real size. `offset` or
// `length` null: left out (0, and the rest of the buffer).
Bytes WindowOf(napi_env env, napi_value buffer, napi_value offset, napi_value length) {
  Bytes b = BytesOf(env, Napi::Value(env, buffer), "buffer");
  size_t off = offset == nullptr ? 0 : static_cast<size_t>(IntValue(env, offset, "offset", 0, static_cast<int64_t>(b.length)));
  size_t len = length == nullptr ? b.length - off
                                 : static_cast<size_t>(IntValue(env, length, "length", 0, static_cast<int64_t>(b.length - off)));
  return Bytes{b.data == nullptr ? nullptr : b.data + off, len};
}

// A byte count as a JavaScript number: a small integer where it fits (V8 makes no heap number of it).
napi_value CountValue(napi_env env, ssize_t n) {
  napi_value out;
  napi_status st = n <= INT32_MAX ? napi_create_int32(env, static_cast<int32_t>(n), &out)
                                  : napi_create_double(env, static_cast<double>(n), &out);
  NAPI_THROW_IF_FAILED(env, st, nullptr);
  return out;
}

napi_value NullValue(napi_env env) {
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_get_null(env, &out), nullptr);
  return out;
}

// recvInto(fd, buffer[, offset, length[, flags]]) -> bytes received (0 at end of stream) | null. Allocates
// nothing. Left out (not passed at all: see RawCallback): the whole buffer, flags 0. A raw callback: the
// readiness servers' per-message read (see RawCallback).
napi_value RecvInto(napi_env env, napi_callback_info cbinfo) {
  return RawCallback<5>(env, cbinfo, [env](size_t argc, napi_value* argv) {
    int fd = static_cast<int>(IntValue(env, argv[0], "fd", 0, INT32_MAX));
    Bytes w = WindowOf(env, argv[1], argc > 2 ? argv[2] : nullptr, argc > 3 ? argv[3] : nullptr);
    int flags = argc > 4 ? static_cast<int>(IntValue(env, argv[4], "flags", INT32_MIN, INT32_MAX)) : 0;
    // No zeroing here, even with MSG_TRUNC: the window is the caller's own memory, so nothing of another socket
    // can show through it. On a stream socket MSG_TRUNC discards n bytes and leaves the window as it was (as
    // Python's recv_into does); the count says how many were discarded.
    ssize_t n = RecvRetry(fd, w.data, w.length, flags, nullptr, nullptr);
    if (n < 0) {
      int err = errno;
      if (WouldBlock(err)) return NullValue(env);
      ThrowErrno(env, err, "recv");
    }
    return CountValue(env, n);
  });
}

// recvfromInto(fd, buffer, offset, length, flags) -> { bytes, address } | null
Napi::Value RecvFromInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  Bytes w = WindowOf(info.Env(), info[1], info[2], info[3]);
  int flags = Int32Arg(info, 4, "flags");
  sockaddr_storage from;
  socklen_t fromlen = 0;
  ssize_t n = RecvRetry(fd, w.data, w.length, flags, &from, &fromlen);  // the caller's memory: see RecvInto
  if (n < 0) {
    int err = errno;
    if (WouldBlock(err)) return env.Null();
    ThrowErrno(env, err, "recvfrom");
  }
  Napi::Object out = Napi::Object::New(env);
  DefineOwn(out, "bytes", Napi::Number::New(env, static_cast<double>(n)));
  DefineOwn(out, "address", SenderToJs(env, from, fromlen));
  return out;
}

// send(fd, data[, flags]) -> bytes sent | null. The caller adds MSG_NOSIGNAL to the flags it passes; flags left
// out (not passed at all) are MSG_NOSIGNAL alone, what the JavaScript layer's send without flags passes. A raw
// callback, as recvInto.
napi_value Send(napi_env env, napi_callback_info cbinfo) {
  return RawCallback<3>(env, cbinfo, [env](size_t argc, napi_value* argv) {
    int fd = static_cast<int>(IntValue(env, argv[0], "fd", 0, INT32_MAX));
    std::string storage;
    Bytes b = DataOf(env, argv[1], "data", storage);
    int flags = argc > 2 ? static_cast<int>(IntValue(env, argv[2], "flags", INT32_MIN, INT32_MAX)) : kNoSignal;
    ssize_t n;
    do {
      n = ::send(fd, b.data, b.length, flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      if (WouldBlock(err)) return NullValue(env);
      ThrowErrno(env, err, "send");
    }
    return CountValue(env, n);
  });
}

// sendto(fd, data, flags, family, address, port, flowinfo, scopeId) -> bytes sent | null
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  std::string storage;
  Bytes b = DataArg(info, 1, "data", storage);
  int flags = Int32Arg(info, 2, "flags");
  SockAddr a = AddressArgs(info, 3);
  ssize_t n;
  do {
    n = ::sendto(fd, b.data, b.length, flags, a.get(), a.length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    if (WouldBlock(err)) return env.Null();
    ThrowErrno(env, err, "sendto", a.label, a.port);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitIo(Napi::Env env, Napi::Object exports) {
  exports.Set("recv", Napi::Function::New(env, Recv, "recv"));
  ExportRaw(env, exports, "recvInto", RecvInto);
  exports.Set("recvfrom", Napi::Function::New(env, RecvFrom, "recvfrom"));
  exports.Set("recvfromInto", Napi::Function::New(env, RecvFromInto, "recvfromInto"));
  ExportRaw(env, exports, "send", Send);
  exports.Set("sendto", Napi::Function::New(env, SendTo, "sendto"));
}

}  // namespace sockfd
