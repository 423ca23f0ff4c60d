// The selectors' public names, for lib/index.ts. `export *`, not `export { name } from`: TypeScript compiles a named
// re-export to a data property that it then redefines as a getter, which puts V8's exports object in dictionary
// mode. `export *` keeps the object fast, but each name is still a getter (tsc's live binding, `return m[k]`,
// one function for every name, so its load is megamorphic): this package's own modules import from the defining
// modules instead (test/package.test.ts checks), and require('sockfd') gives a program plain data properties
// (dist/main.js, scripts/gen-esm.js).
export * from './base';
export * from './select';
export * from './poll';
export * from './epoll';
export * from './default';
export * from './kinds';
