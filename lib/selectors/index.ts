export { EVENT_READ, EVENT_WRITE, SelectorKey, SelectorMapping, BaseSelector, type FileObj } from './base';
export { SelectSelector } from './select';
export { PollSelector } from './poll';
export { EpollSelector } from './epoll';
export { DefaultSelector } from './default';
export { SELECTORS, selectorInfo, type SelectorInfo, type SelectorKernel } from './kinds';
