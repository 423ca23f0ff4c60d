#!/usr/bin/env node
// npm run bench [-- --quick]: the readiness calls (select, poll, epoll through sockfd against C) and the demo
// server (each concurrent model against node:net and a C epoll server). Prints tables, writes
// docs/bench/results.json and SVG charts. --quick is a smoke check (under a minute), as CI runs it; --out DIR
// writes elsewhere (CI writes to a temporary folder, so the committed results stay those of a full run).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readiness = require('./readiness');
const servers = require('./servers');
const { readinessChart, cpuChart } = require('./svg');

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const outDir = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1]) : path.resolve(__dirname, '..', '..', 'docs', 'bench');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockfd-bench-'));
  const started = Date.now();
  const progress = (msg) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}`);
    else process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);
  };
  try {
    const machine = readiness.machine();
    const machineLine = `${machine.cpus} x ${machine.model}, Linux ${machine.kernel}, Node ${machine.node}`;
    const ready = readiness.run({ quick, progress });
    const srv = await servers.run({ quick, tmp, progress });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

    console.log(`\nMachine: ${machineLine}${quick ? ' (quick mode: short runs, rough numbers)' : ''}\n`);
    readiness.print(ready);
    console.log(`\nDemo server: lock-step clients (C load generator), ${srv.windowMs / 1000} s per run; CPU = the server process's user + system time`);
    console.log('connections  server        msgs/s      vs C    CPU/msg    vs C');
    for (const r of srv.rows) {
      const head = `${String(r.connections).padEnd(12)} ${r.server.padEnd(13)}`;
      if (r.skipped) console.log(`${head} skipped: ${r.skipped}`);
      else if (r.error) console.log(`${head} error: ${r.error.split('\n')[0]}`);
      else {
        const extra = r.refused ? `  (${r.refused} refused)` : '';
        console.log(`${head} ${r.messagesPerSecond.toFixed(0).padStart(8)}   ${(r.throughputVsC ?? 0).toFixed(2).padStart(5)}   ${r.cpuPerMessageUs.toFixed(2).padStart(6)} us  ${(r.cpuVsC ?? 0).toFixed(2).padStart(5)}${extra}`);
      }
    }
    const m = srv.memory;
    console.log(`\nMemory: epoll server, ${m.welcomed} idle connections: RSS ${m.rssBeforeKiB} KiB -> ${m.rssAfterKiB} KiB, ${m.bytesPerConnection.toFixed(0)} bytes per connection`);

    fs.mkdirSync(outDir, { recursive: true });
    const results = { machine, quick, readiness: ready, servers: srv };
    fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'readiness.svg'), readinessChart(ready, machineLine));
    fs.writeFileSync(path.join(outDir, 'server-cpu.svg'), cpuChart(srv.rows, 100, machineLine));
    console.log(`\nWrote ${path.relative(process.cwd(), outDir) || '.'}/results.json, readiness.svg, server-cpu.svg`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
