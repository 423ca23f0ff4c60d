#!/usr/bin/env node
// A/B comparison of the demo server between two checkouts (each built: dist/ and the addon), interleaved so that
// the machine's drift falls on both alike: server CPU per message at N lock-step connections.
//
//   node scripts/bench/ab.js --a /path/to/old --b /path/to/new [--conns 100] [--ms 2500] [--rounds 3] MODEL...
//
// MODEL: a demo model (`--io`), `node:net` (this checkout's net-server.js), `C` (the C epoll reference) or `C-uring`
// (the C io_uring reference); the C ones run once per round. Prints, per model and checkout, the CPU per message of each round in ns, and the best.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// The benchmark's own server launcher, load-generator runner and compiler: the A/B differs only in the checkout.
const { compile, runLoadgen, startServer, stopServer } = require('./servers');

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

async function main() {
  const o = parse(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-ab-'));
  const bins = { loadgen: compile('loadgen', tmp), ref: compile('ref-server', tmp) };
  if (o.models.includes('C-uring')) bins.refUring = compile('ref-uring-server', tmp);
  const results = {};
  for (let r = 0; r < o.rounds; r++) {
    for (const kind of o.models) {
      const sides = kind === 'C' || kind === 'C-uring' ? ['a'] : r % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      for (const side of sides) {
        const { proc, port } = await startServer(kind, bins, o[side]);
        try {
          const j = await runLoadgen(bins.loadgen, port, o.conns, 500, o.ms, proc.pid);
          (results[`${kind} ${side}`] ??= []).push(Math.round((j.serverCpuSeconds * 1e9) / j.messages));
        } finally {
          await stopServer(proc);
        }
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
