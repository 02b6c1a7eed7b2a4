// Loads Z3 into the current thread with the hazards contained: the bindings' FinalizationRegistry
// is created through the gate, every async call is counted, synchronous calls are refused while
// one is in flight, context lifetimes are tracked, and the global parameters that make answers
// reproducible are set. Meant for worker threads (see pool.ts): on the main thread a wasm heap
// exhaustion would kill the process.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Z3Core, Z3HighLevel, Z3LowLevel, Z3_context } from 'z3-solver';
import { ContextJanitor } from './contexts.js';
import { Z3CallGate, gatedFinalizationRegistry, type Z3GateCounters } from './gate.js';

/** The parts of the emscripten module of the Z3 build that the runtime relies on. */
export interface Z3Module {
  /** Starts `fn` on a pthread; the promise settles when it returns (one at a time per module). */
  async_call: (fn: unknown, ...args: unknown[]) => Promise<unknown>;
  /** emscripten's pthread bookkeeping (read by `killThreads`). */
  readonly PThread: { readonly runningWorkers: readonly unknown[]; readonly unusedWorkers: readonly unknown[] };
  _malloc(size: number): number;
  _free(ptr: number): void;
  readonly HEAPU8: Uint8Array;
  readonly [key: string]: unknown;
}

/** z3-solver's API after `init()`, with `em` typed. */
export type Z3Api = Z3HighLevel & Omit<Z3LowLevel, 'em'> & { readonly em: Z3Module };

/** Options for {@link loadZ3Runtime}. */
export interface Z3RuntimeOptions {
  /** Z3's `memory_max_size` in MiB (0: no limit, the wasm heap runs out instead). */
  readonly memoryLimitMiB: number;
}

/** Counters describing the runtime's state (for tests and diagnostics). */
export interface Z3RuntimeDiagnostics extends Z3GateCounters {
  /** Async calls in flight right now. */
  readonly inFlight: number;
  /** Finalizer callbacks queued right now. */
  readonly pendingFinalizers: number;
  /** Z3 contexts not deleted yet. */
  readonly liveContexts: number;
  /** Contexts deleted by the runtime. */
  readonly deletedContexts: number;
  /** Z3's own estimate of the memory it has allocated, in bytes. */
  readonly estimatedAllocBytes: number;
  /** Whether a forced GC is available to the runtime (it is used to collect finished jobs). */
  readonly canForceGc: boolean;
}

/** Z3 loaded into this thread; see {@link loadZ3Runtime}. */
export interface Z3Runtime {
  readonly api: Z3Api;
  readonly gate: Z3CallGate;
  readonly janitor: ContextJanitor;
  /** Wall-clock time `init()` took, in milliseconds. */
  readonly initMs: number;
  /**
   * Collects garbage (forced when possible), lets the finalizers run and deletes the retired
   * contexts nothing references. Returns the number of retired contexts still referenced.
   */
  sweep(): Promise<number>;
  diagnostics(): Z3RuntimeDiagnostics;
  /** Terminates Z3's pthreads (`killThreads`), after letting running ones finish briefly. */
  shutdown(): Promise<void>;
}

// Synchronous calls that are safe, or needed, while an async call runs: `check()` reads the error
// code right after starting the call, and `interrupt` exists to be called during a check.
const CONCURRENT_SAFE = new Set(['interrupt', 'get_error_code', 'get_error_msg', 'get_estimated_alloc_size']);
const ACQUIRE = /(^|_)inc_ref$/;
const RELEASE = /(^|_)dec_ref$|^rcf_del$/;
// Not counted (see contexts.ts), but a release in a deleted context is still dropped.
const UNCOUNTED = new Set(['params_inc_ref', 'params_dec_ref']);

/** Seeds and limits set in every thread that loads Z3, so that a job's answer does not depend on the thread. */
function globalParams(options: Z3RuntimeOptions): Record<string, string> {
  return {
    'smt.random_seed': '0',
    'sat.random_seed': '0',
    memory_max_size: String(options.memoryLimitMiB),
  };
}

// How long a sweep waits for the finalizers after a forced GC (they normally run within a few ms).
const SENTINEL_WAIT_MS = 250;
// How long shutdown waits for Z3's pthreads to finish before terminating them.
const PTHREAD_EXIT_WAIT_MS = 1_000;

let loading: Promise<Z3Runtime> | undefined;

/**
 * Loads and initialises Z3 in the current thread (once; later calls return the same runtime).
 * @throws if the bindings' finalizers could not be gated (an incompatible z3-solver version).
 */
export function loadZ3Runtime(options: Z3RuntimeOptions): Promise<Z3Runtime> {
  loading ??= load(options);
  return loading;
}

