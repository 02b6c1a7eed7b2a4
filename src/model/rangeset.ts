/**
 * A set of addresses in `[0, 2^64)`, kept as sorted, disjoint, non-adjacent inclusive ranges.
 *
 * Immutable: every operation returns a new set. Set operations are linear merges of the two
 * sorted lists; construction from unsorted ranges sorts once.
 */
import { alignDown, alignUp, hex, isPowerOfTwo, MAX_ADDRESS } from './address.js';
import { InputError } from './errors.js';
import { compareRanges, formatRange, type IovaRange, sizeOf, WHOLE_SPACE } from './range.js';

/** Where a fit search may place a slot. */
export interface FitOptions {
  /** Power-of-two alignment of the slot's start (default 1). */
  align?: bigint;
  /** Inclusive upper limit: the slot's last byte must not exceed it. */
  limit?: bigint;
  /** Lower bound: the slot must not start below it. */
  floor?: bigint;
}

/**
 * An immutable set of addresses in the 64-bit IOVA space, kept as sorted, disjoint and
 * non-adjacent inclusive ranges: what usable IOVA ranges, apertures and holes are made of.
 * Every operation returns a new set.
 *
 * ```ts
 * const usable = RangeSet.single(0n, 0xffff_ffffn).subtract(RangeSet.single(0xfee0_0000n, 0xfeef_ffffn));
 * usable.ranges; // [{ start: 0n, last: 0xfedf_ffffn }, { start: 0xfef0_0000n, last: 0xffff_ffffn }]
 * ```
 */
export class RangeSet {
  /** Sorted by start, pairwise disjoint and non-adjacent. */
  readonly ranges: readonly IovaRange[];

  private constructor(normalised: readonly IovaRange[]) {
    this.ranges = normalised;
  }

  static readonly EMPTY = new RangeSet([]);
  static readonly FULL = new RangeSet([WHOLE_SPACE]);

  /** The set covering the given ranges (in any order, overlapping or not). */
  static of(ranges: Iterable<IovaRange>): RangeSet {
    const sorted = [...ranges].sort(compareRanges);
    return new RangeSet(coalesceSorted(sorted));
  }

  /** The set `start..last` (inclusive); empty when `start > last`. */
  static single(start: bigint, last: bigint): RangeSet {
    if (start > last) return RangeSet.EMPTY;
    return new RangeSet([{ start, last }]);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Number of addresses in the set (up to 2^64). */
  get size(): bigint {
    let total = 0n;
    for (const r of this.ranges) total += sizeOf(r);
    return total;
  }

  /** Addresses in this set or in `other`. */
  union(other: RangeSet): RangeSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    const merged: IovaRange[] = [];
    let i = 0;
    let j = 0;
    const a = this.ranges;
    const b = other.ranges;
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && a[i].start <= b[j].start) ? a[i++] : b[j++];
      pushCoalescing(merged, next);
    }
    return new RangeSet(merged);
  }

  /** Addresses in both this set and `other`. */
  intersect(other: RangeSet): RangeSet {
    const out: IovaRange[] = [];
    const a = this.ranges;
    const b = other.ranges;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const start = a[i].start > b[j].start ? a[i].start : b[j].start;
      const last = a[i].last < b[j].last ? a[i].last : b[j].last;
      if (start <= last) out.push({ start, last });
      if (a[i].last < b[j].last) i++;
      else j++;
    }
    return new RangeSet(out);
  }

  /** Addresses in this set and not in `other`. */
  subtract(other: RangeSet): RangeSet {
    if (other.isEmpty || this.isEmpty) return this;
    const out: IovaRange[] = [];
    const b = other.ranges;
    let j = 0;
    for (const r of this.ranges) {
      let start = r.start;
      let open = true;
      while (j < b.length && b[j].last < start) j++;
      let k = j;
      while (k < b.length && b[k].start <= r.last) {
        if (b[k].start > start) out.push({ start, last: b[k].start - 1n });
        if (b[k].last >= r.last) {
          open = false;
          break;
        }
        start = b[k].last + 1n;
        k++;
      }
      if (open) out.push({ start, last: r.last });
    }
    return new RangeSet(out);
  }

  /** Everything in `[0, 2^64 - 1]` not in this set. */
  complement(): RangeSet {
    return RangeSet.FULL.subtract(this);
  }

  /** Whether the whole of `r` lies inside one range of the set. */
  contains(r: IovaRange): boolean {
    const i = this.indexAtOrBefore(r.start);
    return i >= 0 && this.ranges[i].last >= r.last;
  }

  /** Whether `address` is in the set. */
  containsAddress(address: bigint): boolean {
    const i = this.indexAtOrBefore(address);
    return i >= 0 && this.ranges[i].last >= address;
  }

  /** Whether any address of `r` is in the set. */
  overlaps(r: IovaRange): boolean {
    const i = this.indexAtOrBefore(r.last);
    return i >= 0 && this.ranges[i].last >= r.start;
  }

  /** The parts of the set that fall inside `r`. */
  within(r: IovaRange): RangeSet {
    return this.intersect(new RangeSet([r]));
  }

  /** Whether both sets hold exactly the same addresses. */
  equals(other: RangeSet): boolean {
    if (this.ranges.length !== other.ranges.length) return false;
    return this.ranges.every((r, i) => r.start === other.ranges[i].start && r.last === other.ranges[i].last);
  }

  /**
   * The lowest start of a `size`-byte slot inside one range of the set, aligned to
   * `options.align`, within `[floor, limit]`; undefined when none exists.
   */
  lowestFit(size: bigint, options: FitOptions = {}): bigint | undefined {
    return lowestFitIn(this.ranges, size, options);
  }

  /** Like {@link lowestFit}, but the highest such start. */
  highestFit(size: bigint, options: FitOptions = {}): bigint | undefined {
    return highestFitIn(this.ranges, size, options);
  }

  private indexAtOrBefore(address: bigint): number {
    return indexAtOrBefore(this.ranges, address);
  }

  /** The ranges in hex, `0xstart-0xlast` joined by commas (for messages and debugging). */
  toString(): string {
    return `{${this.ranges.map(formatRange).join(', ')}}`;
  }
}

