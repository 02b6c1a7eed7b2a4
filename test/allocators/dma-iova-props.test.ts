// Property tests: random operation sequences against a brute-force page map.
//
// `default` must place every tree allocation at exactly the highest fitting slot (taking back
// the fast-path caches first when nothing else fits) and fail only when no slot exists; both
// policies must keep their ranges disjoint, inside [start, limit], aligned when asked, and their
// internal invariants intact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DmaIovaDomain, type DmaIovaPolicyName } from '../../src/allocators/index.js';
import { PageMap, pow2AtLeast } from './dma-iova-model.js';

const SEED = 20260601;

type Op =
  | { kind: 'alloc'; size: number; limit: number; aligned: boolean }
  | { kind: 'allocFast'; size: number; limit: number }
  | { kind: 'free'; pick: number }
  | { kind: 'freeFast'; pick: number }
  | { kind: 'freeRun'; pick: number; count: number }
  | { kind: 'reserve'; lo: number; len: number }
  | { kind: 'flush' }
  | { kind: 'tick' };

function opArb(maxSize: number, maxPfn: number): fc.Arbitrary<Op> {
  const size = fc.integer({ min: 1, max: maxSize });
  const limit = fc.integer({ min: 0, max: maxPfn + 8 });
  const pick = fc.nat();
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size, limit, aligned: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('allocFast' as const), size, limit }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('freeFast' as const), pick }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('freeRun' as const), pick, count: fc.integer({ min: 1, max: 80 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reserve' as const), lo: fc.integer({ min: 0, max: maxPfn }), len: fc.integer({ min: 0, max: 12 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
  );
}

interface Live {
  size: number;
  fast: boolean;
}

