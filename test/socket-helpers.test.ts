/**
 * The helpers of Python's socket module: dup, sendfile (raw and Socket#sendfile), inetPton/inetNtop,
 * getnameinfo, gethostname, ifNameToIndex/ifIndexToName/ifNameIndex, after CPython's test_socket
 * (testIPv4toString, testStringToIPv6, testGetnameinfo, testInterfaceNameIndex, testDup, SendfileUsingSendTest).
 * Loopback and temp files only.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as s from '../lib';
import { root } from './helpers/child';
import { checkFdLeaks, fdFlags, isOpen, O_CLOEXEC, openFds } from './helpers/fds';
import { ipv6 } from './helpers/net';

checkFdLeaks();

const sockets: s.Socket[] = [];
const files: number[] = [];
const workers: Worker[] = [];
function own<T extends s.Socket>(sock: T): T {
  sockets.push(sock);
  return sock;
}
afterEach(async () => {
  for (const w of workers.splice(0)) await w.terminate();
  for (const sock of sockets.splice(0)) sock.close();
  for (const fd of files.splice(0)) fs.closeSync(fd);
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-helpers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A temp file with `data`, opened for reading; closed after the test. */
function fileWith(data: Uint8Array): number {
  const p = path.join(dir, `f-${files.length}-${Date.now()}`);
  fs.writeFileSync(p, data);
  const fd = fs.openSync(p, 'r');
  files.push(fd);
  return fd;
}

function tcpPair(): [s.Socket, s.Socket] {
  const server = own(s.createServer({ address: '127.0.0.1', port: 0 }));
  const client = own(s.createConnection({ address: '127.0.0.1', port: (server.getsockname() as s.InetAddress).port }));
  const [conn] = server.accept()!;
  server.close();
  return [client, own(conn)];
}

