/**
 * The tutorial's client: prints what the server sends, prompts `>>> `, sends each line, stops after `exit`.
 * Blocking calls throughout, as in the tutorial, with Python's conveniences: `createConnection` (the host
 * resolved, each of its addresses tried) with a connect timeout, `--timeout` milliseconds (a blocking connect to
 * an address that never answers would wait for the kernel's own limit, minutes). Works on a terminal and with
 * piped input (end of input counts as `exit`).
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import type { Socket } from '../socket';
import { createConnection } from '../create';
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

export function runClient(host: string, port: number, timeoutMs: number): number {
  const out = (s: string): void => void fs.writeSync(1, s);
  let client: Socket;
  try {
    client = createConnection({ address: host, port }, { timeout: timeoutMs });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ECONNREFUSED' ? 'nothing is listening there (start the server with `npx sockfd-demo server`)'
      : e.code === 'ETIMEDOUT' ? `no answer within ${timeoutMs} ms (--timeout); is the address right, and the server accepting?`
      : e.message;
    fs.writeSync(2, `Cannot reach the server at ${host}:${port}: ${why} [${e.code}]\n`);
    return 1;
  }
  // Then wait as long as the server takes: the blocking model serves one client at a time, the next waits.
  client.settimeout(null);
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
