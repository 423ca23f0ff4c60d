// Socket addresses between JavaScript and the kernel.
// In (from the TypeScript layer, already checked): five positional arguments
//   family (AF_INET | AF_INET6 | AF_UNIX), address-or-path string, port, flowinfo, scopeId.
// Out: { family: 'IPv4' | 'IPv6', address, port[, flowinfo, scopeId] } or { family: 'unix', path }.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common.h"

namespace sockfd {

struct SockAddr {
  sockaddr_storage storage;
  socklen_t length;
  // For error messages: "127.0.0.1" and port, or the Unix path (port -1).
  std::string label;
  int port;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Reads the five address arguments starting at info[i]. TypeError/RangeError when they cannot form an address.
SockAddr AddressArgs(const Napi::CallbackInfo& info, size_t i);

// The JavaScript form of a kernel address of `length` bytes.
Napi::Value AddressToJs(Napi::Env env, const sockaddr_storage& storage, socklen_t length);

}  // namespace sockfd
