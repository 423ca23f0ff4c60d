/** PollSelector: poll(2) over a pollfd array kept in native memory between calls. */
import { native } from '../binding';
import { NativeRegistrySelector } from './registry';

export class PollSelector<T = unknown> extends NativeRegistrySelector<T> {
  constructor() {
    super(new native.PollSet());
  }
}
