/** The raw calls: socket() to getaddrinfo(), on integer fds. */
import type { Ctx } from '../context';
import { s } from '../pkg';
import type { SharedHooks } from './hooks';
import { type Spec, spec } from './types';

/** getsockopt by its implementation's signature (its overloads: without length, a number; with it, a Buffer). */
const getsockopt = s.getsockopt as (fd: number, level: number, name: number, length?: number) => number | Buffer;

export function rawSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a } = c;
  const { FD } = a;
  return [
    spec({ name: 'socket', covers: 'socket', call: s.socket, kinds: [a.domain, a.sockType, a.protocol], prepare: h.safeSocketArgs, created: h.ownResult('new') }),
    spec({ name: 'socketpair', covers: 'socketpair', call: s.socketpair, kinds: [a.domain, a.sockType, a.protocol], prepare: h.safeSocketArgs, created: h.ownPair }),
    spec({ name: 'bind', covers: 'bind', call: s.bind, kinds: [FD.any, a.address], weight: 2 }),
    spec({ name: 'connect', covers: 'connect', call: s.connect, kinds: [FD.any, a.address], weight: 3 }),
    spec({ name: 'listen', covers: 'listen', call: s.listen, kinds: [FD.any, a.backlog] }),
    spec({ name: 'accept', covers: 'accept', call: s.accept, kinds: [FD.any, a.acceptFlags], created: h.ownAccepted, weight: 2 }),
    spec({ name: 'recv', covers: 'recv', call: s.recv, kinds: [FD.any, a.size, a.msgFlags], weight: 3 }),
    spec({ name: 'recvInto', covers: 'recvInto', call: s.recvInto, kinds: [FD.any, a.buffer, a.offset, a.length, a.msgFlags], weight: 3 }),
    spec({ name: 'recvfrom', covers: 'recvfrom', call: s.recvfrom, kinds: [FD.any, a.size, a.msgFlags], weight: 2 }),
    spec({ name: 'recvfromInto', covers: 'recvfromInto', call: s.recvfromInto, kinds: [FD.any, a.buffer, a.offset, a.length, a.msgFlags], weight: 2 }),
    spec({ name: 'send', covers: 'send', call: s.send, kinds: [FD.any, a.data, a.msgFlags], weight: 3 }),
    spec({ name: 'sendto', covers: 'sendto', call: s.sendto, kinds: [FD.any, a.data, a.address, a.msgFlags], weight: 3 }),
    spec({
      name: 'sendAll',
      covers: 'sendAll',
      call: s.sendAll,
      kinds: [h.sinkFd, a.smallData, a.msgFlags],
      prepare: h.sinkPrepare,
      after: h.closeSinks,
    }),
    spec({ name: 'shutdown', covers: 'shutdown', call: s.shutdown, kinds: [FD.any, a.how] }),
    spec({ name: 'close', covers: 'close', call: s.close, kinds: [FD.close], after: h.closes }),
    spec({ name: 'setsockopt', covers: 'setsockopt', call: s.setsockopt, kinds: [FD.any, a.optLevel, a.optName, a.optValue], prepare: (args) => h.safeSockopt(args, 1), weight: 2 }),
    spec({
      name: 'getsockopt',
      covers: 'getsockopt',
      call: getsockopt,
      kinds: [FD.ro, a.optLevel, a.optName, a.optLength],
      weight: 2,
      prepare: (args) => h.pidfdPrepare(args, 1),
      created: (r, args) => h.pidfdCreated(r, args, 1),
    }),
    spec({ name: 'getsockname', covers: 'getsockname', call: s.getsockname, kinds: [FD.ro] }),
    spec({ name: 'getpeername', covers: 'getpeername', call: s.getpeername, kinds: [FD.ro] }),
    spec({ name: 'setBlocking', covers: 'setBlocking', call: s.setBlocking, kinds: [FD.any, a.bool], after: h.resetBlocking }),
    spec({ name: 'getBlocking', covers: 'getBlocking', call: s.getBlocking, kinds: [FD.ro] }),
    spec({ name: 'fcntl', covers: 'fcntl', call: s.fcntl, kinds: [FD.any, a.fcntlCmd, a.fcntlArg], prepare: (args) => h.safeFcntl(args, 1), after: h.resetBlocking }),
    spec({ name: 'select', covers: 'select', call: s.select, kinds: [a.selList, a.selList, a.selList, a.timeout], weight: 2 }),
    spec({ name: 'poll', covers: 'poll', call: s.poll, kinds: [a.pollList, a.timeout], weight: 2 }),
    spec({ name: 'getaddrinfo', covers: 'getaddrinfo', call: s.getaddrinfo, kinds: [a.host, a.service, a.gaiOptions] }),
  ];
}

