/**
 * Finds and loads the compiled addon. Looked for, in order:
 * 1. the file named by the `SOCKFD_BINDING` environment variable (a path, relative to the package root or absolute);
 * 2. `build/Release/sockfd.node` (node-gyp, what `npm install` builds);
 * 3. `build-cmake/Release/sockfd.node` (cmake-js, `npm run build:cmake`);
 * 4. `build/Debug/sockfd.node`;
 * 5. `prebuilds/<platform>-<arch>/*.node`, node-gyp-build's layout.
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeBinding } from './native';

const root = path.resolve(__dirname, '..');

function candidates(): string[] {
  const found: string[] = [];
  const forced = process.env.SOCKFD_BINDING;
  if (forced) return [path.resolve(root, forced)];
  found.push(
    path.join(root, 'build', 'Release', 'sockfd.node'),
    path.join(root, 'build-cmake', 'Release', 'sockfd.node'),
    path.join(root, 'build', 'Debug', 'sockfd.node'),
  );
  const prebuilt = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (fs.existsSync(prebuilt)) {
    const names = fs.readdirSync(prebuilt).filter((n) => n.endsWith('.node'));
    // node-gyp-build names Node-API builds "node.napi.node"; prefer those, then any other.
    names.sort((a, b) => Number(b.includes('napi')) - Number(a.includes('napi')));
    for (const n of names) found.push(path.join(prebuilt, n));
  }
  return found;
}

function load(): NativeBinding {
  const tried = candidates();
  for (const file of tried) {
    if (fs.existsSync(file)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file) as NativeBinding;
    }
  }
  const err = new Error(
    `sockfd: the native addon is not built. Looked for:\n  ${tried.join('\n  ')}\n` +
      'Run `npm install` (node-gyp) or `npm run build:cmake` (cmake-js) in the sockfd package.',
  );
  (err as NodeJS.ErrnoException).code = 'ERR_SOCKFD_NOT_BUILT';
  throw err;
}

/** The loaded addon. */
export const native: NativeBinding = load();
/** The file the addon was loaded from. */
export const bindingPath: string = candidates().find((f) => fs.existsSync(f)) ?? '';
