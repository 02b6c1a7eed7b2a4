// Brute-force reference for the DMA-IOVA allocator tests: a bitmap of used page frames and a
// top-down scan for the highest slot that fits. Deliberately naive, so that it shares nothing
// with the allocator's search.

/** Smallest power of two >= n, by doubling. */
export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class PageMap {
  readonly used: Uint8Array;

  constructor(readonly topPfn: number) {
    this.used = new Uint8Array(topPfn + 1);
  }

  mark(lo: number, hi: number, value: 0 | 1): void {
    for (let p = lo; p <= hi; p++) this.used[p] = value;
  }

  isFree(lo: number, hi: number): boolean {
    if (lo < 0 || hi > this.topPfn) return false;
    for (let p = lo; p <= hi; p++) if (this.used[p]) return false;
    return true;
  }

  /**
   * The highest `x >= start` with `[x, x + size - 1]` free, `x + size - 1 <= limit` and `x` a
   * multiple of `align`; -1 if none. Scans downwards counting the free run above each pfn.
   */
  highestFit(start: number, limit: number, size: number, align: number): number {
    const top = Math.min(limit, this.topPfn);
    let run = 0;
    for (let x = top; x >= start; x--) {
      run = this.used[x] ? 0 : run + 1;
      if (run >= size && x % align === 0) return x;
    }
    return -1;
  }

  /** A copy with the ranges of `ranges` marked used on top of nothing else. */
  static of(topPfn: number, ranges: ReadonlyArray<{ lo: number; hi: number }>): PageMap {
    const m = new PageMap(topPfn);
    for (const r of ranges) m.mark(r.lo, Math.min(r.hi, topPfn), 1);
    return m;
  }
}
