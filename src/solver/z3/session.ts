// What a job handler gets: a fresh Z3 context with a deadline. Runs in the worker only.
import type { Bool, Context, Optimize, Solver, Z3Core, Z3HighLevel } from 'z3-solver';
import { OUT_OF_MEMORY } from './protocol.js';
import type { Z3Module, Z3Runtime, Z3RuntimeDiagnostics } from './runtime.js';

/** The name every job context carries (a type parameter of all z3-solver types). */
export type Z3ContextName = 'iova';
/** A job's Z3 context. */
export type Z3Context = Context<Z3ContextName>;

/** Options for {@link Z3Session.check}. */
export interface Z3CheckOptions {
  /**
   * A budget for this check shorter than the job's remaining time. When it runs out the check
   * answers `'unknown'` instead of ending the job.
   */
  readonly timeoutMs?: number;
}

/**
 * The Z3 environment of one job. Every Z3 call, through `ctx`, `Z3` or otherwise, is
 * finalizer-gated by the runtime; synchronous calls made while a check is in flight throw.
 */
export interface Z3Session {
  /** A context created for this job only; deleted after the job, with everything built in it. */
  readonly ctx: Z3Context;
  /**
   * The rest of the high-level API. Without `Context` (contexts made outside the session are
   * neither interrupted nor freed) and without the global-parameter setters (they would leak into
   * later jobs on the same worker; set solver parameters with `solver.set`).
   */
  readonly z3: Omit<Z3HighLevel, 'Context' | 'setParam' | 'resetParams'>;
  /** The low-level API (same gating). */
  readonly Z3: Z3Core;
  /** The emscripten module. */
  readonly em: Z3Module;
  /** Aborted at the deadline (reason `'timeout'`) or on cancellation (reason `'cancelled'`). */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (0 once it has passed). */
  remainingMs(): number;
  /**
   * Checks `target` within the job's remaining time: sets its soft `timeout` parameter to what is
   * left and relies on the interrupt at the deadline. Throws {@link Z3Interrupted} when the job's
   * deadline cut the check short (or the job was cancelled), and {@link Z3OutOfMemory} when Z3
   * ran out of memory; the job then ends `unknown` with reason `timeout`/`cancelled`/`out-of-memory`.
   * `'unknown'` is returned only for Z3's other reasons (incompleteness, a shorter `timeoutMs`).
   */
  check(
    target: Solver<Z3ContextName> | Optimize<Z3ContextName>,
    assumptions?: readonly Bool<Z3ContextName>[],
    options?: Z3CheckOptions,
  ): Promise<'sat' | 'unsat' | 'unknown'>;
  /** Counters of the worker's Z3 runtime (gate, contexts, memory). */
  diagnostics(): Z3RuntimeDiagnostics;
}

/** The job's deadline passed (or it was cancelled) while Z3 was working. */
export class Z3Interrupted extends Error {
  override readonly name = 'Z3Interrupted';
}

/** Z3 ran out of memory (its `memory_max_size`, or an allocation failure). */
export class Z3OutOfMemory extends Error {
  override readonly name = 'Z3OutOfMemory';
}

/** Why a session was aborted. */
export type Z3AbortReason = 'timeout' | 'cancelled';

const INTERRUPTED = /^(canceled|cancelled|interrupted|timeout)$/i;

// After the deadline the interrupt is repeated: a check started after the first interrupt (by a
// handler that ignores the signal) must stop too.
const REINTERRUPT_MS = 100;

/** A session as the worker drives it. */
export interface JobSession extends Z3Session {
  /** Aborts the job: aborts the signal and interrupts Z3. */
  abort(reason: Z3AbortReason): void;
  /** Ends the job: stops the timers and hands the context to the janitor. */
  close(): void;
}

/** Opens the session of one job (creates its context and arms its deadline). */
export function openSession(runtime: Z3Runtime, timeoutMs: number): JobSession {
  const { api } = runtime;
  const ctx: Z3Context = api.Context('iova');
  const controller = new AbortController();
  const deadline = performance.now() + timeoutMs;
  let reinterrupt: ReturnType<typeof setInterval> | undefined;
  const interrupt = (): void => {
    try {
      ctx.interrupt();
    } catch {
      // nothing to interrupt
    }
  };
  const abort = (reason: Z3AbortReason): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    interrupt();
    reinterrupt = setInterval(interrupt, REINTERRUPT_MS);
  };
  const timer = setTimeout(() => abort('timeout'), timeoutMs);
  const remainingMs = (): number => Math.max(0, deadline - performance.now());

  return {
    ctx,
    z3: api,
    Z3: api.Z3,
    em: api.em,
    signal: controller.signal,
    remainingMs,
    diagnostics: () => runtime.diagnostics(),
    abort,
    close() {
      clearTimeout(timer);
      clearInterval(reinterrupt);
      runtime.janitor.retire(ctx.ptr as unknown as number);
    },
    async check(target, assumptions = [], options = {}) {
      const interrupted = (why: string): Z3Interrupted =>
        new Z3Interrupted(`${String(controller.signal.reason ?? 'timeout')}: ${why}`);
      if (controller.signal.aborted) throw interrupted('before the check started');
      const left = remainingMs();
      const own = options.timeoutMs !== undefined && options.timeoutMs < left;
      const budget = Math.max(1, Math.ceil(own ? (options.timeoutMs as number) : left));
      target.set('timeout', budget);
      const result = await target.check(...assumptions);
      if (result !== 'unknown') return result;
      const why = target.reasonUnknown();
      if (OUT_OF_MEMORY.test(why)) throw new Z3OutOfMemory(`Z3: ${why}`);
      // The soft timeout may fire a moment before the deadline timer: both mean the job's time is up.
      if (controller.signal.aborted || (!own && INTERRUPTED.test(why))) throw interrupted(`Z3: ${why}`);
      return 'unknown';
    },
  };
}
