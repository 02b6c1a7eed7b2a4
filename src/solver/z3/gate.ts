// The finalizer gate (hazard 1 of the Z3 wasm build).
//
// z3-solver's high-level API frees Z3 objects from a FinalizationRegistry callback, which runs on
// the JS thread; `check()` and the other async calls run Z3 on an emscripten pthread at the same
// time, and the wasm build has no locks, so a GC during a check corrupts Z3's heap. The gate counts
// the async calls in flight (every one goes through `em.async_call`), queues finalizer callbacks
// while any is in flight and runs them afterwards. It also refuses synchronous Z3 calls made from
// the JS thread while a call is in flight (e.g. building terms while awaiting a check), which
// would race the same way.

/** Counters kept by the gate; see {@link Z3CallGate}. */
export interface Z3GateCounters {
  /** Async Z3 calls (checks, …) started. */
  asyncCalls: number;
  /** Finalizer callbacks run. */
  finalizersRun: number;
  /** Of those, callbacks that arrived while a call was in flight and were run later. */
  finalizersDeferred: number;
  /** Finalizer callbacks that threw (the error is swallowed, as it would be in a finalizer). */
  finalizerErrors: number;
  /** FinalizationRegistry instances created through the gate. */
  registries: number;
}

/** Thrown when Z3 is called from the JS thread while an async Z3 call is running on its pthread. */
export class Z3ConcurrentCallError extends Error {
  override readonly name = 'Z3ConcurrentCallError';
  constructor(fn: string) {
    super(
      `Z3_${fn} called while an async Z3 call (check, …) is in flight; await the check before ` +
        'building or inspecting terms (the wasm build has no locks)',
    );
  }
}

/** Serialises JS-thread uses of Z3 (finalizers, synchronous calls) against async calls. */
export class Z3CallGate {
  #inFlight = 0;
  #pending: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #flushScheduled = false;
  #disabled: string | undefined;
  readonly #registries: FinalizationRegistry<unknown>[] = [];
  readonly counters: Z3GateCounters = {
    asyncCalls: 0,
    finalizersRun: 0,
    finalizersDeferred: 0,
    finalizerErrors: 0,
    registries: 0,
  };

  /** Number of async Z3 calls currently running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Number of finalizer callbacks waiting for the in-flight calls to finish. */
  get pendingFinalizers(): number {
    return this.#pending.length;
  }

  /** Marks the start of an async call; first runs the finalizers still queued from the previous ones. */
  enter(): void {
    // Without this, a handler that checks in a tight loop would starve the queue until it ends.
    if (this.#inFlight === 0 && this.#pending.length > 0) this.#runPending();
    this.#inFlight++;
    this.counters.asyncCalls++;
  }

  /** Marks the end of an async call (settled either way). */
  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#scheduleFlush();
  }

  /** Throws {@link Z3ConcurrentCallError} if an async call is in flight (or an error if Z3 is disabled). */
  assertNoCallInFlight(fn: string): void {
    if (this.#disabled !== undefined) throw new Error(`Z3_${fn}: Z3 is unusable in this thread (${this.#disabled})`);
    if (this.#inFlight > 0) throw new Z3ConcurrentCallError(fn);
  }

  /**
   * Stops all further use of Z3 in this thread: calls throw and finalizers are dropped. For after
   * Z3 ran out of memory, when destroying its objects can abort the module.
   */
  disable(reason: string): void {
    this.#disabled ??= reason;
    this.#pending = [];
  }

  /** Runs a finalizer callback now, or queues it until no async call is in flight. */
  finalize(callback: () => void): void {
    if (this.#disabled !== undefined) return;
    if (this.#inFlight > 0 || this.#pending.length > 0) {
      this.#pending.push(callback);
      this.counters.finalizersDeferred++;
      if (this.#inFlight === 0) this.#scheduleFlush();
      return;
    }
    this.#run(callback);
  }

  /** Resolves once no async call is in flight and no finalizer is queued. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0 && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  // The pthread posts its result a moment before it is done (it still frees its copies of the
  // arguments and exits, touching no Z3 state); flushing a macrotask later keeps clear of that.
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#inFlight > 0) return; // a new call started: flush after it
      this.#runPending();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    });
  }

  #runPending(): void {
    const batch = this.#pending;
    this.#pending = [];
    for (const callback of batch) this.#run(callback);
  }

  /** Remembers a registry created through the gate (see {@link sentinel}). */
  track(registry: FinalizationRegistry<unknown>): void {
    this.#registries.push(registry);
  }

  /**
   * Registers a dead object in every gated registry and resolves when all of them have been
   * finalized. V8 runs a registry's cleanup callbacks for everything one GC found dead in a
   * single task, so after a forced GC this resolves once the bindings' finalizers have run.
   * Relies on the bindings' cleanup calling its held value (`callback => callback()`).
   */
  sentinel(): Promise<void> {
    const finalized = this.#registries.map(
      (registry) => new Promise<void>((resolve) => registry.register({}, () => resolve())),
    );
    return Promise.all(finalized).then(() => undefined);
  }

  #run(callback: () => void): void {
    this.counters.finalizersRun++;
    try {
      callback();
    } catch {
      this.counters.finalizerErrors++;
    }
  }
}

/**
 * A FinalizationRegistry class whose cleanup callbacks go through `gate`. Install it as the
 * global `FinalizationRegistry` while z3-solver is imported and initialised, so that the
 * registry the bindings create is a gated one.
 */
export function gatedFinalizationRegistry(
  gate: Z3CallGate,
  Base: FinalizationRegistryConstructor = FinalizationRegistry,
): FinalizationRegistryConstructor {
  class GatedFinalizationRegistry<T> extends Base<T> {
    constructor(cleanup: (heldValue: T) => void) {
      super((heldValue: T) => gate.finalize(() => cleanup(heldValue)));
      gate.counters.registries++;
      gate.track(this as unknown as FinalizationRegistry<unknown>);
    }
  }
  return GatedFinalizationRegistry;
}
