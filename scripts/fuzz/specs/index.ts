/**
 * Every spec, in a fixed order (the weighted choice of a seed depends on it): the raw calls, epoll, watch, Socket,
 * the selectors, the addon's own functions, the calls given memory the mutator changes, then the message calls (sendmsg...).
 */
import type { Ctx } from '../context';
import { epollSpecs } from './epoll';
import { helperSpecs } from './helpers';
import { makeHooks } from './hooks';
import { msgSpecs } from './msg';
import { nativeSpecs } from './native';
import { rawSpecs } from './raw';
import { selectorSpecs } from './selectors';
import { sharedSpecs } from './shared';
import { socketSpecs } from './socket';
import type { Spec } from './types';
import { uringSpecs } from './uring';
import { watchSpecs } from './watch';

export function allSpecs(c: Ctx): Spec[] {
  const h = makeHooks(c);
  return [
    ...rawSpecs(c, h),
    ...epollSpecs(c, h),
    ...watchSpecs(c),
    ...socketSpecs(c, h),
    ...selectorSpecs(c),
    ...nativeSpecs(c, h),
    ...sharedSpecs(c, h),
    ...helperSpecs(c, h),
    ...msgSpecs(c, h),
    ...uringSpecs(c, h),
  ];
}

export type { Spec } from './types';