/** Index of the last of sorted `ranges` whose start is ≤ address, or -1. */
export function indexAtOrBefore(ranges: readonly IovaRange[], address: bigint): number {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The lowest aligned start of a `size`-byte slot inside one of sorted, disjoint `ranges`,
 * within `[floor, limit]` (shared by {@link RangeSet} and mutable free lists).
 */
export function lowestFitIn(ranges: readonly IovaRange[], size: bigint, options: FitOptions = {}): bigint | undefined {
  const { align, floor, limit } = fitBounds(size, options);
  for (let i = Math.max(0, indexAtOrBefore(ranges, floor)); i < ranges.length; i++) {
    const r = ranges[i];
    if (r.start > limit) break;
    const start = alignUp(r.start > floor ? r.start : floor, align);
    const top = r.last < limit ? r.last : limit;
    if (start <= top && top - start + 1n >= size) return start;
  }
  return undefined;
}

/** Like {@link lowestFitIn}, but the highest such start. */
export function highestFitIn(ranges: readonly IovaRange[], size: bigint, options: FitOptions = {}): bigint | undefined {
  const { align, floor, limit } = fitBounds(size, options);
  for (let i = indexAtOrBefore(ranges, limit); i >= 0; i--) {
    const r = ranges[i];
    if (r.last < floor) break;
    const bottom = r.start > floor ? r.start : floor;
    const top = r.last < limit ? r.last : limit;
    if (top < bottom || top - bottom + 1n < size) continue;
    const start = alignDown(top - size + 1n, align);
    if (start >= bottom) return start;
  }
  return undefined;
}

function fitBounds(size: bigint, options: FitOptions): { align: bigint; floor: bigint; limit: bigint } {
  const align = options.align ?? 1n;
  if (size <= 0n) throw new InputError(`slot size must be at least 1, not ${size}`);
  if (!isPowerOfTwo(align)) throw new InputError(`alignment ${hex(align)} is not a power of two`);
  return { align, floor: options.floor ?? 0n, limit: options.limit ?? MAX_ADDRESS };
}

function coalesceSorted(sorted: readonly IovaRange[]): IovaRange[] {
  const out: IovaRange[] = [];
  for (const r of sorted) pushCoalescing(out, r);
  return out;
}

/** Append `r` (whose start is ≥ every start already in `out`), merging with the tail if they touch. */
function pushCoalescing(out: IovaRange[], r: IovaRange): void {
  const tail = out[out.length - 1];
  if (tail && r.start <= tail.last + 1n) {
    if (r.last > tail.last) out[out.length - 1] = { start: tail.start, last: r.last };
  } else {
    out.push(r);
  }
}
