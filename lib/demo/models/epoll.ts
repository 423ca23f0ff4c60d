/**
 * `--io epoll` (Linux): I/O multiplexing with epoll(7). Each fd is registered with the kernel once
 * (epoll_ctl); a wait returns only the ready ones, so its cost does not grow with idle clients.
 */
import { EpollSelector } from '../../selectors/epoll';
import type { ServerOptions } from '../protocol';
import type { Running } from '../server';
import { serveWithSelector } from './multiplex';

export function serve(opts: ServerOptions, reusePort = false): Running {
  return serveWithSelector(EpollSelector, 'epoll', opts, reusePort);
}