/** Runs `ops` on a fresh domain, checking every answer; returns nothing, throws on a violation. */
function exercise(policy: DmaIovaPolicyName, startPfn: number, topPfn: number, prefill: number, ops: Op[]): void {
  const d = new DmaIovaDomain({ granule: 4096, startPfn, topPfn, policy });
  const live = new Map<number, Live>();
  const reserved = new PageMap(topPfn);
  const liveMap = (): PageMap => {
    const m = PageMap.of(topPfn, []);
    for (const [lo, a] of live) m.mark(lo, lo + a.size - 1, 1);
    for (let p = 0; p <= topPfn; p++) if (reserved.used[p]) m.used[p] = 1;
    return m;
  };
  const cacheEmpty = (): boolean => d.state().rcache.every((b) => b.loaded + b.prev + b.depot === 0);
  const placed = (at: number | undefined, size: number, limit: number, align: number, what: string): void => {
    if (at === undefined) return;
    const hi = at + size - 1;
    expect(at, `${what}: below start`).toBeGreaterThanOrEqual(startPfn);
    expect(hi, `${what}: above limit`).toBeLessThanOrEqual(Math.min(limit, topPfn));
    expect(at % align, `${what}: misaligned`).toBe(0);
    expect(liveMap().isFree(at, hi), `${what}: overlaps a live or reserved range`).toBe(true);
  };
  const liveKeys = (): number[] => [...live.keys()].sort((a, b) => a - b);

  for (let i = 0; i < prefill; i++) {
    const at = d.alloc(1, topPfn);
    if (at === undefined) break;
    live.set(at, { size: 1, fast: false });
  }

  for (const op of ops) {
    switch (op.kind) {
      case 'alloc': {
        const align = op.aligned ? pow2AtLeast(op.size) : 1;
        const tree = PageMap.of(topPfn, d.dump());
        const before = liveMap();
        const at = d.alloc(op.size, op.limit, op.aligned);
        placed(at, op.size, op.limit, align, `alloc(${op.size}, ${op.limit}, ${op.aligned})`);
        if (policy === 'default') {
          // Highest slot in the tree as it stands; if none, the caches are given back first.
          let want = tree.highestFit(startPfn, op.limit, op.size, align);
          if (want < 0) want = before.highestFit(startPfn, op.limit, op.size, align);
          expect(at ?? -1, `alloc(${op.size}, ${op.limit}, ${op.aligned})`).toBe(want);
        }
        if (at !== undefined) live.set(at, { size: op.size, fast: false });
        break;
      }
      case 'allocFast': {
        const size = op.size < 32 ? pow2AtLeast(op.size) : op.size;
        const align = pow2AtLeast(size);
        const before = liveMap();
        const at = d.allocFast(op.size, op.limit);
        placed(at, size, op.limit, align, `allocFast(${op.size}, ${op.limit})`);
        // With flushing on (the default), a failure means nothing fits even with the caches back.
        if (at === undefined && policy === 'default') expect(before.highestFit(startPfn, op.limit, size, align)).toBe(-1);
        if (at !== undefined) live.set(at, { size, fast: true });
        break;
      }
      case 'free':
      case 'freeFast': {
        const keys = liveKeys().filter((k) => op.kind === 'free' || live.get(k)?.fast === true);
        if (keys.length === 0) break;
        const lo = keys[op.pick % keys.length];
        const a = live.get(lo) as Live;
        if (op.kind === 'free') expect(d.free(lo + a.size - 1)).toBe(true);
        else d.freeFast(lo, a.size);
        live.delete(lo);
        break;
      }
      case 'freeRun': {
        // Free a run of neighbouring allocations: empties whole leaves of the tree.
        const keys = liveKeys();
        if (keys.length === 0) break;
        const from = op.pick % keys.length;
        for (const lo of keys.slice(from, from + op.count)) {
          expect(d.free(lo)).toBe(true);
          live.delete(lo);
        }
        break;
      }
      case 'reserve': {
        const hi = Math.min(topPfn, op.lo + op.len);
        if (op.lo > hi) break;
        // linux can grow whatever it overlaps; with the caches emptied first, that is only ever
        // a live allocation or a reservation, which the model can follow.
        if (policy === 'linux') d.flush();
        const tree = PageMap.of(topPfn, d.dump());
        const r = d.reserve(op.lo, hi);
        expect(r).toBeDefined();
        for (let p = op.lo; p <= hi; p++) if (!tree.used[p]) reserved.used[p] = 1;
        if (policy === 'default') {
          expect(r).toEqual({ lo: op.lo, hi });
        } else {
          // A live allocation that was grown is a reservation now.
          for (const [lo, a] of [...live]) {
            const node = d.find(lo) as { lo: number; hi: number };
            if (node.lo !== lo || node.hi !== lo + a.size - 1) {
              live.delete(lo);
              reserved.mark(node.lo, node.hi, 1);
            }
          }
        }
        break;
      }
      case 'flush':
        d.flush();
        if (policy === 'default') expect(cacheEmpty()).toBe(true);
        break;
      case 'tick':
        d.tick();
        break;
    }
    const bad = d.check();
    expect(bad, `after ${JSON.stringify(op)}`).toBeUndefined();
  }
  // Every live allocation is still exactly where it was put.
  for (const [lo, a] of live) expect(d.find(lo)).toEqual({ lo, hi: lo + a.size - 1 });
}

/** Random sequences on small spaces, or on a space pre-filled so that the tree is 2-3 levels deep. */
function sequences(policy: DmaIovaPolicyName, deep: boolean, numRuns: number): void {
  const property = deep
    ? fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4000, max: 7000 }), fc.array(opArb(70, 7000), { minLength: 50, maxLength: 150 }), (start, fill, ops) =>
        exercise(policy, policy === 'linux' ? start + 1 : start, 7000, fill, ops),
      )
    : fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 16, max: 400 }), fc.array(opArb(40, 400), { maxLength: 120 }), (start, top, ops) =>
        exercise(policy, Math.min(policy === 'linux' ? start + 1 : start, top), top, 0, ops),
      );
  fc.assert(property, { seed: SEED, numRuns });
}

