/**
 * The registries: the demo's model registry (lib/demo/models/index.ts) and the selector registry
 * (lib/selectors/kinds.ts). Each is the one list the rest reads; these tests hold them to that: every model file
 * is in the registry and loads, the CLI offers exactly the registry's models, and every selector class is listed
 * with the kernel call `--trace` names.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as s from '../lib';
import { MODEL_NAMES, MODELS, WORKER_MODELS, defaultModel, isModelName, modelInfo } from '../lib/demo/models';
import { selectorInfo } from '../lib/selectors';
import { tracedSelector } from '../lib/demo/trace';
import { root } from './helpers/child';

const cli = path.join(root, 'dist', 'demo', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 10000 });

describe('the model registry', () => {
  it('lists every model file of lib/demo/models, and each loads to a module with serve()', async () => {
    const dir = path.join(root, 'lib', 'demo', 'models');
    // A model file is one that exports serve(); the rest are shared parts (the registry, the multiplex loop,
    // the threads model's worker).
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && /export function serve\(/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    const models = files.map((f) => f.replace(/\.ts$/, '')).filter((name) => name !== 'multiplex');
    expect(models.sort()).toEqual([...MODEL_NAMES].sort());
    for (const name of MODEL_NAMES) {
      const mod = await modelInfo(name).load();
      expect(typeof mod.serve, name).toBe('function');
    }
  });

  it('describes each model consistently', () => {
    for (const name of MODEL_NAMES) {
      const info = modelInfo(name);
      expect(info.shows.length, name).toBeGreaterThan(10);
      expect(info.blocksThread && info.concurrent, `${name}: a model that blocks its thread serves one client at a time`).toBe(false);
      if (info.workers !== null) expect(info.workers.default, name).toBeGreaterThanOrEqual(1);
      if (info.threadPerClient) expect(info.concurrent, `${name}: a thread per client serves them at once`).toBe(true);
      if (name === 'uring' && !s.ioUringSupport().supported) {
        // io_uring can be missing or forbidden on a Linux machine (an old kernel, Docker's seccomp profile).
        console.log(`registry.test.ts: uring cannot run here: ${info.unavailable()}`);
        expect(info.unavailable()).toMatch(/io_uring/);
        continue;
      }
      expect(info.unavailable(), `${name} runs on this Linux machine`).toBeNull();
    }
    expect(isModelName('epoll')).toBe(true);
    expect(isModelName('toString')).toBe(false); // an own key, not anything on Object.prototype
    expect(isModelName('aio')).toBe(false);
    expect(defaultModel()).toBe(s.hasEpoll ? 'epoll' : 'poll');
    expect(WORKER_MODELS).toEqual(MODEL_NAMES.filter((n) => MODELS[n].workers !== null));
  });

  it("is what the README's model table lists, in the registry's order", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| `--io` | what it shows |'));
    const rows = [...table.matchAll(/^\| `([a-z]+)`[^|]*\|/gm)].map((m) => m[1]);
    expect(rows.slice(0, MODEL_NAMES.length)).toEqual(MODEL_NAMES);
  });

  it('is what the CLI offers: --help lists each model with what it shows', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const name of MODEL_NAMES) expect(r.stdout).toContain(`  ${name.padEnd(12)}${modelInfo(name).shows}`);
    expect(r.stdout).toContain(`MODEL (default: ${defaultModel()})`);
  });

  it('refuses an unknown model and --workers for a model that takes none, naming the ones that do', () => {
    const unknown = run('server', '--io', 'aio', '--port', '0');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown --io "aio"');
    const single = MODEL_NAMES.find((n) => modelInfo(n).workers === null && !modelInfo(n).blocksThread)!;
    const workers = run('server', '--io', single, '--workers', '2', '--port', '0');
    expect(workers.status).toBe(2);
    expect(workers.stderr).toContain(`--workers is for the ${WORKER_MODELS.join(' and ')} models`);
  });
});

describe('the selector registry', () => {
  it('lists every selector class the package exports, best first, with its kernel call', () => {
    const exported = Object.entries(s).filter(([name, v]) => typeof v === 'function' && /Selector$/.test(name) && name !== 'BaseSelector' && name !== 'DefaultSelector');
    expect(s.SELECTORS.map((i) => i.name).sort()).toEqual(exported.map(([name]) => name).sort());
    for (const info of s.SELECTORS) expect((s as Record<string, unknown>)[info.name]).toBe(info.cls);
    expect(s.SELECTORS.map((i) => i.kernel)).toEqual(['epoll', 'poll', 'select']);
    expect(s.SELECTORS.map((i) => i.waitCall)).toEqual(['epoll_wait', 'poll', 'select']);
  });

  it('DefaultSelector is the first class whose probe passes here', () => {
    const first = s.SELECTORS.find((i) => {
      try {
        i.probe();
        return true;
      } catch {
        return false;
      }
    });
    expect(s.DefaultSelector).toBe(first?.cls);
  });

  it('names a subclass by the registry class it derives from, and --trace refuses a class it does not know', () => {
    class Mine extends s.PollSelector {}
    expect(selectorInfo(Mine)?.kernel).toBe('poll');
    expect(selectorInfo(s.EpollSelector)?.name).toBe('EpollSelector');
    expect(selectorInfo(class {})).toBeUndefined();
    const Traced = tracedSelector(Mine as unknown as typeof s.PollSelector);
    const sel = new Traced();
    sel.close();
    class Stranger extends s.BaseSelector {
      protected backendAdd(): void {}
      protected backendModify(): void {}
      protected backendRemove(): void {}
      protected backendWait(): number {
        return 0;
      }
    }
    expect(() => tracedSelector(Stranger as never)).toThrow(/not in the selector registry/);
  });
});
