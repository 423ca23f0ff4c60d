/**
 * DefaultSelector: the best selector that really works here, probed once at load: epoll, else poll, else select.
 */
import { native } from '../binding';
import { EpollSelector } from './epoll';
import { PollSelector } from './poll';
import { SelectSelector } from './select';

function probe(): typeof EpollSelector | typeof PollSelector | typeof SelectSelector {
  if (native.hasEpoll) {
    try {
      native.close(native.epollCreate((native.constants.EPOLL_CLOEXEC as number) ?? 0));
      return EpollSelector;
    } catch {
      // epoll refused here (a seccomp filter, say): fall through.
    }
  }
  try {
    native.poll(new Int32Array(0), 0, 0);
    return PollSelector;
  } catch {
    return SelectSelector;
  }
}

/** The selector class chosen for this machine. */
export const DefaultSelector = probe();
export type DefaultSelector<T = unknown> = EpollSelector<T> | PollSelector<T> | SelectSelector<T>;
