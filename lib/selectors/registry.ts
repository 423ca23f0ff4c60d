/**
 * The backend of the select and poll selectors: a native registry (an fd_set pair or a pollfd array, kept in
 * native memory between calls) that adds, modifies, removes and waits; they differ only in which one.
 */
import type { NativeRegistry } from '../native';
import { BaseSelector } from './base';

export abstract class NativeRegistrySelector<T = unknown> extends BaseSelector<T> {
  readonly #set: NativeRegistry;

  protected constructor(set: NativeRegistry) {
    super();
    this.#set = set;
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
