/**
 * sockfd: raw BSD sockets, select(), poll() and epoll on integer file descriptors, for Node.js.
 *
 * Layers: the raw calls (`socket`, `bind`, ... `select`, `poll`, `epoll*`), the `Socket` class, the selectors
 * (Python's `selectors`) and the event-loop watcher (`watch`). See README.md for the whole reference.
 */
export * from './constants';
export {
  socket, socketpair, bind, connect, listen, accept, recv, recvInto, recvfrom, recvfromInto, send, sendto, sendAll,
  shutdown, close, setsockopt, getsockopt, getsockname, getpeername, setBlocking, getBlocking, fcntl, select, poll,
  getaddrinfo,
} from './raw';
export type { Accepted, Datagram, FileLike, PollFd, PollResult, GetAddrInfoOptions, ResolvedAddress } from './raw';
export type { Address, AddressInput, InetAddress, UnixAddress, InetAddressInput, UnixAddressInput } from './address';
export type { SystemError, BytesLike, Data } from './errors';
export {
  sendmsg, recvmsg, recvmsgInto, sendFds, recvFds, CMSG_LEN, CMSG_SPACE, packCredentials, unpackCredentials,
  type AncData, type AncDataInput, type Message, type MessageInto, type FdMessage, type Credentials, type FdLike,
} from './msg';
export { Socket, type AsyncOptions } from './socket';
export { setdefaulttimeout, getdefaulttimeout } from './timeout';
export { dup, sendfile, inetPton, inetNtop, getnameinfo, gethostname, ifNameToIndex, ifIndexToName, ifNameIndex } from './helpers';
export { createConnection, createServer, hasDualstackIpv6, type CreateConnectionOptions, type CreateServerOptions } from './create';
export { epollCreate, epollCtl, epollWait, epollWaitInto, hasEpoll, type EpollEvent } from './epoll';
export {
  EVENT_READ, EVENT_WRITE, SelectorKey, SelectorMapping, BaseSelector, SelectSelector, PollSelector, EpollSelector,
  DefaultSelector, SELECTORS, type FileObj, type SelectorInfo, type SelectorKernel,
} from './selectors';
export { watch, Watcher, WATCH_READ, WATCH_WRITE, WATCH_DISCONNECT, WATCH_PRIORITIZED, type WatchCallback } from './watch';
export {
  IoUring, BufferRing, ioUringSupport, completionError, hasIoUring, URING_OP_ACCEPT, URING_OP_RECV,
  URING_OP_RECV_MULTISHOT, URING_OP_SEND, URING_OP_CLOSE, URING_OP_CANCEL, URING_OP_NOP, URING_OP_TIMEOUT,
  URING_MAX_USER_DATA, IORING_CQE_F_BUFFER, IORING_CQE_F_MORE, IORING_CQE_F_SOCK_NONEMPTY, IORING_CQE_BUFFER_SHIFT,
  IORING_SETUP_CQSIZE, IORING_SETUP_CLAMP, IORING_SETUP_SUBMIT_ALL, IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_DEFER_TASKRUN, IORING_FEAT_NODROP, IORING_FEAT_FAST_POLL,
  IORING_FEAT_EXT_ARG, type IoUringSupport, type IoUringOptions, type UringAcceptOptions, type UringRecvOptions,
  type UringCallback,
} from './uring';
export { bindingPath } from './binding';
