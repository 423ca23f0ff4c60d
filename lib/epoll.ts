/**
 * epoll(7), Linux only. Elsewhere each call throws an `ENOSYS`-coded error (the module still loads).
 * The kernel's data word carries the fd, so events come back as `{ fd, events }`.
 */
import { native } from './binding';
import { checkFd, checkInt, checkInt32, checkTimeout, invalidArgType, outOfRange } from './errors';

const k = native.constants as Readonly<Record<string, number>>;

/** One event of {@link epollWait}. */
export interface EpollEvent {
  fd: number;
  events: number;
}

/**
 * Creates an epoll instance: an fd, close-on-exec by default.
 * @see epoll_create1(2)
 */
export function epollCreate(flags: number = k.EPOLL_CLOEXEC ?? 0): number {
  checkInt32(flags, 'flags');
  return native.epollCreate(flags);
}

/**
 * Adds, changes or removes an fd's interest: `op` is `EPOLL_CTL_ADD`, `EPOLL_CTL_MOD` or `EPOLL_CTL_DEL`;
 * `events` a mask of `EPOLLIN`, `EPOLLOUT`, ..., `EPOLLET` (2147483648; combine with `+` or `(a | b) >>> 0`).
 * Errors as the kernel gives them: `EEXIST` on a double add, `ENOENT` for an unknown fd, `EPERM` for a regular
 * file, `EBADF`.
 * @see epoll_ctl(2)
 */
export function epollCtl(epfd: number, op: number, fd: number, events = 0): void {
  checkFd(epfd, 'epfd');
  checkInt32(op, 'op');
  checkFd(fd);
  // Accept the mask both as unsigned (EPOLLET = 2^31) and as a signed int32 (the result of `|`).
  checkInt(events, 'events', -0x80000000, 0xffffffff);
  native.epollCtl(epfd, op, fd, events >>> 0);
}

/**
 * Waits for events: up to `maxEvents` of `{ fd, events }`, and at most 4096 a call (the kernel keeps the rest
 * ready for the next call, round-robin, so none is lost). `timeoutMs` as everywhere: undefined, null or
 * negative waits forever; 0 returns at once. Retried with the remaining time on EINTR.
 * @see epoll_wait(2)
 */
export function epollWait(epfd: number, maxEvents: number, timeoutMs?: number | null): EpollEvent[] {
  checkFd(epfd, 'epfd');
  checkInt(maxEvents, 'maxEvents', 1, 1 << 20);
  return native.epollWait(epfd, maxEvents, checkTimeout(timeoutMs));
}

/**
 * The allocation-free {@link epollWait}: fills `out` with (fd, events) pairs (`out[2i]`, `out[2i + 1]`; events as
 * a signed int32, so `>>> 0` to read EPOLLET-style high bits) and returns how many. Up to `out.length / 2` events,
 * and at most 4096 a call, as {@link epollWait}.
 */
export function epollWaitInto(epfd: number, out: Int32Array, timeoutMs?: number | null): number {
  checkFd(epfd, 'epfd');
  if (!(out instanceof Int32Array)) throw invalidArgType('out', 'an instance of Int32Array', out);
  if (out.length < 2) throw outOfRange('out.length', '>= 2 (room for one (fd, events) pair)', out.length);
  return native.epollWaitInto(epfd, out, checkTimeout(timeoutMs));
}

/** Whether this platform has epoll (Linux). */
export const hasEpoll: boolean = native.hasEpoll;
