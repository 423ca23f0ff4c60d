/**
 * EpollSelector (Linux): the kernel keeps the registry; a wait is one epoll_wait into this selector's
 * Int32Array. Elsewhere its constructor throws an `ENOSYS`-coded error.
 */
import { native } from '../binding';
import { BaseSelector, EVENT_READ, EVENT_WRITE } from './base';

const k = native.constants as Readonly<Record<string, number>>;

function toEpoll(events: number): number {
  return ((events & EVENT_READ) !== 0 ? k.EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? k.EPOLLOUT : 0);
}

export class EpollSelector<T = unknown> extends BaseSelector<T> {
  readonly #epfd: number = native.epollCreate(k.EPOLL_CLOEXEC ?? 0);
  #raw = new Int32Array(2 * 64);

  /** The epoll fd. */
  fileno(): number {
    return this.closed ? -1 : this.#epfd;
  }

  protected backendAdd(fd: number, events: number): void {
    native.epollCtl(this.#epfd, k.EPOLL_CTL_ADD, fd, toEpoll(events));
  }
  protected backendModify(fd: number, events: number): void {
    native.epollCtl(this.#epfd, k.EPOLL_CTL_MOD, fd, toEpoll(events));
  }
  protected backendRemove(fd: number): void {
    try {
      native.epollCtl(this.#epfd, k.EPOLL_CTL_DEL, fd, 0);
    } catch {
      // Closed meanwhile (EBADF) or its number reused by a file we never added (ENOENT): the kernel
      // already dropped it, and Python's selectors ignore this too.
    }
  }
  protected backendWait(out: Int32Array, timeoutMs: number): number {
    if (this.#raw.length !== out.length) this.#raw = new Int32Array(out.length);
    const raw = this.#raw;
    const n = native.epollWaitInto(this.#epfd, raw, timeoutMs);
    for (let i = 0; i < n; i++) {
      const e = raw[2 * i + 1];
      let events = 0;
      if ((e & ~k.EPOLLIN) !== 0) events |= EVENT_WRITE; // EPOLLOUT, or hang-up/error: wake writers too
      if ((e & ~k.EPOLLOUT) !== 0) events |= EVENT_READ; // EPOLLIN, or hang-up/error: wake readers too
      out[2 * i] = raw[2 * i];
      out[2 * i + 1] = events;
    }
    return n;
  }
  protected override backendClose(): void {
    native.close(this.#epfd);
  }
}
