/**
 * Finds and loads the compiled addon. Looked for, in order:
 * 1. the file named by the `SOCKFD_BINDING` environment variable (a path, relative to the package root or absolute);
 * 2. `build/Release/sockfd.node` (node-gyp: what `npm install` compiles when no prebuilt binary fits);
 * 3. `build-cmake/Release/sockfd.node` (cmake-js, `npm run build:cmake`);
 * 4. then node-gyp-build's search: `build/Debug/`, and `prebuilds/<platform>-<arch>/`, where it picks the binary
 *    whose tags fit this system (`sockfd.glibc.node` is never chosen on musl; `LIBC=musl` forces that choice).
 * The prebuilt binaries are found this way with no install script having run (`npm install --ignore-scripts`).
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeBinding } from './native';

const root = path.resolve(__dirname, '..');

interface NodeGypBuild {
  /** The path of the build or prebuild that fits this system; throws when there is none. */
  resolve(dir: string): string;
}

/** What node-gyp-build looks for: the libc tag it matches prebuilds against. */
function libc(): string {
  if (process.platform !== 'linux') return '';
  return process.env.LIBC || (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
}

function system(): string {
  return [`${process.platform}-${process.arch}`, libc(), `Node.js ${process.version}`].filter(Boolean).join(', ');
}

const HOW_TO_BUILD =
  'To compile it, run `npm rebuild sockfd` in your project (in a sockfd checkout: `npm run build`). That runs ' +
  'node-gyp, which needs python3, make and a C++17 compiler (g++ 8 / clang 7 or later; on macOS the Xcode ' +
  'Command Line Tools). Prebuilt binaries ship for linux-x64 and linux-arm64 with glibc 2.28 and libstdc++ ' +
  'from GCC 11 or later; elsewhere the addon is compiled on install.';

function fail(message: string, code: string, cause?: unknown): never {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  (err as NodeJS.ErrnoException).code = code;
  throw err;
}

/** What is in `prebuilds/<platform>-<arch>/`, for the error message. */
function prebuildsSeen(): string {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.node'));
  } catch {
    return `${dir}${path.sep} (prebuilt binaries: no such folder)`;
  }
  return `${dir}${path.sep} (prebuilt binaries: ${names.length === 0 ? 'none' : `${names.join(', ')}, none for this system`})`;
}

function locate(): string {
  const forced = process.env.SOCKFD_BINDING;
  if (forced) {
    const file = path.resolve(root, forced);
    if (fs.existsSync(file)) return file;
    fail(`sockfd: the native addon named by SOCKFD_BINDING does not exist: ${file}`, 'ERR_SOCKFD_NOT_BUILT');
  }
  const release = path.join(root, 'build', 'Release', 'sockfd.node');
  const cmake = path.join(root, 'build-cmake', 'Release', 'sockfd.node');
  for (const file of [release, cmake]) if (fs.existsSync(file)) return file;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node-gyp-build') as NodeGypBuild).resolve(root);
  } catch (err) {
    const looked = [
      `${release} (node-gyp)`,
      `${cmake} (cmake-js)`,
      `${path.join(root, 'build', 'Debug')}${path.sep} (node-gyp --debug)`,
      prebuildsSeen(),
    ];
    return fail(
      `sockfd: no native addon for this system (${system()}). Looked in:\n  ${looked.join('\n  ')}\n${HOW_TO_BUILD}`,
      'ERR_SOCKFD_NOT_BUILT',
      err,
    );
  }
}

function load(file: string): NativeBinding {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NativeBinding;
  } catch (err) {
    // A binary for another system: a glibc build on musl, a libstdc++ older than the one it was linked against.
    return fail(
      `sockfd: the native addon ${file} does not load on this system (${system()}): ${(err as Error).message}\n${HOW_TO_BUILD}`,
      'ERR_SOCKFD_LOAD_FAILED',
      err,
    );
  }
}

/** The file the addon was loaded from. */
export const bindingPath: string = locate();
/**
 * The loaded addon. Copied into a plain object, its constants too (frozen, as the addon gives them): the addon's
 * objects, filled one property at a time, are in V8's dictionary mode, where every `native.fn` or `k.EPOLLIN`
 * in a hot path is a hash lookup instead of an inline load.
 */
const addon = load(bindingPath);
export const native: NativeBinding = { ...addon, constants: Object.freeze({ ...addon.constants }) };
