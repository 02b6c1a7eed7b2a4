/**
 * The free space of a placement in progress: sorted, disjoint inclusive ranges, changed in
 * place as slots are taken. Fit searches start at a binary-searched bound, so placing n
 * requests into m free ranges costs about n·(log m + ranges scanned), not the n·m of
 * rebuilding an immutable set after every placement.
 */
import { type FitOptions, highestFitIn, indexAtOrBefore, lowestFitIn, RangeSet } from '../model/rangeset.js';
import { formatRange, type IovaRange } from '../model/range.js';

export class FreeList {
  private readonly ranges: IovaRange[];

  constructor(set: RangeSet) {
    this.ranges = [...set.ranges];
  }

  /** The free ranges that overlap `[lo, hi]`, clipped to it. */
  slice(lo: bigint, hi: bigint): RangeSet {
    const out: IovaRange[] = [];
    for (let i = Math.max(0, indexAtOrBefore(this.ranges, lo)); i < this.ranges.length && this.ranges[i].start <= hi; i++) {
      const r = this.ranges[i];
      const start = r.start > lo ? r.start : lo;
      const last = r.last < hi ? r.last : hi;
      if (start <= last) out.push({ start, last });
    }
    return RangeSet.of(out);
  }

  /** Mark `[start, last]` as used; it must lie inside one free range. */
  take(start: bigint, last: bigint): void {
    const i = indexAtOrBefore(this.ranges, start);
    const r = this.ranges[i];
    if (!r || r.last < last) throw new Error(`free list: ${formatRange({ start, last })} is not free`);
    const pieces: IovaRange[] = [];
    if (r.start < start) pieces.push({ start: r.start, last: start - 1n });
    if (last < r.last) pieces.push({ start: last + 1n, last: r.last });
    this.ranges.splice(i, 1, ...pieces);
  }

  lowest(size: bigint, options: FitOptions = {}): bigint | undefined {
    return lowestFitIn(this.ranges, size, options);
  }

  highest(size: bigint, options: FitOptions = {}): bigint | undefined {
    return highestFitIn(this.ranges, size, options);
  }
}
