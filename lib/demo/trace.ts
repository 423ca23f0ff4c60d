/**
 * `--trace`: a Socket and selectors that print each system call they make, as `fd 7  recv(1024) -> 5 bytes`.
 * The selector lines name the kernel call behind each method, which is where select, poll and epoll differ:
 * select and poll hand the kernel the whole fd list on every wait, epoll registers each fd once.
 */
import { Buffer } from 'node:buffer';
import { Socket, type AsyncCall, type AsyncOptions, type AttemptArg, type AttemptResult } from '../socket';
import type { Address, AddressInput } from '../address';
import { errnoName, type BytesLike, type Data } from '../errors';
import type { Accepted } from '../raw';
import { MSG_CTRUNC, constants } from '../constants';
import type { FdLike, FdMessage } from '../msg';
import { BaseSelector, type FileObj, type SelectorKey } from '../selectors/base';
import { selectorInfo, type SelectorInfo } from '../selectors/kinds';
import { SelectSelector } from '../selectors/select';
import { WATCH_READ } from '../watch';
import { trace } from './log';

/** The C name of a constant: `nameOf('SO_', 2)` is `'SO_REUSEADDR'`; the number itself when none matches. */
function nameOf(prefix: string, value: number): string {
  for (const [name, v] of Object.entries(constants)) if (v === value && name.startsWith(prefix)) return name;
  return String(value);
}

/** The prefix of a level's option names, for setsockopt lines. */
function optionPrefix(level: number): string {
  if (level === constants.SOL_SOCKET) return 'SO_';
  if (level === constants.IPPROTO_TCP) return 'TCP_';
  if (level === constants.IPPROTO_IPV6) return 'IPV6_';
  if (level === constants.IPPROTO_IP) return 'IP_';
  return '\0'; // no name: the number
}

const levelName = (level: number): string => (level === constants.SOL_SOCKET ? 'SOL_SOCKET' : nameOf('IPPROTO_', level));

/** The async method behind a wait, by the system call it waits to retry ('recv': TracedSocket#recvMethod). */
const ASYNC_METHOD: Readonly<Record<string, string>> = { accept: 'acceptAsync', connect: 'connectAsync', send: 'sendAllAsync' };

const where = (a: AddressInput): string =>
  'path' in a ? JSON.stringify(a.path) : `('${(a as { address: string }).address}', ${(a as { port: number }).port})`;

