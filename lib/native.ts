/**
 * The private shape of the compiled addon (`native/`). Arguments arrive already checked by the wrappers in
 * `raw.ts`; the addon checks them again so that no value can make it misbehave.
 * @internal
 */
export type NativeAddress = { family: 'IPv4' | 'IPv6'; address: string; port: number; flowinfo?: number; scopeId?: number } | { family: 'unix'; path: string };

export interface NativeBinding {
  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number): [number, number];
  bind(fd: number, family: number, address: string, port: number, flowinfo: number, scopeId: number): void;
  connect(fd: number, family: number, address: string, port: number, flowinfo: number, scopeId: number): boolean;
  listen(fd: number, backlog: number): void;
  accept(fd: number, flags: number): { fd: number; address: NativeAddress } | null;
  shutdown(fd: number, how: number): void;
  close(fd: number): void;
  setsockopt(fd: number, level: number, name: number, value: number | boolean | ArrayBufferView): void;
  getsockopt(fd: number, level: number, name: number, length?: number): number | Buffer;
  getsockname(fd: number): NativeAddress;
  getpeername(fd: number): NativeAddress;
  setBlocking(fd: number, blocking: boolean): void;
  getBlocking(fd: number): boolean;
  fcntl(fd: number, cmd: number, arg?: number): number;
  recv(fd: number, size: number, flags: number): Buffer | null;
  /** Left out (not undefined): offset 0, length the rest of the buffer, flags 0. */
  recvInto(fd: number, buffer: ArrayBufferView | ArrayBuffer, offset?: number, length?: number, flags?: number): number | null;
  recvfrom(fd: number, size: number, flags: number): { data: Buffer; address: NativeAddress | null } | null;
  recvfromInto(fd: number, buffer: ArrayBufferView, offset: number, length: number, flags: number): { bytes: number; address: NativeAddress | null } | null;
  /** Flags left out (not undefined): MSG_NOSIGNAL alone. */
  send(fd: number, data: ArrayBufferView | string, flags?: number): number | null;
  sendto(fd: number, data: ArrayBufferView | string, flags: number, family: number, address: string, port: number, flowinfo: number, scopeId: number): number | null;
  /** fds: the read, then write, then except fds; on return each entry is 1 where ready, else 0. */
  select(fds: Int32Array, nRead: number, nWrite: number, timeout: number): number;
  poll(entries: Int32Array, count: number, timeout: number): number;
  getaddrinfo(host: string | null, service: string | null, family: number, type: number, flags: number): Array<NativeAddress & { type: number; protocol: number }>;
  epollCreate(flags: number): number;
  epollCtl(epfd: number, op: number, fd: number, events: number): void;
  epollWait(epfd: number, maxEvents: number, timeout: number): Array<{ fd: number; events: number }>;
  epollWaitInto(epfd: number, out: Int32Array, timeout: number): number;
  hasEpoll: boolean;
  dup(fd: number): number;
  /** offset -1: the file's own position. */
  sendfile(outFd: number, inFd: number, offset: number, count: number): number | null;
  inetPton(family: number, text: string): Buffer;
  inetNtop(family: number, bytes: ArrayBufferView | ArrayBuffer): string;
  getnameinfo(family: number, address: string, port: number, flowinfo: number, scopeId: number, flags: number): [string, string];
  gethostname(): string;
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  ifNameIndex(): Array<[number, string]>;
  /** levelsTypes: [level0, type0, level1, type1...], one pair per element of ancData. */
  sendmsg(fd: number, buffers: ArrayBufferView[] | ArrayBuffer[] | unknown[], levelsTypes: Int32Array, ancData: unknown[], flags: number, family?: number, address?: string, port?: number, flowinfo?: number, scopeId?: number): number | null;
  recvmsg(fd: number, bufsize: number, ancbufsize: number, flags: number): { data: Buffer; ancdata: Array<{ level: number; type: number; data: Buffer }>; flags: number; address: NativeAddress | null } | null;
  recvmsgInto(fd: number, buffers: unknown[], ancbufsize: number, flags: number): { bytes: number; ancdata: Array<{ level: number; type: number; data: Buffer }>; flags: number; address: NativeAddress | null } | null;
  CMSG_LEN(length: number): number;
  CMSG_SPACE(length: number): number;
  /** The largest length CMSG_LEN and CMSG_SPACE take. */
  maxCmsgLength: number;
  PollSet: new () => NativeRegistry;
  SelectSet: new () => NativeRegistry;
  /**
   * A watcher: `callback(err, events)` from its own poll callback; or, `batched` (with its `id`), through the
   * batch function of setWatchBatch, which finds its callback by that id. The callback of a batched watcher is
   * also called, with 0, from inside close(fd) when that stops it.
   */
  Watcher: new (fd: number, events: number, callback: ((err: Error | null, events: number) => void) | ((value: number) => void), batched?: boolean, id?: number) => NativeWatcher;
  /**
   * Where batched watchers deliver, once per thread: after each poll phase, `fn(n)`, entry i's value (the events,
   * or a negative libuv error) in `out[i]` and its watcher's id in `out[256 + i]` (`out` holds at least 512
   * elements; 256 is the most one call delivers). `state` is kept for getWatchBatch.
   */
  setWatchBatch(fn: (n: number) => void, out: Int32Array, state: object): void;
  /** The `state` given to setWatchBatch in this thread, or undefined. */
  getWatchBatch(): unknown;
  /**
   * The armed reads' slots of this thread's batched watchers: elements `2 * id` (the state: 0 idle, 1 armed, set
   * by JavaScript; 2 read, 3 would block, set by the addon) and `2 * id + 1` (a read's outcome). A later call
   * replaces the array. See native/watcher.cc, ReadArmed.
   */
  setWatchArm(arm: Int32Array): void;
  constants: Readonly<Record<string, number | string>>;
  IoUring: new (entries: number, setupFlags: number) => NativeIoUring;
  /** The kernel's IORING_FEAT_* bits, or -errno when io_uring_setup fails. */
  ioUringProbe(): number;
  hasIoUring: boolean;
}

