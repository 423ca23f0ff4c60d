// The address and host helpers of Python's socket module: inet_pton, inet_ntop, getnameinfo, gethostname,
// if_nametoindex, if_indextoname, if_nameindex. One library call each; every argument is read once from
// JavaScript into a private copy, which alone is checked and used.
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "sockaddr.h"

namespace sockfd {
namespace {

// A string argument, read once; TypeError for anything else, ERR_INVALID_ARG_VALUE for an inner NUL (C would
// see a shorter string than JavaScript gave).
std::string TextArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be of type string");
  std::string text = info[i].As<Napi::String>().Utf8Value();
  if (text.find('\0') != std::string::npos) {
    Napi::TypeError e = Napi::TypeError::New(info.Env(), std::string("The argument '") + name + "' must not contain NUL bytes");
    DefineOwn(e.Value(), "code", Napi::String::New(info.Env(), "ERR_INVALID_ARG_VALUE"));
    throw e;
  }
  return text;
}

size_t PackedSize(int family) {
  if (family == AF_INET) return sizeof(in_addr);
  if (family == AF_INET6) return sizeof(in6_addr);
  return 0;
}

// inetPton(family, text) -> Buffer of 4 (AF_INET) or 16 (AF_INET6) bytes in network order
Napi::Value InetPton(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = Int32Arg(info, 0, "family");
  std::string text = TextArg(info, 1, "text");
  size_t size = PackedSize(family);
  if (size == 0) ThrowErrno(env, EAFNOSUPPORT, "inet_pton");
  unsigned char packed[sizeof(in6_addr)];
  int r = ::inet_pton(family, text.c_str(), packed);
  if (r < 0) ThrowErrno(env, errno, "inet_pton");
  if (r == 0) {
    Napi::TypeError e = Napi::TypeError::New(env, "Invalid " + std::string(family == AF_INET ? "IPv4" : "IPv6") +
                                                      " address: " + text);
    DefineOwn(e.Value(), "code", Napi::String::New(env, "ERR_INVALID_IP_ADDRESS"));
    throw e;
  }
  return Napi::Buffer<unsigned char>::Copy(env, packed, size);
}

// inetNtop(family, bytes) -> text. `bytes` must be exactly 4 or 16 bytes long; they are copied out first.
Napi::Value InetNtop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = Int32Arg(info, 0, "family");
  Bytes b = BytesArg(info, 1, "bytes");
  size_t size = PackedSize(family);
  if (size == 0) ThrowErrno(env, EAFNOSUPPORT, "inet_ntop");
  if (b.length != size) {
    ThrowRangeError(env, "The value of \"bytes\" is out of range. It must be " + std::to_string(size) +
                             " bytes long for this family; received " + std::to_string(b.length));
  }
  unsigned char packed[sizeof(in6_addr)];
  std::memcpy(packed, b.data, size);  // one read of memory another thread may be writing
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(family, packed, text, sizeof(text)) == nullptr) ThrowErrno(env, errno, "inet_ntop");
  return Napi::String::New(env, text);
}

// getnameinfo(family, address, port, flowinfo, scopeId, flags) -> [host, service]
Napi::Value GetNameInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SockAddr a = AddressArgs(info, 0);
  int flags = Int32Arg(info, 5, "flags");
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  int rc;
  do {
    rc = ::getnameinfo(a.get(), a.length, host, sizeof(host), service, sizeof(service), flags);
  } while (rc == EAI_SYSTEM && errno == EINTR);
  if (rc != 0) ThrowErrno(env, -TranslateEai(rc), "getnameinfo", a.label, a.port);
  host[sizeof(host) - 1] = '\0';
  service[sizeof(service) - 1] = '\0';
  Napi::Array out = Napi::Array::New(env, 2);
  DefineOwn(out, 0u, Napi::String::New(env, host));
  DefineOwn(out, 1u, Napi::String::New(env, service));
  return out;
}

// gethostname() -> the host name
Napi::Value GetHostName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char name[257];  // POSIX host names are at most 255 bytes (HOST_NAME_MAX is 64 on Linux; macOS lacks it)
  if (::gethostname(name, sizeof(name) - 1) < 0) ThrowErrno(env, errno, "gethostname");
  name[sizeof(name) - 1] = '\0';  // POSIX leaves a truncated name unterminated
  return Napi::String::New(env, name);
}

// ifNameToIndex(name) -> index (> 0)
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = TextArg(info, 0, "name");
  errno = 0;
  unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) ThrowErrno(env, errno != 0 ? errno : ENODEV, "if_nametoindex", name);
  return Napi::Number::New(env, index);
}

// ifIndexToName(index) -> name
Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned index = static_cast<unsigned>(IntArg(info, 0, "index", 0, UINT32_MAX));
  char name[IF_NAMESIZE + 1];
  errno = 0;
  if (::if_indextoname(index, name) == nullptr) ThrowErrno(env, errno != 0 ? errno : ENXIO, "if_indextoname");
  name[IF_NAMESIZE] = '\0';
  return Napi::String::New(env, name);
}

// ifNameIndex() -> [[index, name], ...]
Napi::Value IfNameIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct if_nameindex* list = ::if_nameindex();
  if (list == nullptr) ThrowErrno(env, errno != 0 ? errno : ENOBUFS, "if_nameindex");
  std::unique_ptr<struct if_nameindex, decltype(&::if_freenameindex)> guard(list, ::if_freenameindex);  // freed on every path
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct if_nameindex* p = list; p->if_index != 0 || p->if_name != nullptr; p++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    DefineOwn(pair, 0u, Napi::Number::New(env, p->if_index));
    DefineOwn(pair, 1u, Napi::String::New(env, p->if_name != nullptr ? p->if_name : ""));
    DefineOwn(out, n++, pair);
  }
  return out;
}

}  // namespace

void InitNetdb(Napi::Env env, Napi::Object exports) {
  exports.Set("inetPton", Napi::Function::New(env, InetPton, "inetPton"));
  exports.Set("inetNtop", Napi::Function::New(env, InetNtop, "inetNtop"));
  exports.Set("getnameinfo", Napi::Function::New(env, GetNameInfo, "getnameinfo"));
  exports.Set("gethostname", Napi::Function::New(env, GetHostName, "gethostname"));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex, "ifNameToIndex"));
  exports.Set("ifIndexToName", Napi::Function::New(env, IfIndexToName, "ifIndexToName"));
  exports.Set("ifNameIndex", Napi::Function::New(env, IfNameIndex, "ifNameIndex"));
}

}  // namespace sockfd
