// `export *`, not `export { name } from`: TypeScript compiles a named re-export to a data property that it then
// redefines as a getter, which puts V8's exports object in dictionary mode, and a select loop that reads
// EVENT_READ from it pays a hash lookup and a getter call per ready fd. Each module exports only its public names.
export * from './base';
export * from './select';
export * from './poll';
export * from './epoll';
export * from './default';
export * from './kinds';
