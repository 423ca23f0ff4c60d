/** SelectSelector: select(2) over a native registry of master fd_sets. Refuses fds >= FD_SETSIZE. */
import { native } from '../binding';
import type { NativeRegistry } from '../native';
import { outOfRange } from '../errors';
import { BaseSelector } from './base';

const FD_SETSIZE = native.constants.FD_SETSIZE as number;

export class SelectSelector<T = unknown> extends BaseSelector<T> {
  readonly #set: NativeRegistry = new native.SelectSet();

  protected override checkRegistrable(fd: number): void {
    if (fd >= FD_SETSIZE) throw outOfRange('fd', `< FD_SETSIZE (${FD_SETSIZE}) for SelectSelector; use PollSelector or EpollSelector`, fd);
  }
  protected backendAdd(fd: number, events: number): void {
    this.#set.add(fd, events);
  }
  protected backendModify(fd: number, events: number): void {
    this.#set.modify(fd, events);
  }
  protected backendRemove(fd: number): void {
    this.#set.remove(fd);
  }
  protected backendWait(out: Int32Array, timeoutMs: number): number {
    return this.#set.wait(out, timeoutMs);
  }
}
