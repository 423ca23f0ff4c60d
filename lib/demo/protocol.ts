/**
 * The demo protocol, from the tutorial's server (../shared/seed): on connect the server sends `Welcome`; it
 * answers each message with a random integer 1..100 as text; `exit` (whitespace around it ignored) or end of
 * stream closes that connection. A message is what one read returns (up to 1024 bytes, the tutorial's
 * recv(1024)), so the tutorial's own Python client works unchanged.
 *
 * The tutorial's server tests `data.encode('utf-8') == 'exit'` on bytes, which raises AttributeError in
 * Python 3: here the bytes are compared. Its one-second sleep per message is the `--delay` option (default 0).
 */
import { Buffer } from 'node:buffer';

export const WELCOME: Buffer = Buffer.from('Welcome');
/** The tutorial's recv(1024). */
export const MESSAGE_SIZE = 1024;

// The hundred possible answers, made once: answering allocates nothing.
const ANSWERS: Buffer[] = Array.from({ length: 100 }, (_, i) => Buffer.from(String(i + 1)));

/** A random integer 1..100 as text (Python's random.randint(1, 100)). */
export function answer(): Buffer {
  return ANSWERS[Math.floor(Math.random() * 100)];
}

const EXIT = [0x65, 0x78, 0x69, 0x74]; // "exit"

function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d); // what Python's bytes.strip() removes
}

/** Whether `data[0, length)` is `exit`, surrounding whitespace (and a trailing newline) ignored. */
export function isExit(data: Uint8Array, length: number = data.length): boolean {
  let start = 0;
  let end = length;
  while (start < end && isSpace(data[start])) start++;
  while (end > start && isSpace(data[end - 1])) end--;
  if (end - start !== 4) return false;
  for (let i = 0; i < 4; i++) if (data[start + i] !== EXIT[i]) return false;
  return true;
}

/** What every server model takes. */
export interface ServerOptions {
  host: string;
  port: number;
  backlog: number;
  /** Milliseconds to wait before each answer (the tutorial's time.sleep(1) is 1000). */
  delay: number;
  /** Print each system call the server makes. */
  trace: boolean;
  /** Threads accepting on one port with SO_REUSEPORT (poll and epoll models). */
  workers: number;
}

export const DEFAULTS: ServerOptions = { host: '127.0.0.1', port: 9999, backlog: 5, delay: 0, trace: false, workers: 1 };

/** "127.0.0.1:9999", as the tutorial prints an (address, port) pair. */
export function peerName(address: { address?: string; port?: number; path?: string }): string {
  return address.path !== undefined ? address.path || '(unnamed)' : `${address.address}:${address.port}`;
}
