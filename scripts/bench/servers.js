// The demo server benchmark: each concurrent model of sockfd's demo server, a node:net twin, a C epoll
// reference and (where io_uring runs) a C io_uring reference (C-uring), driven by a C load generator (lock-step clients) at 10, 100, 1000 and (C, node:net, epoll, async)
// 10000 connections. Reports messages per second, the server's own CPU time per message (user + system, from
// /proc), each answer's latency (p50, p99), and the
// epoll server's resident memory per idle connection. Used by scripts/bench/index.js.
'use strict';
const { spawn, execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
// Every concurrent model of the registry that runs here (blocking serves one client at a time: nothing to measure).
const registry = require(path.join(root, 'dist', 'demo', 'models'));
const MODELS = registry.MODEL_NAMES.filter((name) => registry.MODELS[name].concurrent && registry.MODELS[name].unavailable() === null);
/**
 * The multi-core rows, at one N (the cores here): epoll on N threads (SO_REUSEPORT) and every model whose workers
 * are processes (prefork: N processes) with `--workers N`. A model of processes has no single-process row.
 */
const CORES = Math.max(2, require('node:os').availableParallelism());
const WORKER_ROWS = [
  ...(MODELS.includes('epoll') ? [`epoll --workers ${CORES}`] : []),
  ...MODELS.filter((name) => registry.MODELS[name].workers?.unit === 'process').map((name) => `${name} --workers ${CORES}`),
];
/** What the full run also measures at 10000 connections: the references and the models meant to scale. */
const AT_10000 = ['C', 'C-uring', 'node:net', 'epoll', 'async', 'uring', ...WORKER_ROWS];
/**
 * The C io_uring reference (ref-uring-server.c) runs where the uring model does: where it cannot, the reason is
 * printed and its row says so.
 */
const URING_UNAVAILABLE = registry.MODELS.uring ? registry.MODELS.uring.unavailable() : 'no uring model';

function compile(name, tmp) {
  const out = path.join(tmp, name);
  execFileSync(process.env.CC || 'cc', ['-O2', '-o', out, path.join(__dirname, `${name}.c`)], { stdio: 'inherit' });
  return out;
}

/**
 * Starts a server and resolves with { proc, port } once it prints its port. `dir`: the checkout whose demo CLI
 * runs a model (this one by default; scripts/bench/ab.js passes another). `wrap`: a command the server runs
 * under (scripts/bench/instr.js: valgrind), whose pid is then the server's; `timeoutMs`: how long it may take to
 * print its port.
 */
function startServer(kind, bins, dir = root, { wrap = [], timeoutMs = 10000 } = {}) {
  let cmd;
  let args;
  if (kind === 'C') [cmd, args] = [bins.ref, ['0']];
  else if (kind === 'C-uring') [cmd, args] = [bins.refUring, ['0']];
  else if (kind === 'node:net') [cmd, args] = [process.execPath, [path.join(__dirname, 'net-server.js'), '0']];
  else {
    // `epoll --workers 2`: the model, then its own options.
    const [model, ...options] = kind.split(' ');
    [cmd, args] = [process.execPath, [path.join(dir, 'dist', 'demo', 'cli.js'), 'server', '--io', model, ...options, '--port', '0', '--backlog', '4096']];
  }
  // RLIMIT_NOFILE raised to its hard limit for the server (10000 connections), by the shell that then execs it:
  // the pid is the server's.
  const argv = [...wrap, cmd, ...args];
  const proc = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind}: no port after ${timeoutMs / 1000} s: ${out} ${err}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)|on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout.removeAllListeners('data');
        proc.stdout.resume(); // keep draining the per-connection log lines
        resolve({ proc, port: Number(m[1] || m[2]) });
      }
    });
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code) => reject(new Error(`${kind} exited (${code}): ${err}`)));
  });
}

