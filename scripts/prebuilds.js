#!/usr/bin/env node
// npm run prebuilds: the prebuilt binary for this machine, in prebuilds/<platform>-<arch>/, where node-gyp-build
// (lib/binding.ts, and the package's "install" script) finds it. Run by `prepack`, so every `npm pack` and
// `npm publish` ships a binary built from the sources being packed; build output, never committed.
//
//   prebuildify --napi --strip --tag-libc
//     --napi:     one Node-API build (NAPI_VERSION=8 in binding.gyp) serves every Node from 20.17 on;
//     --strip:    no symbol table (229 KB instead of 277 KB for linux-x64);
//     --tag-libc: named sockfd.glibc.node, so node-gyp-build never picks it on musl (Alpine), which compiles
//                 (Linux only).
// Extra arguments go to prebuildify (scripts/prebuild-arm64.sh passes --arch arm64 and a cross compiler).
//
// prebuildify runs `node-gyp rebuild` in build/ and moves the result away: a native build of this machine is
// copied back to build/Release, so a checkout that was packed still has its node-gyp build.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const bin = path.join(path.dirname(require.resolve('prebuildify/package.json')), 'bin.js');
// Everything to stderr: `npm pack --json` (scripts/consumer-test.sh) prints its JSON on stdout after this.
// JOBS: node-gyp runs make with one job unless told.
const env = { ...process.env, JOBS: process.env.JOBS ?? String(os.availableParallelism()) };
// The libc tag means something on Linux only (prebuildify would call a macOS build "glibc").
const flags = ['--napi', '--strip', ...(process.platform === 'linux' ? ['--tag-libc'] : [])];
const run = spawnSync(process.execPath, [bin, ...flags, ...args], { cwd: root, env, stdio: ['ignore', 2, 2] });
if (run.status !== 0) {
  console.error(`prebuilds: prebuildify failed (${run.signal ?? `exit ${run.status}`})`);
  process.exit(1);
}

const archArg = args.find((a) => a.startsWith('--arch'));
const arch = archArg === undefined ? process.arch : archArg.includes('=') ? archArg.split('=')[1] : args[args.indexOf(archArg) + 1];
const own = path.join(root, 'prebuilds', `${process.platform}-${arch}`);
if (arch === process.arch) {
  const built = fs.readdirSync(own).find((n) => n.endsWith('.node'));
  if (built) fs.copyFileSync(path.join(own, built), path.join(root, 'build', 'Release', 'sockfd.node'));
}

// What the tarball will carry; a prebuild older than the native sources was built from other code.
const newest = Math.max(
  ...['binding.gyp', ...fs.readdirSync(path.join(root, 'native')).map((n) => path.join('native', n))].map(
    (f) => fs.statSync(path.join(root, f)).mtimeMs,
  ),
);
const dir = path.join(root, 'prebuilds');
for (const tuple of fs.readdirSync(dir).sort()) {
  for (const name of fs.readdirSync(path.join(dir, tuple))) {
    const st = fs.statSync(path.join(dir, tuple, name));
    const stale = st.mtimeMs < newest ? '  STALE: older than native/ (rebuild it before publishing)' : '';
    console.error(`prebuilds: prebuilds/${tuple}/${name}  ${st.size} bytes${stale}`);
  }
}
if (!fs.existsSync(path.join(dir, `${process.platform}-arm64`)) && process.platform === 'linux') {
  console.error('prebuilds: no linux-arm64 build here (npm run prebuilds:arm64 makes one; see README "Prebuilt binaries")');
}
