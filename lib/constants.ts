/**
 * The platform's socket constants under their C names, as `os.constants` does: `constants.AF_INET`, or each
 * as a named export. A name the platform lacks (`POLLRDHUP`, `SO_REUSEPORT`, the `EPOLL*` names off Linux) is
 * `undefined` there.
 */
import { native } from './binding';

const c = native.constants as Readonly<Record<string, number>>;

/** Every constant of the platform, frozen. */
export const constants: Readonly<Record<string, number | string>> = native.constants;

// Address families
export const AF_UNSPEC = c.AF_UNSPEC;
export const AF_INET = c.AF_INET;
export const AF_INET6 = c.AF_INET6;
export const AF_UNIX = c.AF_UNIX;
// Types
export const SOCK_STREAM = c.SOCK_STREAM;
export const SOCK_DGRAM = c.SOCK_DGRAM;
export const SOCK_RAW = c.SOCK_RAW;
export const SOCK_SEQPACKET = c.SOCK_SEQPACKET;
/** Linux and the BSDs: or it into `type` to create the socket non-blocking. */
export const SOCK_NONBLOCK = c.SOCK_NONBLOCK;
/** Always added by {@link socket}; exported for completeness. */
export const SOCK_CLOEXEC = c.SOCK_CLOEXEC;
// Levels and protocols
export const SOL_SOCKET = c.SOL_SOCKET;
export const IPPROTO_IP = c.IPPROTO_IP;
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
export const IPPROTO_TCP = c.IPPROTO_TCP;
export const IPPROTO_UDP = c.IPPROTO_UDP;
export const IPPROTO_ICMP = c.IPPROTO_ICMP;
export const IPPROTO_ICMPV6 = c.IPPROTO_ICMPV6;
export const IPPROTO_RAW = c.IPPROTO_RAW;
// SOL_SOCKET options
export const SO_REUSEADDR = c.SO_REUSEADDR;
export const SO_REUSEPORT = c.SO_REUSEPORT;
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
export const SO_BROADCAST = c.SO_BROADCAST;
export const SO_LINGER = c.SO_LINGER;
export const SO_RCVBUF = c.SO_RCVBUF;
export const SO_SNDBUF = c.SO_SNDBUF;
export const SO_RCVLOWAT = c.SO_RCVLOWAT;
export const SO_SNDLOWAT = c.SO_SNDLOWAT;
export const SO_RCVTIMEO = c.SO_RCVTIMEO;
export const SO_SNDTIMEO = c.SO_SNDTIMEO;
export const SO_ERROR = c.SO_ERROR;
export const SO_TYPE = c.SO_TYPE;
export const SO_DOMAIN = c.SO_DOMAIN;
export const SO_PROTOCOL = c.SO_PROTOCOL;
export const SO_ACCEPTCONN = c.SO_ACCEPTCONN;
export const SO_OOBINLINE = c.SO_OOBINLINE;
export const SO_DONTROUTE = c.SO_DONTROUTE;
export const SO_PEERCRED = c.SO_PEERCRED;
export const SO_PASSCRED = c.SO_PASSCRED;
export const SO_BINDTODEVICE = c.SO_BINDTODEVICE;
export const SO_PRIORITY = c.SO_PRIORITY;
export const SO_MARK = c.SO_MARK;
/** Linux: microseconds to busy-poll the device queue on a blocking read. */
export const SO_BUSY_POLL = c.SO_BUSY_POLL;
/** Linux: the CPU that handles the socket's incoming packets (read it to steer work to that CPU). */
export const SO_INCOMING_CPU = c.SO_INCOMING_CPU;
// TCP
export const TCP_NODELAY = c.TCP_NODELAY;
export const TCP_MAXSEG = c.TCP_MAXSEG;
export const TCP_KEEPIDLE = c.TCP_KEEPIDLE;
export const TCP_KEEPINTVL = c.TCP_KEEPINTVL;
export const TCP_KEEPCNT = c.TCP_KEEPCNT;
export const TCP_QUICKACK = c.TCP_QUICKACK;
export const TCP_CORK = c.TCP_CORK;
export const TCP_DEFER_ACCEPT = c.TCP_DEFER_ACCEPT;
export const TCP_FASTOPEN = c.TCP_FASTOPEN;
export const TCP_USER_TIMEOUT = c.TCP_USER_TIMEOUT;
/** Linux: the congestion control algorithm, a string option: set and read it as bytes (`Buffer.from('cubic')`, a length). */
export const TCP_CONGESTION = c.TCP_CONGESTION;
// IP, IPv6
export const IP_TTL = c.IP_TTL;
export const IP_TOS = c.IP_TOS;
export const IP_MULTICAST_TTL = c.IP_MULTICAST_TTL;
export const IP_MULTICAST_LOOP = c.IP_MULTICAST_LOOP;
export const IP_ADD_MEMBERSHIP = c.IP_ADD_MEMBERSHIP;
export const IP_DROP_MEMBERSHIP = c.IP_DROP_MEMBERSHIP;
export const IP_MULTICAST_IF = c.IP_MULTICAST_IF;
export const IP_FREEBIND = c.IP_FREEBIND;
export const IP_TRANSPARENT = c.IP_TRANSPARENT;
/** Linux: queue ICMP errors on the socket (read them with MSG_ERRQUEUE). */
export const IP_RECVERR = c.IP_RECVERR;
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
export const IPV6_UNICAST_HOPS = c.IPV6_UNICAST_HOPS;
export const IPV6_MULTICAST_HOPS = c.IPV6_MULTICAST_HOPS;
export const IPV6_MULTICAST_LOOP = c.IPV6_MULTICAST_LOOP;
export const IPV6_MULTICAST_IF = c.IPV6_MULTICAST_IF;
export const IPV6_JOIN_GROUP = c.IPV6_JOIN_GROUP;
export const IPV6_LEAVE_GROUP = c.IPV6_LEAVE_GROUP;
export const IPV6_TCLASS = c.IPV6_TCLASS;
// Message flags
export const MSG_OOB = c.MSG_OOB;
export const MSG_PEEK = c.MSG_PEEK;
export const MSG_DONTROUTE = c.MSG_DONTROUTE;
export const MSG_WAITALL = c.MSG_WAITALL;
export const MSG_TRUNC = c.MSG_TRUNC;
export const MSG_CTRUNC = c.MSG_CTRUNC;
export const MSG_EOR = c.MSG_EOR;
export const MSG_DONTWAIT = c.MSG_DONTWAIT;
/** Always added by {@link send}, {@link sendto} and {@link sendAll}: a send to a closed peer is `EPIPE`, never SIGPIPE. */
export const MSG_NOSIGNAL = c.MSG_NOSIGNAL;
export const MSG_MORE = c.MSG_MORE;
export const MSG_ERRQUEUE = c.MSG_ERRQUEUE;
export const MSG_CONFIRM = c.MSG_CONFIRM;
// shutdown
export const SHUT_RD = c.SHUT_RD;
export const SHUT_WR = c.SHUT_WR;
export const SHUT_RDWR = c.SHUT_RDWR;
// poll
export const POLLIN = c.POLLIN;
export const POLLPRI = c.POLLPRI;
export const POLLOUT = c.POLLOUT;
export const POLLERR = c.POLLERR;
export const POLLHUP = c.POLLHUP;
export const POLLNVAL = c.POLLNVAL;
export const POLLRDNORM = c.POLLRDNORM;
export const POLLRDBAND = c.POLLRDBAND;
export const POLLWRNORM = c.POLLWRNORM;
export const POLLWRBAND = c.POLLWRBAND;
export const POLLMSG = c.POLLMSG;
/** Linux: the peer closed its writing half (or the whole connection). */
export const POLLRDHUP = c.POLLRDHUP;
/** The size of select()'s fd_set: select() takes fds below it only. */
export const FD_SETSIZE = c.FD_SETSIZE;
// fcntl
export const F_GETFL = c.F_GETFL;
export const F_SETFL = c.F_SETFL;
export const F_GETFD = c.F_GETFD;
export const F_SETFD = c.F_SETFD;
export const F_GETOWN = c.F_GETOWN;
export const F_SETOWN = c.F_SETOWN;
export const FD_CLOEXEC = c.FD_CLOEXEC;
export const O_NONBLOCK = c.O_NONBLOCK;
export const O_ASYNC = c.O_ASYNC;
// getaddrinfo flags
export const AI_PASSIVE = c.AI_PASSIVE;
export const AI_CANONNAME = c.AI_CANONNAME;
export const AI_NUMERICHOST = c.AI_NUMERICHOST;
export const AI_NUMERICSERV = c.AI_NUMERICSERV;
export const AI_ADDRCONFIG = c.AI_ADDRCONFIG;
export const AI_V4MAPPED = c.AI_V4MAPPED;
export const SOMAXCONN = c.SOMAXCONN;
// Ancillary data: sendmsg / recvmsg (SO_PASSCRED and SO_PEERCRED are above, with the SOL_SOCKET options)
export const SCM_RIGHTS = c.SCM_RIGHTS;
/** Linux: `{ pid, uid, gid }` (see `packCredentials`); received only with `SO_PASSCRED` on. */
export const SCM_CREDENTIALS = c.SCM_CREDENTIALS;
/** Linux: always added by `recvmsg`, `recvmsgInto` and `recvFds`, so that every fd received is close-on-exec. */
export const MSG_CMSG_CLOEXEC = c.MSG_CMSG_CLOEXEC;
// getnameinfo flags
export const NI_NUMERICHOST = c.NI_NUMERICHOST;
export const NI_NUMERICSERV = c.NI_NUMERICSERV;
export const NI_NAMEREQD = c.NI_NAMEREQD;
export const NI_DGRAM = c.NI_DGRAM;
export const NI_NOFQDN = c.NI_NOFQDN;
// epoll (Linux)
export const EPOLL_CLOEXEC = c.EPOLL_CLOEXEC;
export const EPOLL_CTL_ADD = c.EPOLL_CTL_ADD;
export const EPOLL_CTL_MOD = c.EPOLL_CTL_MOD;
export const EPOLL_CTL_DEL = c.EPOLL_CTL_DEL;
export const EPOLLIN = c.EPOLLIN;
export const EPOLLOUT = c.EPOLLOUT;
export const EPOLLPRI = c.EPOLLPRI;
export const EPOLLERR = c.EPOLLERR;
export const EPOLLHUP = c.EPOLLHUP;
export const EPOLLRDHUP = c.EPOLLRDHUP;
/** 2147483648 (1 << 31 as an unsigned number): or it in with `|`, and `>>> 0` the result, or add it. */
export const EPOLLET = c.EPOLLET;
export const EPOLLONESHOT = c.EPOLLONESHOT;
export const EPOLLEXCLUSIVE = c.EPOLLEXCLUSIVE;
// Address helpers, as strings for address objects
export const INADDR_ANY = '0.0.0.0';
export const INADDR_LOOPBACK = '127.0.0.1';
export const IN6ADDR_ANY = '::';
export const IN6ADDR_LOOPBACK = '::1';
