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
const { readinessChart, cpuChart, scalingChart } = require('./svg');

/** A latency in microseconds, as the load generator reports it (-1: none measured). */
function fmtUs(us) {
  if (!(us >= 0)) return '-';
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} us`;
}

function fmtNs(ns) {
  return ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} us` : `${ns.toFixed(0)} ns`;
}

/** The results as the Markdown page the README links to. */
function markdown(results, machineLine) {
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${results.quick ? ' -- --quick' : ''}\` on ${results.machine.date.slice(0, 10)}; machine: ${machineLine}.`,
    'These machines are shared and noisy: compare the ratios of one run, not absolute times across runs.',
    '',
    '## Readiness calls (N watched fds, one ready, timeout 0)',
    '',
    'C1: the same calls from single-threaded C. C: from C with an idle second thread, as in any Node process (the',
    'reference for the ratios). raw: `select()`/`poll()`/`epollWaitInto()`. selector: the selectors\' `select(0)`.',
    '',
    '| call | N | C1 | C | raw | raw/C | selector | selector/C | selector - C |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results.readiness) {
    if (r.refused) lines.push(`| ${r.call} | ${r.n} | refused: fd >= FD_SETSIZE | | | | | | |`);
    else lines.push(`| ${r.call} | ${r.n} | ${fmtNs(r.cSingleThread)} | ${fmtNs(r.c)} | ${fmtNs(r.raw)} | ${r.ratioRaw.toFixed(2)} | ${fmtNs(r.selector)} | ${r.ratioSelector.toFixed(2)} | ${fmtNs(r.selector - r.c)} |`);
  }
  const srv = results.servers;
  lines.push('', `## The demo server (lock-step clients from a C load generator${runsText(srv)})`, '',
    'CPU: the server process\'s user + system time per answered message (its child processes\' too: prefork), counted in',
    'its own turns; "kernel": the system time\'s part of it (the kernel\'s own clock ticks, 10 ms each). "vs C": against',
    'the C server it took turns with (its CPU then in "C in the pairing").', '',
    '| connections | server | messages/s | vs C | CPU per message | kernel | vs C | C in the pairing | vs C-uring | latency p50 | p99 |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of srv.rows) {
    if (r.skipped) lines.push(`| ${r.connections} | ${r.server} | skipped: ${r.skipped} | | | | | | | | |`);
    else if (r.error) lines.push(`| ${r.connections} | ${r.server} | error: ${r.error.split('\n')[0]} | | | | | | | | |`);
    else lines.push(`| ${r.connections} | ${r.server} | ${r.messagesPerSecond.toFixed(0)}${r.refused ? ` (${r.refused} refused)` : ''} | ${(r.throughputVsC ?? 0).toFixed(2)} | ${r.cpuPerMessageUs.toFixed(2)} us | ${r.sysPerMessageUs === undefined ? '' : `${r.sysPerMessageUs.toFixed(2)} us`} | ${(r.cpuVsC ?? 0).toFixed(2)} | ${r.cCpuPerMessageUs ? `${r.cCpuPerMessageUs.toFixed(2)} us` : ''} | ${r.cpuVsCUring ? r.cpuVsCUring.toFixed(2) : ''} | ${fmtUs(r.p50Us)} | ${fmtUs(r.p99Us)} |`);
  }
  const growth = growthRows(srv.rows, 100, 10000);
  if (growth.length > 0) {
    lines.push('', '## From 100 to 10000 connections', '',
      'Each server\'s CPU per message as a multiple of C\'s in the same run, at 100 and at 10000 connections, and how much that',
      'multiple grew (C\'s own CPU per message grows too: the kernel\'s share does).', '',
      '| server | CPU per message at 100 | vs C | at 10000 | vs C | growth of the multiple |', '|---|---|---|---|---|---|');
    for (const g of growth) {
      lines.push(`| ${g.server} | ${g.from.cpuPerMessageUs.toFixed(2)} us | ${g.from.cpuVsC.toFixed(2)} | ${g.to.cpuPerMessageUs.toFixed(2)} us | ${g.to.cpuVsC.toFixed(2)} | ${g.growth >= 0 ? '+' : ''}${(g.growth * 100).toFixed(0)}% |`);
    }
  }
  const m = srv.memory;
  lines.push('', '## Memory', '', `The epoll server with ${m.welcomed} idle connections: resident memory ${m.rssBeforeKiB} KiB before,`,
    `${m.rssAfterKiB} KiB after: ${m.bytesPerConnection.toFixed(0)} bytes per connection.`, '');
  return lines.join('\n');
}

