// Differential test: the `linux` policy finds its slots with the tree's gap summaries; a naive
// model walks the ranges one by one as the kernel does. Both must agree on every answer, on the
// cursors and the 32-bit gate, and on the ranges, over random sequences that cross 4 GiB.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DmaIovaDomain } from '../../src/allocators/index.js';
import { NaiveLinuxTree } from './dma-iova-model.js';

const SEED = 20260602;
// A 16 MiB granule puts 4 GiB at pfn 256, so small spaces reach both sides of it.
const GRANULE = 2 ** 24;
const DMA32 = 256;

type Op =
  | { kind: 'alloc'; size: number; limit: number; aligned: boolean }
  | { kind: 'free'; pick: number; live: boolean }
  | { kind: 'reserve'; lo: number; len: number };

function opArb(top: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: fc.integer({ min: 1, max: 40 }), limit: fc.integer({ min: 0, max: top + 20 }), aligned: fc.boolean() }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), live: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reserve' as const), lo: fc.integer({ min: 0, max: top }), len: fc.integer({ min: 0, max: 10 }) }) },
  );
}

/** The same operations with pfns counted from `base` (for spaces far from pfn 0). */
function opArbFrom(base: number, top: number): fc.Arbitrary<Op> {
  return opArb(top - base).map((op) => (op.kind === 'alloc' ? { ...op, limit: base + op.limit } : op.kind === 'reserve' ? { ...op, lo: base + op.lo } : op));
}

function run(start: number, top: number, prefill: number, ops: Op[]): void {
  const d = new DmaIovaDomain({ granule: GRANULE, startPfn: start, topPfn: top, policy: 'linux' });
  const m = new NaiveLinuxTree(start, top, DMA32);
  expect(d.dma32Pfn).toBe(DMA32);
  const anchor = top + 1;
  const cursors = (): unknown => ({ cached: m.cached === anchor ? 'anchor' : m.cached, cached32: m.cached32 === anchor ? 'anchor' : m.cached32, max32: m.max32 });
  for (let i = 0; i < prefill; i++) expect(d.alloc(1, top) ?? -1).toBe(m.alloc(1, top, false));
  for (const op of ops) {
    const what = JSON.stringify(op);
    if (op.kind === 'alloc') {
      expect(d.alloc(op.size, op.limit, op.aligned) ?? -1, what).toBe(m.alloc(op.size, op.limit, op.aligned));
    } else if (op.kind === 'free') {
      const ranges = m.dump();
      const pfn = op.live && ranges.length > 0 ? ranges[op.pick % ranges.length].lo : op.pick % (top + 2);
      expect(d.free(pfn), what).toBe(m.free(pfn));
    } else {
      const lo = Math.min(op.lo, top);
      const hi = Math.min(top, lo + op.len);
      expect(d.reserve(lo, hi), what).toEqual(m.reserve(lo, hi));
    }
    expect(d.state().cursors, what).toEqual(cursors());
  }
  expect(d.dump()).toEqual(m.dump());
  expect(d.check()).toBeUndefined();
}

describe('linux policy against a naive walk', () => {
  it('agrees on small spaces around 4 GiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 200, max: 600 }), fc.array(opArb(600), { maxLength: 200 }), (start, top, ops) => run(start, top, 0, ops)),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('agrees in spaces across 2^31, where entries switch from 32-bit integers to doubles', () => {
    const base = 2 ** 31 - 3000;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 2000, max: 6000 }), fc.array(opArbFrom(base, base + 6000), { maxLength: 200 }), (start, top, ops) =>
        run(base + start, base + top, 0, ops),
      ),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('agrees on trees several levels deep', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2000, max: 4000 }), fc.array(opArb(6000), { minLength: 50, maxLength: 200 }), (start, fill, ops) => run(start, 6000, fill, ops)),
      { seed: SEED, numRuns: 15 },
    );
  });
});
