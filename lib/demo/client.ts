/**
 * The tutorial's client: prints what the server sends, prompts `>>> `, sends each line, stops after `exit`.
 * Blocking calls throughout, as in the tutorial, except the connect: it is given `--timeout` milliseconds
 * (a blocking connect to an address that never answers would wait for the kernel's own limit, minutes).
 * Works on a terminal and with piped input (end of input counts as `exit`).
 */
import * as fs from 'node:fs';
import { Socket } from '../socket';
import { AF_INET, AF_INET6, POLLOUT, SOCK_STREAM, SOL_SOCKET, SO_ERROR } from '../constants';
import { errnoErrorFromNumber } from '../errors';
import { poll } from '../raw';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { MESSAGE_SIZE } from './protocol';

/** input(): one line from standard input, without its newline; null at end of input. */
function makeLineReader(): () => string | null {
  let pending = Buffer.alloc(0);
  let eof = false;
  const chunk = Buffer.alloc(4096);
  return () => {
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl >= 0) {
        const line = pending.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        pending = pending.subarray(nl + 1);
        return line;
      }
      if (eof) {
        if (pending.length === 0) return null;
        const line = pending.toString('utf8');
        pending = Buffer.alloc(0);
        return line;
      }
      let n: number;
      try {
        n = fs.readSync(0, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a non-blocking stdin: wait a little
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'EOF') n = 0;
        else throw err;
      }
      if (n === 0) eof = true;
      else pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    }
  };
}

/**
 * connect() that gives up after `timeoutMs`: a non-blocking connect, poll() for writability, then the
 * result from SO_ERROR (what a blocking connect would have thrown). The socket is blocking again after.
 */
function connectWithin(client: Socket, host: string, port: number, timeoutMs: number): void {
  client.setBlocking(false);
  if (!client.connect({ address: host, port })) {
    if (poll([{ fd: client.fileno(), events: POLLOUT }], timeoutMs).length === 0) {
      throw errnoErrorFromNumber(osConstants.errno.ETIMEDOUT, 'connect', host, port);
    }
    const soError = client.getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (soError !== 0) throw errnoErrorFromNumber(soError, 'connect', host, port);
  }
  client.setBlocking(true);
}

export function runClient(host: string, port: number, timeoutMs: number): number {
  const out = (s: string): void => void fs.writeSync(1, s);
  const client = new Socket(isIP(host) === 6 ? AF_INET6 : AF_INET, SOCK_STREAM);
  try {
    connectWithin(client, host, port, timeoutMs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    client.close();
    const why =
      e.code === 'ECONNREFUSED' ? 'nothing is listening there (start the server with `npx sockfd-demo server`)'
      : e.code === 'ETIMEDOUT' ? `no answer within ${timeoutMs} ms (--timeout); is the address right, and the server accepting?`
      : e.message;
    fs.writeSync(2, `Cannot reach the server at ${host}:${port}: ${why} [${e.code}]\n`);
    return 1;
  }
  const input = makeLineReader();
  try {
    for (;;) {
      const data = client.recv(MESSAGE_SIZE)!;
      if (data.length === 0) {
        out('(the server closed the connection)\n');
        return 0;
      }
      out(`${data.toString('utf8')}\n`);
      out('>>> ');
      const line = input();
      const msg = line === null ? 'exit' : line;
      if (line === null) out('exit\n');
      client.sendAll(msg);
      if (msg === 'exit') return 0;
    }
  } catch (err) {
    fs.writeSync(2, `Connection lost: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}
