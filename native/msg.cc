// Messages with ancillary data: sendmsg, recvmsg, recvmsgInto (fd passing with SCM_RIGHTS, credentials with
// SCM_CREDENTIALS), and CMSG_LEN / CMSG_SPACE. One system call each, EINTR retried; "would block" is null.
//
// Every JavaScript value is read once: a view's pointer and length come from one look (BytesArg), the control
// data to send is copied into the addon's own memory, and the iovecs of recvmsgInto are exactly the views
// checked. Everything that can throw (argument checks, allocations) happens before the recvmsg that can
// create fds; once fds exist, a failure while building the result closes them (CloseReceivedFds).
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sockaddr.h"

namespace sockfd {
namespace {

constexpr int64_t kMaxRecvSize = INT32_MAX;
// The largest control buffer recvmsg takes, and the most control data sendmsg sends. The kernel itself refuses
// more than net.core.optmem_max (20 KiB by default) on send; the bound keeps the addon's allocation sane.
constexpr int64_t kMaxControl = 1 << 20;
// More buffers than this is EMSGSIZE in the kernel (IOV_MAX is 1024 on Linux); refused before any allocation.
constexpr uint32_t kMaxBuffers = 1 << 16;

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

#ifdef MSG_CMSG_CLOEXEC
constexpr int kCmsgCloexec = MSG_CMSG_CLOEXEC;
#else
constexpr int kCmsgCloexec = 0;  // the TypeScript layer sets FD_CLOEXEC on what arrives
#endif

// The elements of a JavaScript array argument (the TypeScript layer hands a fresh array of byte arrays).
// Reading an element can run JavaScript (a Proxy, a getter on an index), and that JavaScript could detach or
// shrink a buffer already looked at: so every element of every array argument is fetched first, and only then,
// with no JavaScript left to run, is each view's pointer and length read, once (ViewsOf).
std::vector<napi_value> ElementsArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) ThrowTypeError(env, std::string("The \"") + name + "\" argument must be an array of byte arrays");
  Napi::Array list = info[i].As<Napi::Array>();
  uint32_t n = list.Length();
  if (n > kMaxBuffers) {
    ThrowRangeError(env, std::string("The \"") + name + "\" argument has too many buffers: at most " +
                             std::to_string(kMaxBuffers));
  }
  std::vector<napi_value> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; k++) out.push_back(list.Get(k));
  return out;
}

// The bytes of each element, each view looked at once (runs no JavaScript). TypeError for a non-bytes element.
std::vector<Bytes> ViewsOf(Napi::Env env, const std::vector<napi_value>& values, const char* name) {
  std::vector<Bytes> out;
  out.reserve(values.size());
  for (size_t k = 0; k < values.size(); k++) out.push_back(BytesOf(env, Napi::Value(env, values[k]), name, static_cast<long>(k)));
  return out;
}

std::vector<iovec> Iovecs(const std::vector<Bytes>& buffers) {
  std::vector<iovec> iov(buffers.size());
  for (size_t k = 0; k < buffers.size(); k++) {
    iov[k].iov_base = buffers[k].data;
    iov[k].iov_len = buffers[k].length;
  }
  return iov;
}

// The sender's address, or null when the kernel filled in none (a connected stream socket).
Napi::Value SenderToJs(Napi::Env env, const sockaddr_storage& from, socklen_t fromlen) {
  if (fromlen == 0) return env.Null();
  return AddressToJs(env, from, fromlen);
}

// The fds of the SCM_RIGHTS messages in the control data the kernel wrote: [control, control + length).
// Walks the headers by hand, clamping every length to what was written, as CPython's recvmsg does: with
// MSG_CTRUNC the last header can claim more than arrived.
template <typename Visit>
void ForEachCmsg(const uint8_t* control, size_t length, Visit visit) {
  size_t at = 0;
  const size_t hdr = CMSG_LEN(0);
  while (at + hdr <= length) {
    cmsghdr h;
    std::memcpy(&h, control + at, sizeof(h));
    if (h.cmsg_len < hdr) break;
    size_t len = std::min(static_cast<size_t>(h.cmsg_len), length - at);
    visit(h.cmsg_level, h.cmsg_type, control + at + hdr, len - hdr);
    size_t space = CMSG_SPACE(static_cast<size_t>(h.cmsg_len) - hdr);
    if (space == 0 || space > length - at) break;
    at += space;
  }
}

