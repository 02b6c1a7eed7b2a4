/**
 * The segmented axis: how a 64-bit IOVA space fits in a picture a few hundred pixels wide while
 * a 4 KiB hole stays visible next to a 1 TiB window.
 *
 * A linear axis cannot do it (4 KiB of 2^64 is 2^-52 of the width), and a plain logarithmic
 * axis squeezes everything above 2^40 into a sliver. Instead the space is cut at every
 * *interesting boundary* — each start and exclusive end of a hole, window, usable range,
 * placement or mapping — into segments that contain no boundary inside them. Each segment gets
 *
 *     width = minimum + share × max(0, log2(size) − LOG2_FLOOR)
 *
 * where `share` is chosen so that the widths add up to the fixed total. The width grows with
 * the logarithm of the segment's size, so a 1 TiB segment is wider than a 4 KiB one, but the
 * 4 KiB segment never drops below `minimum`. Inside a segment, positions are linear. Every
 * boundary is a scale break: the picture marks them and says "scale: segmented, not linear".
 *
 * When there are so many segments that `count × minimum` exceeds the total, every segment gets
 * `total / count` (the minimum cannot be honoured; the order still is).
 */
import { SPACE_END } from '../model/address.js';
import type { IovaRange } from '../model/range.js';

/** Sizes up to 2^LOG2_FLOOR bytes (4 KiB, the smallest IOMMU page) all get the minimum width. */
export const LOG2_FLOOR = 12;

export interface ScaleOptions {
  /** Total width of the axis in pixels (default 1000). */
  width?: number;
  /** Smallest width of a segment in pixels (default 14). */
  minSegment?: number;
}

/** One piece of the axis: the addresses `[start, end)` drawn from `x` over `width` pixels. */
export interface Segment {
  readonly start: bigint;
  /** Exclusive; at most 2^64. */
  readonly end: bigint;
  readonly x: number;
  readonly width: number;
}

/** A drawn extent: from `x` over `width` pixels. */
export interface Extent {
  readonly x: number;
  readonly width: number;
}

/** log2 of a positive bigint, accurate to double precision even above 2^53. */
export function log2Big(value: bigint): number {
  if (value <= 0n) throw new RangeError('log2Big needs a positive value');
  const bits = value.toString(2).length;
  const shift = bits > 53 ? bits - 53 : 0;
  return shift + Math.log2(Number(value >> BigInt(shift)));
}

/**
 * A piecewise-linear axis over `[0, 2^64]` whose breaks are the given boundaries. Pure and
 * deterministic: the same boundaries and options give the same positions.
 */
export class SegmentedScale {
  /** The segments, in address order, covering `[0, 2^64)` with no gap. */
  readonly segments: readonly Segment[];
  /** Every boundary in order, 0 and 2^64 included. */
  readonly boundaries: readonly bigint[];
  readonly width: number;
  /** The minimum actually honoured (below the requested one only when segments are too many). */
  readonly minSegment: number;

  private constructor(segments: Segment[], width: number, minSegment: number) {
    this.segments = segments;
    this.boundaries = [...segments.map((s) => s.start), SPACE_END];
    this.width = width;
    this.minSegment = minSegment;
  }

  /**
   * The axis breaking at `boundaries` (addresses in `[0, 2^64]`; 0 and 2^64 are always added,
   * duplicates and order do not matter).
   */
  static build(boundaries: Iterable<bigint>, options: ScaleOptions = {}): SegmentedScale {
    const width = options.width ?? 1000;
    const requested = options.minSegment ?? 14;
    if (!(width > 0) || !(requested >= 0)) throw new RangeError('scale width must be positive and minSegment non-negative');
    const points = new Set<bigint>([0n, SPACE_END]);
    for (const b of boundaries) {
      if (b < 0n || b > SPACE_END) throw new RangeError(`boundary ${b} is outside [0, 2^64]`);
      points.add(b);
    }
    const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const count = sorted.length - 1;
    const minSegment = Math.min(requested, width / count);
    const weights = sorted.slice(0, -1).map((start, i) => Math.max(0, log2Big(sorted[i + 1] - start) - LOG2_FLOOR));
    const totalWeight = weights.reduce((a, b) => a + b, 0);
    const spare = width - count * minSegment;
    // No weight at all (every segment at or below 4 KiB): share the spare width equally.
    const widthOf = (i: number) => minSegment + (totalWeight > 0 ? (spare * weights[i]) / totalWeight : spare / count);

    const segments: Segment[] = [];
    let x = 0;
    for (let i = 0; i < count; i++) {
      // The last segment ends exactly at `width`, whatever the rounding on the way.
      const w = i === count - 1 ? width - x : widthOf(i);
      segments.push({ start: sorted[i], end: sorted[i + 1], x, width: w });
      x += w;
    }
    return new SegmentedScale(segments, width, minSegment);
  }

  /** The segment holding `address` (`2^64` belongs to the last one). */
  segmentAt(address: bigint): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].start <= address) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo];
  }

  /** The position of an address in `[0, 2^64]`: exact at boundaries, linear inside a segment. */
  x(address: bigint): number {
    if (address <= 0n) return 0;
    if (address >= SPACE_END) return this.width;
    const s = this.segmentAt(address);
    if (address === s.start) return s.x;
    // A fraction with 2^24 steps: enough for any picture, and exact bigint arithmetic.
    const steps = 1n << 24n;
    const fraction = Number(((address - s.start) * steps) / (s.end - s.start)) / Number(steps);
    return s.x + s.width * fraction;
  }

  /** Where an inclusive range is drawn: from its start to the position after its last byte. */
  extent(r: IovaRange): Extent {
    const x = this.x(r.start);
    return { x, width: this.x(r.last + 1n) - x };
  }
}
