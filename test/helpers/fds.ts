/**
 * fd-leak checks: count /proc/self/fd before and after a test file. Each file runs in its own process
 * (vitest pool 'forks'), so the count belongs to that file alone. Also what /proc says of one fd, and a wait
 * for an fd's readiness.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import * as s from '../../lib';

/** The fds open in this process, sorted. */
export function openFds(): number[] {
  return fs.readdirSync('/proc/self/fd').map(Number).sort((a, b) => a - b);
}

/** Whether `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  return fs.existsSync(`/proc/self/fd/${fd}`);
}

/** What /proc/self/fdinfo says of an fd's flags (octal in the file). */
export function fdFlags(fd: number): number {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const m = /^flags:\s+([0-7]+)$/m.exec(info);
  if (!m) throw new Error(`no flags in /proc/self/fdinfo/${fd}`);
  return parseInt(m[1], 8);
}

/** O_CLOEXEC as /proc/<pid>/fdinfo reports it on Linux. */
export const O_CLOEXEC = 0o2000000;

/**
 * Registers beforeAll/afterAll hooks that fail the file if it leaves an fd open that it did not start with.
 * Call at the top of a test file.
 */
export function checkFdLeaks(): void {
  let before: number[] = [];
  beforeAll(() => {
    before = openFds();
  });
  afterAll(async () => {
    // Let libuv finish closing anything the file used (child process pipes, timers).
    await new Promise((r) => setTimeout(r, 50));
    const after = openFds();
    const leaked = after.filter((fd) => !before.includes(fd)).map((fd) => {
      let target = '?';
      try {
        target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        /* closed meanwhile */
      }
      return `${fd} -> ${target}`;
    });
    // Only sockets, epoll and pipes are ours to leak; libuv may open its own eventfd/anon_inode lazily.
    expect(leaked.filter((l) => /socket:|anon_inode:\[eventpoll\]/.test(l))).toEqual([]);
  });
}

/** The fds an epoll instance watches and their event masks, from /proc/self/fdinfo. */
export function epollTargets(epfd: number): Map<number, number> {
  const info = fs.readFileSync(`/proc/self/fdinfo/${epfd}`, 'utf8');
  const m = new Map<number, number>();
  for (const match of info.matchAll(/^tfd:\s+(\d+)\s+events:\s+([0-9a-f]+)/gm)) m.set(Number(match[1]), parseInt(match[2], 16));
  return m;
}

/** Waits (over spurious wake-ups) until poll() reports one of `events` (or an error) on `fd`; the revents. */
export function waitFd(fd: number, events: number, ms = 10000): number {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`fd ${fd}: none of events ${events} within ${ms} ms`);
    const r = s.poll([{ fd, events }], left);
    if (r.length > 0) return r[0].revents;
  }
}
