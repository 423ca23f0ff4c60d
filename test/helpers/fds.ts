/**
 * fd-leak checks: count /proc/self/fd before and after a test file. Each file runs in its own process
 * (vitest pool 'forks'), so the count belongs to that file alone.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

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
