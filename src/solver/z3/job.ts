// Job definitions: what a Z3 job is, from both sides of the worker boundary.
// This module must stay free of runtime imports of z3-solver: the main thread imports it
// (through job modules) to get typed job handles without loading Z3.
import type { Z3Session } from './session.js';

/**
 * Runs one job inside a Z3 worker. It receives a fresh {@link Z3Session} (its own Z3 context,
 * deleted when the job ends), the payload sent by the caller (structured-cloned), and the job's
 * abort signal (aborted at the deadline or on cancellation). It returns plain, structured-cloneable
 * data; Z3 objects must not outlive the job.
 */
export type Z3JobHandler<P, R> = (session: Z3Session, payload: P, signal: AbortSignal) => Promise<R>;

/** A named job handler, created by {@link defineZ3Job}. */
export interface Z3Job<P, R> {
  /** Unique name of the job, e.g. `'placement.solve'`. */
  readonly kind: string;
  /** The code that runs in the worker. */
  readonly handler: Z3JobHandler<P, R>;
}

/** Any job, whatever its payload and result (payload `never` so every job is assignable). */
export type AnyZ3Job = Z3Job<never, unknown>;

/**
 * Defines a job. Put the definition in a module that does not import z3-solver at run time
 * (types only), export it, and list it in `src/solver/z3/handlers.ts` so that every worker
 * registers it; the caller passes the returned handle to `runZ3Job` to get typed results.
 *
 * @param kind - unique job name.
 * @param handler - the worker-side implementation.
 */
export function defineZ3Job<P, R>(kind: string, handler: Z3JobHandler<P, R>): Z3Job<P, R> {
  if (typeof kind !== 'string' || kind.length === 0) throw new TypeError('a Z3 job needs a non-empty kind');
  if (typeof handler !== 'function') throw new TypeError(`Z3 job '${kind}' needs a handler function`);
  return Object.freeze({ kind, handler });
}

/** Whether a value looks like a job handle made by {@link defineZ3Job}. */
export function isZ3Job(value: unknown): value is AnyZ3Job {
  if (typeof value !== 'object' || value === null) return false;
  const job = value as { kind?: unknown; handler?: unknown };
  return typeof job.kind === 'string' && job.kind.length > 0 && typeof job.handler === 'function';
}

/** Why a job has no answer. */
export type Z3UnknownReason =
  /** The deadline passed (Z3 was interrupted, or the worker was terminated after the grace period). */
  | 'timeout'
  /** Z3 hit its memory limit, or the worker's 2 GiB wasm heap ran out. */
  | 'out-of-memory'
  /** The worker aborted or exited while running the job. */
  | 'worker-crashed'
  /** No worker could be started (bad job module, Z3 failed to load, …). */
  | 'worker-start-failed'
  /** The caller's abort signal fired. */
  | 'cancelled'
  /** `shutdown()` was called while the job was queued or running. */
  | 'shutdown';

/** The outcome of a job: its result, or why there is none. */
export type Z3JobOutcome<R> =
  | { readonly status: 'done'; readonly result: R }
  | { readonly status: 'unknown'; readonly reason: Z3UnknownReason; readonly detail: string };

/** Per-job options. */
export interface Z3JobOptions {
  /**
   * Solving budget in milliseconds, counted from the moment a worker starts the job (time spent
   * queued does not count; use `signal` for a wall-clock bound). Backed by Z3's soft `timeout`,
   * an interrupt at the deadline, and termination of the worker after the pool's grace period.
   */
  readonly timeoutMs: number;
  /** Cancels the job; the outcome is then `unknown` with reason `cancelled`. */
  readonly signal?: AbortSignal;
}

/** The handler threw (a bug or a bad payload), the kind is not registered, or data could not be cloned. */
export class Z3JobError extends Error {
  override readonly name = 'Z3JobError';
  /** The job kind. */
  readonly kind: string;
  /** Name of the error raised in the worker (e.g. `TypeError`). */
  readonly remoteName: string;
  /** Stack trace from the worker, when there is one. */
  readonly remoteStack: string | undefined;

  constructor(kind: string, remote: { name: string; message: string; stack?: string | undefined }) {
    super(`Z3 job '${kind}' failed: ${remote.name}: ${remote.message}`);
    this.kind = kind;
    this.remoteName = remote.name;
    this.remoteStack = remote.stack;
  }
}
