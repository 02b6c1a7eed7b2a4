/**
 * Per-size magazine caches of freed ranges (the fast path's "rcache").
 *
 * One bin per order 0..5 (ranges of 1, 2, 4, ... 32 pages). Each bin has a *loaded* and a
 * *prev* magazine of up to {@link MAG_SIZE} pfns and a *depot*: a stack of full magazines.
 * Ranges in a cache stay allocated in the tree; the cache only remembers them for reuse. This
 * models one CPU, which is what the Linux vectors were recorded with.
 */

/** Pfns per magazine. */
export const MAG_SIZE = 127;
/** Number of bins: orders 0..CACHE_BINS-1 are cached. */
export const CACHE_BINS = 6;

class Magazine {
  readonly pfns = new Float64Array(MAG_SIZE);
  size = 0;
}

class Bin {
  loaded = new Magazine();
  prev = new Magazine();
  /** Full magazines; the end of the array is the head (pushed last, popped first). */
  readonly depot: Magazine[] = [];
  /** A depot trim is scheduled for the next {@link RangeCache.tick}. */
  pending = false;
}

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
  private readonly bins: Bin[] = [];
  private readonly spare: Magazine[] = [];
  /** Total pfns held in all magazines. */
  held = 0;

  constructor() {
    for (let i = 0; i < CACHE_BINS; i++) this.bins.push(new Bin());
  }

  /**
   * Takes a cached pfn `<= maxPfn` from bin `order`, or returns -1. Only the loaded magazine is
   * searched (from its last slot down); an empty loaded magazine is first replaced by prev, or
   * by a depot magazine. The slot found is refilled with the last one (swap-pop).
   */
  get(order: number, maxPfn: number): number {
    const bin = this.bins[order];
    let mag = bin.loaded;
    if (mag.size === 0) {
      if (bin.prev.size !== 0) {
        bin.loaded = bin.prev;
        bin.prev = mag;
        mag = bin.loaded;
      } else if (bin.depot.length !== 0) {
        this.spare.push(mag);
        mag = bin.depot.pop() as Magazine;
        bin.loaded = mag;
      } else {
        return -1;
      }
    }
    const pfns = mag.pfns;
    let i = mag.size - 1;
    while (pfns[i] > maxPfn) {
      if (i === 0) return -1;
      i--;
    }
    const pfn = pfns[i];
    pfns[i] = pfns[--mag.size];
    this.held--;
    return pfn;
  }

  /** Caches `pfn` in bin `order`; a full loaded magazine goes to prev or to the depot. */
  put(order: number, pfn: number): void {
    const bin = this.bins[order];
    let mag = bin.loaded;
    if (mag.size === MAG_SIZE) {
      if (bin.prev.size !== MAG_SIZE) {
        bin.loaded = bin.prev;
        bin.prev = mag;
      } else {
        bin.depot.push(mag);
        bin.pending = true;
        bin.loaded = this.spare.pop() ?? new Magazine();
      }
      mag = bin.loaded;
    }
    mag.pfns[mag.size++] = pfn;
    this.held++;
  }

  /**
   * Empties every magazine through `release`: for each bin loaded then prev (slot order), then
   * for each bin the depot from its head. Scheduled trims stay scheduled.
   */
  drain(release: (pfn: number) => void): void {
    for (const bin of this.bins) {
      this.empty(bin.loaded, release);
      this.empty(bin.prev, release);
    }
    for (const bin of this.bins) {
      while (bin.depot.length !== 0) {
        const mag = bin.depot.pop() as Magazine;
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
    for (const bin of this.bins) {
      if (!bin.pending) continue;
      bin.pending = false;
      ran++;
      if (bin.depot.length > 1) {
        const mag = bin.depot.pop() as Magazine;
        this.empty(mag, release);
        this.spare.push(mag);
        bin.pending = true;
      }
    }
    return ran;
  }

  private empty(mag: Magazine, release: (pfn: number) => void): void {
    const n = mag.size;
    // Release after clearing so that a re-entrant put() cannot see a half-emptied magazine.
    const pfns = Array.from(mag.pfns.subarray(0, n));
    mag.size = 0;
    this.held -= n;
    for (const pfn of pfns) release(pfn);
  }

  /** Every bin's contents. */
  snapshot(): CacheBinState[] {
    return this.bins.map((bin) => ({
      loaded: Array.from(bin.loaded.pfns.subarray(0, bin.loaded.size)),
      prev: Array.from(bin.prev.pfns.subarray(0, bin.prev.size)),
      depot: bin.depot.length,
    }));
  }

  /** Every pfn held anywhere in the caches with its bin order (for checks and tests). */
  entries(): Array<{ order: number; pfn: number }> {
    const out: Array<{ order: number; pfn: number }> = [];
    this.bins.forEach((bin, order) => {
      for (const mag of [bin.loaded, bin.prev, ...bin.depot]) {
        for (let i = 0; i < mag.size; i++) out.push({ order, pfn: mag.pfns[i] });
      }
    });
    return out;
  }
}
