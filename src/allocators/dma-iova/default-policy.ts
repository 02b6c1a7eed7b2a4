/**
 * The `default` policy: the same placement preference as Linux (the highest slot at or below
 * the limit, size-aligned on request) found exactly, so a request fails only when no fitting
 * slot exists between the start pfn and the limit. No cursors, no 32-bit gate.
 *
 * The tree keeps, per node, the free gap below it and the largest gap in its subtree; see
 * {@link IovaTree.highestFit} for the search and its bound. Insert, free and find are O(log n)
 * expected (treap).
 */
import type { PfnRange, TreePolicy } from './policy.js';
import { roundUpPow2 } from './pfn.js';
import { IovaTree, type IovaNode } from './tree.js';

export class DefaultPolicy implements TreePolicy {
  readonly tree: IovaTree;
  private readonly topPfn: number;

  constructor(startPfn: number, topPfn: number, seed?: number) {
    this.topPfn = topPfn;
    this.tree = new IovaTree({ topPfn, startPfn, augmented: true, seed });
  }

  alloc(size: number, limit: number, aligned: boolean): number {
    const tree = this.tree;
    const at = tree.highestFit(size, aligned ? roundUpPow2(size) : 1, limit);
    if (at < 0) return -1;
    tree.insertBelow(tree.fitAbove, at, at + size - 1);
    return at;
  }

  free(pfn: number): boolean {
    const node = this.tree.find(pfn);
    if (node === null) return false;
    this.tree.remove(node);
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
    let node: IovaNode = tree.ceilingByHi(lo);
    let cur = lo;
    for (;;) {
      if (node.lo > cur) tree.insertBelow(node, cur, Math.min(hi, node.lo - 1));
      cur = node.hi + 1;
      if (cur > hi) break;
      node = tree.next(node) as IovaNode;
    }
    return { lo, hi };
  }

  cursors(): undefined {
    return undefined;
  }
}
