/** Loopback helpers: IPv6 availability, temporary Unix socket paths, connected pairs. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import * as s from '../../lib';

/** Whether this machine has a usable ::1 (binding to it works). The reason when it has not. */
export const ipv6: { ok: boolean; reason: string } = (() => {
  try {
    const fd = s.socket(s.AF_INET6, s.SOCK_STREAM);
    try {
      s.bind(fd, { address: '::1', port: 0 });
      return { ok: true, reason: '' };
    } finally {
      s.close(fd);
    }
  } catch (e) {
    return { ok: false, reason: `no IPv6 loopback here (${(e as Error).message})` };
  }
})();
if (!ipv6.ok) console.warn(`sockfd tests: skipping IPv6 cases: ${ipv6.reason}`);

let dir: string | undefined;
let counter = 0;
// Registered when the test file imports this module: a hook registered from inside a test (where the first
// tmpSocketPath call usually is) would never run, and every run would leave its directory behind.
afterAll(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});
/** A fresh path for a Unix socket in a temporary directory removed after the file. */
export function tmpSocketPath(name = 'sock'): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-test-'));
  return path.join(dir, `${name}-${counter++}`);
}

/** The loopback address of each IP family under test. */
export const families = [
  { name: 'IPv4', domain: s.AF_INET, host: '127.0.0.1' },
  { name: 'IPv6', domain: s.AF_INET6, host: '::1' },
] as const;

/** A listening TCP socket on an ephemeral loopback port: its fd and port. */
export function tcpListener(domain: number = s.AF_INET, host = '127.0.0.1'): { fd: number; port: number } {
  const fd = s.socket(domain, s.SOCK_STREAM);
  s.setsockopt(fd, s.SOL_SOCKET, s.SO_REUSEADDR, 1);
  s.bind(fd, { address: host, port: 0 });
  s.listen(fd);
  const a = s.getsockname(fd);
  return { fd, port: (a as { port: number }).port };
}

/** A connected TCP pair over loopback: [client, server-side], both blocking. */
export function tcpPair(domain: number = s.AF_INET, host = '127.0.0.1'): [number, number] {
  const l = tcpListener(domain, host);
  const c = s.socket(domain, s.SOCK_STREAM);
  s.connect(c, { address: host, port: l.port });
  const a = s.accept(l.fd)!;
  s.close(l.fd);
  return [c, a.fd];
}

/** A port nothing listens on (bound, then closed, so the kernel refuses connections to it). */
export function closedPort(domain: number = s.AF_INET, host = '127.0.0.1'): number {
  const fd = s.socket(domain, s.SOCK_STREAM);
  s.bind(fd, { address: host, port: 0 });
  const port = (s.getsockname(fd) as { port: number }).port;
  s.close(fd);
  return port;
}
