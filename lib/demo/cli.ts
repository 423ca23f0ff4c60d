#!/usr/bin/env node
/**
 * sockfd-demo: the tutorial's demo server and client on sockfd.
 *
 *   sockfd-demo server [--io MODEL] [--host 127.0.0.1] [--port 9999] [--backlog 5] [--delay ms] [--trace] [--workers N]
 *   sockfd-demo client [--host 127.0.0.1] [--port 9999]
 *
 * MODEL: one of the registry's (./models/index.ts): blocking, threads, nonblocking, select, poll, epoll, prefork,
 * async, sigio (default: epoll on Linux, else poll).
 */
import { parseArgs } from 'node:util';
import { runClient } from './client';
import { log, setTrace } from './log';
import { MODEL_NAMES, WORKER_MODELS, defaultModel, isModelName, modelInfo, type ModelName } from './models';
import { DEFAULTS, type ServerOptions } from './protocol';
import type { Running } from './server';
import { serveOnWorkers } from './workers';

const USAGE = `usage:
  sockfd-demo server [--io MODEL] [--host HOST] [--port PORT] [--backlog N] [--delay MS] [--trace] [--workers N]
  sockfd-demo client [--host HOST] [--port PORT]
  sockfd-demo --help
MODEL (default: ${defaultModel()}):
${MODEL_NAMES.map((name) => {
  const info = modelInfo(name);
  const notes = [info.workers !== null ? `takes --workers (${info.workers.unit}s)` : '', info.unavailable() ?? ''].filter(Boolean);
  return `  ${name.padEnd(12)}${info.shows}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`;
}).join('\n')}`;

function fail(message: string): never {
  process.stderr.write(`sockfd-demo: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function int(value: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

async function startServer(model: ModelName, opts: ServerOptions): Promise<Running> {
  const info = modelInfo(model);
  const missing = info.unavailable();
  if (missing !== null) fail(`--io ${model} cannot run here: ${missing}`);
  if (info.workers?.unit === 'process') return (await info.load()).serve(opts); // the model starts its processes
  if (opts.workers > 1) {
    if (info.workers === null) fail(`--workers is for the ${WORKER_MODELS.join(' and ')} models`);
    return serveOnWorkers(model, opts);
  }
  return (await info.load()).serve(opts); // the blocking model never returns
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
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'server';
  const host = values.host ?? DEFAULTS.host;
  const port = int(values.port, 'port', DEFAULTS.port, 0, 65535);
  if (command === 'client') return runClient(host, port);
  if (command !== 'server') fail(`unknown command ${JSON.stringify(command)}`);
  const model = values.io ?? defaultModel();
  if (!isModelName(model)) fail(`unknown --io ${JSON.stringify(model)}`);
  const opts: ServerOptions = {
    host,
    port,
    backlog: int(values.backlog, 'backlog', DEFAULTS.backlog, 0, 65535),
    delay: int(values.delay, 'delay', DEFAULTS.delay, 0, 3600_000),
    trace: values.trace ?? false,
    workers: int(values.workers, 'workers', modelInfo(model).workers?.default ?? DEFAULTS.workers, 1, 256),
  };
  setTrace(opts.trace);
  let running: Running;
  try {
    running = await startServer(model, opts);
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
