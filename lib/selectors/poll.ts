/** PollSelector: poll(2) over a pollfd array kept in native memory between calls. */
import { native } from '../binding';
import type { NativeRegistry } from '../native';
import { BaseSelector } from './base';

export class PollSelector<T = unknown> extends BaseSelector<T> {
  readonly #set: NativeRegistry = new native.PollSet();

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
