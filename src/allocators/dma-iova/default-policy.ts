/**
 * The `default` policy: the same placement preference as Linux (the highest slot at or below
 * the limit, size-aligned on request) found exactly, so a request fails only when no fitting
 * slot exists between the start pfn and the limit. No cursors, no 32-bit gate.
 *
 * The tree summarises free gaps per subtree; see {@link IovaTree.highestFit} for the search
 * and its bound. Insert, free and find are O(log n).
 */
import type { PfnRange, TreePolicy } from './policy.js';
import { roundUpPow2 } from './pfn.js';
import { IovaTree } from './tree.js';

export class DefaultPolicy implements TreePolicy {
  readonly tree: IovaTree;
  private readonly topPfn: number;

  constructor(startPfn: number, topPfn: number) {
    this.topPfn = topPfn;
    this.tree = new IovaTree({ topPfn, startPfn });
  }

  alloc(size: number, limit: number, aligned: boolean): number {
    const tree = this.tree;
    const at = tree.highestFit(size, aligned ? roundUpPow2(size) : 1, limit);
    if (at < 0) return -1;
    tree.insertBefore(tree.fitAbove, at, at + size - 1);
    return at;
  }

  free(pfn: number): boolean {
    const p = this.tree.find(pfn);
    if (p < 0) return false;
    this.tree.remove(p);
    return true;
  }

  /**
   * Fills every free part of `[lo, hi]` with new reserved nodes; existing ranges are left as
   * they are (an allocation is never grown, so freeing it later cannot free the reservation).
   * Returns `[lo, hi]`, or undefined when it reaches above the top of the space.
   */
  reserve(lo: number, hi: number): PfnRange | undefined {
    if (hi > this.topPfn) return undefined;
    const tree = this.tree;
    let cur = lo;
    while (cur <= hi) {
      // Positions die with each insert, so look the next range up afresh every round.
      const p = tree.ceilingByHi(cur);
      const nextLo = tree.loOf(p);
      if (nextLo > cur) tree.insertBefore(p, cur, Math.min(hi, nextLo - 1));
      cur = tree.hiOf(tree.ceilingByHi(cur)) + 1;
    }
    return { lo, hi };
  }

  cursors(): undefined {
    return undefined;
  }
}
