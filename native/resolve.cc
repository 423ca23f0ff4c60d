// getaddrinfo(3): the one blocking call that is not a socket system call (as in Python's socket module).
#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "sockaddr.h"

namespace sockfd {

// Resolver failures as libuv numbers and names them: EAI_NONAME is UV_EAI_NONAME, code 'EAI_NONAME' (Node's dns
// module renames that one 'ENOTFOUND'), and so on, so that util.getSystemErrorName(err.errno) gives err.code back.
int TranslateEai(int rc) {
  switch (rc) {
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return UV_EAI_ADDRFAMILY;
#endif
    case EAI_AGAIN: return UV_EAI_AGAIN;
    case EAI_BADFLAGS: return UV_EAI_BADFLAGS;
    case EAI_FAIL: return UV_EAI_FAIL;
    case EAI_FAMILY: return UV_EAI_FAMILY;
    case EAI_MEMORY: return UV_EAI_MEMORY;
#ifdef EAI_NODATA
#if EAI_NODATA != EAI_NONAME
    case EAI_NODATA: return UV_EAI_NODATA;
#endif
#endif
    case EAI_NONAME: return UV_EAI_NONAME;
    case EAI_SERVICE: return UV_EAI_SERVICE;
    case EAI_SOCKTYPE: return UV_EAI_SOCKTYPE;
    case EAI_SYSTEM: return -errno;
    default: return UV_EAI_FAIL;
  }
}

namespace {

// getaddrinfo(host | null, service | null, family, type, flags) -> [{ family, address, port, type, protocol }]
Napi::Value GetAddrInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host, service;
  bool has_host = info[0].IsString(), has_service = info[1].IsString();
  if (!has_host && !info[0].IsNull()) ThrowTypeError(env, "The \"host\" argument must be of type string or null");
  if (!has_service && !info[1].IsNull()) ThrowTypeError(env, "The \"service\" argument must be of type string or null");
  if (has_host) host = info[0].As<Napi::String>().Utf8Value();
  if (has_service) service = info[1].As<Napi::String>().Utf8Value();
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = Int32Arg(info, 2, "family");
  hints.ai_socktype = Int32Arg(info, 3, "type");
  hints.ai_flags = Int32Arg(info, 4, "flags");
  addrinfo* res = nullptr;
  int rc;
  do {
    rc = ::getaddrinfo(has_host ? host.c_str() : nullptr, has_service ? service.c_str() : nullptr, &hints, &res);
  } while (rc == EAI_SYSTEM && errno == EINTR);
  if (rc != 0) {
    int uverr = TranslateEai(rc);
    ThrowErrno(env, -uverr, "getaddrinfo", host);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);  // freed on every path
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (p->ai_family != AF_INET && p->ai_family != AF_INET6) continue;
    sockaddr_storage storage;
    std::memset(&storage, 0, sizeof(storage));
    std::memcpy(&storage, p->ai_addr, std::min(static_cast<size_t>(p->ai_addrlen), sizeof(storage)));
    Napi::Object a = AddressToJs(env, storage, p->ai_addrlen).As<Napi::Object>();
    DefineOwn(a, "type", p->ai_socktype);
    DefineOwn(a, "protocol", p->ai_protocol);
    DefineOwn(out, n++, a);
  }
  return out;
}

}  // namespace

void InitResolve(Napi::Env env, Napi::Object exports) {
  exports.Set("getaddrinfo", Napi::Function::New(env, GetAddrInfo, "getaddrinfo"));
}

}  // namespace sockfd
