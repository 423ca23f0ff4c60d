/** epoll, as the package gives it. */
import type { Ctx } from '../context';
import { k, s } from '../pkg';
import type { SharedHooks } from './hooks';
import { type Spec, spec } from './types';

export function epollSpecs(c: Ctx, h: SharedHooks): Spec[] {
  const { a, rng } = c;
  const { FD } = a;
  const flags = a.g<number | undefined>(() => rng.pick([0, k.EPOLL_CLOEXEC, undefined, 1, -1]));
  return [
    spec({ name: 'epollCreate', covers: 'epollCreate', call: s.epollCreate, kinds: [flags], created: h.ownResult('new') }),
    spec({ name: 'epollCtl', covers: 'epollCtl', call: s.epollCtl, kinds: [FD.any, a.epollOp, FD.ro, a.epollEvents], weight: 2 }),
    spec({ name: 'epollWait', covers: 'epollWait', call: s.epollWait, kinds: [FD.any, a.maxEvents, a.timeout] }),
    spec({ name: 'epollWaitInto', covers: 'epollWaitInto', call: s.epollWaitInto, kinds: [FD.any, a.outArray, a.timeout] }),
  ];
}
