/**
 * `--io async`: the event-loop model (the tutorial's asyncio). One async function per client, written like
 * blocking code; each `await` hands the thread back to Node's event loop, which wakes the function when its
 * socket is ready (a uv_poll watcher, epoll underneath).
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { Buffer } from 'node:buffer';
import type { Socket } from '../../socket';
import type { Address } from '../../address';
import { MESSAGE_SIZE, WELCOME, answer, isExit, peerName, type ServerOptions } from '../protocol';
import { log } from '../log';
import { openServer, serveAccepting, type Running } from '../server';

// A client that sends faster than it is answered never makes recvIntoAsync wait: its loop would then run on
// settled promises (microtasks) alone and starve the event loop (the other clients, accept, timers, Ctrl-C).
// So each client hands the loop back after this many messages in a row.
const YIELD_EVERY = 16;

// The clients that yield in one loop turn share one setImmediate (a yield costs no timer of its own).
let turn: Promise<void> | null = null;
function nextTurn(): Promise<void> {
  return (turn ??= yieldToLoop().then(() => {
    turn = null;
  }));
}

/** The options of a client's calls: the server's shutdown signal. */
interface Calls {
  readonly signal: AbortSignal;
}

async function handle(conn: Socket, addr: Address, delay: number, opts: Calls): Promise<void> {
  const peer = peerName(addr);
  try {
    await conn.sendAllAsync(WELCOME, opts);
    log(`Connected with ${peer}`);
    await answerAll(conn, delay, opts);
  } catch (err) {
    if (!opts.signal.aborted) log(`Connection from ${peer}: ${(err as Error).message}`);
  } finally {
    conn.close();
    log(`Connection from ${peer} closed\n`);
  }
}

// The message loop, in a function of its own: each `await` saves the function's live values into its frame
// object and restores them after, and here they are few and the same at every message (the socket, the delay,
// the options, a count), where in handle() they included the peer's name and its try/catch/finally's own
// (callgrind at 1000 connections: the loop's own code went from 653 to 479 instructions per message).
//
// Each message is read into the client's own buffer (recvIntoAsync, asyncio's sock_recv_into), not returned as a
// new Buffer (recvAsync, asyncio's sock_recv): a promise settled with a count is fulfilled at once, where one
// settled with any object but a plain one makes V8 look up `then` along the object's prototype chain first
// (the spec's thenable test; for a Buffer, four prototypes and about 570 instructions per message), and no view
// is made per message. A kilobyte per connection, made once its welcome is sent; nothing of it is kept between
// messages (the answer is chosen before the next read), and it is the client's alone: another client's read
// runs at its socket's readiness, possibly before this function has looked at its bytes.
async function answerAll(conn: Socket, delay: number, opts: Calls): Promise<void> {
  let served = 0;
  const buf = Buffer.alloc(MESSAGE_SIZE);
  for (;;) {
    const n = await conn.recvIntoAsync(buf, undefined, undefined, opts);
    if (delay > 0) await sleep(delay, undefined, opts); // asyncio.sleep: the others go on meanwhile
    if (n === 0 || isExit(buf, n)) return;
    // Before the answer, not after: the client sends nothing until it has its answer, so nothing can arrive
    // while this function is away from recvIntoAsync (a readiness nobody waits for makes the socket's watcher
    // drop its interest, to take it again at the next read: two epoll_ctl calls).
    if (++served % YIELD_EVERY === 0) await nextTurn(); // an abort meanwhile rejects the next call
    await conn.sendAllAsync(answer(), opts);
  }
}

export function serve(opts: ServerOptions): Running {
  const clients = new Set<Promise<void>>();
  // One options object for all the clients' calls (they share the server's signal), not one per call, nor one
  // per client: each message's calls read it, and a shared one stays in the cache where a thousand would not.
  let calls: Calls | null = null;
  return serveAccepting(openServer(opts, 'async', { nonblocking: true }), (sock, address, signal) => {
    if (calls === null || calls.signal !== signal) calls = { signal };
    const client = handle(sock, address, opts.delay, calls);
    clients.add(client);
    void client.finally(() => clients.delete(client));
  }, () => Promise.all(clients));
}
