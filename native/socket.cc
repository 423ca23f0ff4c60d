// Socket life cycle, addresses, options and descriptor flags: one system call per function.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sockaddr.h"

namespace sockfd {
namespace {

// socket(domain, type, protocol) -> fd. The caller adds SOCK_CLOEXEC (the TypeScript layer always does).
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int domain = Int32Arg(info, 0, "domain");
  int type = Int32Arg(info, 1, "type");
  int protocol = Int32Arg(info, 2, "protocol");
  int fd = ::socket(domain, type, protocol);
  if (fd < 0) ThrowErrno(info.Env(), errno, "socket");
  return OwningFds(&fd, 1, [&] { return Napi::Number::New(info.Env(), fd); });
}

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int domain = Int32Arg(info, 0, "domain");
  int type = Int32Arg(info, 1, "type");
  int protocol = Int32Arg(info, 2, "protocol");
  int fds[2];
  if (::socketpair(domain, type, protocol, fds) < 0) ThrowErrno(info.Env(), errno, "socketpair");
  return OwningFds(fds, 2, [&] {
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    DefineOwn(out, 0u, fds[0]);
    DefineOwn(out, 1u, fds[1]);
    return out;
  });
}

// bind(fd, family, address, port, flowinfo, scopeId)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  SockAddr a = AddressArgs(info, 1);
  if (::bind(fd, a.get(), a.length) < 0) ThrowErrno(info.Env(), errno, "bind", a.label, a.port);
  return info.Env().Undefined();
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int backlog = Int32Arg(info, 1, "backlog");
  if (::listen(fd, backlog) < 0) ThrowErrno(info.Env(), errno, "listen");
  return info.Env().Undefined();
}

// accept(fd, flags) -> { fd, address } | null when it would block. flags are accept4's (SOCK_CLOEXEC, SOCK_NONBLOCK).
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  int flags = Int32Arg(info, 1, "flags");
  sockaddr_storage storage;
  socklen_t length;
  int client;
  do {
    length = sizeof(storage);
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
    client = ::accept4(fd, reinterpret_cast<sockaddr*>(&storage), &length, flags);
#else
    client = ::accept(fd, reinterpret_cast<sockaddr*>(&storage), &length);
#endif
  } while (client < 0 && errno == EINTR);
  if (client < 0) {
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, err, "accept");
  }
#if !(defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__))
  // No accept4 here: set the flags at once, before the fd is handed to anyone.
  if (flags & SOCK_CLOEXEC) ::fcntl(client, F_SETFD, FD_CLOEXEC);
  if (flags & SOCK_NONBLOCK) { int on = 1; ::ioctl(client, FIONBIO, &on); }
#endif
  return OwningFds(&client, 1, [&] {
    Napi::Object out = Napi::Object::New(env);
    DefineOwn(out, "fd", client);
    DefineOwn(out, "address", AddressToJs(env, storage, length));
    return out;
  });
}

// connect(fd, family, address, port, flowinfo, scopeId) -> true when connected, false when in progress.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  SockAddr a = AddressArgs(info, 1);
  int64_t start = MonotonicNs();  // for SO_SNDTIMEO on the EINTR path (clock_gettime: no system call on Linux)
  if (::connect(fd, a.get(), a.length) == 0) return Napi::Boolean::New(env, true);
  int err = errno;
  if (err == EINPROGRESS) return Napi::Boolean::New(env, false);
  if (err == EINTR) {
    // A connect interrupted by a signal goes on in the kernel and cannot be restarted (EALREADY). On a
    // blocking socket wait for it to finish, as CPython does (PEP 475); on a non-blocking one it is in progress.
    int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) return Napi::Boolean::New(env, false);
    // The kernel's own wait would have ended when SO_SNDTIMEO ran out (EINPROGRESS: false, "in progress"):
    // wait no longer than what is left of it. Sliced, so that a worker being terminated is not held here.
    int timeout = -1;
    timeval tv{};
    socklen_t tvlen = sizeof(tv);
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tvlen) == 0 && (tv.tv_sec > 0 || tv.tv_usec > 0)) {
      int64_t total_ms = static_cast<int64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
      int64_t left_ms = total_ms - (MonotonicNs() - start) / 1000000;
      timeout = static_cast<int>(std::min<int64_t>(std::max<int64_t>(left_ms, 0), INT32_MAX));
    }
    pollfd p{fd, POLLOUT, 0};
    int r = timeout == 0 ? 0 : SlicedWait(env, timeout, [&](int ms) { return ::poll(&p, 1, ms); });
    if (r < 0) ThrowErrno(env, errno, "connect", a.label, a.port);
    if (r == 0) return Napi::Boolean::New(env, false);  // the send timeout ran out (or the worker is ending)
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) ThrowErrno(env, errno, "connect", a.label, a.port);
    if (soerr == 0) return Napi::Boolean::New(env, true);
    err = soerr;
  }
  ThrowErrno(env, err, "connect", a.label, a.port);
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int how = Int32Arg(info, 1, "how");
  if (::shutdown(fd, how) < 0) ThrowErrno(info.Env(), errno, "shutdown");
  return info.Env().Undefined();
}

