#!/usr/bin/env node
// A/B comparison of the demo server between two checkouts (each built: dist/ and the addon), interleaved so that
// the machine's drift falls on both alike: server CPU per message at N lock-step connections.
//
//   node scripts/bench/ab.js --a /path/to/old --b /path/to/new [--conns 100] [--ms 2500] [--rounds 3] MODEL...
//
// MODEL: a demo model (`--io`), `node:net` (this checkout's net-server.js) or `C` (the C epoll reference, run once
// per round). Prints, per model and checkout, the CPU per message of each round in ns, and the best.
'use strict';
const { spawn, execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function parse(argv) {
  const o = { a: null, b: null, conns: 100, ms: 2500, rounds: 3, models: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--a') o.a = path.resolve(argv[++i]);
    else if (v === '--b') o.b = path.resolve(argv[++i]);
    else if (v === '--conns') o.conns = Number(argv[++i]);
    else if (v === '--ms') o.ms = Number(argv[++i]);
    else if (v === '--rounds') o.rounds = Number(argv[++i]);
    else o.models.push(v);
  }
  if (!o.a || !o.b || o.models.length === 0) {
    process.stderr.write('usage: node scripts/bench/ab.js --a DIR --b DIR [--conns N] [--ms MS] [--rounds R] MODEL...\n');
    process.exit(2);
  }
  return o;
}

function start(dir, kind, ref) {
  const [cmd, args] =
    kind === 'C' ? [ref, ['0']]
      : kind === 'node:net' ? [process.execPath, [path.join(__dirname, 'net-server.js'), '0']]
        : [process.execPath, [path.join(dir, 'dist', 'demo', 'cli.js'), 'server', '--io', kind, '--port', '0', '--backlog', '4096']];
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind}: no port after 10 s`)), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)|on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stdout.resume(); // keep draining its log: a full pipe would stall it
        resolve({ proc, port: m[1] || m[2] });
      }
    });
  });
}

// Asynchronous, so that this process keeps draining the server's log meanwhile.
const loadgen = (bin, args) => new Promise((resolve, reject) => execFile(bin, args, { encoding: 'utf8' }, (e, out) => (e ? reject(e) : resolve(out))));

async function main() {
  const o = parse(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-ab-'));
  const cc = process.env.CC || 'cc';
  const bin = (name) => {
    const out = path.join(tmp, name);
    execFileSync(cc, ['-O2', '-o', out, path.join(__dirname, `${name}.c`)], { stdio: 'inherit' });
    return out;
  };
  const lg = bin('loadgen');
  const ref = bin('ref-server');
  const results = {};
  for (let r = 0; r < o.rounds; r++) {
    for (const kind of o.models) {
      const sides = kind === 'C' ? ['a'] : r % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      for (const side of sides) {
        const { proc, port } = await start(o[side], kind, ref);
        const out = await loadgen(lg, ['127.0.0.1', port, String(o.conns), '500', String(o.ms), String(proc.pid)]);
        proc.kill('SIGKILL');
        const j = JSON.parse(out.trim().split('\n').pop());
        (results[`${kind} ${side}`] ??= []).push(Math.round((j.serverCpuSeconds * 1e9) / j.messages));
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${o.conns} connections, ${o.ms} ms per run; a = ${o.a}, b = ${o.b}`);
  for (const [key, v] of Object.entries(results)) console.log(`${key.padEnd(16)} best ${String(Math.min(...v)).padStart(6)} ns/msg   runs ${v.join(' ')}`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