async function load(options: Z3RuntimeOptions): Promise<Z3Runtime> {
  const gate = new Z3CallGate();
  const started = performance.now();
  // The bindings create their FinalizationRegistry inside init() (and a future version might do it
  // at import): make the gated class the global one for both.
  const Original = globalThis.FinalizationRegistry;
  globalThis.FinalizationRegistry = gatedFinalizationRegistry(gate, Original);
  let raw: Z3HighLevel & Z3LowLevel;
  let killThreads: (em: unknown) => Promise<void>;
  try {
    const mod = await import('z3-solver');
    killThreads = mod.killThreads;
    raw = await mod.init();
  } finally {
    globalThis.FinalizationRegistry = Original;
  }
  const initMs = performance.now() - started;
  if (gate.counters.registries === 0) {
    throw new Error('z3-solver did not create its FinalizationRegistry through the gate; unsupported z3-solver version');
  }
  const api = raw as Z3Api;
  const em = api.em;
  if (typeof em.async_call !== 'function') {
    throw new Error('z3-solver has no em.async_call; unsupported z3-solver version');
  }
  gateAsyncCalls(em, gate);
  const nativeDelete = api.Z3.del_context;
  const janitor = new ContextJanitor((ctx) => nativeDelete(ctx as unknown as Z3_context));
  instrument(api.Z3, gate, janitor);

  for (const [name, value] of Object.entries(globalParams(options))) {
    api.setParam(name, value);
    // A misspelt parameter is accepted silently: read each one back.
    if (api.getParam(name) !== value) throw new Error(`Z3 did not accept the global parameter ${name}=${value}`);
  }

  const forceGc = obtainGc();
  return {
    api,
    gate,
    janitor,
    initMs,
    async sweep() {
      await gate.whenIdle();
      if (forceGc) {
        // V8 runs the finalizers of what a GC found dead in a later task, whose timing relative to
        // the event loop's phases varies (in workers it often comes after several timers): wait
        // for a sentinel finalized in that same task.
        const finalized = gate.sentinel();
        forceGc();
        await Promise.race([finalized, new Promise((resolve) => setTimeout(resolve, SENTINEL_WAIT_MS))]);
      }
      await gate.whenIdle();
      return janitor.sweep();
    },
    diagnostics() {
      return {
        ...gate.counters,
        inFlight: gate.inFlight,
        pendingFinalizers: gate.pendingFinalizers,
        liveContexts: janitor.live,
        deletedContexts: janitor.deleted,
        estimatedAllocBytes: Number(api.Z3.get_estimated_alloc_size()),
        canForceGc: forceGc !== undefined,
      };
    },
    async shutdown() {
      // A pthread that just answered is still exiting; killing it then makes emscripten complain
      // about messages from a terminated worker.
      const until = performance.now() + PTHREAD_EXIT_WAIT_MS;
      while (em.PThread.runningWorkers.length > 0 && performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await killThreads(em);
    },
  };
}

/** Counts every async call on the gate. All of them (check, simplify, …) go through `em.async_call`. */
function gateAsyncCalls(em: Z3Module, gate: Z3CallGate): void {
  const original = em.async_call;
  em.async_call = function gatedAsyncCall(this: unknown, fn: unknown, ...args: unknown[]): Promise<unknown> {
    gate.enter();
    let promise: Promise<unknown>;
    try {
      promise = original.call(this, fn, ...args);
    } catch (error) {
      gate.leave();
      throw error;
    }
    // Registered before the caller's await, so the gate opens before the caller resumes.
    const leave = (): void => gate.leave();
    promise.then(leave, leave);
    return promise;
  };
}

type Native = (...args: unknown[]) => unknown;

/**
 * Wraps every function of the low-level API (the high-level API looks them up on this same object
 * at each call): refuse calls while an async call is in flight, count references per context, and
 * take context deletion away from the bindings (the janitor keeps the native `del_context`).
 */
function instrument(Z3: Z3Core, gate: Z3CallGate, janitor: ContextJanitor): void {
  const table = Z3 as unknown as Record<string, unknown>;
  for (const name of Object.keys(table)) {
    const value = table[name];
    if (typeof value !== 'function' || CONCURRENT_SAFE.has(name)) continue;
    const native = value as Native;
    let wrapped: Native;
    if (name === 'mk_context_rc') {
      wrapped = (...args) => {
        gate.assertNoCallInFlight(name);
        const ctx = native(...args) as number;
        janitor.created(ctx);
        return ctx;
      };
    } else if (name === 'del_context') {
      wrapped = () => undefined;
    } else if (UNCOUNTED.has(name)) {
      wrapped = (ctx, ...rest) => {
        gate.assertNoCallInFlight(name);
        if (!janitor.isLive(ctx as number)) return undefined;
        return native(ctx, ...rest);
      };
    } else if (ACQUIRE.test(name)) {
      wrapped = (ctx, ...rest) => {
        gate.assertNoCallInFlight(name);
        janitor.acquire(ctx as number);
        return native(ctx, ...rest);
      };
    } else if (RELEASE.test(name)) {
      wrapped = (ctx, ...rest) => {
        gate.assertNoCallInFlight(name);
        if (!janitor.release(ctx as number)) return undefined;
        return native(ctx, ...rest);
      };
    } else {
      wrapped = (...args) => {
        gate.assertNoCallInFlight(name);
        return native(...args);
      };
    }
    table[name] = wrapped;
  }
}

/** A function that forces a full GC, if this process lets us have one. */
function obtainGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  try {
    // The flag only affects contexts created afterwards, hence the fresh vm context.
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
