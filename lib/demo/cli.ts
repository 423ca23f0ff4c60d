#!/usr/bin/env node
/**
 * sockfd-demo: the tutorial's demo server and client on sockfd.
 *
 *   sockfd-demo server [--io MODEL] [--host 127.0.0.1] [--port 9999] [--backlog 5] [--delay ms] [--trace] [--workers N]
 *   sockfd-demo client [--host 127.0.0.1] [--port 9999] [--timeout ms]
 *   sockfd-demo --help | --version
 *
 * MODEL: one of the registry's (./models/index.ts): blocking, threads, nonblocking, select, poll, epoll, prefork,
 * async, sigio (default: epoll on Linux, else poll).
 *
 * Everything that needs the native addon (the registry, the client, the servers) is loaded only when used, so that
 * `--help` and `--version` work, and a missing addon is one clear message, where it does not load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelName } from './models';
import { DEFAULTS, type ServerOptions } from './protocol';
import type { Running } from './server';

type Registry = typeof import('./models');

/** Whether `err` is the loader's: no addon binary fits, or the one found does not load (lib/binding.ts). */
function isAddonError(err: unknown): err is Error {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ERR_SOCKFD_NOT_BUILT' || code === 'ERR_SOCKFD_LOAD_FAILED';
}

/** The model registry, or the loader's error when the addon it probes does not load. */
function registry(): Registry | Error {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./models') as Registry;
  } catch (err) {
    if (isAddonError(err)) return err;
    throw err;
  }
}

function usage(): string {
  const reg = registry();
  const models =
    reg instanceof Error
      ? `  (the list of models needs the native addon, which does not load here:\n  ${reg.message.split('\n')[0]})`
      : reg.MODEL_NAMES.map((name) => {
          const info = reg.modelInfo(name);
          const notes = [info.workers !== null ? `takes --workers (${info.workers.unit}s)` : '', info.unavailable() ?? ''].filter(Boolean);
          return `  ${name.padEnd(12)}${info.shows}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`;
        }).join('\n');
  return `usage:
  sockfd-demo server [--io MODEL] [--host HOST] [--port PORT] [--backlog N] [--delay MS] [--trace] [--workers N]
  sockfd-demo client [--host HOST] [--port PORT] [--timeout MS]
  sockfd-demo --help | --version
client --timeout: how long to wait for the connection (default ${CLIENT_TIMEOUT} ms).
MODEL (default: ${reg instanceof Error ? 'epoll on Linux, else poll' : reg.defaultModel()}):
${models}`;
}

/** The client's default --timeout: long enough for a loaded machine, short enough that a hang is noticed. */
const CLIENT_TIMEOUT = 10_000;
const SERVER_ONLY = ['io', 'backlog', 'delay', 'trace', 'workers'] as const;
const CLIENT_ONLY = ['timeout'] as const;

function fail(message: string): never {
  process.stderr.write(`sockfd-demo: ${message}\n${usage()}\n`);
  process.exit(2);
}

function int(value: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/** `sockfd-demo 0.1.0`, and which addon binary this installation loads (a prebuilt one, or compiled here). */
function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  let addon: string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = (require('../binding') as typeof import('../binding')).bindingPath;
  } catch (err) {
    addon = `not loaded (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return `sockfd-demo ${pkg.version} (Node.js ${process.version}, ${process.platform}-${process.arch})\naddon: ${addon}\n`;
}

async function startServer(reg: Registry, model: ModelName, opts: ServerOptions): Promise<Running> {
  const info = reg.modelInfo(model);
  const missing = info.unavailable();
  if (missing !== null) fail(`--io ${model} cannot run here: ${missing}`);
  if (info.workers?.unit === 'process') return (await info.load()).serve(opts); // the model starts its processes
  if (opts.workers > 1) {
    if (info.workers === null) fail(`--workers is for the ${reg.WORKER_MODELS.join(' and ')} models`);
    return (await import('./workers')).serveOnWorkers(model, opts);
  }
  return (await info.load()).serve(opts); // the blocking model never returns
}

/** The addon does not load: say so once, without a stack (the loader's message says what to do). */
function addonMissing(err: Error): number {
  process.stderr.write(`sockfd-demo: ${err.message}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        io: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        backlog: { type: 'string' },
        delay: { type: 'string' },
        workers: { type: 'string' },
        trace: { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(version());
    return 0;
  }
  const command = positionals[0] ?? 'server';
  if (command !== 'server' && command !== 'client') fail(`unknown command ${JSON.stringify(command)}`);
  if (positionals.length > 1) fail(`unexpected argument ${JSON.stringify(positionals[1])}`);
  // An option the other command takes would be silently ignored: refuse it, naming whose it is.
  const foreign = (command === 'client' ? SERVER_ONLY : CLIENT_ONLY).filter((name) => values[name] !== undefined);
  if (foreign.length > 0) {
    const list = foreign.map((name) => `--${name}`).join(', ');
    fail(`${list} ${foreign.length > 1 ? 'are options' : 'is an option'} of \`sockfd-demo ${command === 'client' ? 'server' : 'client'}\`, not of \`${command}\``);
  }
  const host = values.host ?? DEFAULTS.host;
  const port = int(values.port, 'port', DEFAULTS.port, 0, 65535);
  if (command === 'client') {
    const timeout = int(values.timeout, 'timeout', CLIENT_TIMEOUT, 1, 3600_000);
    let client: typeof import('./client');
    try {
      client = await import('./client');
    } catch (err) {
      if (isAddonError(err)) return addonMissing(err);
      throw err;
    }
    return client.runClient(host, port, timeout);
  }
  const reg = registry();
  if (reg instanceof Error) return addonMissing(reg);
  const model = values.io ?? reg.defaultModel();
  if (!reg.isModelName(model)) fail(`unknown --io ${JSON.stringify(model)}`);
  const opts: ServerOptions = {
    host,
    port,
    backlog: int(values.backlog, 'backlog', DEFAULTS.backlog, 0, 65535),
    delay: int(values.delay, 'delay', DEFAULTS.delay, 0, 3600_000),
    trace: values.trace ?? false,
    workers: int(values.workers, 'workers', reg.modelInfo(model).workers?.default ?? DEFAULTS.workers, 1, 256),
  };
  const { log, setTrace } = await import('./log');
  setTrace(opts.trace);
  let running: Running;
  try {
    running = await startServer(reg, model, opts);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sockfd-demo: cannot start the ${model} server on ${host}:${port}: ${e.message}\n`);
    return 1;
  }
  const stopper = running;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // Give up waiting after a second at most: Ctrl-C must stop every model within one.
    setTimeout(() => process.exit(0), 900).unref();
    void stopper.stop().then(() => {
      log(`Server stopped (${signal})`);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return -1; // keep running
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`sockfd-demo: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