/** An io_uring instance (native/uring_linux.cc). */
export interface NativeIoUring {
  info(): { fd: number; features: number; flags: number; sqEntries: number; cqEntries: number; completions: ArrayBuffer };
  accept(fd: number, userData: number, multishot: boolean, flags: number, wantAddress: boolean): void;
  acceptedAddress(index: number): NativeAddress | null;
  recv(fd: number, buffer: ArrayBufferView | ArrayBuffer, offset: number, length: number, flags: number, userData: number): void;
  recvMultishot(fd: number, group: number, flags: number, userData: number): void;
  send(fd: number, data: ArrayBufferView | ArrayBuffer | string, flags: number, userData: number): void;
  closeFd(fd: number, userData: number): void;
  cancel(target: number, userData: number): void;
  cancelFd(fd: number, userData: number): void;
  nop(userData: number): void;
  timeout(ms: number, userData: number): void;
  submit(): number;
  wait(min: number, timeout: number): number;
  pending(): number;
  inflight(): number;
  addBufferRing(group: number, count: number, size: number): ArrayBuffer;
  recycle(group: number, bid: number): void;
  start(callback: (count: number) => void): void;
  stop(): void;
  ref(): void;
  unref(): void;
  /** false when something in flight did not complete in time and its memory was left to the kernel. */
  close(): boolean;
}

/** The registries behind PollSelector and SelectSelector (native/selectors.cc). */
export interface NativeRegistry {
  add(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  remove(fd: number): boolean;
  /** Fills out[2k] = fd, out[2k+1] = EVENT_READ|EVENT_WRITE; returns the number of pairs. */
  wait(out: Int32Array, timeout: number): number;
  readonly size: number;
}

/** A uv_poll_t on the calling environment's loop (native/watcher.cc). */
export interface NativeWatcher {
  update(events: number): void;
  stop(): void;
  ref(): NativeWatcher;
  unref(): NativeWatcher;
  hasRef(): boolean;
  /** False once stopped: by stop(), by close(fd) of its fd, or by the environment's teardown. */
  isActive(): boolean;
  /** What an armed read of this (batched) watcher reads into; held weakly. */
  setReadTarget(buffer: unknown): void;
}
