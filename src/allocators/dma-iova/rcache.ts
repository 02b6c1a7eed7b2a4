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
/** Largest pfn the pool holds in 32-bit slots. */
const NARROW_MAX = 0x7fffffff;
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
  /** Total pfns held in all magazines (counted on demand: the hot path keeps no total). */
  get held(): number {
    let n = 0;
    for (let b = 0; b < CACHE_BINS; b++) n += this.fill[this.loaded[b]] + this.fill[this.prev[b]] + this.depots[b].length * MAG_SIZE;
    return n;
  }
  /**
   * 32-bit slots until a pfn above {@link NARROW_MAX} is cached, then doubles: integer loads and
   * compares keep the all-cached path at the C's speed for the common (32-bit) spaces.
   */
  private pool: Int32Array | Float64Array = new Int32Array(STRIDE * 16);
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
      const pool = this.pool instanceof Int32Array ? new Int32Array(this.pool.length * 2) : new Float64Array(this.pool.length * 2);
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
    const mag = this.loaded[order];
    const n = fill[mag];
    if (n === 0) return this.getRefilled(order, maxPfn);
    const pool = this.pool;
    const base = mag * STRIDE;
    let i = base + n - 1;
    while (pool[i] > maxPfn) {
      if (i === base) return -1;
      i--;
    }
    const pfn = pool[i];
    pool[i] = pool[base + n - 1];
    fill[mag] = n - 1;
    return pfn;
  }

  /** {@link get} with an empty loaded magazine: swap in prev, or a depot magazine, first. */
  private getRefilled(order: number, maxPfn: number): number {
    const mag = this.loaded[order];
    const prev = this.prev[order];
    if (this.fill[prev] !== 0) {
      this.loaded[order] = prev;
      this.prev[order] = mag;
    } else {
      const depot = this.depots[order];
      if (depot.length === 0) return -1;
      this.spare.push(mag);
      this.loaded[order] = depot.pop() as number;
    }
    return this.get(order, maxPfn);
  }

  /** Caches `pfn` in bin `order`; a full loaded magazine goes to prev or to the depot. */
  put(order: number, pfn: number): void {
    const mag = this.loaded[order];
    const n = this.fill[mag];
    if (n !== MAG_SIZE && (pfn <= NARROW_MAX || this.pool instanceof Float64Array)) {
      this.pool[mag * STRIDE + n] = pfn;
      this.fill[mag] = n + 1;
    } else {
      this.putSlow(order, pfn);
    }
  }

  /** {@link put} into a full loaded magazine, or of the first pfn too wide for 32-bit slots. */
  private putSlow(order: number, pfn: number): void {
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
    if (pfn > NARROW_MAX && this.pool instanceof Int32Array) this.pool = Float64Array.from(this.pool);
    // Re-read: newMagazine() may have grown the pool.
    this.pool[mag * STRIDE + this.fill[mag]++] = pfn;
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