// Closes the fds of the SCM_RIGHTS messages in received control data: what a failed result leaves behind.
// OwningFds' job, done by walking the control data again, so that nothing needs allocating on this path.
void CloseReceivedFds(const uint8_t* control, size_t length) {
  ForEachCmsg(control, length, [&](int level, int type, const uint8_t* data, size_t len) {
    if (level != SOL_SOCKET || type != SCM_RIGHTS) return;
    for (size_t k = 0; k + sizeof(int) <= len; k += sizeof(int)) {
      int fd;
      std::memcpy(&fd, data + k, sizeof(int));
      ::close(fd);
    }
  });
}

// [{ level, type, data }] of the control data the kernel wrote; `data` the raw bytes, as Python gives them.
Napi::Array AncdataToJs(Napi::Env env, const uint8_t* control, size_t length) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  ForEachCmsg(control, length, [&](int level, int type, const uint8_t* data, size_t len) {
    Napi::Object item = Napi::Object::New(env);
    DefineOwn(item, "level", level);
    DefineOwn(item, "type", type);
    DefineOwn(item, "data", static_cast<napi_value>(Napi::Buffer<uint8_t>::Copy(env, data, len)));
    DefineOwn(out, n++, static_cast<napi_value>(item));
  });
  return out;
}

ssize_t RecvmsgRetry(int fd, msghdr* msg, int flags, size_t namelen, size_t controllen) {
  ssize_t n;
  do {
    // The kernel rewrites these on each call; an EINTR retry starts from the sizes given.
    msg->msg_namelen = static_cast<socklen_t>(namelen);
    msg->msg_controllen = controllen;
    msg->msg_flags = 0;
    n = ::recvmsg(fd, msg, flags | kCmsgCloexec);
  } while (n < 0 && errno == EINTR);
  // Linux echoes MSG_CMSG_CLOEXEC in msg_flags; the caller who did not ask for it is not told it was added.
  if (n >= 0 && (flags & kCmsgCloexec) == 0) msg->msg_flags &= ~kCmsgCloexec;
  // The lengths the kernel reports are read as bounds of our own buffers below: never past them, whatever a
  // kernel says. Linux reports the control bytes it wrote, and the address's full length, which our
  // sockaddr_storage always holds; POSIX promises neither bound for the name.
  if (n >= 0) {
    if (msg->msg_controllen > controllen) msg->msg_controllen = controllen;
    if (msg->msg_namelen > namelen) msg->msg_namelen = static_cast<socklen_t>(namelen);
  }
  return n;
}

// The control buffer: zeroed, so that nothing but what the kernel writes (and zeros) can be read from it.
// uint64_t elements: aligned for cmsghdr.
struct Control {
  std::vector<uint64_t> words;
  size_t length;
  explicit Control(size_t n) : words((n + 7) / 8), length(n) {}
  uint8_t* data() { return length == 0 ? nullptr : reinterpret_cast<uint8_t*>(words.data()); }
};

// The result of recvmsg / recvmsgInto, built with the fds the kernel installed owned: if building fails, they
// are closed. `first` is the "data" or "bytes" member.
template <typename First>
Napi::Value MsgResult(Napi::Env env, const char* first_key, First first, const msghdr& msg, const sockaddr_storage& from) {
  const uint8_t* control = static_cast<const uint8_t*>(msg.msg_control);
  size_t controllen = control == nullptr ? 0 : static_cast<size_t>(msg.msg_controllen);
  try {
    Napi::Object out = Napi::Object::New(env);
    DefineOwn(out, first_key, static_cast<napi_value>(first()));
    DefineOwn(out, "ancdata", static_cast<napi_value>(AncdataToJs(env, control, controllen)));
    DefineOwn(out, "flags", msg.msg_flags);
    DefineOwn(out, "address", static_cast<napi_value>(SenderToJs(env, from, msg.msg_namelen)));
    return out;
  } catch (...) {
    CloseReceivedFds(control, controllen);
    throw;
  }
}

