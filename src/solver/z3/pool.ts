// The main-thread side: a lazily started pool of Z3 worker threads that runs jobs FIFO and turns
// every failure of a worker (timeout, wasm heap exhaustion, abort, exit) into an `unknown`
// outcome, replacing the worker. Importing this module starts nothing.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../threads.js';
import type { Z3Job, Z3JobOptions, Z3JobOutcome, Z3UnknownReason } from './job.js';
import { Z3JobError } from './job.js';
import { firstLine, OUT_OF_MEMORY, type Answer, type FromWorker, type ToWorker, type WorkerConfig } from './protocol.js';

/** Options of a {@link Z3Pool}. */
export interface Z3PoolOptions {
  /** Maximum number of workers. Default: min(2, available cores). */
  readonly size?: number;
  /** An idle worker is closed after this many milliseconds (Infinity: never). Default 5000. */
  readonly idleTimeoutMs?: number;
  /**
   * After a job's deadline, how long its worker may take to answer (Z3 is interrupted at the
   * deadline) before it is terminated. Default 2000.
   */
  readonly graceMs?: number;
  /** A worker that is not ready after this long is terminated. Default 60000. */
  readonly startupTimeoutMs?: number;
  /**
   * Z3's `memory_max_size` in MiB, so that Z3 gives up (`unknown`, reason `out-of-memory`) before
   * the fixed 2 GiB wasm heap is exhausted; Z3's accounting sees about half of the heap in use.
   * 0: no limit (exhaustion aborts the worker, with the same outcome). Default 1024.
   */
  readonly memoryLimitMiB?: number;
  /** A worker is replaced after this many jobs (bounds the JS memory the bindings leak per context). Default 500. */
  readonly maxJobsPerWorker?: number;
  /** Extra job modules each worker imports besides `handlers.ts`; each exports `z3Jobs`. */
  readonly jobModules?: readonly (string | URL)[];
}

/** A snapshot of a pool's state. */
export interface Z3PoolStats {
  /** Workers alive (in any state). */
  readonly workers: number;
  readonly starting: number;
  readonly idle: number;
  readonly busy: number;
  /** Jobs waiting for a worker. */
  readonly queued: number;
  /** Workers started since the pool was created. */
  readonly spawned: number;
  /** Workers that died or were terminated while running a job or starting. */
  readonly crashed: number;
}

interface Settings {
  readonly size: number;
  readonly idleTimeoutMs: number;
  readonly graceMs: number;
  readonly startupTimeoutMs: number;
  readonly worker: WorkerConfig;
}

interface PendingJob {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (outcome: Z3JobOutcome<unknown>) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
  onAbort: (() => void) | undefined;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'closing';

interface Slot {
  readonly worker: Worker;
  state: SlotState;
  /** Whether the worker ever said it was ready. */
  ready: boolean;
  job: PendingJob | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the worker died, from its 'error' event, for the job it was running. */
  failure: { reason: Z3UnknownReason; detail: string } | undefined;
  readonly exited: Promise<void>;
}

const CLOSE_TIMEOUT_MS = 3_000;

/**
 * A pool of Z3 worker threads. Workers start on demand, are unref'd while idle (they never keep
 * the process alive) and closed after `idleTimeoutMs`; a worker that crashes, runs out of memory
 * or misses a deadline is terminated and replaced on demand.
 */
export class Z3Pool {
  readonly #settings: Settings;
  readonly #slots = new Set<Slot>();
  #queue: PendingJob[] = [];
  #nextId = 1;
  #spawned = 0;
  #crashed = 0;

  constructor(options: Z3PoolOptions = {}) {
    this.#settings = settingsFrom(options);
  }

