/**
 * Starting a worker thread on a module of this package, from compiled code or from sources.
 *
 * Compiled (dist/*.js), that is a plain `new Worker(url)`. From sources (.ts, under vitest or
 * tsx) the worker needs tsx's loader, but on Node 20 tsx's hooks reach neither worker threads
 * of a process started with `--import tsx` nor ones given `execArgv: ['--import', 'tsx']` (tsx
 * registers on the main thread only); so an eval bootstrap registers tsx's ESM hooks in the
 * worker and then imports the module. Workers get no command-line options (`execArgv: []`):
 * threads they start themselves (emscripten's) would inherit them.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker on `name` (without extension) next to `base` (a module's `import.meta.url`):
 * `startWorker(import.meta.url, './worker', { workerData })`.
 */
export function startWorker(base: string, name: string, options: WorkerOptions = {}): Worker {
  const settings = { ...options, execArgv: [] };
  if (!base.endsWith('.ts')) return new Worker(new URL(`${name}.js`, base), settings);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`${name}.ts`, base).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...settings, eval: true });
}