// recvmsg(fd, bufsize, ancbufsize, flags) -> { data, ancdata, flags, address } | null
Napi::Value Recvmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  size_t size = static_cast<size_t>(IntArg(info, 1, "bufsize", 0, kMaxRecvSize));
  size_t ancsize = static_cast<size_t>(IntArg(info, 2, "ancbufsize", 0, kMaxControl));
  int flags = Int32Arg(info, 3, "flags");
  // A fresh Buffer, uninitialized: only what the kernel writes (the first min(n, size) bytes) is returned. But with
  // MSG_TRUNC on a stream socket the kernel discards bytes without writing them and still counts them: then the
  // bytes are received into zeroed memory (ZeroedRecvMemory: fresh pages for a large block, untouched until the
  // kernel writes) and copied out, so that what is returned is zeros, never uninitialized memory (as in io.cc).
  const bool truncating = Truncating(flags);
  ZeroedBytes zeroed;
  Napi::Buffer<uint8_t> buf;
  if (truncating) {
    zeroed = ZeroedRecvMemory(env, size, "recvmsg");
  } else {
    buf = Napi::Buffer<uint8_t>::New(env, size);
  }
  uint8_t* data = truncating ? zeroed.get() : buf.Data();
  Control control(ancsize);
  sockaddr_storage from;
  std::memset(&from, 0, sizeof(from));
  iovec iov{size == 0 ? nullptr : data, size};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  ssize_t n = RecvmsgRetry(fd, &msg, flags, sizeof(from), ancsize);
  if (n < 0) {
    int err = errno;
    if (WouldBlock(err)) return env.Null();
    ThrowErrno(env, err, "recvmsg");
  }
  // With MSG_TRUNC on a datagram the kernel reports the real length, which can exceed what was read.
  size_t got = std::min(static_cast<size_t>(n), size);
  return MsgResult(env, "data", [&]() -> Napi::Value {
    if (got == size && !truncating) return buf;
    return Napi::Buffer<uint8_t>::Copy(env, data, got);
  }, msg, from);
}

// recvmsgInto(fd, buffers, ancbufsize, flags) -> { bytes, ancdata, flags, address } | null. The kernel writes
// only into the views given, as they were when read.
Napi::Value RecvmsgInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  std::vector<Bytes> buffers = ViewsOf(env, ElementsArg(info, 1, "buffers"), "buffers");
  size_t ancsize = static_cast<size_t>(IntArg(info, 2, "ancbufsize", 0, kMaxControl));
  int flags = Int32Arg(info, 3, "flags");
  std::vector<iovec> iov = Iovecs(buffers);
  Control control(ancsize);
  sockaddr_storage from;
  std::memset(&from, 0, sizeof(from));
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_iov = iov.empty() ? nullptr : iov.data();
  msg.msg_iovlen = iov.size();
  msg.msg_control = control.data();
  ssize_t n = RecvmsgRetry(fd, &msg, flags, sizeof(from), ancsize);
  if (n < 0) {
    int err = errno;
    if (WouldBlock(err)) return env.Null();
    ThrowErrno(env, err, "recvmsg");
  }
  return MsgResult(env, "bytes", [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(n)); },
                   msg, from);
}

