/** watch() and Watcher: the event loop's poll of an fd. */
import type { Watcher } from '../../../lib/index';
import type { Ctx } from '../context';
import { hostile } from '../gen';
import { s } from '../pkg';
import { callAs, type Spec, spec } from './types';

const METHODS = ['update', 'stop', 'ref', 'unref', 'hasRef'] as const;

export function watchSpecs(c: Ctx): Spec[] {
  const { a, v, rng, pool } = c;
  const { FD } = a;
  /** The watchers made so far (the addon's too: they must cope with the package's methods), or impostors. */
  const watcher = a.g(() =>
    hostile<Watcher>(pool.watchers.length > 0 && rng.chance(0.9) ? rng.pick(pool.watchers) : rng.pick([null, {}, Object.create(s.Watcher.prototype)])),
  );
  const keep = (w: unknown) => pool.watchers.push(w as Watcher);
  return [
    spec({
      name: 'watch',
      covers: 'watch',
      call: s.watch,
      kinds: [a.g(() => a.fileObj(() => v.anyFd()), () => a.badFileObj(), { fd: 'any' }), a.watchEvents, a.callback],
      created: keep,
      weight: 2,
    }),
    spec({
      name: 'new Watcher',
      covers: 'Watcher',
      call: (fd: number, ev: number, cb: Parameters<typeof s.watch>[2]) => new s.Watcher(fd, ev, cb),
      kinds: [FD.watch, a.watchEvents, a.callback],
      created: keep,
    }),
    spec({ name: 'Watcher#update', covers: 'Watcher', call: (w: Watcher, ev: number) => w.update(ev), kinds: [watcher, a.watchEvents], weight: 2 }),
    spec({ name: 'Watcher#stop', covers: 'Watcher', call: (w: Watcher) => w.stop(), kinds: [watcher] }),
    spec({
      name: 'Watcher#ref/unref/hasRef',
      covers: 'Watcher',
      call: (w: Watcher, n: number) => [w.ref(), w.unref(), w.hasRef(), w.events, w.active][n],
      kinds: [watcher, a.g(() => rng.int(5))],
    }),
    spec({
      name: 'Watcher.prototype.*.call(junk)',
      covers: 'Watcher',
      call: (m: (typeof METHODS)[number], self: unknown, arg: number) => callAs(self, s.Watcher.prototype[m], arg),
      kinds: [a.g(() => rng.pick(METHODS)), a.g(() => v.junk(true)), a.watchEvents],
    }),
  ];
}
