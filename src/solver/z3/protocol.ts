// Messages between the pool (main thread) and a Z3 worker. All structured-cloneable.
import type { Z3UnknownReason } from './job.js';

/** What the pool passes to a new worker as `workerData`. */
export interface WorkerConfig {
  /** Extra job modules (URLs) to import besides handlers.ts; each exports `z3Jobs`. */
  readonly jobModules: readonly string[];
  /** Z3 `memory_max_size` in MiB (0: none). */
  readonly memoryLimitMiB: number;
  /** Retire the worker after this many jobs. */
  readonly maxJobs: number;
}

export type ToWorker =
  | { readonly type: 'job'; readonly id: number; readonly kind: string; readonly payload: unknown; readonly timeoutMs: number }
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'close' };

/** A serialised error raised by a handler. */
export interface RemoteError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
}

/**
 * `retire`: the worker wants to be closed after this answer (job budget used up, Z3 ran out of
 * memory, …); `fatal`: Z3 aborted in this worker, which must be terminated rather than closed.
 */
interface AnswerBase {
  readonly id: number;
  readonly retire: boolean;
  readonly fatal: boolean;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly initMs: number; readonly version: string }
  | (AnswerBase & { readonly type: 'done'; readonly result: unknown })
  | (AnswerBase & { readonly type: 'unknown'; readonly reason: Z3UnknownReason; readonly detail: string })
  | (AnswerBase & { readonly type: 'error'; readonly error: RemoteError });

export type Answer = Extract<FromWorker, { readonly id: number }>;

/** Messages that say Z3 or the wasm heap ran out of memory (Z3 reasons, API errors, emscripten aborts). */
export const OUT_OF_MEMORY = /out of memory|memory exceeded|memout|bad_alloc|\bOOM\b|Cannot enlarge memory/i;

/** The first line of a message, cut to a length fit for an outcome's `detail`. */
export function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
