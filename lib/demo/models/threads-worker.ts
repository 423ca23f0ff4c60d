/** The thread of one client in the threads model: takes the fd it was handed and serves it, blocking. */
import { parentPort, workerData } from 'node:worker_threads';
import { SOCK_STREAM } from '../../constants';
import { setTrace, trace as traceLine } from '../log';
import { socketClass } from '../server';
import { serveClient } from './blocking';

const { fd, family, address, delay, trace } = workerData as { fd: number; family: number; address: import('../../address').Address; delay: number; trace: boolean };
setTrace(trace);
const S = socketClass();
// From here the fd is this thread's: serveClient closes it. Until then (this thread could not start, or could not
// load its modules, out of fds or memory) the main thread closes it.
parentPort!.postMessage('serving');
traceLine(fd, 'taken over from the main thread  # no system call: fds belong to the process', 'serving it here, blocking');
serveClient(new S(family, SOCK_STREAM, 0, fd), address, delay);
