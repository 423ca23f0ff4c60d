/**
 * The package under test, as its users get it: the compiled dist/ (so that SOCKFD_BINDING picks the addon build,
 * the ASan one, say), typed by its sources in lib/. Only types are imported from lib/; nothing here runs lib/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Sockfd from '../../lib/index';
import type * as Constants from '../../lib/constants';
import type { NativeBinding } from '../../lib/native';

export type Pkg = typeof Sockfd;

/** The package root: the nearest directory up from here whose package.json is sockfd's (here in scripts/fuzz/ or compiled in dist-fuzz/scripts/fuzz/). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown }).name === 'sockfd') return dir;
    if (path.dirname(dir) === dir) throw new Error(`fuzz: no sockfd package.json above ${from}`);
  }
}

export const pkgRoot = findRoot(__dirname);

/** The package's exports, as require() gives them (dist/main.js, a copy of dist/index.js's). */
export const s = require(pkgRoot) as Pkg;
/** The addon itself, as the package loaded it (dist/binding.js). */
export const native = (require(path.join(pkgRoot, 'dist', 'binding')) as { native: NativeBinding }).native;
/** The package's watch module, for its internal batchTarget (the ids of batched watchers). */
export const watchModule = require(path.join(pkgRoot, 'dist', 'watch')) as typeof import('../../lib/watch');
/** The platform's constants, typed by name (the package exports each one; `s.constants` is the same values). */
export const k: typeof Constants = s;
/** The names the constants module exports (the package re-exports each one): data, not calls. */
export const CONSTANT_NAMES: ReadonlySet<string> = new Set(Object.keys(require(path.join(pkgRoot, 'dist', 'constants')) as typeof Constants));

/** Every selector class the fuzzer makes: the registry's, then DefaultSelector (one of them, chosen at load). */
export const SELECTOR_CLASSES: ReadonlyArray<new () => Sockfd.BaseSelector> = [...s.SELECTORS.map((i) => i.cls), s.DefaultSelector];