/** A worker thread that reads `fd` to its end (slowly when `delayMs`), then posts the byte count and sha256. */
function reader(fd: number, delayMs = 0): Promise<{ bytes: number; sha: string }> {
  const w = new Worker(`
    const s = require(${JSON.stringify(path.resolve(root))});
    const { createHash } = require('node:crypto');
    const { parentPort, workerData } = require('node:worker_threads');
    const h = createHash('sha256');
    let bytes = 0;
    const step = () => {
      for (;;) {
        const d = s.recv(workerData.fd, 65536, s.MSG_DONTWAIT);
        if (d === null) return setTimeout(step, workerData.delayMs || 1);
        if (d.length === 0) return parentPort.postMessage({ bytes, sha: h.digest('hex') });
        bytes += d.length;
        h.update(d);
        if (workerData.delayMs) return setTimeout(step, workerData.delayMs);
      }
    };
    step();
  `, { eval: true, workerData: { fd, delayMs } });
  workers.push(w);
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('dup', () => {
  it('a close-on-exec copy of the socket: same endpoint, outlives the original', () => {
    const [a, b] = tcpPair();
    const copy = s.dup(a.fileno());
    try {
      expect(copy).not.toBe(a.fileno());
      expect(fdFlags(copy) & O_CLOEXEC).toBe(O_CLOEXEC);
      expect(s.getsockname(copy)).toEqual(a.getsockname());
      a.close();
      s.send(copy, 'via copy');
      expect(b.recv(100)!.toString()).toBe('via copy');
    } finally {
      s.close(copy);
    }
  });

  it('errors: EBADF named dup; bad fds are TypeError/RangeError', () => {
    const fd = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.close(fd);
    expect(() => s.dup(fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'dup', message: 'dup EBADF' }));
    expect(() => s.dup(-1)).toThrow(RangeError);
    expect(() => s.dup('3' as never)).toThrow(TypeError);
  });

  it('Socket#dup: a Socket of the same class, family, type, protocol and timeout; the original may close first', () => {
    class Mine extends s.Socket {}
    const [a, b] = tcpPair();
    const m = own(new Mine(s.AF_INET, s.SOCK_STREAM, 0, a.detach()));
    m.settimeout(1234);
    const d = own(m.dup());
    expect(d).toBeInstanceOf(Mine);
    expect([d.family, d.type, d.protocol, d.gettimeout()]).toEqual([m.family, m.type, m.protocol, 1234]);
    expect(d.fileno()).not.toBe(m.fileno());
    expect(fdFlags(d.fileno()) & O_CLOEXEC).toBe(O_CLOEXEC);
    m.close();
    d.sendAll('dup');
    expect(b.recv(10)!.toString()).toBe('dup');
    expect(() => m.dup()).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('sendfile (raw): one sendfile(2)', () => {
  it('sends from an offset without moving the file position; null offset uses and advances it; 0 at the end', () => {
    const data = Buffer.from('0123456789abcdef');
    const file = fileWith(data);
    const [a, b] = tcpPair();
    expect(s.sendfile(a.fileno(), file, 4, 6)).toBe(6);
    expect(b.recv(100)!.toString()).toBe('456789');
    // The position is still 0: a null offset starts there, and moves it.
    expect(s.sendfile(a.fileno(), file, null, 3)).toBe(3);
    expect(b.recv(100)!.toString()).toBe('012');
    expect(s.sendfile(a.fileno(), file, null, 100)).toBe(13);
    expect(b.recv(100)!.toString()).toBe('3456789abcdef');
    expect(s.sendfile(a.fileno(), file, null, 100)).toBe(0);
    expect(s.sendfile(a.fileno(), file, 16, 100)).toBe(0);
    expect(s.sendfile(a.fileno(), file, 1000, 100)).toBe(0);
    expect(s.sendfile(a.fileno(), file, 0, 0)).toBe(0);
  });

  it('null when a non-blocking socket is full', () => {
    const file = fileWith(randomBytes(1 << 20));
    const [a] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    a.settimeout(0);
    let r: number | null;
    let off = 0;
    do {
      r = s.sendfile(a.fileno(), file, off % (1 << 20), 65536);
      if (r !== null) off += r;
    } while (r !== null && off < 64 << 20);
    expect(r).toBeNull();
  });

  it('errors: EBADF, EINVAL (not a file), and argument checks before any call', () => {
    const [a, b] = tcpPair();
    const closed = s.socket(s.AF_INET, s.SOCK_STREAM);
    s.close(closed);
    expect(() => s.sendfile(a.fileno(), closed, 0, 1)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sendfile' }));
    expect(() => s.sendfile(a.fileno(), b.fileno(), 0, 1)).toThrow(expect.objectContaining({ syscall: 'sendfile' })); // a socket is no file
    expect(() => s.sendfile(a.fileno(), 0, -1, 1)).toThrow(RangeError);
    expect(() => s.sendfile(a.fileno(), 0, 0, -1)).toThrow(RangeError);
    expect(() => s.sendfile(a.fileno(), 0, 0, 1.5)).toThrow(RangeError);
    expect(() => s.sendfile(a.fileno(), 0, '0' as never, 1)).toThrow(TypeError);
    expect(() => s.sendfile(-1, 0, 0, 1)).toThrow(RangeError);
  });
});

describe('Socket#sendfile: the loop (Python sock.sendfile)', () => {
  it('sends the whole file to a reader in a worker thread: total bytes, same sha256', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = fileWith(data);
    const [a, b] = tcpPair();
    const got = reader(b.fileno());
    expect(a.sendfile(file)).toBe(data.length);
    a.shutdown(s.SHUT_WR);
    expect(await got).toEqual({ bytes: data.length, sha: sha(data) });
  });

  it('offset and count; a count past the end stops at the end; a file object with fileno() works', async () => {
    const data = randomBytes(100000);
    const file = fileWith(data);
    const [a, b] = tcpPair();
    const got = reader(b.fileno());
    expect(a.sendfile({ fileno: () => file }, 1000, 5000)).toBe(5000);
    expect(a.sendfile(file, 99000, 5000)).toBe(1000);
    expect(a.sendfile(file, 200000)).toBe(0);
    a.shutdown(s.SHUT_WR);
    const expected = Buffer.concat([data.subarray(1000, 6000), data.subarray(99000)]);
    expect(await got).toEqual({ bytes: expected.length, sha: sha(expected) });
  });

  it('with a timeout and a peer that never reads: sendfile ETIMEDOUT with err.bytesSent, exactly what arrived', async () => {
    const data = randomBytes(32 * 1024 * 1024);
    const file = fileWith(data);
    const [a, b] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 16384);
    a.settimeout(200);
    let err: (NodeJS.ErrnoException & { bytesSent?: number }) | undefined;
    try {
      a.sendfile(file);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('ETIMEDOUT');
    expect(err?.syscall).toBe('sendfile');
    expect(err?.message).toBe('sendfile ETIMEDOUT');
    expect(err?.bytesSent).toBeGreaterThan(0);
    expect(err?.bytesSent).toBeLessThan(data.length);
    a.shutdown(s.SHUT_WR);
    const got = await reader(b.fileno());
    expect(got).toEqual({ bytes: err!.bytesSent, sha: sha(data.subarray(0, err!.bytesSent)) });
  });

  it('with a timeout and a slow reader: every wait is bounded, not the whole call (as Python), so it finishes', async () => {
    const data = randomBytes(256 * 1024);
    const file = fileWith(data);
    const [a, b] = tcpPair();
    a.setsockopt(s.SOL_SOCKET, s.SO_SNDBUF, 4096);
    b.setsockopt(s.SOL_SOCKET, s.SO_RCVBUF, 4096);
    const got = reader(b.fileno(), 5);
    a.settimeout(5000);
    expect(a.sendfile(file)).toBe(data.length);
    a.shutdown(s.SHUT_WR);
    expect(await got).toEqual({ bytes: data.length, sha: sha(data) });
  });

  it('a non-blocking socket is refused (ERR_INVALID_STATE), as Python refuses it; bad arguments before any call', () => {
    const file = fileWith(Buffer.from('x'));
    const [a] = tcpPair();
    expect(() => a.sendfile(file, -1)).toThrow(RangeError);
    expect(() => a.sendfile(file, 0, -1)).toThrow(RangeError);
    expect(() => a.sendfile('x' as never)).toThrow(TypeError);
    a.settimeout(0);
    expect(() => a.sendfile(file)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    a.close();
    expect(() => a.sendfile(file)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sendfile' }));
  });
});

describe('inetPton / inetNtop', () => {
  const v4: Array<[string, number[]]> = [
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['127.0.0.1', [127, 0, 0, 1]],
    ['170.85.170.85', [0xaa, 0x55, 0xaa, 0x55]],
  ];
  const hex = (h: string): Buffer => Buffer.from(h, 'hex');
  const v6: Array<[string, Buffer]> = [
    ['::', Buffer.alloc(16)],
    ['::1', hex('00000000000000000000000000000001')],
    ['ffff::', hex('ffff0000000000000000000000000000')],
    ['45ef:76cb:1a:56ef:afeb:bac:1924:aeae', hex('45ef76cb001a56efafeb0bac1924aeae')],
    ['::ffff:127.0.0.1', hex('00000000000000000000ffff7f000001')],
    ['ad42:abc::127:0:254:2', hex('ad420abc000000000127000002540002')],
  ];

  it.each(v4)('IPv4 %s round-trips', (text, bytes) => {
    expect(s.inetPton(s.AF_INET, text)).toEqual(Buffer.from(bytes));
    expect(s.inetNtop(s.AF_INET, Buffer.from(bytes))).toBe(text);
    expect(s.inetNtop(s.AF_INET, new Uint8Array(bytes).buffer)).toBe(text);
  });

  it.each(v6)('IPv6 %s round-trips', (text, bytes) => {
    expect(s.inetPton(s.AF_INET6, text)).toEqual(bytes);
    expect(s.inetNtop(s.AF_INET6, bytes)).toBe(text);
  });

  it('text forms that are not addresses: ERR_INVALID_IP_ADDRESS', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', 'localhost', '::1', ' 1.2.3.4']) {
      expect(() => s.inetPton(s.AF_INET, bad)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_IP_ADDRESS' }));
    }
    for (const bad of ['', ':', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1.2.3.4']) {
      expect(() => s.inetPton(s.AF_INET6, bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS' }));
    }
  });

  it('bad arguments: wrong length RangeError, unknown family EAFNOSUPPORT, wrong types TypeError, NUL bytes', () => {
    expect(() => s.inetNtop(s.AF_INET, Buffer.alloc(3))).toThrow(RangeError);
    expect(() => s.inetNtop(s.AF_INET, Buffer.alloc(16))).toThrow(RangeError);
    expect(() => s.inetNtop(s.AF_INET6, Buffer.alloc(4))).toThrow(RangeError);
    expect(() => s.inetNtop(s.AF_UNIX, Buffer.alloc(4))).toThrow(expect.objectContaining({ code: 'EAFNOSUPPORT', syscall: 'inet_ntop' }));
    expect(() => s.inetPton(s.AF_UNIX, '1.2.3.4')).toThrow(expect.objectContaining({ code: 'EAFNOSUPPORT', syscall: 'inet_pton' }));
    expect(() => s.inetPton(s.AF_INET, 1 as never)).toThrow(TypeError);
    expect(() => s.inetPton(s.AF_INET, '1.2.3.4\0')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => s.inetNtop(s.AF_INET, [127, 0, 0, 1] as never)).toThrow(TypeError);
    expect(() => s.inetPton('AF_INET' as never, '1.2.3.4')).toThrow(TypeError);
  });
});

describe('getnameinfo', () => {
  it('numeric host and service', () => {
    expect(s.getnameinfo({ address: '127.0.0.1', port: 9999 }, s.NI_NUMERICHOST | s.NI_NUMERICSERV)).toEqual(['127.0.0.1', '9999']);
  });

  it.skipIf(!ipv6.ok)('IPv6 numeric', () => {
    expect(s.getnameinfo({ address: '::1', port: 443 }, s.NI_NUMERICHOST | s.NI_NUMERICSERV)).toEqual(['::1', '443']);
  });

  it('a host name for 127.0.0.1 that resolves back to it; a service name from the services database', () => {
    const [host] = s.getnameinfo({ address: '127.0.0.1', port: 0 });
    expect(s.getaddrinfo(host, null, { family: s.AF_INET }).map((r) => r.address)).toContain('127.0.0.1');
    const services = fs.existsSync('/etc/services') ? fs.readFileSync('/etc/services', 'utf8') : '';
    const m = /^(\S+)\s+80\/tcp/m.exec(services);
    if (m === null) {
      console.warn('skipped the service half: no /etc/services entry for 80/tcp here');
      return;
    }
    expect(s.getnameinfo({ address: '127.0.0.1', port: 80 }, s.NI_NUMERICHOST)).toEqual(['127.0.0.1', m[1]]);
  });

  it('bad arguments: a Unix address or a host name is refused before any call', () => {
    expect(() => s.getnameinfo({ path: '/tmp/x' } as never)).toThrow(TypeError);
    expect(() => s.getnameinfo({ address: 'localhost', port: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS' }));
    expect(() => s.getnameinfo({ address: '127.0.0.1', port: 1 }, 'x' as never)).toThrow(TypeError);
    expect(() => s.getnameinfo(null as never)).toThrow(TypeError);
  });
});

describe('gethostname and the interface names', () => {
  it('gethostname() is the host name Node reports', () => {
    expect(s.gethostname()).toBe(os.hostname());
  });

  it('ifNameIndex lists the interfaces; ifNameToIndex and ifIndexToName agree with it; the loopback is there', () => {
    const list = s.ifNameIndex();
    expect(list.length).toBeGreaterThan(0);
    for (const [index, name] of list) {
      expect(s.ifNameToIndex(name)).toBe(index);
      expect(s.ifIndexToName(index)).toBe(name);
    }
    // Every interface Node sees with an address is in the list.
    for (const name of Object.keys(os.networkInterfaces())) expect(list.map(([, n]) => n)).toContain(name);
    expect(list.map(([, n]) => n)).toContain('lo');
  });

  it('errors: ENODEV for an unknown name, ENXIO for an unknown index; bad arguments TypeError/RangeError', () => {
    expect(() => s.ifNameToIndex('sockfd-nope0')).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'if_nametoindex' }));
    const unused = Math.max(...s.ifNameIndex().map(([i]) => i)) + 1000;
    expect(() => s.ifIndexToName(unused)).toThrow(expect.objectContaining({ code: 'ENXIO', syscall: 'if_indextoname' }));
    expect(() => s.ifIndexToName(0)).toThrow(expect.objectContaining({ code: 'ENXIO' }));
    expect(() => s.ifIndexToName(-1)).toThrow(RangeError);
    expect(() => s.ifIndexToName(2 ** 32)).toThrow(RangeError);
    expect(() => s.ifNameToIndex(1 as never)).toThrow(TypeError);
    expect(() => s.ifNameToIndex('lo\0x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('no fd is left open by any of them', () => {
    const before = openFds().length;
    for (let i = 0; i < 20; i++) {
      s.ifNameIndex();
      s.ifNameToIndex('lo');
      s.gethostname();
    }
    expect(openFds().length).toBe(before);
    expect(isOpen(0)).toBe(true);
  });
});