  /**
   * Runs a job in a worker. Resolves to `done` with the handler's result, or to `unknown` with a
   * reason when there is none; never hangs past the job's deadline plus the grace period (plus
   * worker start-up and queueing).
   * @throws {Z3JobError} (as a rejection) when the handler threw, the kind is not registered, or
   * the payload or result cannot be structured-cloned.
   */
  run<P, R>(job: Z3Job<P, R>, payload: P, options: Z3JobOptions): Promise<Z3JobOutcome<R>>;
  run(kind: string, payload: unknown, options: Z3JobOptions): Promise<Z3JobOutcome<unknown>>;
  run(job: Z3Job<unknown, unknown> | string, payload: unknown, options: Z3JobOptions): Promise<Z3JobOutcome<unknown>> {
    const kind = typeof job === 'string' ? job : job.kind;
    const { timeoutMs, signal } = options;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 31)) {
      return Promise.reject(new RangeError(`timeoutMs must be a positive number of milliseconds below 2^31, got ${timeoutMs}`));
    }
    if (signal?.aborted) return Promise.resolve(unknown('cancelled', 'cancelled before it was queued'));
    return new Promise((resolve, reject) => {
      const pending: PendingJob = {
        id: this.#nextId++,
        kind,
        payload,
        timeoutMs,
        signal,
        resolve,
        reject,
        settled: false,
        onAbort: undefined,
      };
      if (signal) {
        pending.onAbort = () => this.#cancel(pending);
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /** A snapshot of the pool's state. */
  stats(): Z3PoolStats {
    const count = (state: SlotState): number => [...this.#slots].filter((slot) => slot.state === state).length;
    return {
      workers: this.#slots.size,
      starting: count('starting'),
      idle: count('idle'),
      busy: count('busy'),
      queued: this.#queue.length,
      spawned: this.#spawned,
      crashed: this.#crashed,
    };
  }

  /**
   * Stops every worker (idle ones close cleanly, calling `killThreads`; busy ones are terminated)
   * and answers queued and running jobs `unknown` with reason `shutdown`. Resolves when all
   * workers have exited. The pool can be used again afterwards; it starts new workers on demand.
   */
  async shutdown(): Promise<void> {
    const queued = this.#queue;
    this.#queue = [];
    for (const job of queued) this.#settle(job, unknown('shutdown', 'the Z3 pool was shut down before the job started'));
    const exits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      exits.push(slot.exited);
      if (slot.job) this.#settle(slot.job, unknown('shutdown', 'the Z3 pool was shut down while the job ran'));
      if (slot.state === 'idle') this.#close(slot);
      else this.#terminate(slot);
      // Someone awaits the exits: keep the process alive for them (and for the close timeout).
      slot.worker.ref();
      slot.timer?.ref();
    }
    await Promise.all(exits);
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const idle = [...this.#slots].find((slot) => slot.state === 'idle');
      if (idle) {
        this.#start(idle, this.#queue.shift() as PendingJob);
        continue;
      }
      const open = [...this.#slots].filter((slot) => slot.state !== 'closing');
      const starting = open.filter((slot) => slot.state === 'starting').length;
      if (open.length < this.#settings.size && starting < this.#queue.length) {
        this.#spawn();
        continue;
      }
      return;
    }
  }

  #spawn(): void {
    const worker = startZ3Worker(this.#settings.worker);
    this.#spawned++;
    let markExited!: () => void;
    const slot: Slot = {
      worker,
      state: 'starting',
      ready: false,
      job: undefined,
      timer: undefined,
      failure: undefined,
      exited: new Promise<void>((resolve) => (markExited = resolve)),
    };
    this.#slots.add(slot);
    slot.timer = setTimeout(() => {
      slot.failure = { reason: 'worker-start-failed', detail: `the worker was not ready after ${this.#settings.startupTimeoutMs} ms` };
      this.#terminate(slot);
    }, this.#settings.startupTimeoutMs);
    worker.on('message', (message: FromWorker) => this.#onMessage(slot, message));
    worker.on('error', (error: Error) => {
      const detail = firstLine(`${error.name}: ${error.message}`);
      if (!slot.ready) slot.failure = { reason: 'worker-start-failed', detail };
      else slot.failure ??= { reason: OUT_OF_MEMORY.test(error.message) ? 'out-of-memory' : 'worker-crashed', detail };
    });
    worker.on('exit', (code) => {
      this.#onExit(slot, code);
      markExited();
    });
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === 'ready') {
      if (slot.state !== 'starting') return;
      slot.ready = true;
      clearTimeout(slot.timer);
      this.#becomeIdle(slot);
      this.#dispatch();
      return;
    }
    this.#onAnswer(slot, message);
  }

  #onAnswer(slot: Slot, answer: Answer): void {
    const job = slot.job;
    if (!job || job.id !== answer.id || slot.state !== 'busy') return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    switch (answer.type) {
      case 'done':
        this.#settle(job, { status: 'done', result: answer.result });
        break;
      case 'unknown':
        this.#settle(job, unknown(answer.reason, answer.detail));
        break;
      case 'error':
        this.#fail(job, new Z3JobError(job.kind, answer.error));
        break;
    }
    if (answer.fatal) this.#terminate(slot);
    else if (answer.retire) this.#close(slot);
    else this.#becomeIdle(slot);
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number): void {
    clearTimeout(slot.timer);
    this.#slots.delete(slot);
    const job = slot.job;
    if (job && !job.settled) {
      this.#crashed++;
      const failure = slot.failure ?? { reason: 'worker-crashed', detail: `the worker exited with code ${code}` };
      this.#settle(job, unknown(failure.reason, failure.detail));
    } else if (!slot.ready && (slot.failure || slot.state !== 'closing')) {
      this.#crashed++;
      // A worker that cannot start is a setup problem (a bad job module, Z3 not loadable): every
      // queued job would meet it, so unless another worker is up, answer them all rather than
      // retrying forever.
      if ([...this.#slots].some((other) => other.ready)) {
        this.#dispatch();
        return;
      }
      const detail = slot.failure?.detail ?? `the worker exited with code ${code} before it was ready`;
      const queued = this.#queue;
      this.#queue = [];
      for (const pending of queued) this.#settle(pending, unknown('worker-start-failed', detail));
    }
    this.#dispatch();
  }

  #start(slot: Slot, job: PendingJob): void {
    const { graceMs } = this.#settings;
    const message: ToWorker = { type: 'job', id: job.id, kind: job.kind, payload: job.payload, timeoutMs: job.timeoutMs };
    try {
      slot.worker.postMessage(message);
    } catch (error) {
      this.#fail(job, new Z3JobError(job.kind, { name: 'DataCloneError', message: `the payload cannot be sent to a worker: ${(error as Error).message}` }));
      return;
    }
    clearTimeout(slot.timer);
    slot.state = 'busy';
    slot.job = job;
    slot.worker.ref();
    slot.timer = setTimeout(() => this.#overdue(slot), job.timeoutMs + graceMs);
  }

  // The worker interrupts Z3 at the deadline itself; reaching this means it did not answer.
  #overdue(slot: Slot): void {
    const job = slot.job;
    if (job) {
      this.#crashed++;
      this.#settle(job, unknown('timeout', `no answer ${this.#settings.graceMs} ms after the ${job.timeoutMs} ms deadline; the worker was terminated`));
    }
    this.#terminate(slot);
  }

  #cancel(job: PendingJob): void {
    if (job.settled) return;
    const index = this.#queue.indexOf(job);
    if (index >= 0) {
      this.#queue.splice(index, 1);
      this.#settle(job, unknown('cancelled', 'cancelled while queued'));
      return;
    }
    const slot = [...this.#slots].find((candidate) => candidate.job === job);
    this.#settle(job, unknown('cancelled', 'cancelled while running'));
    if (!slot) return;
    // The worker stays busy until it has wound the job down; give it the grace period to do so.
    slot.worker.postMessage({ type: 'cancel', id: job.id } satisfies ToWorker);
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.#terminate(slot), this.#settings.graceMs);
  }

  #becomeIdle(slot: Slot): void {
    slot.state = 'idle';
    slot.worker.unref();
    const { idleTimeoutMs } = this.#settings;
    if (Number.isFinite(idleTimeoutMs)) {
      slot.timer = setTimeout(() => this.#close(slot), idleTimeoutMs);
      slot.timer.unref();
    }
  }

  /** Asks the worker to stop Z3's threads and exit; terminates it if it does not. */
  #close(slot: Slot): void {
    if (slot.state === 'closing') return;
    clearTimeout(slot.timer);
    slot.state = 'closing';
    slot.worker.unref();
    slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
    slot.timer = setTimeout(() => void slot.worker.terminate(), CLOSE_TIMEOUT_MS);
    slot.timer.unref();
  }

  #terminate(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.state = 'closing';
    void slot.worker.terminate();
  }

  #settle(job: PendingJob, outcome: Z3JobOutcome<unknown>): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  #fail(job: PendingJob, error: Error): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.reject(error);
  }
}

function unknown(reason: Z3UnknownReason, detail: string): Z3JobOutcome<never> {
  return { status: 'unknown', reason, detail };
}

function settingsFrom(options: Z3PoolOptions): Settings {
  const size = options.size ?? Math.min(2, availableParallelism());
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`pool size must be a positive integer, got ${size}`);
  const nonNegative = (name: string, value: number): number => {
    if (!(value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
    return value;
  };
  const memoryLimitMiB = nonNegative('memoryLimitMiB', options.memoryLimitMiB ?? 1024);
  if (!Number.isInteger(memoryLimitMiB)) throw new RangeError(`memoryLimitMiB must be an integer, got ${memoryLimitMiB}`);
  return {
    size,
    idleTimeoutMs: nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? 5_000),
    graceMs: nonNegative('graceMs', options.graceMs ?? 2_000),
    startupTimeoutMs: nonNegative('startupTimeoutMs', options.startupTimeoutMs ?? 60_000),
    worker: {
      jobModules: (options.jobModules ?? []).map((module) => (module instanceof URL ? module.href : module)),
      memoryLimitMiB,
      maxJobs: Math.max(1, Math.floor(nonNegative('maxJobsPerWorker', options.maxJobsPerWorker ?? 500))),
    },
  };
}

/** Starts a worker on worker.ts/worker.js next to this module (see `../threads.ts`). */
function startZ3Worker(config: WorkerConfig): Worker {
  return startWorker(import.meta.url, './worker', { workerData: config });
}