describe('default policy against a brute-force model', () => {
  it('places at the highest fitting slot and fails only when nothing fits (small spaces)', () => sequences('default', false, 250));

  it('keeps that on trees several levels deep', () => sequences('default', true, 12));

  it('reuses freed space: after freeing everything the whole space fits again', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        const d = new DmaIovaDomain({ granule: 4096, startPfn: 1, topPfn: 1023 });
        const got = sizes.map((s) => d.alloc(s, 1023, true)).filter((x): x is number => x !== undefined);
        for (const p of got) expect(d.free(p)).toBe(true);
        expect(d.dump()).toEqual([]);
        expect(d.alloc(1023, 1023)).toBe(1);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('linux policy invariants', () => {
  it('keeps ranges disjoint, in bounds and aligned', () => sequences('linux', false, 200));

  it('keeps them on deep trees', () => sequences('linux', true, 8));
});

/**
 * The `default` policy's answer taken literally from a sorted list of ranges: the gaps from the
 * top down, each clipped at the limit, the first that holds an aligned slot. Works for spaces
 * far too large for a page map.
 */
class GapList {
  readonly ranges: Array<{ lo: number; hi: number }> = [];

  constructor(
    private readonly startPfn: number,
    private readonly topPfn: number,
  ) {}

  highestFit(size: number, limit: number, align: number): number {
    const top = Math.min(limit, this.topPfn);
    for (let i = this.ranges.length; i >= 0; i--) {
      // The gap below range i (below the top of the space for the last i).
      const ceiling = (i < this.ranges.length ? this.ranges[i].lo : this.topPfn + 1) - 1;
      const floor = i === 0 ? this.startPfn : Math.max(this.ranges[i - 1].hi + 1, this.startPfn);
      const last = Math.min(ceiling, top);
      if (last - size + 1 < floor) continue;
      // Division by a power of two is exact in a double.
      const at = Math.floor((last - size + 1) / align) * align;
      if (at >= floor) return at;
    }
    return -1;
  }

  add(lo: number, hi: number): void {
    let i = this.ranges.length;
    while (i > 0 && this.ranges[i - 1].lo > lo) i--;
    this.ranges.splice(i, 0, { lo, hi });
  }

  remove(lo: number): void {
    this.ranges.splice(
      this.ranges.findIndex((r) => r.lo === lo),
      1,
    );
  }
}

/** mulberry32: a small seeded generator, so that each churn is the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('default policy under churn against a gap list', () => {
  // Free one live range, allocate another, many times over: the gaps an allocation shrinks leave
  // the tree's bounds too high until a search finds out, and every answer must still be the
  // highest fitting slot. The ranges sit at bases where pfn arithmetic changes: 32-bit integer
  // below 2^30, doubles above, the 4 GiB-of-pages mark, and the top of a 64-bit space of 4 KiB pages.
  const bases = [1, 2 ** 30 - 3000, 2 ** 31 - 3000, 2 ** 32 - 3000, 2 ** 52 - 20_000];
  for (const base of bases) {
    it(`finds the highest fit with stale bounds (ranges from pfn ${base})`, () => {
      const rand = prng(base % 1000003);
      const span = 12_000;
      const d = new DmaIovaDomain({ granule: 4096, startPfn: base });
      const m = new GapList(base, d.topPfn);
      const live: number[] = [];
      const step = (k: number): void => {
        const size = 1 + Math.floor(rand() * 64);
        const aligned = rand() < 0.8;
        // Mostly a limit above everything (the search starts at the top), sometimes one inside.
        const limit = rand() < 0.7 ? base + span : base + Math.floor(rand() * span);
        const want = m.highestFit(size, limit, aligned ? pow2AtLeast(size) : 1);
        const at = d.alloc(size, limit, aligned) ?? -1;
        expect(at, `step ${k}: alloc(${size}, ${limit}, ${aligned})`).toBe(want);
        if (at >= 0) {
          m.add(at, at + size - 1);
          live.push(at);
        }
      };
      for (let k = 0; k < 1500; k++) step(k);
      for (let k = 0; k < 3000; k++) {
        if (live.length > 0) {
          const i = Math.floor(rand() * live.length);
          expect(d.free(live[i])).toBe(true);
          m.remove(live[i]);
          live[i] = live[live.length - 1];
          live.pop();
        }
        step(k);
        if (k % 500 === 0) expect(d.check()).toBeUndefined();
      }
      expect(d.dump()).toEqual(m.ranges);
      expect(d.check()).toBeUndefined();
    });
  }
});