/** A Socket that prints its system calls. */
export class TracedSocket extends Socket {
  // Which of recvAsync and recvIntoAsync was called last: a wait names only its system call ('recv'), and a
  // read after a short one waits before any attempt.
  #recvMethod = 'recvAsync';
  override recvAsync(size: number, options?: AsyncOptions): Promise<Buffer> {
    this.#recvMethod = 'recvAsync';
    return super.recvAsync(size, options);
  }
  override recvIntoAsync(buffer: BytesLike, offset?: number, length?: number, options?: AsyncOptions): Promise<number> {
    this.#recvMethod = 'recvIntoAsync';
    return super.recvIntoAsync(buffer, offset, length, options);
  }
  constructor(family?: number, type?: number, protocol = 0, fileno?: number) {
    super(family, type, protocol, fileno);
    // An fd taken over (an accepted one, one handed to a thread) was created by the call that says so.
    if (fileno === undefined) {
      trace(null, `socket(${nameOf('AF_', this.family)}, ${nameOf('SOCK_', this.type)} | SOCK_CLOEXEC)`, `fd ${this.fileno()}`);
    }
  }
  override setsockopt(level: number, name: number, value: number | boolean | BytesLike): void {
    super.setsockopt(level, name, value);
    const shown = typeof value === 'object' ? `<${value.byteLength} bytes>` : Number(value);
    trace(this.fileno(), `setsockopt(${levelName(level)}, ${nameOf(optionPrefix(level), name)}, ${shown})`, undefined);
  }
  override getsockname(): Address {
    const a = super.getsockname();
    trace(this.fileno(), 'getsockname()', a);
    return a;
  }
  override detach(): number {
    const fd = super.detach();
    trace(fd, 'detach()  # no system call: the number is handed over, this Socket lets go of it', undefined);
    return fd;
  }
  override bind(address: AddressInput): void {
    super.bind(address);
    trace(this.fileno(), `bind(${where(address)})`, undefined);
  }
  override listen(backlog?: number): void {
    super.listen(backlog);
    trace(this.fileno(), `listen(${backlog ?? ''})`, undefined);
  }
  override accept(): [Socket, Address] | null {
    const r = super.accept();
    trace(this.fileno(), 'accept()', r === null ? null : `fd ${r[0].fileno()} from ${(r[1] as { address: string }).address}:${(r[1] as { port: number }).port}`, r === null);
    return r;
  }
  override recv(size: number, flags?: number): Buffer | null {
    const fd = this.fileno();
    try {
      const r = super.recv(size, flags);
      trace(fd, `recv(${size})`, r, r === null);
      return r;
    } catch (err) {
      trace(fd, `recv(${size})`, (err as NodeJS.ErrnoException).code);
      throw err;
    }
  }
  override recvInto(buffer: BytesLike, offset?: number, length?: number, flags?: number): number | null {
    const fd = this.fileno();
    try {
      const r = super.recvInto(buffer, offset, length, flags);
      trace(fd, `recv(${length ?? buffer.byteLength})`, r === null ? null : r === 0 ? "b'' (end of stream)" : `${r} bytes`, r === null);
      return r;
    } catch (err) {
      trace(fd, `recv(${length ?? buffer.byteLength})`, (err as NodeJS.ErrnoException).code);
      throw err;
    }
  }
  override send(data: Data, flags?: number): number | null {
    const fd = this.fileno();
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    try {
      const r = super.send(data, flags);
      trace(fd, `send(${size} bytes)`, r === null ? null : `${r} sent`, r === null);
      return r;
    } catch (err) {
      trace(fd, `send(${size} bytes)`, (err as NodeJS.ErrnoException).code);
      throw err;
    }
  }
  override sendAll(data: Data, flags?: number): void {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    super.sendAll(data, flags);
    trace(this.fileno(), `sendall(${size} bytes)`, undefined);
  }
  override shutdown(how: number): void {
    super.shutdown(how);
    trace(this.fileno(), `shutdown(${how})`, undefined);
  }
  override close(): void {
    const fd = this.fileno();
    super.close();
    if (fd >= 0) trace(fd, 'close()', undefined);
  }
  // The message calls (the prefork model hands each accepted fd to a child process with SCM_RIGHTS).
  override sendFds(buffers: ReadonlyArray<BytesLike | string>, fds: readonly FdLike[], flags?: number, address?: AddressInput | null): number | null {
    const fd = this.fileno();
    const size = buffers.reduce((n, b) => n + (typeof b === 'string' ? Buffer.byteLength(b) : b.byteLength), 0);
    const what = `sendmsg(${size} bytes, [(SOL_SOCKET, SCM_RIGHTS, [${fds.map((f) => `fd ${typeof f === 'number' ? f : f.fileno()}`).join(', ')}])])  # send_fds`;
    try {
      const r = super.sendFds(buffers, fds, flags, address);
      trace(fd, what, r === null ? null : `${r} sent`);
      return r;
    } catch (err) {
      trace(fd, what, (err as NodeJS.ErrnoException).code);
      throw err;
    }
  }
  override recvFds(bufsize: number, maxfds: number, flags?: number): FdMessage | null {
    const fd = this.fileno();
    const what = `recvmsg(${bufsize}, CMSG_LEN(${maxfds} fds))  # recv_fds`;
    try {
      const r = super.recvFds(bufsize, maxfds, flags);
      const shown = r === null ? null : r.data.length === 0 && r.fds.length === 0 ? "b'' (end of stream)"
        : `${r.data.length} bytes, SCM_RIGHTS [${r.fds.map((f) => `fd ${f}`).join(', ')}]${(r.flags & MSG_CTRUNC) !== 0 ? ' MSG_CTRUNC' : ''}`;
      trace(fd, what, shown);
      return r;
    } catch (err) {
      trace(fd, what, (err as NodeJS.ErrnoException).code);
      throw err;
    }
  }
  override setBlocking(blocking: boolean): void {
    super.setBlocking(blocking);
    trace(this.fileno(), `ioctl(FIONBIO, ${blocking ? 0 : 1})  # setblocking(${blocking ? 'True' : 'False'})`, undefined);
  }
  // The async methods (the async and threads models) make each system call through attempt(): one line per
  // attempt, would-blocks included, marked with the method that made it.
  protected override attempt(call: AsyncCall, fd: number, arg?: AttemptArg, offset?: number, length?: number): AttemptResult {
    const what = asyncCallText(call, arg, length);
    try {
      const r = super.attempt(call, fd, arg, offset, length);
      trace(fd, what, asyncResultText(call, r), r === null);
      return r;
    } catch (err) {
      trace(fd, what, (err as NodeJS.ErrnoException).code ?? (err as Error).name);
      throw err;
    }
  }
  // What tells the async model apart: between two attempts, the method returns a pending promise to its caller and
  // the thread goes back to the event loop; a uv_poll callback (libuv's epoll_wait found the fd ready) resolves
  // it, and the method resumes with another attempt. Two lines per wait: its start, and its end.
  protected override waitReady(events: number, syscall: string, signal: AbortSignal | undefined): Promise<void> {
    const fd = this.fileno();
    const what = events === WATCH_READ ? 'readable' : 'writable';
    const method = syscall === 'recv' ? this.#recvMethod : ASYNC_METHOD[syscall] ?? syscall;
    trace(fd, `wait ${what} (uv_poll)  # ${method} returns a pending promise; the event loop runs`, 'pending');
    return super.waitReady(events, syscall, signal).then(
      () => trace(fd, `${what} (uv_poll callback)  # ${method} resumes`, 'ready'),
      (err: unknown) => {
        trace(fd, `wait ${what} (uv_poll)  # ${method}`, (err as NodeJS.ErrnoException).code ?? (err as Error).name);
        throw err;
      },
    );
  }
}

