import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPACE_END } from '../../src/model/address.js';
import { assignLanes, laneCount } from '../../src/render/lanes.js';
import { log2Big, SegmentedScale } from '../../src/render/scale.js';

const K4 = 1n << 12n;
const G = 1n << 30n;
const T = 1n << 40n;

const arbBoundaries = fc.array(fc.bigInt({ min: 0n, max: SPACE_END }), { maxLength: 40 });

describe('SegmentedScale', () => {
  it('puts 0 at 0 and 2^64 at the full width, whatever the boundaries', () => {
    fc.assert(
      fc.property(arbBoundaries, fc.integer({ min: 100, max: 5000 }), (bs, width) => {
        const scale = SegmentedScale.build(bs, { width, minSegment: 10 });
        expect(scale.x(0n)).toBe(0);
        expect(scale.x(SPACE_END)).toBe(width);
        const total = scale.segments.reduce((sum, s) => sum + s.width, 0);
        expect(total).toBeCloseTo(width, 6);
      }),
    );
  });

  it('gives every boundary a position, strictly increasing in address order', () => {
    fc.assert(
      fc.property(arbBoundaries, (bs) => {
        const scale = SegmentedScale.build(bs, { width: 1000, minSegment: 8 });
        const expected = [...new Set([0n, SPACE_END, ...bs])].sort((a, b) => (a < b ? -1 : 1));
        expect(scale.boundaries).toEqual(expected);
        const xs = scale.boundaries.map((b) => scale.x(b));
        for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
        // A boundary sits exactly where its segment starts.
        scale.segments.forEach((s) => expect(scale.x(s.start)).toBe(s.x));
      }),
    );
  });

  it('is monotonic for every address, not only at boundaries', () => {
    fc.assert(
      fc.property(arbBoundaries, fc.array(fc.bigInt({ min: 0n, max: SPACE_END }), { minLength: 2, maxLength: 30 }), (bs, addresses) => {
        const scale = SegmentedScale.build(bs, { width: 1200 });
        const sorted = [...addresses].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const xs = sorted.map((a) => scale.x(a));
        for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThanOrEqual(xs[i - 1]);
      }),
    );
  });

  it('keeps a 4 KiB hole at least the minimum width next to a 1 TiB window in a 2^64 space', () => {
    // Window [0, 1 TiB), a 4 KiB hole at 0xfee00000 inside it, the rest of the 64-bit space.
    const hole = 0xfee00000n;
    const scale = SegmentedScale.build([0n, T, hole, hole + K4], { width: 1000, minSegment: 14 });
    const small = scale.extent({ start: hole, last: hole + K4 - 1n });
    const big = scale.extent({ start: hole + K4, last: T - 1n });
    const rest = scale.extent({ start: T, last: SPACE_END - 1n });
    expect(small.width).toBeGreaterThanOrEqual(14);
    expect(big.width).toBeGreaterThan(small.width);
    expect(rest.width).toBeGreaterThan(big.width);
  });

  it('grows a segment with the logarithm of its size', () => {
    const sizes = [K4, 1n << 20n, G, T, 1n << 50n];
    let at = 0n;
    const bounds: bigint[] = [];
    for (const s of sizes) {
      bounds.push(at);
      at += s;
    }
    bounds.push(at);
    const scale = SegmentedScale.build(bounds, { width: 2000, minSegment: 10 });
    const widths = sizes.map((_, i) => scale.segments[i].width);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1]);
    // Equal steps in log2 give equal steps in width (sizes 2^20 → 2^30 → 2^40 each add 10 bits).
    expect(widths[3] - widths[2]).toBeCloseTo(widths[2] - widths[1], 6);
  });

  it('gives segments of 4 KiB and below exactly the minimum', () => {
    const scale = SegmentedScale.build([1n, 2n, K4, 2n * K4, G], { width: 800, minSegment: 12 });
    expect(scale.segments.slice(0, 4).map((s) => s.width)).toEqual([12, 12, 12, 12]);
  });

  it('shares the width equally when the minimum cannot be honoured', () => {
    const bounds = Array.from({ length: 99 }, (_, i) => BigInt(i + 1) * G);
    const scale = SegmentedScale.build(bounds, { width: 500, minSegment: 14 });
    expect(scale.segments).toHaveLength(100);
    expect(scale.minSegment).toBe(5);
    for (const s of scale.segments) expect(s.width).toBeGreaterThanOrEqual(5 - 1e-9);
    expect(scale.x(SPACE_END)).toBe(500);
  });

  it('is linear inside a segment', () => {
    const scale = SegmentedScale.build([G, 2n * G], { width: 1000 });
    const s = scale.segmentAt(G);
    expect(scale.x(G + G / 2n)).toBeCloseTo(s.x + s.width / 2, 6);
    expect(scale.x(G + G / 4n)).toBeCloseTo(s.x + s.width / 4, 6);
  });

  it('is deterministic', () => {
    const a = SegmentedScale.build([T, 5n, G], { width: 900 });
    const b = SegmentedScale.build([G, T, 5n, G], { width: 900 });
    expect(a.segments).toEqual(b.segments);
  });

  it('rejects boundaries outside [0, 2^64] and a non-positive width', () => {
    expect(() => SegmentedScale.build([SPACE_END + 1n])).toThrow(/outside/);
    expect(() => SegmentedScale.build([-1n])).toThrow(/outside/);
    expect(() => SegmentedScale.build([], { width: 0 })).toThrow(/width/);
  });
});

describe('log2Big', () => {
  it('is exact for powers of two across the whole 64-bit range', () => {
    for (const bits of [0, 1, 12, 40, 52, 53, 54, 63, 64]) expect(log2Big(1n << BigInt(bits))).toBe(bits);
  });
  it('is accurate just below 2^64', () => {
    expect(log2Big(SPACE_END - 1n)).toBeCloseTo(64, 9);
  });
});

describe('assignLanes', () => {
  it('stacks overlapping spans and lets touching ones share a lane', () => {
    const lanes = assignLanes([
      { from: 0, to: 10 },
      { from: 5, to: 8 },
      { from: 10, to: 20 },
      { from: 6, to: 12 },
    ]);
    expect(lanes).toEqual([0, 1, 0, 2]);
    expect(laneCount(lanes)).toBe(3);
    expect(laneCount([])).toBe(1);
  });

  it('never puts two overlapping spans in one lane', () => {
    const arbSpan = fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 100 })).map(([from, w]) => ({ from, to: from + w }));
    fc.assert(
      fc.property(fc.array(arbSpan, { maxLength: 40 }), (spans) => {
        const lanes = assignLanes(spans);
        for (let i = 0; i < spans.length; i++) {
          for (let j = i + 1; j < spans.length; j++) {
            if (lanes[i] === lanes[j]) expect(spans[i].to <= spans[j].from || spans[j].to <= spans[i].from).toBe(true);
          }
        }
      }),
    );
  });
});
