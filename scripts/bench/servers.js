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

function compile(name, tmp, flags = []) {
  const out = path.join(tmp, name);
  execFileSync(process.env.CC || 'cc', ['-O2', ...flags, '-o', out, path.join(__dirname, `${name}.c`)], { stdio: 'inherit' });
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
  else if (kind === 'floor') [cmd, args] = [process.execPath, [path.join(dir, 'scripts', 'bench', 'floor-server.js'), '0']];
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
 * Runs the load generator's paired form (see loadgen.c) to the end: `a` and `b` in turns of `sliceMs`, `conns`
 * clients each, for `measureMs` of whole turns. Resolves with { a, b }, each one server's report. Asynchronously:
 * while it runs, this process must keep draining the servers' stdout (a log line per connection). With
 * execFileSync the pipe filled at a few hundred connections, the server blocked in its log write, and the
 * 1000-connection runs measured nothing.
 */
function runPair(bin, a, b, conns, warmupMs, measureMs, sliceMs) {
  return new Promise((resolve, reject) => {
    execFile(bin, ['127.0.0.1', String(a.port), String(conns), String(warmupMs), String(measureMs), String(a.proc.pid),
      'pair', String(b.port), String(b.proc.pid), String(sliceMs)], { encoding: 'utf8', timeout: 180000 }, (err, out, errOut) => {
      if (err) reject(new Error(`loadgen: ${err.message} ${errOut}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** One server's figures from a load generator's report. */
function figures(r, conns, kind) {
  if (r.welcomed + r.refused < conns || !(r.messages > 0) || !(r.serverCpuSeconds >= 0)) {
    throw new Error(`${kind}: only ${r.welcomed} of ${conns} clients welcomed, ${r.messages} messages`);
  }
  return {
    welcomed: r.welcomed, refused: r.refused, errors: r.errors, messages: r.messages,
    seconds: r.seconds, messagesPerSecond: r.messages / r.seconds, cpuSeconds: r.serverCpuSeconds,
    cpuPerMessageUs: (r.serverCpuSeconds * 1e6) / r.messages, p50Us: r.p50Us, p99Us: r.p99Us,
    // The kernel's part (stime), where the load generator reported it.
    sysPerMessageUs: r.serverSysSeconds >= 0 ? (r.serverSysSeconds * 1e6) / r.messages : undefined,
  };
}

/** The run whose `key` is the median of `runs` (the lower of the middle two for an even count). */
function median(runs, key) {
  const sorted = [...runs].sort((x, y) => x[key] - y[key]);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Each server at each connection count against the C reference, in turns: the load generator drives C and the
 * server alternately, half a second each (a second at 10000 connections), for 4 s of whole turns, and each
 * ratio to C comes from such a pairing. This machine's speed drifts by tens of percent over minutes (C's own
 * CPU per message at 1000 connections took 7.3 to 11.8 us within a quarter of an hour), and two servers measured one
 * after the other took that drift into their ratio; measured in turns, they share it. Each server is paired
 * `rounds` times (5 by default; the pairings of one count interleaved, each round starting further along the
 * list), and its row is the pairing with the median ratio: its own figures from that pairing, and C's CPU then.
 * C's row: the median of its runs in all the pairings of that count.
 */
async function run({ quick, tmp, progress, rounds = quick ? 1 : 5 }) {
  const bins = { loadgen: compile('loadgen', tmp), ref: compile('ref-server', tmp) };
  if (URING_UNAVAILABLE === null) bins.refUring = compile('ref-uring-server', tmp);
  else progress(`servers: no C io_uring reference here: ${URING_UNAVAILABLE}`);
  // The quick form (CI's smoke check) pairs every server once with C, at one count: that each starts and answers.
  const connCounts = quick ? [100] : [10, 100, 1000, 10000];
  const warmupMs = quick ? 300 : 1000;
  const measureMs = quick ? 500 : 4000;
  const sliceMs = (conns) => (quick ? 250 : conns >= 10000 ? 1000 : 500);
  const servers = ['C', ...(URING_UNAVAILABLE === null ? ['C-uring'] : []), 'node:net',
    ...MODELS.filter((name) => registry.MODELS[name].workers?.unit !== 'process'), ...WORKER_ROWS];
  const paired = servers.slice(1);
  const rows = [];
  const total = connCounts.length * paired.length * rounds;
  let done = 0;
  for (const conns of connCounts) {
    const runs = new Map(servers.map((kind) => [kind, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round starts further along the list (rotated): a server's pairings spread over the rounds' time.
      const shift = Math.floor((round * paired.length) / rounds);
      for (const kind of [...paired.slice(shift), ...paired.slice(0, shift)]) {
        progress(`servers: ${kind} and C in turns with ${conns} connections each, round ${round + 1} of ${rounds} (${++done}/${total})`);
        if (kind === 'threads' && conns > 100) {
          if (round === 0) runs.get(kind).push({ skipped: 'one worker thread (a whole V8 isolate, ~10 MB) per connection: 1000 would need ~10 GB' });
          continue;
        }
        if (conns > 1000 && !AT_10000.includes(kind)) {
          if (round === 0) runs.get(kind).push({ skipped: 'measured at 10000 connections: the C references, node:net and the event-driven models (epoll, async, uring); the scanning models\' growth shows at 1000' });
          continue;
        }
        const started = [];
        try {
          // C is the first side in even rounds and the second in odd ones: an A/A pairing (one server against
          // a copy of itself) came out 0.89 to 1.14, and whatever of that goes with a side cancels out.
          const cFirst = round % 2 === 0;
          started.push(await startServer(cFirst ? 'C' : kind, bins));
          started.push(await startServer(cFirst ? kind : 'C', bins));
          const r = await runPair(bins.loadgen, started[0], started[1], conns, warmupMs, measureMs, sliceMs(conns));
          const c = figures(cFirst ? r.a : r.b, conns, 'C');
          const m = figures(cFirst ? r.b : r.a, conns, kind);
          runs.get(kind).push({ ...m, cpuVsC: m.cpuPerMessageUs / c.cpuPerMessageUs, throughputVsC: m.messagesPerSecond / c.messagesPerSecond, cCpuPerMessageUs: c.cpuPerMessageUs });
          runs.get('C').push({ ...c, pairedWith: kind });
        } catch (err) {
          runs.get(kind).push({ error: String(err.message || err) });
        } finally {
          for (const s of started) await stopServer(s.proc);
        }
      }
    }
    for (const kind of servers) {
      const all = runs.get(kind);
      const measured = all.filter((x) => x.cpuPerMessageUs !== undefined);
      if (measured.length === 0) {
        rows.push({ server: kind, connections: conns, ...(all.find((x) => x.skipped) ?? all.find((x) => x.error) ?? { error: 'no pairing ran' }) });
        continue;
      }
      if (kind === 'C') {
        rows.push({ server: kind, connections: conns, ...median(measured, 'cpuPerMessageUs'), cpuVsC: 1, throughputVsC: 1,
          cpuPerMessageUsRuns: measured.map((x) => x.cpuPerMessageUs) });
      } else {
        rows.push({ server: kind, connections: conns, ...median(measured, 'cpuVsC'), cpuVsCRuns: measured.map((x) => x.cpuVsC),
          failedRuns: all.length - measured.length });
      }
    }
  }
  // The completion-based ones against the C io_uring reference too, through their ratios to C (each was paired
  // with C, not with C-uring).
  for (const row of rows) {
    const cu = rows.find((r) => r.server === 'C-uring' && r.connections === row.connections);
    if (cu && cu.cpuVsC && row.cpuVsC && (row.server === 'uring' || row.server === 'C')) row.cpuVsCUring = row.cpuVsC / cu.cpuVsC;
  }
  progress(`memory: epoll server with ${quick ? 1000 : 10000} idle connections`);
  const mem = await memory('epoll', bins, quick ? 1000 : 10000);
  return { rows, memory: mem, windowMs: measureMs, sliceMs: sliceMs(100), sliceMs10000: connCounts.includes(10000) ? sliceMs(10000) : undefined, paired: true, rounds };
}

module.exports = { run, MODELS, WORKER_ROWS, compile, startServer, stopServer, runPair, median };
