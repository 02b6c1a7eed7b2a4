// Public API of the Z3 runtime. Importing it loads neither Z3 nor a worker.
import type { Z3Job, Z3JobOptions, Z3JobOutcome } from './job.js';
import { Z3Pool, type Z3PoolOptions, type Z3PoolStats } from './pool.js';

export { defineZ3Job, Z3JobError } from './job.js';
export type { AnyZ3Job, Z3Job, Z3JobHandler, Z3JobOptions, Z3JobOutcome, Z3UnknownReason } from './job.js';
export { Z3Pool } from './pool.js';
export type { Z3PoolOptions, Z3PoolStats } from './pool.js';
export { Z3Interrupted, Z3OutOfMemory } from './session.js';
export type { Z3CheckOptions, Z3Context, Z3ContextName, Z3Session } from './session.js';
export type { Z3Module, Z3RuntimeDiagnostics } from './runtime.js';
export { Z3ConcurrentCallError } from './gate.js';
export { pingJob } from './jobs/builtin.js';

let defaultPool: Z3Pool | undefined;

function pool(): Z3Pool {
  defaultPool ??= new Z3Pool();
  return defaultPool;
}

/**
 * Sets the options of the process-wide pool used by {@link runZ3Job}.
 * @throws if that pool has workers or queued jobs (call {@link shutdownZ3} first).
 */
export function configureZ3(options: Z3PoolOptions): void {
  if (defaultPool) {
    const { workers, queued } = defaultPool.stats();
    if (workers > 0 || queued > 0) throw new Error('configureZ3: the Z3 pool is in use; call shutdownZ3() first');
  }
  defaultPool = new Z3Pool(options);
}

/**
 * Runs a job on the process-wide Z3 pool (started on first use; see {@link Z3Pool.run}).
 *
 * @example
 * ```ts
 * const outcome = await runZ3Job(solvePlacementJob, payload, { timeoutMs: 10_000 });
 * if (outcome.status === 'unknown') console.error(`no answer: ${outcome.reason} (${outcome.detail})`);
 * ```
 */
export function runZ3Job<P, R>(job: Z3Job<P, R>, payload: P, options: Z3JobOptions): Promise<Z3JobOutcome<R>>;
export function runZ3Job(kind: string, payload: unknown, options: Z3JobOptions): Promise<Z3JobOutcome<unknown>>;
export function runZ3Job(job: Z3Job<unknown, unknown> | string, payload: unknown, options: Z3JobOptions): Promise<Z3JobOutcome<unknown>> {
  return typeof job === 'string' ? pool().run(job, payload, options) : pool().run(job, payload, options);
}

/**
 * Stops the process-wide pool's workers (see {@link Z3Pool.shutdown}). Not needed for the process
 * to exit: idle workers never keep it alive. The pool restarts on the next job.
 */
export async function shutdownZ3(): Promise<void> {
  await defaultPool?.shutdown();
}

/** A snapshot of the process-wide pool (all zeros before first use). */
export function z3PoolStats(): Z3PoolStats {
  return pool().stats();
}
