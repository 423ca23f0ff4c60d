#include "sockaddr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

namespace sockfd {

SockAddr AddressArgs(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  SockAddr a{};
  a.port = -1;
  int family = Int32Arg(info, i, "family");
  if (!info[i + 1].IsString()) ThrowTypeError(env, "The \"address\" argument must be of type string");
  std::string text = info[i + 1].As<Napi::String>().Utf8Value();
  if (family == AF_UNIX) {
    sockaddr_un* un = reinterpret_cast<sockaddr_un*>(&a.storage);
    un->sun_family = AF_UNIX;
    bool abstract = !text.empty() && text[0] == '\0';
    size_t max = sizeof(un->sun_path) - (abstract ? 0 : 1);  // a filesystem path needs its NUL terminator
    if (text.size() > max) {
      ThrowRangeError(env, "The Unix socket path is too long: " + std::to_string(text.size()) + " bytes, at most " +
                               std::to_string(max) + " allowed");
    }
    if (!abstract && text.find('\0') != std::string::npos) {
      Napi::TypeError e = Napi::TypeError::New(env, "The Unix socket path must not contain NUL bytes (other than a leading one)");
      DefineOwn(e.Value(), "code", Napi::String::New(env, "ERR_INVALID_ARG_VALUE"));
      throw e;
    }
    std::memcpy(un->sun_path, text.data(), text.size());
    // An empty path asks Linux to autobind; an abstract name's length is exactly its bytes.
    a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + (abstract || text.empty() ? 0 : 1));
    a.label = abstract ? "@" + text.substr(1) : text;  // how `ss` shows an abstract name
    return a;
  }
  int port = static_cast<int>(IntArg(info, i + 2, "port", 0, 65535));
  a.port = port;
  a.label = text;
  if (family == AF_INET) {
    sockaddr_in* in = reinterpret_cast<sockaddr_in*>(&a.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) != 1 || text.find('\0') != std::string::npos) {
      Napi::TypeError e = Napi::TypeError::New(env, "Invalid IPv4 address: " + text);
      DefineOwn(e.Value(), "code", Napi::String::New(env, "ERR_INVALID_IP_ADDRESS"));
      throw e;
    }
    a.length = sizeof(sockaddr_in);
    return a;
  }
  if (family == AF_INET6) {
    sockaddr_in6* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    in6->sin6_flowinfo = htonl(static_cast<uint32_t>(IntArg(info, i + 3, "flowinfo", 0, 0xFFFFF)));
    in6->sin6_scope_id = static_cast<uint32_t>(IntArg(info, i + 4, "scopeId", 0, UINT32_MAX));
    std::string host = text;
    size_t percent = host.find('%');
    if (percent != std::string::npos) {  // "fe80::1%eth0" or "fe80::1%2"
      std::string zone = host.substr(percent + 1);
      host.resize(percent);
      char* end = nullptr;
      unsigned long index = std::strtoul(zone.c_str(), &end, 10);
      if (zone.empty() || *end != '\0') index = if_nametoindex(zone.c_str());
      if (index == 0) {
        Napi::TypeError e = Napi::TypeError::New(env, "Unknown IPv6 zone in address: " + text);
        DefineOwn(e.Value(), "code", Napi::String::New(env, "ERR_INVALID_IP_ADDRESS"));
        throw e;
      }
      in6->sin6_scope_id = static_cast<uint32_t>(index);
    }
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1 || text.find('\0') != std::string::npos) {
      Napi::TypeError e = Napi::TypeError::New(env, "Invalid IPv6 address: " + text);
      DefineOwn(e.Value(), "code", Napi::String::New(env, "ERR_INVALID_IP_ADDRESS"));
      throw e;
    }
    a.length = sizeof(sockaddr_in6);
    return a;
  }
  ThrowRangeError(env, "The address family must be AF_INET, AF_INET6 or AF_UNIX; received " + std::to_string(family));
}

Napi::Value AddressToJs(Napi::Env env, const sockaddr_storage& storage, socklen_t length) {
  Napi::Object out = Napi::Object::New(env);
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&storage);
  if (length < static_cast<socklen_t>(offsetof(sockaddr, sa_family) + sizeof(sa->sa_family))) {
    // Nothing was filled in (an unbound Unix datagram peer, for one).
    DefineOwn(out, "family", "unix");
    DefineOwn(out, "path", "");
    return out;
  }
  char text[INET6_ADDRSTRLEN];
  switch (sa->sa_family) {
    case AF_INET: {
      const sockaddr_in* in = reinterpret_cast<const sockaddr_in*>(sa);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      DefineOwn(out, "family", "IPv4");
      DefineOwn(out, "address", text);
      DefineOwn(out, "port", ntohs(in->sin_port));
      return out;
    }
    case AF_INET6: {
      const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      DefineOwn(out, "family", "IPv6");
      DefineOwn(out, "address", text);
      DefineOwn(out, "port", ntohs(in6->sin6_port));
      // Like Node's server.address(), the plain shape unless the address carries a flow label or a scope.
      if (in6->sin6_flowinfo != 0) DefineOwn(out, "flowinfo", ntohl(in6->sin6_flowinfo));
      if (in6->sin6_scope_id != 0) DefineOwn(out, "scopeId", in6->sin6_scope_id);
      return out;
    }
    case AF_UNIX: {
      const sockaddr_un* un = reinterpret_cast<const sockaddr_un*>(sa);
      size_t n = static_cast<size_t>(length) - offsetof(sockaddr_un, sun_path);
      if (n > sizeof(un->sun_path)) n = sizeof(un->sun_path);
      std::string path(un->sun_path, n);
      if (!path.empty() && path[0] != '\0') {
        size_t nul = path.find('\0');
        if (nul != std::string::npos) path.resize(nul);
      }
      DefineOwn(out, "family", "unix");
      DefineOwn(out, "path", path);
      return out;
    }
    default:
      DefineOwn(out, "family", Napi::Number::New(env, sa->sa_family));
      return out;
  }
}

}  // namespace sockfd
