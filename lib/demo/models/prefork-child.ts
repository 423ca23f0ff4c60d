/**
 * One child process of `--io prefork`: fd 3 is its channel to the parent, which sends it each connection to
 * serve as a message with the connection's fd (SCM_RIGHTS) and the client's address. The child serves them with
 * the epoll loop (multiplex.ts); the channel stands where the listening socket would, and its accept() is a
 * recvFds. It stops on SIGTERM or SIGINT, or when the parent is gone (the channel at end of stream).
 *
 *   node prefork-child.js '<ServerOptions as JSON>'
 */
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_SEQPACKET, SOCK_STREAM } from '../../constants';
import { close } from '../../raw';
import { errnoError } from '../../errors';
import type { Address } from '../../address';
import type { Socket } from '../../socket';
import { EpollSelector } from '../../selectors/epoll';
import { PollSelector } from '../../selectors/poll';
import { hasEpoll } from '../../epoll';
import { log, setTrace, setTraceTag } from '../log';
import type { ServerOptions } from '../protocol';
import type { Running } from '../server';
import { socketClass } from '../server';
import { serveWithSelector } from './multiplex';

const CHANNEL_FD = 3;
/** The longest message the parent sends: a client's address as JSON. */
const MAX_MESSAGE = 512;

const opts = JSON.parse(process.argv[2] ?? '{}') as ServerOptions;
setTrace(opts.trace);
setTraceTag(`[pid ${process.pid}] `);
const family = isIP(opts.host) === 6 ? AF_INET6 : AF_INET;
const S = socketClass();

let running: Running | undefined;
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  if (running === undefined) process.exit(0);
  void running.stop().then(() => process.exit(0));
}

/**
 * A spare fd, held so that a receive always has a free slot for the fd it brings: the kernel drops an fd that
 * recvmsg cannot install (out of fds: EMFILE), and with it the client's connection. So the spare is closed just
 * before each receive and opened again after it; when it cannot be (the process is at its fd limit), receiving
 * pauses (accept() fails with EMFILE, which the epoll loop logs once and waits out) until a client leaves.
 */
let spare = -1;
function openSpare(): boolean {
  if (spare >= 0) return true;
  try {
    spare = fs.openSync('/dev/null', 'r') // close-on-exec, as libuv opens every file;
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EMFILE' || (err as NodeJS.ErrnoException).code === 'ENFILE') return false;
    throw err;
  }
}

/** The channel to the parent: what accept() takes is the next connection the parent sent. */
class Channel extends S {
  /** A client's fd was closed: take the spare again if a receive at the fd limit could not (the count at rest). */
  fdFreed(): void {
    openSpare();
  }

  override accept(): [Socket, Address] | null {
    if (!openSpare()) throw errnoError('EMFILE', 'recvmsg');
    fs.closeSync(spare);
    spare = -1;
    let r;
    try {
      r = this.recvFds(MAX_MESSAGE, 1);
    } finally {
      openSpare(); // if it cannot be had now, the next accept() says EMFILE
    }
    if (r === null) return null;
    if (r.fds.length === 0) {
      if (r.data.length === 0) stop(); // the parent is gone
      else log(`prefork: process ${process.pid} received a client without its fd: ${r.data.toString()}`);
      return null;
    }
    const fd = r.fds[0];
    let address: Address;
    let sock: Socket;
    try {
      address = JSON.parse(r.data.toString()) as Address;
      sock = new S(family, SOCK_STREAM, 0, fd);
    } catch (err) {
      close(fd);
      throw err;
    }
    return [sock, address];
  }
}

const channel = new Channel(AF_UNIX, SOCK_SEQPACKET, 0, CHANNEL_FD);
try {
  openSpare();
  channel.setBlocking(false);
  running = serveWithSelector(hasEpoll ? EpollSelector : PollSelector, 'prefork', opts, false, channel);
  channel.send('ready'); // the parent announces the server once every process serves
} catch (err) {
  log(`prefork: process ${process.pid} cannot serve: ${(err as Error).message}`);
  process.exit(1);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