/** The servers measured at both connection counts: their multiple of C's CPU per message at each, and its growth. */
function growthRows(rows, from, to) {
  const out = [];
  for (const r of rows) {
    if (r.connections !== from || r.server === 'C' || r.cpuVsC === undefined) continue;
    const t = rows.find((x) => x.server === r.server && x.connections === to && x.cpuVsC !== undefined);
    if (t) out.push({ server: r.server, from: r, to: t, growth: t.cpuVsC / r.cpuVsC - 1 });
  }
  return out;
}

/** How the rows were chosen, when each server ran more than once. */
function runsText(srv) {
  const rounds = srv.rounds ?? 1;
  if (srv.paired) {
    return `, each server in turns with a C server of its own (${srv.sliceMs / 1000} s turns${srv.sliceMs10000 ? `, ${srv.sliceMs10000 / 1000} s at 10000 connections` : ''}; ` +
      `${srv.windowMs / 1000} s of turns, half of it each)${rounds > 1 ? `, the pairing with the median ratio of ${rounds} (each row is one pairing: its CPU, throughput and latency, and its C's CPU; C's row is the median of its runs)` : ''}`;
  }
  return `, ${srv.windowMs / 1000} s per run${rounds > 1 ? `, the best of ${rounds} interleaved runs (each row is one run: its CPU, throughput and latency)` : ''}`;
}

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const roundsArg = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : undefined;
  if (roundsArg !== undefined && !(Number.isInteger(roundsArg) && roundsArg >= 1)) {
    process.stderr.write('--rounds takes a whole number of at least 1\n');
    process.exit(2);
  }
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
    const srv = await servers.run({ quick, tmp, progress, rounds: roundsArg });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

    console.log(`\nMachine: ${machineLine}${quick ? ' (quick mode: short runs, rough numbers)' : ''}\n`);
    readiness.print(ready);
    console.log(`\nDemo server: lock-step clients (C load generator)${runsText(srv)}; CPU = the server process's user + system time`);
    console.log('connections  server        msgs/s      vs C    CPU/msg    vs C   C then    p50 latency  p99');
    for (const r of srv.rows) {
      const head = `${String(r.connections).padEnd(12)} ${r.server.padEnd(13)}`;
      if (r.skipped) console.log(`${head} skipped: ${r.skipped}`);
      else if (r.error) console.log(`${head} error: ${r.error.split('\n')[0]}`);
      else {
        const extra = `${r.refused ? `  (${r.refused} refused)` : ''}${r.cpuVsCUring ? `  (CPU ${r.cpuVsCUring.toFixed(2)}x C-uring)` : ''}`;
        const then = r.cCpuPerMessageUs ? `${r.cCpuPerMessageUs.toFixed(2)} us` : '';
        console.log(`${head} ${r.messagesPerSecond.toFixed(0).padStart(8)}   ${(r.throughputVsC ?? 0).toFixed(2).padStart(5)}   ${r.cpuPerMessageUs.toFixed(2).padStart(6)} us  ${(r.cpuVsC ?? 0).toFixed(2).padStart(5)}  ${then.padStart(8)}   ${fmtUs(r.p50Us).padStart(9)}  ${fmtUs(r.p99Us).padStart(9)}${extra}`);
      }
    }
    const m = srv.memory;
    console.log(`\nMemory: epoll server, ${m.welcomed} idle connections: RSS ${m.rssBeforeKiB} KiB -> ${m.rssAfterKiB} KiB, ${m.bytesPerConnection.toFixed(0)} bytes per connection`);

    fs.mkdirSync(outDir, { recursive: true });
    const results = { machine, quick, readiness: ready, servers: srv };
    fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'readiness.svg'), readinessChart(ready, machineLine));
    fs.writeFileSync(path.join(outDir, 'server-cpu.svg'), cpuChart(srv.rows, 100, machineLine));
    fs.writeFileSync(path.join(outDir, 'server-scaling.svg'), scalingChart(srv.rows, machineLine));
    fs.writeFileSync(path.join(outDir, 'RESULTS.md'), markdown(results, machineLine));
    console.log(`\nWrote ${path.relative(process.cwd(), outDir) || '.'}/results.json, RESULTS.md, readiness.svg, server-cpu.svg, server-scaling.svg`);
    const failed = srv.rows.filter((r) => r.error);
    if (failed.length > 0) {
      // A run that measured nothing is a broken benchmark (or server), not a result: fail, so that CI sees it.
      console.error(`\nbench: ${failed.length} server run(s) failed: ${failed.map((r) => `${r.server}/${r.connections}`).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { markdown };
