/**
 * `--io poll`: I/O multiplexing with poll(2). No FD_SETSIZE limit, but each wait still passes the whole list
 * of watched fds to the kernel and back: O(clients) per wait.
 */
import { PollSelector } from '../../selectors/poll';
import type { ServerOptions } from '../protocol';
import type { Running } from '../server';
import { serveWithSelector } from './multiplex';

export function serve(opts: ServerOptions, reusePort = false): Running {
  return serveWithSelector(PollSelector, 'poll', opts, reusePort);
}
