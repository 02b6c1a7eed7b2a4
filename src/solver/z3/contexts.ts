// Z3 context lifetimes.
//
// z3-solver never deletes a Context: the context's own finalizer closure keeps the context object
// reachable, so each one leaks its ast_manager (measured: ~9 MiB for a small problem; 200 of them
// fill the 2 GiB heap). A fresh context per job is what makes a job's answer independent of what
// the worker ran before, so the runtime deletes job contexts itself. It may do so only once every
// wrapper object of the context has released its reference (or the wrapper's finalizer would
// dec_ref freed memory), so this janitor counts references per context, as seen through the
// instrumented `*_inc_ref`/`*_dec_ref` calls, and deletes a retired context when the count is 0.
// Params are not counted: the bindings' `solver.set()` takes a reference to a params object and
// never releases it, so counting them would keep every context that set a parameter alive (a
// params wrapper that outlives its context just has its release dropped, like any other).

type ContextPtr = number;

interface ContextEntry {
  refs: number;
  retired: boolean;
}

/** Counts references per Z3 context and deletes retired contexts that nothing references. */
export class ContextJanitor {
  readonly #contexts = new Map<ContextPtr, ContextEntry>();
  readonly #deleteContext: (ctx: ContextPtr) => void;
  /** Contexts deleted so far. */
  deleted = 0;
  /** Reference releases dropped because their context was already gone. */
  droppedReleases = 0;

  constructor(deleteContext: (ctx: ContextPtr) => void) {
    this.#deleteContext = deleteContext;
  }

  /** Records a new context. */
  created(ctx: ContextPtr): void {
    this.#contexts.set(ctx, { refs: 0, retired: false });
  }

  /** Records a reference taken in `ctx`. */
  acquire(ctx: ContextPtr): void {
    const entry = this.#contexts.get(ctx);
    if (entry) entry.refs++;
  }

  /** Records a reference released in `ctx`; false if the context is gone and the call must be dropped. */
  release(ctx: ContextPtr): boolean {
    const entry = this.#contexts.get(ctx);
    if (!entry) {
      this.droppedReleases++;
      return false;
    }
    entry.refs--;
    return true;
  }

  /** Whether `ctx` exists (was created and not deleted). */
  isLive(ctx: ContextPtr): boolean {
    return this.#contexts.has(ctx);
  }

  /** Marks `ctx` as no longer used: it is deleted by a later {@link sweep} once unreferenced. */
  retire(ctx: ContextPtr): void {
    const entry = this.#contexts.get(ctx);
    if (entry) entry.retired = true;
  }

  /** Retired contexts not deleted yet. */
  get retired(): number {
    let n = 0;
    for (const entry of this.#contexts.values()) if (entry.retired) n++;
    return n;
  }

  /** Live (not deleted) contexts. */
  get live(): number {
    return this.#contexts.size;
  }

  /**
   * Deletes every retired context whose reference count is 0. Call only when no Z3 call is in
   * flight and after the finalizers of the dead wrappers have run. Returns the number of retired
   * contexts that are still referenced (a handler kept Z3 objects beyond its job).
   */
  sweep(): number {
    let stuck = 0;
    for (const [ctx, entry] of this.#contexts) {
      if (!entry.retired) continue;
      if (entry.refs !== 0) {
        stuck++;
        continue;
      }
      this.#contexts.delete(ctx);
      this.#deleteContext(ctx);
      this.deleted++;
    }
    return stuck;
  }
}
