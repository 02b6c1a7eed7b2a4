/**
 * Per-size magazine caches of freed ranges (the fast path's "rcache").
 *
 * One bin per order 0..5 (ranges of 1, 2, 4, ... 32 pages). Each bin has a *loaded* and a
 * *prev* magazine of up to {@link MAG_SIZE} pfns and a *depot*: a stack of full magazines.
 * Ranges in a cache stay allocated in the tree; the cache only remembers them for reuse. This
 * models one CPU, which is what the Linux vectors were recorded with.
 *
 * Storage: magazines are ids into one pool of pfns (`MAG_SIZE` slots each) with a fill count
 * per id; a bin's loaded/prev magazines are ids too. Swapping magazines swaps ids, and the hot
 * path touches a few typed-array slots instead of chasing objects.
 */

/** Pfns per magazine. */
export const MAG_SIZE = 127;
/** Number of bins: orders 0..CACHE_BINS-1 are cached. */
export const CACHE_BINS = 6;
/** Pool stride: MAG_SIZE rounded up, so a magazine starts at `id * STRIDE`. */
const STRIDE = 128;

/** What one bin holds, for introspection and the `rcache` / `state` trace ops. */
export interface CacheBinState {
  /** Contents of the loaded magazine in slot order. */
  readonly loaded: readonly number[];
  /** Contents of the prev magazine in slot order. */
  readonly prev: readonly number[];
  /** Number of full magazines in the depot. */
  readonly depot: number;
}

export class RangeCache {
  /** Total pfns held in all magazines. */
  held = 0;
  private pool = new Float64Array(STRIDE * 16);
  private fill = new Int32Array(16);
  private magazines = 0;
  private readonly spare: number[] = [];
  private readonly loaded = new Int32Array(CACHE_BINS);
  private readonly prev = new Int32Array(CACHE_BINS);
  /** Per bin, full magazines; the end of each array is the head (pushed last, popped first). */
  private readonly depots: number[][] = [];
  /** Per bin: a depot trim is scheduled for the next {@link tick}. */
  private readonly pending = new Uint8Array(CACHE_BINS);

  constructor() {
    for (let b = 0; b < CACHE_BINS; b++) {
      this.loaded[b] = this.newMagazine();
      this.prev[b] = this.newMagazine();
      this.depots.push([]);
    }
  }

  private newMagazine(): number {
    const id = this.spare.pop();
    if (id !== undefined) return id;
    if (this.magazines === this.fill.length) {
      const pool = new Float64Array(this.pool.length * 2);
      pool.set(this.pool);
      this.pool = pool;
      const fill = new Int32Array(this.fill.length * 2);
      fill.set(this.fill);
      this.fill = fill;
    }
    return this.magazines++;
  }

  /**
   * Takes a cached pfn `<= maxPfn` from bin `order`, or returns -1. Only the loaded magazine is
   * searched (from its last slot down); an empty loaded magazine is first replaced by prev, or
   * by a depot magazine. The slot found is refilled with the last one (swap-pop).
   */
  get(order: number, maxPfn: number): number {
    const fill = this.fill;
    let mag = this.loaded[order];
    if (fill[mag] === 0) {
      const prev = this.prev[order];
      if (fill[prev] !== 0) {
        this.loaded[order] = prev;
        this.prev[order] = mag;
        mag = prev;
      } else {
        const depot = this.depots[order];
        if (depot.length === 0) return -1;
        this.spare.push(mag);
        mag = depot.pop() as number;
        this.loaded[order] = mag;
      }
    }
    const pool = this.pool;
    const base = mag * STRIDE;
    let i = base + fill[mag] - 1;
    while (pool[i] > maxPfn) {
      if (i === base) return -1;
      i--;
    }
    const pfn = pool[i];
    pool[i] = pool[base + --fill[mag]];
    this.held--;
    return pfn;
  }

  /** Caches `pfn` in bin `order`; a full loaded magazine goes to prev or to the depot. */
  put(order: number, pfn: number): void {
    let mag = this.loaded[order];
    if (this.fill[mag] === MAG_SIZE) {
      const prev = this.prev[order];
      if (this.fill[prev] !== MAG_SIZE) {
        this.loaded[order] = prev;
        this.prev[order] = mag;
        mag = prev;
      } else {
        this.depots[order].push(mag);
        this.pending[order] = 1;
        mag = this.newMagazine();
        this.loaded[order] = mag;
      }
    }
    // Re-read: newMagazine() may have grown the pool.
    this.pool[mag * STRIDE + this.fill[mag]++] = pfn;
    this.held++;
  }

  /**
   * Empties every magazine through `release`: for each bin loaded then prev (slot order), then
   * for each bin the depot from its head. Scheduled trims stay scheduled.
   */
  drain(release: (pfn: number) => void): void {
    for (let b = 0; b < CACHE_BINS; b++) {
      this.empty(this.loaded[b], release);
      this.empty(this.prev[b], release);
    }
    for (const depot of this.depots) {
      while (depot.length !== 0) {
        const mag = depot.pop() as number;
        this.empty(mag, release);
        this.spare.push(mag);
      }
    }
  }

  /**
   * Runs each scheduled depot trim once: a bin whose depot holds more than one magazine gives
   * its head magazine back through `release` and stays scheduled. Returns how many trims ran.
   */
  tick(release: (pfn: number) => void): number {
    let ran = 0;
    for (let b = 0; b < CACHE_BINS; b++) {
      if (this.pending[b] === 0) continue;
      this.pending[b] = 0;
      ran++;
      const depot = this.depots[b];
      if (depot.length > 1) {
        const mag = depot.pop() as number;
        this.empty(mag, release);
        this.spare.push(mag);
        this.pending[b] = 1;
      }
    }
    return ran;
  }

  private empty(mag: number, release: (pfn: number) => void): void {
    // Copy out and clear first, so that release() may safely use the cache again.
    const pfns = this.contents(mag);
    this.fill[mag] = 0;
    this.held -= pfns.length;
    for (const pfn of pfns) release(pfn);
  }

  private contents(mag: number): number[] {
    return Array.from(this.pool.subarray(mag * STRIDE, mag * STRIDE + this.fill[mag]));
  }

  /** Every bin's contents. */
  snapshot(): CacheBinState[] {
    const out: CacheBinState[] = [];
    for (let b = 0; b < CACHE_BINS; b++) {
      out.push({ loaded: this.contents(this.loaded[b]), prev: this.contents(this.prev[b]), depot: this.depots[b].length });
    }
    return out;
  }
}
