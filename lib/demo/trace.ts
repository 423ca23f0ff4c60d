/**
 * `--trace`: a Socket and selectors that print each system call they make, as `fd 7  recv(1024) -> 5 bytes`.
 * The selector lines name the kernel call behind each method, which is where select, poll and epoll differ:
 * select and poll hand the kernel the whole fd list on every wait, epoll registers each fd once.
 */
import { Socket, type AsyncOptions } from '../socket';
import type { Address, AddressInput } from '../address';
import type { BytesLike, Data } from '../errors';
import { BaseSelector, EpollSelector, PollSelector, SelectSelector, type FileObj, type SelectorKey } from '../selectors';
import { trace } from './log';

const where = (a: AddressInput): string =>
  'path' in a ? JSON.stringify(a.path) : `('${(a as { address: string }).address}', ${(a as { port: number }).port})`;

/** A Socket that prints its system calls. */
export class TracedSocket extends Socket {
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
    trace(this.fileno(), 'accept()', r === null ? null : `fd ${r[0].fileno()} from ${(r[1] as { address: string }).address}:${(r[1] as { port: number }).port}`);
    return r;
  }
  override recv(size: number, flags?: number): Buffer | null {
    const fd = this.fileno();
    try {
      const r = super.recv(size, flags);
      trace(fd, `recv(${size})`, r);
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
      trace(fd, `recv(${length ?? buffer.byteLength})`, r === null ? null : r === 0 ? "b'' (end of stream)" : `${r} bytes`);
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
      trace(fd, `send(${size} bytes)`, r === null ? null : `${r} sent`);
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
  override setBlocking(blocking: boolean): void {
    super.setBlocking(blocking);
    trace(this.fileno(), `ioctl(FIONBIO, ${blocking ? 0 : 1})  # setblocking(${blocking ? 'True' : 'False'})`, undefined);
  }
  // The async calls (the async and threads models) make their system calls inside Socket, not through the
  // methods above: trace what each one finally did.
  override async acceptAsync(options?: AsyncOptions): Promise<[Socket, Address]> {
    const r = await super.acceptAsync(options);
    trace(this.fileno(), 'accept()  # acceptAsync', `fd ${r[0].fileno()} from ${(r[1] as { address: string }).address}:${(r[1] as { port: number }).port}`);
    return r;
  }
  override async recvAsync(size: number, options?: AsyncOptions): Promise<Buffer> {
    const fd = this.fileno();
    try {
      const r = await super.recvAsync(size, options);
      trace(fd, `recv(${size})  # recvAsync`, r);
      return r;
    } catch (err) {
      trace(fd, `recv(${size})  # recvAsync`, (err as NodeJS.ErrnoException).code ?? (err as Error).name);
      throw err;
    }
  }
  override async sendAllAsync(data: Data, options?: AsyncOptions): Promise<void> {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    await super.sendAllAsync(data, options);
    trace(this.fileno(), `sendall(${size} bytes)  # sendAllAsync`, undefined);
  }
}

type SelectorClass = typeof SelectSelector | typeof PollSelector | typeof EpollSelector;

/** A subclass of `Base` that prints the kernel call behind each selector method. */
export function tracedSelector(Base: SelectorClass): new () => BaseSelector<unknown> {
  const kernel = Base === EpollSelector ? 'epoll' : Base === PollSelector ? 'poll' : 'select';
  const fdOf = (f: FileObj): number => (typeof f === 'number' ? f : f.fileno());
  const Traced = class extends (Base as unknown as new () => SelectSelector<unknown>) {
    override register(fileobj: FileObj, events: number, data?: unknown): SelectorKey<unknown> {
      const key = super.register(fileobj, events, data);
      trace(fdOf(fileobj), kernel === 'epoll' ? `epoll_ctl(ADD, events=${events})` : `register(events=${events})  # kept in user space`, undefined);
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
      trace(kernel, call, `${ready.length} ready: ${ready.map(([k, e]) => `fd ${k.fd}:${e === 3 ? 'RW' : e === 1 ? 'R' : 'W'}`).join(' ')}`);
      return ready;
    }
  };
  return Traced;
}
