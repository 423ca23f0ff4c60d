/**
 * `--io select`: I/O multiplexing with select(2). Each wait hands the kernel bitmaps of every watched fd and
 * gets them back rewritten, so the cost grows with the number of clients; fds >= FD_SETSIZE (1024) cannot be
 * watched at all, and such clients are refused with a log line while the others are served.
 */
import { SelectSelector } from '../../selectors/select';
import type { ServerOptions } from '../protocol';
import type { Running } from '../server';
import { serveWithSelector } from './multiplex';

export function serve(opts: ServerOptions): Running {
  return serveWithSelector(SelectSelector, 'select', opts);
}
