/**
 * DefaultSelector: the best selector that really works here, probed once at load in the registry's order
 * (./kinds: epoll, else poll, else select).
 */
import type { EpollSelector } from './epoll';
import type { PollSelector } from './poll';
import type { SelectSelector } from './select';
import { SELECTORS, type SelectorInfo } from './kinds';

function probe(): SelectorInfo['cls'] {
  for (const info of SELECTORS) {
    try {
      info.probe();
      return info.cls;
    } catch {
      // Missing or refused here: the next one.
    }
  }
  return SELECTORS[SELECTORS.length - 1].cls; // select() is everywhere
}

/** The selector class chosen for this machine. */
export const DefaultSelector = probe();
export type DefaultSelector<T = unknown> = EpollSelector<T> | PollSelector<T> | SelectSelector<T>;
