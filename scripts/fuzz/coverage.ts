/**
 * The coverage check: every export of the package and every function of the addon is reached by some spec,
 * or is listed here as deliberately not called, with the reason. A new export fails the run until it is one or
 * the other.
 */
import type { Spec } from './specs/types';
import type { Pkg } from './pkg';
import type { NativeBinding } from '../../lib/native';

/** The package's exports no spec calls, and why. The constants module's exports (CONSTANT_NAMES) are data too. */
const PKG_NOT_CALLED: Readonly<Record<string, string>> = {
  constants: "the platform's constants, an object: data, the specs' arguments are made of it",
  bindingPath: 'a string: the file the addon was loaded from',
  hasEpoll: 'a boolean: whether the addon has epoll',
  EVENT_READ: "a number: a selector event, the selectors' specs pass it",
  EVENT_WRITE: "a number: a selector event, the selectors' specs pass it",
  WATCH_READ: "a number: a watch event, the watchers' specs pass it",
  WATCH_WRITE: "a number: a watch event, the watchers' specs pass it",
  WATCH_DISCONNECT: "a number: a watch event, the watchers' specs pass it",
  WATCH_PRIORITIZED: "a number: a watch event, the watchers' specs pass it",
  URING_OP_ACCEPT: "a number: an operation code in the rings' completions",
  URING_OP_RECV: "a number: an operation code in the rings' completions",
  URING_OP_RECV_MULTISHOT: "a number: an operation code in the rings' completions",
  URING_OP_SEND: "a number: an operation code in the rings' completions",
  URING_OP_CLOSE: "a number: an operation code in the rings' completions",
  URING_OP_CANCEL: "a number: an operation code in the rings' completions",
  URING_OP_NOP: "a number: an operation code in the rings' completions",
  URING_OP_TIMEOUT: "a number: an operation code in the rings' completions",
  URING_MAX_USER_DATA: 'a number: the largest userData',
  IORING_CQE_F_BUFFER: 'a number: a completion flag',
  IORING_CQE_F_MORE: 'a number: a completion flag',
  IORING_CQE_F_SOCK_NONEMPTY: 'a number: a completion flag',
  IORING_CQE_BUFFER_SHIFT: 'a number: where the buffer id sits in the flags',
  IORING_SETUP_CQSIZE: 'a number: a setup flag, the ring specs pass some',
  IORING_SETUP_CLAMP: 'a number: a setup flag',
  IORING_SETUP_SUBMIT_ALL: 'a number: a setup flag',
  IORING_SETUP_COOP_TASKRUN: 'a number: a setup flag, the ring specs pass it',
  IORING_SETUP_SINGLE_ISSUER: 'a number: a setup flag',
  IORING_SETUP_DEFER_TASKRUN: 'a number: a setup flag, the ring specs pass it',
  IORING_FEAT_NODROP: 'a number: a feature bit',
  IORING_FEAT_FAST_POLL: 'a number: a feature bit',
  IORING_FEAT_EXT_ARG: 'a number: a feature bit',
  SELECTORS: "the selector registry, data: the fuzzer takes its selector classes from it, and 'new *Selector' makes each",
};

/** The addon's members no spec calls, and why. */
const NATIVE_NOT_CALLED: Readonly<Record<string, string>> = {
  hasEpoll: 'a boolean',
  constants: "the platform's constants: data",
};

/** The exports and addon functions no spec reaches and no list names: empty when the check passes. */
export function uncovered(specs: readonly Spec[], pkg: Pkg, native: NativeBinding, constantNames: ReadonlySet<string>): string[] {
  const covered = new Set<string>(specs.flatMap((sp) => sp.covers));
  const missing: string[] = [];
  for (const [key, value] of Object.entries(pkg)) {
    if (covered.has(key) || key in PKG_NOT_CALLED) continue;
    if (constantNames.has(key) && typeof value !== 'function') continue; // the platform's constants: data
    missing.push(`the export ${key}`);
  }
  for (const [key, value] of Object.entries(native)) {
    if (covered.has(`native.${key}`) || key in NATIVE_NOT_CALLED) continue;
    missing.push(`the addon's ${typeof value === 'function' ? 'function' : 'member'} ${key}`);
  }
  return missing;
}
