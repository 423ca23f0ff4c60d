/**
 * A spec: one call the fuzzer makes (a function of the package or of the addon, a method, a constructor), the
 * generators of its arguments, and hooks for what the runner must do around it. The runner knows no spec by
 * name: whatever is particular to one call is in its hooks.
 *
 * A step: the runner picks a spec (by weight), makes its arguments (good ones, or one or more bad ones; now and
 * then one too few or too many), replaces any fd argument that could name something the fuzzer does not own
 * (Gen.fd), then runs prepare, before, the call, created (on success, or when its promise resolves), the
 * function before returned, and after.
 */
import type { NativeBinding } from '../../../lib/native';
import type { Gen, Kinds } from '../gen';
import type { Pkg } from '../pkg';

/** What a spec reaches, for the coverage check: an export of the package, or a function of the addon. */
export type Target = keyof Pkg | `native.${keyof NativeBinding}`;

/** Run after the call, whatever it did (result undefined if it threw). */
export type After = (result: unknown, threw: boolean) => void;

/**
 * The hooks get the arguments as made: hostile values, and maybe fewer or more of them than the call declares,
 * so they are unknown here.
 */
export interface Hooks {
  /**
   * Makes the arguments safe, or fills in those that need the others or resources made for this call alone
   * (a fresh socketpair, a registered fileobj). Runs after the runner's fd check: what it puts in must be safe
   * by construction. May use the main PRNG (it runs at a fixed point of the step).
   */
  prepare?(args: unknown[]): void;
  /** Just before the call: notes what the call may change; the function returned runs after it. */
  before?(args: readonly unknown[]): After | void;
  /** The call worked (or its promise resolved): take over what it created (fds, Sockets, watchers). */
  created?(result: unknown, args: readonly unknown[]): void;
  /** After the call, whatever it did: bookkeeping (fds it closed, fds it made blocking, sinks). */
  after?(args: readonly unknown[]): void;
}

export interface Spec extends Hooks {
  /** How reports and traces name the call. */
  readonly name: string;
  /** What it reaches, for the coverage check. */
  readonly covers: readonly Target[];
  /** How often it is picked, relative to the others. */
  readonly weight: number;
  /** The generators of its arguments, by position. */
  readonly kinds: ReadonlyArray<Gen<unknown>>;
  /** Makes the call with these arguments. */
  call(args: readonly unknown[]): unknown;
}

/** A spec as written: the call typed by its declared parameters, and one generator per parameter. */
export interface SpecDef<A extends unknown[]> extends Hooks {
  name: string;
  covers: Target | readonly Target[];
  call: (...args: A) => unknown;
  kinds: NoInfer<Kinds<A>>;
  /** 1 unless given. */
  weight?: number;
}

/**
 * A spec from its definition: the types of the call's parameters (inferred from `call`) check the generators;
 * past here the arguments are whatever the generators made, and the call gets them as they are.
 */
export function spec<A extends unknown[]>(def: SpecDef<A>): Spec {
  const { call, covers, weight, kinds, ...rest } = def;
  return {
    ...rest,
    covers: typeof covers === 'string' ? [covers] : (covers as readonly Target[]),
    weight: weight ?? 1,
    kinds: kinds as ReadonlyArray<Gen<unknown>>,
    call: (args) => call(...(args as A)),
  };
}

/**
 * Calls fn with `self` as this and the given arguments: a method on the wrong object, a class without new, or
 * arguments its declared type refuses. (Not a function: the TypeError `.call` of it throws.)
 */
export function callAs(self: unknown, fn: unknown, ...args: unknown[]): unknown {
  return (fn as (this: unknown, ...a: unknown[]) => unknown).call(self, ...args);
}

/** `new cls()` for a class its type says cannot be constructed (an abstract one): its own checks must cope. */
export function construct<T>(cls: abstract new () => T): T {
  return Reflect.construct(cls, []) as T;
}