// sendmsg(fd, buffers, ancLevelsTypes: Int32Array [level0, type0, level1, type1...], ancData: bytes[], flags
//         [, family, address, port, flowinfo, scopeId]) -> bytes sent | null. The caller adds MSG_NOSIGNAL.
Napi::Value Sendmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  // Every element first (that may run JavaScript), then the views and the Int32Array (that runs none).
  std::vector<napi_value> buffer_values = ElementsArg(info, 1, "buffers");
  std::vector<napi_value> anc_values = ElementsArg(info, 3, "ancdata");
  int flags = Int32Arg(info, 4, "flags");
  bool has_address = !info[5].IsUndefined();
  SockAddr a{};
  a.port = -1;
  if (has_address) a = AddressArgs(info, 5);
  std::vector<Bytes> buffers = ViewsOf(env, buffer_values, "buffers");
  std::vector<Bytes> anc = ViewsOf(env, anc_values, "ancdata");
  Int32Span lt = Int32ArrayArg(info, 2, "ancdata");
  std::vector<int32_t> levels_types(lt.data, lt.data + lt.length);  // copied once: the values used are these
  if (levels_types.size() != 2 * anc.size()) ThrowTypeError(env, "The \"ancdata\" argument is malformed");
  // The control data: each item's bytes copied once, at the lengths read once.
  size_t total = 0;
  for (const Bytes& b : anc) {
    if (b.length > static_cast<size_t>(kMaxControl) || total + CMSG_SPACE(b.length) > static_cast<size_t>(kMaxControl)) {
      ThrowRangeError(env, "The ancillary data is too long: at most " + std::to_string(kMaxControl) + " bytes");
    }
    total += CMSG_SPACE(b.length);
  }
  Control control(total);
  size_t at = 0;
  for (size_t k = 0; k < anc.size(); k++) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(anc[k].length);
    h.cmsg_level = levels_types[2 * k];
    h.cmsg_type = levels_types[2 * k + 1];
    std::memcpy(control.data() + at, &h, sizeof(h));
    if (anc[k].length > 0) std::memcpy(control.data() + at + CMSG_LEN(0), anc[k].data, anc[k].length);
    at += CMSG_SPACE(anc[k].length);
  }
  std::vector<iovec> iov = Iovecs(buffers);
  msghdr msg{};
  msg.msg_name = has_address ? const_cast<sockaddr*>(a.get()) : nullptr;
  msg.msg_namelen = has_address ? a.length : 0;
  msg.msg_iov = iov.empty() ? nullptr : iov.data();
  msg.msg_iovlen = iov.size();
  msg.msg_control = control.data();
  msg.msg_controllen = total;
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    if (WouldBlock(err)) return env.Null();
    ThrowErrno(env, err, "sendmsg", a.label, a.port);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// The largest n CMSG_LEN and CMSG_SPACE take: their result must fit a C int (socklen_t on every platform here).
int64_t MaxCmsgArg() { return static_cast<int64_t>(INT32_MAX) - static_cast<int64_t>(CMSG_SPACE(0)) - 8; }

Napi::Value CmsgLen(const Napi::CallbackInfo& info) {
  size_t n = static_cast<size_t>(IntArg(info, 0, "length", 0, MaxCmsgArg()));
  return Napi::Number::New(info.Env(), static_cast<double>(CMSG_LEN(n)));
}

Napi::Value CmsgSpace(const Napi::CallbackInfo& info) {
  size_t n = static_cast<size_t>(IntArg(info, 0, "length", 0, MaxCmsgArg()));
  return Napi::Number::New(info.Env(), static_cast<double>(CMSG_SPACE(n)));
}

}  // namespace

void InitMsg(Napi::Env env, Napi::Object exports) {
  exports.Set("sendmsg", Napi::Function::New(env, Sendmsg, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New(env, Recvmsg, "recvmsg"));
  exports.Set("recvmsgInto", Napi::Function::New(env, RecvmsgInto, "recvmsgInto"));
  exports.Set("CMSG_LEN", Napi::Function::New(env, CmsgLen, "CMSG_LEN"));
  exports.Set("CMSG_SPACE", Napi::Function::New(env, CmsgSpace, "CMSG_SPACE"));
  exports.Set("maxCmsgLength", Napi::Number::New(env, static_cast<double>(MaxCmsgArg())));
}

}  // namespace sockfd
