import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ADDRESS } from '../../src/model/address.js';
import type { IovaRange } from '../../src/model/range.js';
import { RangeSet } from '../../src/model/rangeset.js';

/**
 * Brute-force model: a small universe of WIDTH addresses placed either at the bottom of the
 * 64-bit space or at its very top, so that the edge cases at 0 and at 2^64 - 1 are exercised.
 */
const WIDTH = 48;
const BASES = [0n, MAX_ADDRESS - BigInt(WIDTH) + 1n];

const arbBase = fc.constantFrom(...BASES);
const arbRanges = fc.array(
  fc.tuple(fc.integer({ min: 0, max: WIDTH - 1 }), fc.integer({ min: 0, max: WIDTH - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
  { maxLength: 8 },
);

function toSet(base: bigint, ranges: ReadonlyArray<readonly [number, number]>): RangeSet {
  return RangeSet.of(ranges.map(([a, b]) => ({ start: base + BigInt(a), last: base + BigInt(b) })));
}

function toBits(ranges: ReadonlyArray<readonly [number, number]>): boolean[] {
  const bits = new Array<boolean>(WIDTH).fill(false);
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) bits[i] = true;
  return bits;
}

/** The set restricted to the universe, as bits; asserts the representation invariants. */
function bitsOf(set: RangeSet, base: bigint): boolean[] {
  for (let i = 1; i < set.ranges.length; i++) {
    expect(set.ranges[i].start).toBeGreaterThan(set.ranges[i - 1].last + 1n);
  }
  for (const r of set.ranges) expect(r.start <= r.last).toBe(true);
  const bits = new Array<boolean>(WIDTH).fill(false);
  for (let i = 0; i < WIDTH; i++) bits[i] = set.containsAddress(base + BigInt(i));
  return bits;
}

const zip = (a: boolean[], b: boolean[], f: (x: boolean, y: boolean) => boolean) => a.map((x, i) => f(x, b[i]));

describe('RangeSet algebra against a bitset model', () => {
  it('union, intersection and difference agree with the model', () => {
    fc.assert(
      fc.property(arbBase, arbRanges, arbRanges, (base, ra, rb) => {
        const a = toSet(base, ra);
        const b = toSet(base, rb);
        const ma = toBits(ra);
        const mb = toBits(rb);
        expect(bitsOf(a, base)).toEqual(ma);
        expect(bitsOf(a.union(b), base)).toEqual(zip(ma, mb, (x, y) => x || y));
        expect(bitsOf(a.intersect(b), base)).toEqual(zip(ma, mb, (x, y) => x && y));
        expect(bitsOf(a.subtract(b), base)).toEqual(zip(ma, mb, (x, y) => x && !y));
        expect(a.union(b).size).toBe(BigInt(zip(ma, mb, (x, y) => x || y).filter(Boolean).length));
      }),
      { numRuns: 400 },
    );
  });

  it('complement is exact within the universe and covers everything outside it', () => {
    fc.assert(
      fc.property(arbBase, arbRanges, (base, ra) => {
        const a = toSet(base, ra);
        const c = a.complement();
        expect(bitsOf(c, base)).toEqual(toBits(ra).map((x) => !x));
        expect(c.size + a.size).toBe(1n << 64n);
        expect(c.complement().equals(a)).toBe(true);
        expect(c.intersect(a).isEmpty).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('contains and overlaps agree with the model', () => {
    fc.assert(
      fc.property(arbBase, arbRanges, fc.integer({ min: 0, max: WIDTH - 1 }), fc.integer({ min: 0, max: WIDTH - 1 }), (base, ra, x, y) => {
        const [lo, hi] = [Math.min(x, y), Math.max(x, y)];
        const set = toSet(base, ra);
        const bits = toBits(ra);
        const probe: IovaRange = { start: base + BigInt(lo), last: base + BigInt(hi) };
        const slice = bits.slice(lo, hi + 1);
        // contains: wholly inside ONE range of the set; coalescing makes that "all bits set".
        expect(set.contains(probe)).toBe(slice.every(Boolean));
        expect(set.overlaps(probe)).toBe(slice.some(Boolean));
      }),
      { numRuns: 400 },
    );
  });

  it('lowestFit and highestFit find the extreme aligned slot, or none when none exists', () => {
    fc.assert(
      fc.property(
        arbBase,
        arbRanges,
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1, 2, 4, 8, 16),
        fc.option(fc.integer({ min: 0, max: WIDTH - 1 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: WIDTH - 1 }), { nil: undefined }),
        (base, ra, size, align, floor, limit) => {
          const set = toSet(base, ra);
          const bits = toBits(ra);
          const fits: number[] = [];
          for (let s = 0; s + size <= WIDTH; s++) {
            const absolute = base + BigInt(s);
            if (absolute % BigInt(align) !== 0n) continue;
            if (floor !== undefined && s < floor) continue;
            if (limit !== undefined && s + size - 1 > limit) continue;
            if (bits.slice(s, s + size).every(Boolean)) fits.push(s);
          }
          const options = {
            align: BigInt(align),
            floor: floor === undefined ? undefined : base + BigInt(floor),
            limit: limit === undefined ? undefined : base + BigInt(limit),
          };
          const expectLow = fits.length > 0 ? base + BigInt(fits[0]) : undefined;
          const expectHigh = fits.length > 0 ? base + BigInt(fits[fits.length - 1]) : undefined;
          expect(set.lowestFit(BigInt(size), options)).toBe(expectLow);
          expect(set.highestFit(BigInt(size), options)).toBe(expectHigh);
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('RangeSet edges of the 64-bit space', () => {
  it('handles the whole space, its first and its last address', () => {
    expect(RangeSet.FULL.size).toBe(1n << 64n);
    expect(RangeSet.FULL.complement().isEmpty).toBe(true);
    const top = RangeSet.single(MAX_ADDRESS, MAX_ADDRESS);
    expect(top.complement().ranges).toEqual([{ start: 0n, last: MAX_ADDRESS - 1n }]);
    const bottom = RangeSet.single(0n, 0n);
    expect(bottom.complement().ranges).toEqual([{ start: 1n, last: MAX_ADDRESS }]);
    expect(RangeSet.FULL.highestFit(1n << 63n, { align: 1n << 63n })).toBe(1n << 63n);
    expect(RangeSet.FULL.lowestFit(1n, { floor: MAX_ADDRESS })).toBe(MAX_ADDRESS);
    expect(top.lowestFit(1n, { align: 2n })).toBeUndefined();
  });

  it('merges adjacent and overlapping ranges given in any order', () => {
    const set = RangeSet.of([
      { start: 10n, last: 19n },
      { start: 0n, last: 4n },
      { start: 5n, last: 9n },
      { start: 30n, last: 40n },
      { start: 35n, last: 36n },
    ]);
    expect(set.ranges).toEqual([
      { start: 0n, last: 19n },
      { start: 30n, last: 40n },
    ]);
  });

  it('rejects a non-power-of-two alignment', () => {
    expect(() => RangeSet.FULL.lowestFit(1n, { align: 3n })).toThrowError(/power of two/);
  });
});