function stopServer(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.removeAllListeners('exit');
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * Runs the load generator to the end. Asynchronously: while it runs, this process must keep draining the
 * server's stdout (a log line per connection). With execFileSync the pipe filled at a few hundred connections,
 * the server blocked in its log write, and the 1000-connection runs measured nothing.
 */
function runLoadgen(bin, port, conns, warmupMs, measureMs, pid) {
  return new Promise((resolve, reject) => {
    execFile(bin, ['127.0.0.1', String(port), String(conns), String(warmupMs), String(measureMs), String(pid)], {
      encoding: 'utf8',
      timeout: 120000,
    }, (err, out, errOut) => {
      if (err) reject(new Error(`loadgen: ${err.message} ${errOut}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a server before and after `conns` idle connections. */
async function memory(kind, bins, conns) {
  const { proc, port } = await startServer(kind, bins);
  try {
    await sleep(300);
    const before = rssKiB(proc.pid);
    const gen = spawn(bins.loadgen, ['127.0.0.1', String(port), String(conns), '0', '0', String(proc.pid), 'idle'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve, reject) => {
      let out = '';
      gen.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
      });
      gen.on('exit', (code) => reject(new Error(`idle loadgen exited ${code}`)));
    });
    await sleep(500);
    const after = rssKiB(proc.pid);
    gen.removeAllListeners('exit');
    gen.kill('SIGKILL');
    return { server: kind, connections: conns, welcomed: line.welcomed, rssBeforeKiB: before, rssAfterKiB: after, bytesPerConnection: ((after - before) * 1024) / line.welcomed };
  } finally {
    await stopServer(proc);
  }
}

/**
 * Each server at each connection count, `rounds` times (best of them kept: on a shared machine noise only ever
 * adds CPU), the rounds of one connection count interleaved, each starting further along the list, so that
 * the machine's drift falls on every server alike and each ratio compares runs made minutes apart at most.
 * Five by default: with three, the C reference's own runs at one count spread over 6.3 to 10.5 us, and a
 * ratio's best depended on which server a quiet minute fell on.
 */
async function run({ quick, tmp, progress, rounds = quick ? 1 : 5 }) {
  const bins = { loadgen: compile('loadgen', tmp), ref: compile('ref-server', tmp) };
  if (URING_UNAVAILABLE === null) bins.refUring = compile('ref-uring-server', tmp);
  else progress(`servers: no C io_uring reference here: ${URING_UNAVAILABLE}`);
  // The quick form (CI's smoke check) runs every server once, at one count: that each starts and answers.
  const connCounts = quick ? [100] : [10, 100, 1000, 10000];
  const warmupMs = quick ? 300 : 1000;
  const measureMs = quick ? 700 : 2000;
  const servers = ['C', ...(URING_UNAVAILABLE === null ? ['C-uring'] : []), 'node:net',
    ...MODELS.filter((name) => registry.MODELS[name].workers?.unit !== 'process'), ...WORKER_ROWS];
  const rows = [];
  const total = connCounts.length * servers.length * rounds;
  let done = 0;
  for (const conns of connCounts) {
    const runs = new Map(servers.map((kind) => [kind, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round starts further along the list (rotated), so that a server's runs are spread over the rounds'
      // time instead of falling next to each other (as a reversed order does at the turn).
      const shift = Math.floor((round * servers.length) / rounds);
      for (const kind of [...servers.slice(shift), ...servers.slice(0, shift)]) {
        progress(`servers: ${kind} with ${conns} connections, round ${round + 1} of ${rounds} (${++done}/${total})`);
        if (kind === 'threads' && conns > 100) {
          if (round === 0) runs.get(kind).push({ skipped: 'one worker thread (a whole V8 isolate, ~10 MB) per connection: 1000 would need ~10 GB' });
          continue;
        }
        if (conns > 1000 && !AT_10000.includes(kind)) {
          if (round === 0) runs.get(kind).push({ skipped: 'measured at 10000 connections: the C references, node:net and the event-driven models (epoll, async, uring); the scanning models\' growth shows at 1000' });
          continue;
        }
        let started;
        try {
          started = await startServer(kind, bins);
          const r = await runLoadgen(bins.loadgen, started.port, conns, warmupMs, measureMs, started.proc.pid);
          if (r.welcomed + r.refused < conns || !(r.messages > 0)) throw new Error(`only ${r.welcomed} of ${conns} clients welcomed, ${r.messages} messages`);
          runs.get(kind).push({
            welcomed: r.welcomed, refused: r.refused, errors: r.errors, messages: r.messages,
            seconds: r.seconds, messagesPerSecond: r.messages / r.seconds, cpuSeconds: r.serverCpuSeconds,
            cpuPerMessageUs: (r.serverCpuSeconds * 1e6) / r.messages, p50Us: r.p50Us, p99Us: r.p99Us,
          });
        } catch (err) {
          runs.get(kind).push({ error: String(err.message || err) });
        } finally {
          if (started) await stopServer(started.proc);
        }
      }
    }
    for (const kind of servers) {
      const all = runs.get(kind);
      const measured = all.filter((x) => x.cpuPerMessageUs !== undefined);
      if (measured.length === 0) {
        rows.push({ server: kind, connections: conns, ...(all.find((x) => x.skipped) ?? all.find((x) => x.error)) });
        continue;
      }
      const best = measured.reduce((a, b) => (b.cpuPerMessageUs < a.cpuPerMessageUs ? b : a));
      rows.push({ server: kind, connections: conns, ...best, cpuPerMessageUsRuns: measured.map((x) => x.cpuPerMessageUs), failedRuns: all.length - measured.length });
    }
  }
  for (const row of rows) {
    const c = rows.find((r) => r.server === 'C' && r.connections === row.connections);
    if (c && row.messagesPerSecond && c.messagesPerSecond) {
      row.throughputVsC = row.messagesPerSecond / c.messagesPerSecond;
      row.cpuVsC = row.cpuPerMessageUs / c.cpuPerMessageUs;
    }
    // The completion-based ones against the C io_uring reference too (the target: uring within 1.2x).
    const cu = rows.find((r) => r.server === 'C-uring' && r.connections === row.connections);
    if (cu && row.messagesPerSecond && cu.messagesPerSecond && (row.server === 'uring' || row.server === 'C')) {
      row.cpuVsCUring = row.cpuPerMessageUs / cu.cpuPerMessageUs;
    }
  }
  progress(`memory: epoll server with ${quick ? 1000 : 10000} idle connections`);
  const mem = await memory('epoll', bins, quick ? 1000 : 10000);
  return { rows, memory: mem, windowMs: measureMs, rounds };
}

module.exports = { run, MODELS, WORKER_ROWS, compile, startServer, stopServer, runLoadgen };
