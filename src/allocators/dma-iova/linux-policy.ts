/**
 * The `linux` policy: placement exactly as the Linux kernel's IOVA domain does it (mainline
 * v6.x `drivers/iommu/iova.c`), including its misses. Behaviour modelled:
 *
 * - Top-down next-fit: a walk starts at a cursor (`cached32` for limits at or below 4 GiB,
 *   `cached` above) and steps to predecessors, taking the first gap below the current node
 *   that holds the request. If it reaches the start pfn (or the bottom) without success and
 *   the cursor was a real node below the limit, it retries once over the region between that
 *   node and the limit. Free space below the cursor that a walk skipped is not revisited.
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
import { IovaTree, type IovaNode } from './tree.js';

export class LinuxPolicy implements TreePolicy {
  readonly tree: IovaTree;
  private readonly startPfn: number;
  private readonly topPfn: number;
  /** First pfn at or above 4 GiB. */
  private readonly dma32: number;
  private cached: IovaNode;
  private cached32: IovaNode;
  private max32: number;

  constructor(startPfn: number, topPfn: number, shift: number, seed?: number) {
    this.startPfn = startPfn;
    this.topPfn = topPfn;
    this.dma32 = 2 ** (32 - shift);
    this.tree = new IovaTree({ topPfn, startPfn, augmented: false, seed });
    this.cached = this.tree.anchor;
    this.cached32 = this.tree.anchor;
    this.max32 = this.dma32;
  }

  alloc(size: number, limit: number, aligned: boolean): number {
    const tree = this.tree;
    // The kernel works with an exclusive limit.
    const limitEx = limit + 1;
    const low32 = limitEx <= this.dma32;
    if (low32 && size >= this.max32) return -1;
    const align = aligned ? roundUpPow2(size) : 1;
    const start = low32 ? this.cached32 : this.cached;
    // A walk that starts at the anchor covers everything below the limit: no retry.
    const retryAbove = start === tree.anchor ? Infinity : start.hi;
    let curr: IovaNode | null = start;
    let high = limitEx;
    let low = this.startPfn;
    let retried = false;
    for (;;) {
      let above = curr as IovaNode;
      let at = -1;
      // Step down while the candidate slot would overlap the node below (or there is none).
      while (curr !== null) {
        if (curr.lo < high) high = curr.lo;
        above = curr;
        curr = tree.prev(curr);
        if (high < size) break;
        at = high - size;
        if (align > 1) at -= at % align;
        if (curr === null || at > curr.hi || at < low) break;
      }
      if (high < size || at < low) {
        if (!retried && retryAbove < limitEx) {
          // Second pass: only the region between the cursor node and the limit.
          retried = true;
          high = limitEx;
          low = retryAbove + 1;
          curr = tree.ceilingByHi(limitEx);
          continue;
        }
        this.max32 = size;
        return -1;
      }
      const node = tree.insertBelow(above, at, at + size - 1);
      if (node.hi < this.dma32) this.cached32 = node;
      else this.cached = node;
      return at;
    }
  }

  free(pfn: number): boolean {
    const node = this.tree.find(pfn);
    if (node === null) return false;
    this.release(node);
    return true;
  }

  /** Removes `node`, moving the cursors off it (and off anything below them that it passes). */
  private release(node: IovaNode): void {
    const tree = this.tree;
    const next = tree.next(node) as IovaNode;
    if (node === this.cached32 || (node.hi < this.dma32 && node.lo >= this.cached32.lo)) this.cached32 = next;
    if (node.lo < this.dma32) this.max32 = this.dma32;
    if (node.lo >= this.cached.lo) this.cached = next;
    tree.remove(node);
  }

  /**
   * Walks the nodes overlapping `[lo, hi]` upwards: the first one is grown down to `lo`, each
   * later one is grown down to just above the previous one (swallowing the gap between them),
   * and whatever sticks out above the last is inserted as a new node. Returns the node that
   * ends up covering the top of the request. Cursors and the gate are left alone.
   */
  reserve(lo: number, hi: number): PfnRange | undefined {
    if (lo > this.topPfn || hi > this.topPfn) return undefined;
    const tree = this.tree;
    let node = tree.ceilingByHi(lo);
    while (node !== tree.anchor && node.lo <= hi) {
      if (lo < node.lo) tree.extendDown(node, lo);
      if (hi <= node.hi) return { lo: node.lo, hi: node.hi };
      lo = node.hi + 1;
      node = tree.next(node) as IovaNode;
    }
    tree.insert(lo, hi);
    return { lo, hi };
  }

  cursors(): CursorState {
    const anchor = this.tree.anchor;
    return {
      cached: this.cached === anchor ? 'anchor' : this.cached.lo,
      cached32: this.cached32 === anchor ? 'anchor' : this.cached32.lo,
      max32: this.max32,
    };
  }
}
