/** The selectors: every class of the registry and DefaultSelector, BaseSelector, SelectorKey, SelectorMapping. */
import type { BaseSelector, FileObj } from '../../../lib/index';
import type { Ctx } from '../context';
import { hostile, LATER, later } from '../gen';
import { s, SELECTOR_CLASSES } from '../pkg';
import { FuzzerThrow } from '../report';
import { callAs, construct, type Spec, spec, type Target } from './types';

const BASE_METHODS = ['register', 'unregister', 'modify', 'select', 'getKey', 'getMap', 'close'] as const;

export function selectorSpecs(c: Ctx): Spec[] {
  const { a, v, rng, pool } = c;
  /** A live selector mostly; a closed one; an impostor. */
  const selectorArg = a.g(
    (): BaseSelector => {
      const live = pool.liveSelectors();
      if (live.length > 0 && rng.chance(0.95)) return rng.pick(live);
      return pool.selectors.length > 0 ? rng.pick(pool.selectors) : new s.PollSelector();
    },
    () => rng.pick([null, {}, Object.create(s.BaseSelector.prototype), v.junk(true)]),
  );
  /** A fileobj the selector has registered, mostly: filled in by prepare, which knows the selector. */
  const registered = later<FileObj>(() => a.badFileObj());
  const fillRegistered = (args: unknown[]) => {
    if (args[1] === LATER) args[1] = registeredFileObj(args[0]);
  };
  function registeredFileObj(sel: unknown): FileObj {
    try {
      const keys = [...(sel as BaseSelector).getMap().values()];
      if (keys.length > 0 && rng.chance(0.7)) return rng.pick(keys).fileobj;
    } catch {
      /* closed, or not a selector */
    }
    return a.fileObj();
  }
  const data = a.g(() => rng.pick<unknown>([undefined, 1, { x: 1 }, null]));
  /** What `new *Selector` covers: every class it makes. */
  const classes: Target[] = [...s.SELECTORS.map((i) => i.name), 'DefaultSelector'];

  return [
    spec({
      name: 'selector.register',
      covers: 'BaseSelector',
      call: (sel: BaseSelector, f: FileObj, ev: number, d: unknown) => sel.register(f, ev, d),
      kinds: [selectorArg, a.g(() => a.fileObj(), () => a.badFileObj()), a.selEvents, data],
      weight: 4,
    }),
    spec({
      name: 'selector.unregister',
      covers: 'BaseSelector',
      call: (sel: BaseSelector, f: FileObj) => sel.unregister(f),
      kinds: [selectorArg, registered],
      prepare: fillRegistered,
      weight: 2,
    }),
    spec({
      name: 'selector.modify',
      covers: 'BaseSelector',
      call: (sel: BaseSelector, f: FileObj, ev: number, d: unknown) => sel.modify(f, ev, d),
      kinds: [selectorArg, registered, a.selEvents, a.g(() => rng.pick([undefined, 2]))],
      prepare: fillRegistered,
      weight: 2,
    }),
    spec({ name: 'selector.getKey', covers: 'BaseSelector', call: (sel: BaseSelector, f: FileObj) => sel.getKey(f), kinds: [selectorArg, registered], prepare: fillRegistered }),
    spec({ name: 'selector.select', covers: 'BaseSelector', call: (sel: BaseSelector, t: number) => sel.select(t), kinds: [selectorArg, a.timeout], weight: 4 }),
    spec({
      name: 'selector.getMap',
      covers: ['BaseSelector', 'SelectorMapping'],
      call: (sel: BaseSelector, n: number, arg: unknown) => {
        const m = sel.getMap();
        switch (n) {
          case 0: return m.size;
          case 1: return m.get(arg as number);
          case 2: return m.has(arg as number);
          case 3: return [...m.keys(), ...m.values(), ...m.entries(), ...m];
          default: return callAs(m, m.forEach, arg);
        }
      },
      kinds: [
        selectorArg,
        a.g(() => rng.int(5)),
        a.g(() =>
          rng.pick<unknown>([
            v.roFd(),
            () => {},
            () => {
              throw new FuzzerThrow('forEach');
            },
            v.junk(true),
          ]),
        ),
      ],
    }),
    spec({
      name: 'selector.close',
      covers: 'BaseSelector',
      call: (sel: BaseSelector, n: number) => (n === 0 ? sel.close() : sel[Symbol.dispose]()),
      kinds: [selectorArg, a.g(() => rng.int(2))],
      weight: 0.2,
    }),
    spec({
      name: 'selector.fileno/closed',
      covers: 'BaseSelector',
      call: (sel: BaseSelector) => {
        const fileno = (sel as { fileno?: unknown }).fileno;
        return [typeof fileno === 'function' ? callAs(sel, fileno) : -1, sel.closed];
      },
      kinds: [selectorArg],
    }),
    spec({
      name: 'new *Selector',
      covers: classes,
      call: (i: number) => {
        const sel = new SELECTOR_CLASSES[i]();
        pool.selectors.push(sel);
        return sel;
      },
      kinds: [a.g(() => rng.int(SELECTOR_CLASSES.length))],
      weight: 0.3,
    }),
    spec({
      name: 'new BaseSelector + method',
      covers: 'BaseSelector',
      call: (m: (typeof BASE_METHODS)[number], arg: unknown) => {
        const sel = construct(s.BaseSelector); // abstract: its methods must refuse, not crash
        return callAs(sel, sel[m], arg, 1);
      },
      kinds: [a.g(() => rng.pick(BASE_METHODS)), a.g(() => rng.pick([0, v.roFd(), v.junk(true)]))],
    }),
    spec({
      name: 'BaseSelector.prototype.*.call(junk)',
      covers: 'BaseSelector',
      call: (m: (typeof BASE_METHODS)[number], self: unknown, arg: unknown) => callAs(self, s.BaseSelector.prototype[m], arg, 1),
      kinds: [
        a.g(() => rng.pick(BASE_METHODS)),
        a.g(() => rng.pick([{}, null, Object.create(s.PollSelector.prototype), v.junk(true)])),
        a.g(() => rng.pick([0, v.roFd(), v.junk(true)])),
      ],
    }),
    spec({
      name: 'new SelectorKey',
      covers: 'SelectorKey',
      call: (...args: ConstructorParameters<typeof s.SelectorKey>) => new s.SelectorKey(...args),
      kinds: [a.g(() => hostile<FileObj>(v.junk(true))), a.g(() => hostile<number>(v.junk(true))), a.g(() => hostile<number>(v.junk(true))), a.g(() => v.junk(true))],
    }),
    spec({
      name: 'new SelectorMapping + method',
      covers: 'SelectorMapping',
      call: (map: ConstructorParameters<typeof s.SelectorMapping>[0], n: number, arg: unknown) => {
        const m = new s.SelectorMapping(map);
        return [() => m.size, () => m.get(arg as number), () => m.has(arg as number), () => [...m.keys()], () => [...m], () => m.forEach(() => {})][n]();
      },
      kinds: [a.g(() => hostile<ConstructorParameters<typeof s.SelectorMapping>[0]>(rng.chance(0.5) ? new Map([[1, 2]]) : v.junk(true))), a.g(() => rng.int(6)), a.g(() => v.junk(true))],
    }),
  ];
}
