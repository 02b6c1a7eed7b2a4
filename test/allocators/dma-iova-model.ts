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

/**
 * A naive model of the `linux` policy's tree operations: a sorted array of ranges ending in the
 * anchor, and the kernel's walk taken literally — from the cursor's range, step by step to its
 * predecessors, then at most one second pass above it. The domain finds the same slots with its
 * gap summaries; this model is what it is checked against.
 */
export class NaiveLinuxTree {
  readonly nodes: Array<{ lo: number; hi: number }>;
  cached: number;
  cached32: number;
  max32: number;
  private readonly anchorLo: number;

  constructor(
    private readonly startPfn: number,
    private readonly topPfn: number,
    private readonly dma32: number,
  ) {
    this.anchorLo = topPfn + 1;
    this.nodes = [{ lo: this.anchorLo, hi: this.anchorLo }];
    this.cached = this.anchorLo;
    this.cached32 = this.anchorLo;
    this.max32 = dma32;
  }

  alloc(size: number, limitIn: number, aligned: boolean): number {
    const limitEx = Math.min(limitIn, this.topPfn) + 1;
    const low32 = limitEx <= this.dma32;
    if (low32 && size >= this.max32) return -1;
    const align = aligned ? pow2AtLeast(size) : 1;
    const startKey = low32 ? this.cached32 : this.cached;
    const start = this.nodes.findIndex((n) => n.lo === startKey);
    const retryAbove = startKey === this.anchorLo ? Infinity : this.nodes[start].hi;
    let curr = start;
    let high = limitEx;
    let low = this.startPfn;
    let retried = false;
    for (;;) {
      let above = curr;
      let at = -1;
      while (curr >= 0) {
        if (this.nodes[curr].lo < high) high = this.nodes[curr].lo;
        above = curr;
        curr--;
        if (high < size) break;
        at = Math.floor((high - size) / align) * align;
        if (curr < 0 || at > this.nodes[curr].hi || at < low) break;
      }
      if (high < size || at < low) {
        if (!retried && retryAbove < limitEx) {
          retried = true;
          high = limitEx;
          low = retryAbove + 1;
          curr = this.nodes.findIndex((n) => n.hi >= limitEx);
          continue;
        }
        this.max32 = size;
        return -1;
      }
      this.nodes.splice(above, 0, { lo: at, hi: at + size - 1 });
      if (at + size - 1 < this.dma32) this.cached32 = at;
      else this.cached = at;
      return at;
    }
  }

  free(pfn: number): boolean {
    const i = this.nodes.findIndex((n) => n.lo <= pfn && pfn <= n.hi && n.lo !== this.anchorLo);
    if (i < 0) return false;
    const { lo, hi } = this.nodes[i];
    const next = this.nodes[i + 1].lo;
    if (lo === this.cached32 || (hi < this.dma32 && lo >= this.cached32)) this.cached32 = next;
    if (lo < this.dma32) this.max32 = this.dma32;
    if (lo >= this.cached) this.cached = next;
    this.nodes.splice(i, 1);
    return true;
  }

  reserve(lo: number, hi: number): { lo: number; hi: number } | undefined {
    if (lo > this.topPfn || hi > this.topPfn) return undefined;
    let i = this.nodes.findIndex((n) => n.hi >= lo);
    while (this.nodes[i].lo <= hi) {
      const node = this.nodes[i];
      if (lo < node.lo) {
        if (this.cached === node.lo) this.cached = lo;
        if (this.cached32 === node.lo) this.cached32 = lo;
        node.lo = lo;
      }
      if (hi <= node.hi) return { ...node };
      lo = node.hi + 1;
      i++;
    }
    this.nodes.splice(i, 0, { lo, hi });
    return { lo, hi };
  }

  /** The ranges without the anchor. */
  dump(): Array<{ lo: number; hi: number }> {
    return this.nodes.slice(0, -1).map((n) => ({ ...n }));
  }
}
