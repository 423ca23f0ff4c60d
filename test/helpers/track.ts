/**
 * fd bookkeeping: every fd a test opens is tracked and closed after it, exactly once.
 *
 * Call `useFdTracking()` once at the top of a test file (after `checkFdLeaks()`, before the file's own
 * `afterEach`): it registers the hooks that close what a test left open. Vitest runs `afterEach` hooks in reverse
 * order of registration (`sequence.hooks: 'stack'`), so a file's own hooks (children, timers, Socket objects,
 * selectors, watchers) run first and the tracked fds are closed last.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import * as s from '../../lib';
import { tcpPair } from './net';

const opened = new Set<number>();
const files: number[] = [];
let fileDir: string | undefined;
let hooked = false;

/** Registers the hooks: after each test, close every tracked fd and regular file; after the file, its temp dir. */
export function useFdTracking(): void {
  hooked = true;
  afterEach(() => {
    // Every close is tried; the first failure (EBADF: closed behind the tracking's back) fails the test.
    let failure: unknown;
    const attempt = (close: () => void) => {
      try {
        close();
      } catch (e) {
        failure ??= e;
      }
    };
    for (const fd of opened) attempt(() => s.close(fd));
    opened.clear();
    for (const fd of files.splice(0)) attempt(() => fs.closeSync(fd));
    if (failure !== undefined) throw failure;
  });
  afterAll(() => {
    if (fileDir !== undefined) fs.rmSync(fileDir, { recursive: true, force: true });
    fileDir = undefined;
  });
}

function checkHooked(what: string): void {
  if (!hooked) throw new Error(`${what}: call useFdTracking() at the top of the test file first`);
}

/** Tracks `fd`: it is closed after the test unless the test closes it with `closeFd` (or `untrack`s it). */
export function track(fd: number): number {
  checkHooked('track');
  opened.add(fd);
  return fd;
}

/** Closes a tracked fd; throws if it is not tracked (closed twice, or never tracked). */
export function closeFd(fd: number): void {
  if (!opened.delete(fd)) throw new Error(`closeFd(${fd}): not tracked (closed twice?)`);
  s.close(fd);
}

/** Stops tracking `fd` without closing it (something else owns or closed it now); throws if it is not tracked. */
export function untrack(fd: number): number {
  if (!opened.delete(fd)) throw new Error(`untrack(${fd}): not tracked`);
  return fd;
}

/** A connected socketpair (AF_UNIX, SOCK_STREAM unless told), both ends tracked. */
export function trackedPair(type: number = s.SOCK_STREAM, domain: number = s.AF_UNIX): [number, number] {
  const [a, b] = s.socketpair(domain, type);
  return [track(a), track(b)];
}

/** A connected TCP pair over 127.0.0.1 (`tcpPair` of ./net): [client, server-side], both tracked. */
export function trackedTcpPair(): [number, number] {
  const [c, a] = tcpPair();
  return [track(c), track(a)];
}

/** An open regular file, read-write: a valid fd that is not a socket. Closed after the test. */
export function regularFile(): number {
  checkHooked('regularFile');
  fileDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-files-'));
  const fd = fs.openSync(path.join(fileDir, `file-${files.length}`), 'w+');
  files.push(fd);
  return fd;
}
