/**
 * A static interval tree over ranges that may overlap: sorted by start, with an implicit
 * balanced tree over the sorted array (the middle of each index span is the node) whose nodes
 * hold the largest `last` below them. The ranges that meet a query are found in O(log n + k)
 * node visits per reported range (subtrees ending before the query or starting after it are
 * skipped whole). Rebuilt, not updated: for sets that change rarely (reserved ranges) or that
 * are built once per question.
 */
import { compareRanges, type IovaRange } from './range.js';

export class IntervalIndex<T extends IovaRange> {
  private readonly items: T[];
  /** Per node (the middle index of its span): the largest `last` in its subtree. */
  private readonly maxLast: bigint[];
  /** Per sorted position: the position in the list as given. */
  private readonly order: number[];

  constructor(items: readonly T[]) {
    const byStart = items.map((item, i) => ({ item, i })).sort((a, b) => compareRanges(a.item, b.item) || a.i - b.i);
    this.items = byStart.map((x) => x.item);
    this.order = byStart.map((x) => x.i);
    this.maxLast = new Array<bigint>(this.items.length);
    this.build(0, this.items.length);
  }

  get size(): number {
    return this.items.length;
  }

  private build(lo: number, hi: number): bigint {
    if (lo >= hi) return -1n;
    const mid = (lo + hi) >>> 1;
    let max = this.items[mid].last;
    const left = this.build(lo, mid);
    const right = this.build(mid + 1, hi);
    if (left > max) max = left;
    if (right > max) max = right;
    this.maxLast[mid] = max;
    return max;
  }

  /** The ranges meeting `r`, in start order. */
  overlapping(r: IovaRange): T[] {
    const out: number[] = [];
    this.collect(0, this.items.length, r, out);
    return out.map((p) => this.items[p]);
  }

  /** The ranges meeting `r`, in the order they were given. */
  overlappingInOrder(r: IovaRange): T[] {
    const out: number[] = [];
    this.collect(0, this.items.length, r, out);
    return out.sort((a, b) => this.order[a] - this.order[b]).map((p) => this.items[p]);
  }

  private collect(lo: number, hi: number, r: IovaRange, out: number[]): void {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxLast[mid] < r.start) return;
      this.collect(lo, mid, r, out);
      const it = this.items[mid];
      // Everything from mid on starts at or after it.
      if (it.start > r.last) return;
      if (it.last >= r.start) out.push(mid);
      lo = mid + 1;
    }
  }
}
