/**
 * `--io prefork`: the classic pre-forked Unix server. The parent accepts; each connection's fd goes to one of N
 * child processes (round robin) over a Unix socketpair, with SCM_RIGHTS (`sendFds`), and the parent closes its
 * copy; each child receives fds (`recvFds`) and serves its clients with the epoll loop (multiplex.ts), the
 * channel standing where a listening socket would. `--workers N` counts processes (default: the number of cores).
 *
 * The channels are SOCK_SEQPACKET: one message per connection, its data the client's address (so that a child
 * can name a client that reset before it was received, as the other models do), its one fd the connection.
 * Stopping (SIGINT, SIGTERM): the parent stops accepting, sends SIGTERM to each child and waits for them; a child
 * whose parent is gone (its channel at end of stream) stops too, so no process outlives the server.
 */
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { AF_UNIX, POLLIN, SOCK_SEQPACKET } from '../../constants';
import { close, poll, socketpair } from '../../raw';
import type { Socket } from '../../socket';
import { log, isTracing } from '../log';
import { peerName, type ServerOptions } from '../protocol';
import { ACCEPT_RETRY_MS, openServer, serveAccepting, socketClass, type Running } from '../server';
import type { Address } from '../../address';

interface Child {
  readonly proc: ChildProcess;
  readonly channel: Socket;
  readonly exited: Promise<void>;
  alive: boolean;
}

/** Starts one child: its end of a new socketpair is its fd 3; ours stays here, close-on-exec, non-blocking. */
function startChild(opts: ServerOptions, onExit: (child: Child, code: number | null, signal: string | null) => void): Child {
  const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
  const S = socketClass();
  let proc: ChildProcess;
  try {
    // An fd in `stdio` is dup2()ed to its index in the child, without close-on-exec: the child's fd 3.
    proc = spawn(process.execPath, [path.join(__dirname, 'prefork-child.js'), JSON.stringify({ ...opts, trace: isTracing() })], {
      stdio: ['ignore', 'inherit', 'inherit', theirs],
    });
  } catch (err) {
    close(mine);
    throw err;
  } finally {
    close(theirs); // the child has its copy (or none, if it failed to start)
  }
  const channel = new S(AF_UNIX, SOCK_SEQPACKET, 0, mine);
  channel.setBlocking(false);
  let exited!: () => void;
  const child: Child = { proc, channel, alive: true, exited: new Promise<void>((r) => (exited = r)) };
  proc.once('error', (err) => {
    if (proc.pid === undefined) {
      // Never started: no exit event will come.
      log(`prefork: a child process failed to start: ${err.message}`);
      child.alive = false;
      exited();
    }
  });
  proc.once('exit', (code, signal) => {
    child.alive = false;
    onExit(child, code, signal);
    exited();
  });
  return child;
}

/** How long a child may take to start serving. */
const START_MS = 60_000;

/**
 * Waits (blocking this thread: the server is not serving yet) for the child's `ready`, sent once its loop runs,
 * so that the server announces itself only when every process serves.
 */
function awaitReady(child: Child): void {
  const fd = child.channel.fileno();
  const deadline = Date.now() + START_MS;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || poll([{ fd, events: POLLIN }], left).length > 0) break;
  }
  const r = child.channel.recv(16);
  if (r === null || r.toString() !== 'ready') throw new Error(`child process ${child.proc.pid} did not start (${r === null ? 'no word' : 'it exited'})`);
}

export function serve(opts: ServerOptions): Running {
  const n = opts.workers;
  let stopping = false;
  const children: Child[] = [];
  const onExit = (child: Child, code: number | null, signal: string | null): void => {
    if (!stopping) log(`prefork: child process ${child.proc.pid} exited (${signal ?? `code ${code}`}); ${children.filter((c) => c.alive).length} left`);
  };
  let server: Socket;
  try {
    for (let i = 0; i < n; i++) children.push(startChild(opts, onExit));
    for (const c of children) awaitReady(c);
    server = openServer(opts, `prefork, ${n} processes`, { nonblocking: true });
  } catch (err) {
    stopping = true;
    for (const c of children) {
      c.proc.kill('SIGTERM');
      c.channel.close();
    }
    throw err;
  }
  let next = 0;
  // Connections no child would take yet (every queue full, or the kernel's limit on fds in flight): handed over
  // in order once one does; meanwhile they hold fds here, and accept() pauses when those run out.
  const pending: Array<[Socket, Address]> = [];
  let retry: NodeJS.Timeout | undefined;

  /** Hands the connection to the next child that takes it: true once sent (our copy is then closed). */
  const tryHand = (conn: Socket, address: Address): boolean => {
    const message = Buffer.from(JSON.stringify(address));
    for (let tried = 0; tried < children.length; tried++) {
      const child = children[next];
      next = (next + 1) % children.length;
      if (!child.alive) continue;
      try {
        if (child.channel.sendFds([message], [conn]) === null) continue; // its queue is full: the next one
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ETOOMANYREFS') continue; // too many fds in flight: later
        log(`prefork: cannot hand ${peerName(address)} to process ${child.proc.pid}: ${(err as Error).message}`);
        continue;
      }
      conn.close();
      return true;
    }
    if (!children.some((c) => c.alive)) {
      log(`refusing ${peerName(address)}: no child process left`);
      conn.close();
      return true;
    }
    return false;
  };

  const drain = (): void => {
    retry = undefined;
    while (pending.length > 0 && tryHand(pending[0][0], pending[0][1])) pending.shift();
    if (pending.length > 0 && !stopping) retry = setTimeout(drain, ACCEPT_RETRY_MS);
  };

  const handOver = (conn: Socket, address: Address): void => {
    if (pending.length === 0 && tryHand(conn, address)) return;
    pending.push([conn, address]);
    if (retry === undefined) retry = setTimeout(drain, ACCEPT_RETRY_MS);
  };

  return serveAccepting(server, handOver, async () => {
    stopping = true;
    clearTimeout(retry);
    for (const [conn] of pending.splice(0)) conn.close();
    for (const c of children) if (c.alive) c.proc.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    for (const c of children) c.channel.close();
  });
}
