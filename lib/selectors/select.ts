/** SelectSelector: select(2) over a native registry of master fd_sets. Refuses fds >= FD_SETSIZE. */
import { native } from '../binding';
import { outOfRange } from '../errors';
import { NativeRegistrySelector } from './registry';

const FD_SETSIZE = native.constants.FD_SETSIZE as number;

export class SelectSelector<T = unknown> extends NativeRegistrySelector<T> {
  constructor() {
    super(new native.SelectSet());
  }

  protected override checkRegistrable(fd: number): void {
    if (fd >= FD_SETSIZE) throw outOfRange('fd', `< FD_SETSIZE (${FD_SETSIZE}) for SelectSelector; use PollSelector or EpollSelector`, fd);
  }
}