// close(fd). Never retried on EINTR: on Linux the fd is released whatever close returns, and retrying could
// close a number another thread has just been given (libuv's uv__close_nocheckstdio does the same).
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  napi_value told = StopWatcherForClose(info.Env(), fd);  // libuv must not poll a closed fd: it aborts on the EBADF
  int rc = ::close(fd);
  int err = errno;
  TellStopped(info.Env(), told);  // JavaScript may run: only after the close, when nothing is left to do
  if (rc < 0 && err != EINTR && err != EINPROGRESS) ThrowErrno(info.Env(), err, "close");
  return info.Env().Undefined();
}

// setsockopt(fd, level, name, value): value an integer (passed as a C int) or bytes (passed as they are).
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int level = Int32Arg(info, 1, "level");
  int name = Int32Arg(info, 2, "name");
  int r;
  if (info[3].IsNumber() || info[3].IsBoolean()) {
    int value = info[3].IsBoolean() ? (info[3].As<Napi::Boolean>().Value() ? 1 : 0) : Int32Arg(info, 3, "value");
    r = ::setsockopt(fd, level, name, &value, sizeof(value));
  } else {
    Bytes b = BytesArg(info, 3, "value");
    r = ::setsockopt(fd, level, name, b.data, static_cast<socklen_t>(b.length));
  }
  if (r < 0) ThrowErrno(info.Env(), errno, "setsockopt");
  return info.Env().Undefined();
}

// getsockopt(fd, level, name[, length]) -> integer, or a Buffer of at most `length` bytes.
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  int level = Int32Arg(info, 1, "level");
  int name = Int32Arg(info, 2, "name");
  if (info[3].IsUndefined()) {
    int value = 0;
    socklen_t len = sizeof(value);
    if (::getsockopt(fd, level, name, &value, &len) < 0) ThrowErrno(env, errno, "getsockopt");
    // A few options are narrower than an int (a char on some platforms).
    if (len == 1) value = *reinterpret_cast<unsigned char*>(&value);
    return Napi::Number::New(env, value);
  }
  size_t length = static_cast<size_t>(IntArg(info, 3, "length", 0, 1 << 20));
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, length);
  // Zeroed first: a few options report more than they write (Linux's NETLINK_LIST_MEMBERSHIPS writes the whole
  // words that fit and reports its full size), and the Buffer's memory is uninitialized.
  if (length > 0) std::memset(buf.Data(), 0, length);
  socklen_t len = static_cast<socklen_t>(length);
  if (::getsockopt(fd, level, name, buf.Data(), &len) < 0) ThrowErrno(env, errno, "getsockopt");
  if (static_cast<size_t>(len) >= length) return buf;
  return Napi::Buffer<uint8_t>::Copy(env, buf.Data(), len);
}

Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  socklen_t length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) ThrowErrno(info.Env(), errno, "getsockname");
  return AddressToJs(info.Env(), storage, length);
}

Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  socklen_t length = sizeof(storage);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) ThrowErrno(info.Env(), errno, "getpeername");
  return AddressToJs(info.Env(), storage, length);
}

// setBlocking(fd, blocking): ioctl(FIONBIO), one call that changes O_NONBLOCK alone and keeps every other flag.
Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int on = info[1].ToBoolean().Value() ? 0 : 1;
  int r;
  do {
    r = ::ioctl(fd, FIONBIO, &on);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), errno, "ioctl");
  return info.Env().Undefined();
}

Napi::Value GetBlocking(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) ThrowErrno(info.Env(), errno, "fcntl");
  return Napi::Boolean::New(info.Env(), (fl & O_NONBLOCK) == 0);
}

// fcntl(fd, cmd[, arg]) for the integer commands (F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_GETOWN, F_SETOWN).
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  int cmd = Int32Arg(info, 1, "cmd");
  switch (cmd) {
    case F_GETFL: case F_SETFL: case F_GETFD: case F_SETFD:
#ifdef F_GETOWN
    case F_GETOWN: case F_SETOWN:
#endif
      break;
    default:
      // Other commands take pointers or have effects (F_DUPFD) this binding does not manage.
      ThrowRangeError(info.Env(), "fcntl: unsupported command " + std::to_string(cmd));
  }
  int arg = info[2].IsUndefined() ? 0 : Int32Arg(info, 2, "arg");
  int r;
  do {
    r = ::fcntl(fd, cmd, arg);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), r);
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt, "setsockopt"));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt, "getsockopt"));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName, "getsockname"));
  exports.Set("getpeername", Napi::Function::New(env, GetPeerName, "getpeername"));
  exports.Set("setBlocking", Napi::Function::New(env, SetBlocking, "setBlocking"));
  exports.Set("getBlocking", Napi::Function::New(env, GetBlocking, "getBlocking"));
  exports.Set("fcntl", Napi::Function::New(env, Fcntl, "fcntl"));
}

}  // namespace sockfd
