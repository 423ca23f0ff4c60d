/** The thread of one client in the threads model: takes the fd it was handed and serves it, blocking. */
import { workerData } from 'node:worker_threads';
import { SOCK_STREAM } from '../../constants';
import { setTrace } from '../log';
import { socketClass } from '../server';
import { serveClient } from './blocking';

const { fd, family, address, delay, trace } = workerData as { fd: number; family: number; address: import('../../address').Address; delay: number; trace: boolean };
setTrace(trace);
const S = socketClass();
serveClient(new S(family, SOCK_STREAM, 0, fd), address, delay);
