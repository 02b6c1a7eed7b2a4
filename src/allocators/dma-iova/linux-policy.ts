/**
 * The `linux` policy: placement exactly as the Linux kernel's IOVA domain does it (mainline
 * v6.x `drivers/iommu/iova.c`), including its misses. Behaviour modelled:
 *
 * - Top-down next-fit: a walk starts at a cursor (`cached32` for limits at or below 4 GiB,
 *   `cached` above) and steps to predecessors, taking the first gap below the current node
 *   that holds the request. If it reaches the start pfn (or the bottom) without success and
 *   the cursor was a real node below the limit, it retries once over the region between that
 *   node and the limit. The kernel walks node by node (a failing request in a fragmented
 *   space visits every node); the first gap that fits walking down from a node is the highest
 *   fitting gap at or below it, so here the tree's gap summaries find it in O(log n), with the
 *   same slot inside the gap (`(high - size)` rounded down to the alignment).
 * - The 32-bit gate: any failure records the failed size; later requests with a limit at or
 *   below 4 GiB and a size at least that large fail immediately, even when they would fit.
 *   Freeing a range that starts below 4 GiB lifts the gate.
 * - Cursor maintenance on insert and free (see {@link LinuxPolicy.alloc} and
 *   {@link LinuxPolicy.free}).
 * - `reserve` grows overlapping nodes instead of adding separate ones (it can grow a live
 *   allocation) and never merges.
 */
import type { CursorState, PfnRange, TreePolicy } from './policy.js';
import { roundUpPow2 } from './pfn.js';
import { IovaTree } from './tree.js';

export class LinuxPolicy implements TreePolicy {
  readonly tree: IovaTree;
  private readonly topPfn: number;
  /** First pfn at or above 4 GiB. */
  private readonly dma32: number;
  /**
   * The cursors, as the `lo` of the range they point at (the anchor's `lo` for the anchor).
   * Ranges never share a `lo`, and whatever moves a cursor's range updates the cursor.
   */
  private cached: number;
  private cached32: number;
  private max32: number;

  constructor(startPfn: number, topPfn: number, shift: number) {
    this.topPfn = topPfn;
    this.dma32 = 2 ** (32 - shift);
    this.tree = new IovaTree({ topPfn, startPfn });
    this.cached = this.tree.anchorLo;
    this.cached32 = this.tree.anchorLo;
    this.max32 = this.dma32;
  }

  alloc(size: number, limit: number, aligned: boolean): number {
    const tree = this.tree;
    // The kernel works with an exclusive limit.
    const limitEx = limit + 1;
    const low32 = limitEx <= this.dma32;
    if (low32 && size >= this.max32) return -1;
    const align = aligned ? roundUpPow2(size) : 1;
    const startKey = low32 ? this.cached32 : this.cached;
    let at: number;
    if (startKey > limitEx) {
      // The walk starts at or above the range straddling the limit (or at the anchor): it
      // passes every gap below the limit, and needs no second pass.
      at = tree.highestFit(size, align, limit);
    } else {
      // It starts at the cursor's range, below the limit: the first fit walking down from there
      // is the highest fit at or below it.
      const start = tree.floorPos(startKey);
      at = tree.fitAtOrBelow(start, size, align, limit);
      // Failing that, one more pass over the region between that range and the limit. The first
      // pass saw everything at or below the range, so whatever this finds lies above it.
      if (at < 0 && tree.hiOf(start) < limitEx) at = tree.highestFit(size, align, limit);
    }
    if (at < 0) {
      this.max32 = size;
      return -1;
    }
    tree.insertBefore(tree.fitAbove, at, at + size - 1);
    if (at + size - 1 < this.dma32) this.cached32 = at;
    else this.cached = at;
    return at;
  }

  /**
   * Frees the range containing `pfn`. A cursor on it moves to the next range up; so does
   * `cached32` when the range lies below 4 GiB at or above it, and `cached` when the range
   * starts at or above it. Freeing anything that starts below 4 GiB lifts the gate.
   */
  free(pfn: number): boolean {
    const tree = this.tree;
    const p = tree.find(pfn);
    if (p < 0) return false;
    const lo = tree.loOf(p);
    const hi = tree.hiOf(p);
    const next = tree.loOf(tree.nextPos(p));
    if (lo === this.cached32 || (hi < this.dma32 && lo >= this.cached32)) this.cached32 = next;
    if (lo < this.dma32) this.max32 = this.dma32;
    if (lo >= this.cached) this.cached = next;
    tree.remove(p);
    return true;
  }

  /**
   * Walks the ranges overlapping `[lo, hi]` upwards: the first one is grown down to `lo`, each
   * later one is grown down to just above the previous one (swallowing the gap between them),
   * and whatever sticks out above the last is inserted as a new range. Returns the range that
   * ends up covering the top of the request. The gate is left alone, and the cursors keep
   * pointing at the same ranges.
   */
  reserve(lo: number, hi: number): PfnRange | undefined {
    if (lo > this.topPfn || hi > this.topPfn) return undefined;
    const tree = this.tree;
    let p = tree.ceilingByHi(lo);
    while (tree.loOf(p) <= hi) {
      const nodeLo = tree.loOf(p);
      if (lo < nodeLo) {
        tree.extendDown(p, lo);
        if (this.cached === nodeLo) this.cached = lo;
        if (this.cached32 === nodeLo) this.cached32 = lo;
      }
      if (hi <= tree.hiOf(p)) return { lo: tree.loOf(p), hi: tree.hiOf(p) };
      lo = tree.hiOf(p) + 1;
      p = tree.nextPos(p);
    }
    tree.insert(lo, hi);
    return { lo, hi };
  }

  cursors(): CursorState {
    const anchor = this.tree.anchorLo;
    return {
      cached: this.cached === anchor ? 'anchor' : this.cached,
      cached32: this.cached32 === anchor ? 'anchor' : this.cached32,
      max32: this.max32,
    };
  }
}