/** How TracedSocket prints an attempt of the async methods: as Python would call it, then the method. */
function asyncCallText(call: AsyncCall, arg: AttemptArg | undefined, length: number | undefined): string {
  switch (call) {
    case 'accept':
      return 'accept()  # acceptAsync';
    case 'connect':
      return `connect(${typeof arg === 'object' && arg !== null ? where(arg as AddressInput) : String(arg)})  # connectAsync`;
    case 'getsockopt':
      return 'getsockopt(SOL_SOCKET, SO_ERROR)  # connectAsync';
    case 'recv':
      return `recv(${arg as number})  # recvAsync`;
    case 'recvInto':
      return `recv(${length ?? (arg as BytesLike | undefined)?.byteLength})  # recvIntoAsync`;
    case 'send':
      return `send(${(arg as BytesLike | undefined)?.byteLength} bytes)  # sendAllAsync`;
    case 'setBlocking':
      return `ioctl(FIONBIO, ${arg ? 0 : 1})  # setblocking(${arg ? 'True' : 'False'}) for the async calls`;
    default:
      return `${call as string}()`;
  }
}

function asyncResultText(call: AsyncCall, r: AttemptResult): unknown {
  if (r === null) return null; // would block
  switch (call) {
    case 'accept': {
      const { fd, address } = r as Accepted;
      return `fd ${fd} from ${'path' in address ? JSON.stringify(address.path) : `${address.address}:${address.port}`}`;
    }
    case 'connect':
      return r ? 'connected' : 'EINPROGRESS (in progress)';
    case 'getsockopt':
      return r === 0 ? '0' : `${r as number} (${errnoName(r as number)})`;
    case 'recvInto':
      return r === 0 ? "b'' (end of stream)" : `${r as number} bytes`;
    case 'send':
      return `${r as number} sent`;
    default:
      return r; // recv's Buffer, setBlocking's undefined ("ok")
  }
}

/** A subclass of `Base` that prints the kernel call behind each selector method (named by the selector registry). */
export function tracedSelector(Base: SelectorInfo['cls']): new () => BaseSelector<unknown> {
  const info = selectorInfo(Base);
  if (info === undefined) throw new TypeError(`tracedSelector: ${Base.name} is not in the selector registry (lib/selectors/kinds.ts)`);
  const kernel = info.kernel;
  const Traced = class extends (Base as unknown as new () => SelectSelector<unknown>) {
    constructor() {
      super();
      // epoll keeps the registrations in the kernel, behind an fd of its own (the first fd number the server
      // takes after its listening socket).
      if (kernel === 'epoll') trace(null, 'epoll_create1(EPOLL_CLOEXEC)', `fd ${(this as unknown as { fileno(): number }).fileno()}`);
    }
    override close(): void {
      const fd = kernel === 'epoll' && !this.closed ? (this as unknown as { fileno(): number }).fileno() : -1;
      super.close();
      if (fd >= 0) trace(fd, 'close()  # the epoll fd', undefined);
    }
    override register(fileobj: FileObj, events: number, data?: unknown): SelectorKey<unknown> {
      const key = super.register(fileobj, events, data);
      trace(key.fd, kernel === 'epoll' ? `epoll_ctl(ADD, events=${events})` : `register(events=${events})  # kept in user space`, undefined);
      return key;
    }
    override modify(fileobj: FileObj, events: number, data?: unknown): SelectorKey<unknown> {
      const key = super.modify(fileobj, events, data);
      trace(key.fd, kernel === 'epoll' ? `epoll_ctl(MOD, events=${events})` : `modify(events=${events})  # kept in user space`, undefined);
      return key;
    }
    override unregister(fileobj: FileObj): SelectorKey<unknown> {
      const key = super.unregister(fileobj);
      trace(key.fd, kernel === 'epoll' ? 'epoll_ctl(DEL)' : 'unregister()  # kept in user space', undefined);
      return key;
    }
    override select(timeoutMs?: number | null): Array<[SelectorKey<unknown>, number]> {
      const ready = super.select(timeoutMs);
      const n = this.getMap().size;
      const call = kernel === 'epoll' ? `epoll_wait(timeout=${timeoutMs})  # the kernel holds the ${n} fds`
        : `${kernel}(${n} fds passed in, timeout=${timeoutMs})`;
      if (ready.length === 0) trace(kernel, call, '0 ready (timed out)', 'wait');
      else trace(kernel, call, `${ready.length} ready: ${ready.map(([k, e]) => `fd ${k.fd}:${e === 3 ? 'RW' : e === 1 ? 'R' : 'W'}`).join(' ')}`);
      return ready;
    }
  };
  return Traced;
}
