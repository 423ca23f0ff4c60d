/**
 * The selector registry: every selector class sockfd has, with the kernel call it waits in, best first. One list,
 * read by DefaultSelector's probe, the demo's multiplex models, `--trace`, the tests and the fuzzer: a new
 * selector class is one entry here.
 */
import { native } from '../binding';
import type { BaseSelector } from './base';
import { EpollSelector } from './epoll';
import { PollSelector } from './poll';
import { SelectSelector } from './select';

/** The kernel calls a selector can wait in. */
export type SelectorKernel = 'epoll' | 'poll' | 'select';

/** A selector class: constructible with no argument, a BaseSelector. */
export type SelectorClass = new <T = unknown>() => BaseSelector<T>;

/** What the registry says of one selector class. */
export interface SelectorInfo {
  /** The class, as exported. */
  readonly cls: typeof EpollSelector | typeof PollSelector | typeof SelectSelector;
  /** The exported name of the class. */
  readonly name: 'EpollSelector' | 'PollSelector' | 'SelectSelector';
  /** The kernel's multiplexing call behind it (what `--trace` prints). */
  readonly kernel: SelectorKernel;
  /** The system call a wait makes. */
  readonly waitCall: 'epoll_wait' | 'poll' | 'select';
  /** Throws when this machine does not have it, or refuses it (a seccomp filter, say); else does nothing. */
  probe(): void;
}

/** Every selector class, best first: the order DefaultSelector's probe tries them in. */
export const SELECTORS: readonly SelectorInfo[] = [
  {
    cls: EpollSelector,
    name: 'EpollSelector',
    kernel: 'epoll',
    waitCall: 'epoll_wait',
    probe() {
      if (!native.hasEpoll) throw new Error('no epoll on this platform');
      native.close(native.epollCreate((native.constants.EPOLL_CLOEXEC as number) ?? 0));
    },
  },
  {
    cls: PollSelector,
    name: 'PollSelector',
    kernel: 'poll',
    waitCall: 'poll',
    probe() {
      native.poll(new Int32Array(0), 0, 0);
    },
  },
  {
    cls: SelectSelector,
    name: 'SelectSelector',
    kernel: 'select',
    waitCall: 'select',
    probe() {
      native.select(new Int32Array(0), 0, 0, 0);
    },
  },
];

/** The registry's entry for a selector class, or for the class a subclass derives from; undefined if none. */
export function selectorInfo(cls: unknown): SelectorInfo | undefined {
  if (typeof cls !== 'function') return undefined;
  return SELECTORS.find((info) => cls === info.cls || cls.prototype instanceof info.cls);
}
