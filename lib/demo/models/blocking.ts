/**
 * `--io blocking`: the tutorial's server as written: one client at a time, blocking accept, recv and send.
 * While it serves one client, the next waits in the listen backlog. Its calls block the whole thread, so
 * Node's signal handlers cannot run: Ctrl-C takes the default action, and the kernel closes the sockets.
 */
import type { Socket } from '../../socket';
import type { Address } from '../../address';
import { MESSAGE_SIZE, WELCOME, answer, isExit, peerName, type ServerOptions } from '../protocol';
import { log } from '../log';
import { openServer } from '../server';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** time.sleep(): blocks this thread. */
function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Serves one client with blocking calls until it says exit or leaves (also used by the threads model). */
export function serveClient(conn: Socket, addr: Address, delay: number): void {
  const peer = peerName(addr);
  try {
    conn.send(WELCOME);
    log(`Connected with ${peer}`);
    for (;;) {
      const data = conn.recv(MESSAGE_SIZE)!;
      sleep(delay); // the tutorial's "simple way to unpack block"
      if (data.length === 0 || isExit(data)) break;
      conn.sendAll(answer());
    }
  } catch (err) {
    log(`Connection from ${peer}: ${(err as Error).message}`);
  } finally {
    conn.close();
    log(`Connection from ${peer} closed\n`);
  }
}

export function serve(opts: ServerOptions): never {
  const s = openServer(opts, 'blocking');
  for (;;) {
    const [conn, addr] = s.accept()!;
    serveClient(conn, addr, opts.delay);
  }
}
