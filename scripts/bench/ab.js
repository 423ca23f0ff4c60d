#!/usr/bin/env node
// A/B comparison of the demo server between two checkouts (each built: dist/ and the addon): for each model, A's
// server and B's run side by side and the load generator drives them in turns (its paired form, as the full
// benchmark pairs each server with C), so that the machine's drift falls on both alike: server CPU per message
// at N lock-step connections, and B's as a multiple of A's in each pairing.
//
//   node scripts/bench/ab.js --a /path/to/old --b /path/to/new [--conns 100[,1000...]] [--ms 4000] [--rounds 3] MODEL...
//
// MODEL: a demo model (`--io`), `node:net` (this checkout's net-server.js), `floor` (floor-server.js: the async
// model's design with nothing else, to set its cost apart from the library's), `C` (the C epoll reference) or `C-uring`
// (the C io_uring reference); the C ones are the same on both sides (a check of the method: about 1.00). --ms is
// a pairing's measured time, both servers' turns together. Prints, per model, each pairing's CPU per message of
// A and B in ns and B/A, and the median B/A.
//
// `--a C` puts the C epoll reference on side A whatever the model: B/A is then the model's multiple of C, as
// `npm run bench` measures it, but with as many pairings as --rounds asks, at the counts --conns lists, and no
// other server (`--a C --b . --conns 100,1000,10000 --rounds 6 epoll async`: the targets of the issue on the
// event-loop speed, each to about 4%). Turns last a second at 10000 connections, as in the full run.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// The benchmark's own server launcher, load-generator runner and compiler: the A/B differs only in the checkout.
const { compile, median, runPair, startServer, stopServer } = require('./servers');

function parse(argv) {
  const o = { a: null, b: null, conns: [100], ms: 4000, rounds: 3, models: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--a') o.a = argv[++i] === 'C' ? 'C' : path.resolve(argv[i]);
    else if (v === '--b') o.b = path.resolve(argv[++i]);
    else if (v === '--conns') o.conns = argv[++i].split(',').map(Number);
    else if (v === '--ms') o.ms = Number(argv[++i]);
    else if (v === '--rounds') o.rounds = Number(argv[++i]);
    else o.models.push(v);
  }
  if (!o.a || !o.b || o.models.length === 0 || !o.conns.every((n) => Number.isInteger(n) && n > 0)) {
    process.stderr.write('usage: node scripts/bench/ab.js --a DIR|C --b DIR [--conns N[,N...]] [--ms MS] [--rounds R] MODEL...\n');
    process.exit(2);
  }
  return o;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-ab-'));
  const bins = { loadgen: compile('loadgen', tmp), ref: compile('ref-server', tmp) };
  if (o.models.includes('C-uring')) bins.refUring = compile('ref-uring-server', tmp);
  // Side A's server: the model from checkout A, or the C reference (`--a C`).
  const kindOn = (side, kind) => (o[side] === 'C' ? 'C' : kind);
  const dirOf = (side) => (o[side] === 'C' ? o.b : o[side]);
  const reports = [];
  for (const conns of o.conns) {
    const results = {};
    for (let r = 0; r < o.rounds; r++) {
      for (const kind of o.models) {
        // Which side goes first alternates between rounds.
        const sides = r % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
        const started = {};
        try {
          for (const side of sides) started[side] = await startServer(kindOn(side, kind), bins, dirOf(side));
          const first = started[sides[0]];
          const second = started[sides[1]];
          const slice = conns >= 10000 ? 1000 : 500;
          const j = await runPair(bins.loadgen, first, second, conns, slice, o.ms, slice);
          const ns = (x) => Math.round((x.serverCpuSeconds * 1e9) / x.messages);
          const userNs = (x) => Math.round(((x.serverCpuSeconds - x.serverSysSeconds) * 1e9) / x.messages);
          const by = { [sides[0]]: ns(j.a), [sides[1]]: ns(j.b) };
          const user = { [sides[0]]: userNs(j.a), [sides[1]]: userNs(j.b) };
          (results[kind] ??= []).push({ a: by.a, b: by.b, ratio: by.b / by.a, userA: user.a, userB: user.b });
        } finally {
          for (const s of Object.values(started)) await stopServer(s.proc);
        }
      }
    }
    reports.push([conns, results]);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [conns, results] of reports) {
    console.log(`${conns} connections, pairings of ${o.ms} ms; a = ${o.a === 'C' ? 'the C epoll reference' : o.a}, b = ${o.b}`);
    for (const [kind, runs] of Object.entries(results)) {
      console.log(`${kind.padEnd(12)} b/a median ${median(runs, 'ratio').ratio.toFixed(3)}   pairings (a b ns/msg, b/a): ${runs.map((x) => `${x.a} ${x.b} ${x.ratio.toFixed(3)}`).join(', ')}`);
      console.log(`${''.padEnd(12)} of it in user space (a b ns/msg; the rest is the kernel's): ${runs.map((x) => `${x.userA} ${x.userB}`).join(', ')}`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
