/**
 * The helpers of Python's socket module (dup, sendfile, inetPton/inetNtop, getnameinfo, gethostname, the
 * interface names), the timeout settings, and the convenience constructors: through the package, and the addon's
 * new functions called directly.
 */
import type { CreateConnectionOptions, CreateServerOptions, InetAddressInput } from '../../../lib/index';
import type { Ctx } from '../context';
import * as util from 'node:util';
import { k, native, s } from '../pkg';
import { safely } from '../pool';
import type { SharedHooks } from './hooks';
import { type Spec, spec } from './types';

const NI_NUMERICHOST = s.NI_NUMERICHOST as number; // numeric only: the fuzzer never asks DNS
/** The most a fuzzed sendfile may move: a file copied into itself must not grow without bound. */
const SENDFILE_MAX = 65536;

export function helperSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, v, rng } = c;
  const { FD } = a;
  const pick = <T>(arr: readonly T[]): T => rng.pick(arr);

  /** getnameinfo never asks DNS: the host part stays numeric (the service names come from a local file). */
  const numericHost = (i: number) => (args: unknown[]) => {
    const f = args[i];
    if (f === undefined && args.length <= i + 1) args[i] = NI_NUMERICHOST;
    else if (typeof f === 'number' && Number.isInteger(f)) args[i] = f | NI_NUMERICHOST;
  };
  /** A count sendfile may take, capped (see SENDFILE_MAX). */
  const cappedCount = (i: number) => (args: unknown[]) => {
    const n = args[i];
    if (typeof n === 'number' && n > SENDFILE_MAX) args[i] = SENDFILE_MAX;
  };
  /** An address with no host name for the resolver. */
  const noDns = (i: number) => (args: unknown[]) => {
    if (args.length > i) args[i] = h.safeHostAddr(args[i]);
  };

  const family = a.g(() => pick([k.AF_INET, k.AF_INET6, k.AF_UNIX, 12345]), () => pick<unknown>([NaN, 1.5, '2', null, 2 ** 31]));
  const ipText = a.g(
    () => pick(['127.0.0.1', '::1', '0.0.0.0', '::', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', '1.2.3', '', 'zz', '[::1]', 'x'.repeat(2000)]),
    () => pick<unknown>([5, null, undefined, {}, 'a\0b', Symbol('t')]),
  );
  /** Packed addresses: 4 or 16 bytes mostly (what inetNtop takes), else any bytes. */
  const packed = a.g(() => {
    if (rng.chance(0.4)) return a.buffer.v();
    const n = pick([4, 16]);
    return rng.chance(0.7) ? Buffer.alloc(n, rng.int(256)) : new Uint8Array(new SharedArrayBuffer(n));
  }, () => a.buffer.b());
  const niFlags = a.g(() => pick([0, 1, 2, 3, 4, 8, 16, 31, -1]));
  const offset = a.g<number | null>(() => pick([null, 0, 1, 100, 2 ** 40]), () => pick<unknown>([-1, 1.5, NaN, '0', 2 ** 53]));
  const count = a.g(() => pick([0, 1, 100, 4096, SENDFILE_MAX]), () => pick<unknown>([-1, 1.5, NaN, '1', 2 ** 53, undefined]));
  const ifName = a.g(() => pick(['lo', 'eth0', '', 'nosuchif0', 'x'.repeat(40)]), () => pick<unknown>([5, null, 'lo\0', {}, undefined]));
  const ifIndex = a.g(() => pick([0, 1, 2, 3, 1000, 2 ** 32 - 1]), () => pick<unknown>([-1, 2 ** 32, 1.5, NaN, '1']));
  const sockTimeout = a.g<number | null | undefined>(() => pick([null, undefined, 0, 0.5, 1, 2]), () => pick<unknown>([-1, -0.5, NaN, Infinity, 2 ** 31, '1', {}, 1n]));
  const connOpts = a.g<CreateConnectionOptions>(
    () => ({ timeout: pick([0, 1, 2]), sourceAddress: rng.chance(0.2) ? (a.address.v() as InetAddressInput) : undefined }),
    () => pick<unknown>([null, 5, { timeout: -1 }, { timeout: 'x' }, { sourceAddress: 5 }, v.junk(true)]),
  );
  const serverOpts = a.g<CreateServerOptions | undefined>(
    () =>
      rng.chance(0.2)
        ? undefined
        : {
            family: pick([k.AF_INET, k.AF_INET6, k.AF_UNIX, undefined]),
            backlog: pick([undefined, 0, 5]),
            reusePort: pick([undefined, true, false]),
            dualstackIpv6: pick([undefined, false, false, true]),
          },
    () => pick<unknown>([null, 5, { backlog: -1 }, { family: 'inet' }, { reusePort: 1 }, v.junk(true)]),
  );
  /**
   * createConnection's options, rebuilt from their own data properties: always a timeout (a blocking connect to a
   * full backlog would wait minutes), and a source address with no host name. Read without running the object's
   * code (a getter could answer null later); anything else but an object is left to the call to refuse.
   */
  const safeConnOpts = (args: unknown[]) => {
    const o = args[1];
    if (o !== undefined && (typeof o !== 'object' || o === null)) return;
    const own = (key: string): unknown => {
      if (o === undefined || util.types.isProxy(o)) return undefined;
      const d = safely(() => Object.getOwnPropertyDescriptor(o, key), undefined);
      return d !== undefined && 'value' in d ? d.value : undefined;
    };
    const timeout = own('timeout');
    const source = own('sourceAddress');
    args[1] = { timeout: timeout === undefined || timeout === null ? 1 : timeout, sourceAddress: source === undefined ? undefined : h.safeHostAddr(source) };
  };
  const adopt = (r: unknown) => c.pool.adoptSocket(r);

  return [
    // FD.any, not FD.ro: the copy joins the pool, whose fds every spec may write to, and a copy of stdout there
    // sends the fuzzer's bytes into its own report (which the fuzz test then cannot parse).
    spec({ name: 'dup', covers: ['dup', 'native.dup'], call: s.dup, kinds: [FD.any], created: h.ownResult('new') }),
    spec({ name: 'sendfile', covers: 'sendfile', call: s.sendfile, kinds: [FD.any, FD.any, offset, count], prepare: cappedCount(3) }),
    spec({ name: 'inetPton', covers: 'inetPton', call: s.inetPton, kinds: [family, ipText] }),
    spec({ name: 'inetNtop', covers: 'inetNtop', call: s.inetNtop, kinds: [family, packed] }),
    spec({ name: 'getnameinfo', covers: 'getnameinfo', call: s.getnameinfo, kinds: [a.address as never, niFlags], prepare: numericHost(1) }),
    spec({ name: 'gethostname', covers: ['gethostname', 'native.gethostname'], call: s.gethostname, kinds: [], weight: 0.2 }),
    spec({ name: 'ifNameToIndex', covers: 'ifNameToIndex', call: s.ifNameToIndex, kinds: [ifName] }),
    spec({ name: 'ifIndexToName', covers: 'ifIndexToName', call: s.ifIndexToName, kinds: [ifIndex] }),
    spec({ name: 'ifNameIndex', covers: ['ifNameIndex', 'native.ifNameIndex'], call: s.ifNameIndex, kinds: [], weight: 0.2 }),
    spec({ name: 'setdefaulttimeout', covers: 'setdefaulttimeout', call: s.setdefaulttimeout, kinds: [sockTimeout], weight: 0.3 }),
    spec({ name: 'getdefaulttimeout', covers: 'getdefaulttimeout', call: s.getdefaulttimeout, kinds: [], weight: 0.2 }),
    spec({
      name: 'createConnection',
      covers: 'createConnection',
      call: s.createConnection,
      kinds: [a.address as never, connOpts],
      prepare: (args) => {
        noDns(0)(args);
        safeConnOpts(args);
      },
      created: adopt,
      after: h.resetBlocking,
    }),
    spec({ name: 'createServer', covers: 'createServer', call: s.createServer, kinds: [a.address, serverOpts], prepare: noDns(0), created: adopt, after: h.resetBlocking }),
    spec({ name: 'hasDualstackIpv6', covers: 'hasDualstackIpv6', call: s.hasDualstackIpv6, kinds: [], weight: 0.2 }),
    // The addon, no wrapper in front.
    spec({ name: 'native.sendfile', covers: 'native.sendfile', call: native.sendfile, kinds: [FD.any, FD.any, a.g(() => pick([-1, 0, 7, 2 ** 40]), () => pick<unknown>([-2, 2 ** 53, 1.5, NaN, null])), count], prepare: cappedCount(3) }),
    spec({ name: 'native.inetPton', covers: 'native.inetPton', call: native.inetPton, kinds: [family, ipText] }),
    spec({ name: 'native.inetNtop', covers: 'native.inetNtop', call: native.inetNtop, kinds: [family, a.g(() => (rng.chance(0.5) ? packed.v() : a.nBytes.v()), () => a.nBytes.b())] }),
    spec({ name: 'native.getnameinfo', covers: 'native.getnameinfo', call: native.getnameinfo, kinds: [...a.nAddr, niFlags], prepare: numericHost(5) }),
    spec({ name: 'native.ifNameToIndex', covers: 'native.ifNameToIndex', call: native.ifNameToIndex, kinds: [ifName] }),
    spec({ name: 'native.ifIndexToName', covers: 'native.ifIndexToName', call: native.ifIndexToName, kinds: [ifIndex] }),
  ];
}
