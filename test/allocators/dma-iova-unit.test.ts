// Hand-computed cases for DmaIovaDomain. Every expected value is worked out in the comment next
// to it from the rules (SEMANTICS.md, vectors/linux-iova/README.md), not taken from a run.
import { describe, expect, it } from 'vitest';
import { DmaIovaDomain, replayTrace, type DmaIovaPolicyName } from '../../src/allocators/index.js';
import { alignedFit } from '../../src/allocators/dma-iova/tree.js';
import { orderBase2, roundUpPow2 } from '../../src/allocators/dma-iova/pfn.js';
import { InputError } from '../../src/model/errors.js';

const LIMIT32 = 0xfffff; // last 4 KiB pfn below 4 GiB

function domain(policy: DmaIovaPolicyName, startPfn = 1, topPfn?: number): DmaIovaDomain {
  return new DmaIovaDomain({ granule: 4096, startPfn, policy, topPfn });
}

describe('pfn arithmetic', () => {
  it('orders and powers of two', () => {
    expect([1, 2, 3, 4, 5, 32, 33].map(orderBase2)).toEqual([0, 1, 2, 2, 3, 5, 6]);
    expect([1, 3, 17, 64, 65].map(roundUpPow2)).toEqual([1, 4, 32, 64, 128]);
    // Above 2^31 the helper must not lose the exact power: 2^40 + 1 -> 2^41.
    expect(roundUpPow2(2 ** 40 + 1)).toBe(2 ** 41);
    expect(roundUpPow2(2 ** 40)).toBe(2 ** 40);
  });

  it('largest size-aligned request fitting in a gap', () => {
    // [8,12]: 5 pages aligned to 8 fit at 8; 6..8 pages would need 8 | x and x + s - 1 <= 12.
    expect(alignedFit(8, 12)).toBe(5);
    // [9,12]: 3 or 4 pages need a multiple of 4 -> 12, too late; 2 pages fit at 10.
    expect(alignedFit(9, 12)).toBe(2);
    // [1,15]: [8,15] holds 8; 9..15 pages need a multiple of 16 in [1, 15-s+1]: none.
    expect(alignedFit(1, 15)).toBe(8);
    expect(alignedFit(0, 0)).toBe(1);
    expect(alignedFit(5, 4)).toBe(0);
  });
});

describe('domain set-up', () => {
  it('rejects granules whose pfns would not be exact in a double', () => {
    // 2^64 / 512 - 1 = 2^55 - 1 > 2^53 - 1.
    expect(() => new DmaIovaDomain({ granule: 512, startPfn: 1 })).toThrow(/2\^53/);
    expect(() => new DmaIovaDomain({ granule: 512, startPfn: 1 })).toThrow(InputError);
    // With a top pfn inside the exact range it is fine.
    expect(new DmaIovaDomain({ granule: 512, startPfn: 1, topPfn: 2 ** 40 }).topPfn).toBe(2 ** 40);
    // 2048 B: 2^64 / 2^11 - 1 = 2^53 - 1, exactly the largest safe integer.
    expect(new DmaIovaDomain({ granule: 2048, startPfn: 1 }).topPfn).toBe(Number.MAX_SAFE_INTEGER);
    expect(new DmaIovaDomain({ granule: 4096, startPfn: 1 }).topPfn).toBe(2 ** 52 - 1);
  });

  it('rejects bad parameters', () => {
    expect(() => new DmaIovaDomain({ granule: 3000, startPfn: 1 })).toThrow(/power of two/);
    expect(() => new DmaIovaDomain({ granule: 4096, startPfn: -1 })).toThrow(InputError);
    expect(() => new DmaIovaDomain({ granule: 4096, startPfn: 10, topPfn: 5 })).toThrow(/above the top/);
    expect(() => new DmaIovaDomain({ granule: 4096, startPfn: 1, topPfn: 2 ** 52 })).toThrow(/above the 64-bit space/);
    const d = domain('default');
    expect(() => d.alloc(0, 10)).toThrow(InputError);
    expect(() => d.alloc(1.5, 10)).toThrow(InputError);
    expect(() => d.reserve(5, 4)).toThrow(/above its end/);
  });

  it('uses the default policy unless told otherwise', () => {
    expect(new DmaIovaDomain({ granule: 4096, startPfn: 1 }).policy).toBe('default');
    // 4 KiB granule: 4 GiB / 4 KiB = 2^20.
    expect(domain('linux').dma32Pfn).toBe(2 ** 20);
  });
});

describe('linux policy', () => {
  it('places top-down from the cursor and keeps alignment without padding', () => {
    const d = domain('linux');
    // Empty tree: limit+1 = 100, 5 pages aligned to 8: (100 - 5) & ~7 = 88 -> [88, 92].
    expect(d.alloc(5, 99, true)).toBe(88);
    expect(d.find(92)).toEqual({ lo: 88, hi: 92 });
    expect(d.find(93)).toBeUndefined();
    // The walk starts at cached32 = [88,92]: high = 88, 88 - 2 = 86 -> [86, 87].
    expect(d.alloc(2, 99, false)).toBe(86);
    // Freeing [88,92] (at/above cached32 = 86, below 4 GiB) moves cached32 to its successor,
    // the anchor; the next walk starts at the top again: 100 - 4 = 96 -> [96, 99].
    expect(d.free(88)).toBe(true);
    expect(d.state().cursors).toEqual({ cached: 'anchor', cached32: 'anchor', max32: 2 ** 20 });
    expect(d.alloc(4, 99, false)).toBe(96);
    expect(d.state().cursors?.cached32).toBe(96);
    expect(d.free(88)).toBe(false);
  });

  it('gates 32-bit requests after a failure until something below 4 GiB is freed', () => {
    const d = domain('linux');
    // limit+1 = 6 < 10: no room, the failure records max32 = 10.
    expect(d.alloc(10, 5)).toBeUndefined();
    expect(d.state().cursors?.max32).toBe(10);
    // Plenty of room below 4 GiB, but 10 >= max32 fails at once; 9 does not.
    expect(d.alloc(10, LIMIT32)).toBeUndefined();
    expect(d.alloc(9, LIMIT32)).toBe(2 ** 20 - 9);
    // A limit above 4 GiB is not gated: 2^21 - 10.
    expect(d.alloc(10, 2 ** 21 - 1)).toBe(2 ** 21 - 10);
    // Freeing the range below 4 GiB lifts the gate; cached32 was that range, so it moves to
    // its successor [2^21 - 10, ...] and the walk from there finds 2^20 - 10 at once.
    expect(d.free(2 ** 20 - 9)).toBe(true);
    expect(d.state().cursors?.max32).toBe(2 ** 20);
    expect(d.alloc(10, LIMIT32)).toBe(2 ** 20 - 10);
  });

  it('an aligned failure blocks an unaligned request that would fit (and default does not)', () => {
    for (const policy of ['linux', 'default'] as const) {
      const d = domain(policy);
      // Free: [1, 8] only.
      d.reserve(9, LIMIT32);
      // 5 pages aligned to 8: the only multiple of 8 in [1, 8 - 5 + 1] is none -> fail.
      expect(d.alloc(5, LIMIT32, true)).toBeUndefined();
      // [4, 8] is free and unaligned requests need no more.
      expect(d.alloc(5, LIMIT32, false)).toBe(policy === 'linux' ? undefined : 4);
    }
  });

  it('reserve grows overlapping ranges, swallows gaps, and returns the last node', () => {
    const d = domain('linux');
    expect(d.alloc(4, 99)).toBe(96); // [96, 99]
    // [90, 97] overlaps [96, 99]: that node grows down to 90 and is returned.
    expect(d.reserve(90, 97)).toEqual({ lo: 90, hi: 99 });
    expect(d.dump()).toEqual([{ lo: 90, hi: 99 }]);
    // So freeing the allocation frees the reservation with it.
    expect(d.free(95)).toBe(true);
    expect(d.dump()).toEqual([]);

    expect(d.reserve(10, 19)).toEqual({ lo: 10, hi: 19 });
    expect(d.reserve(30, 39)).toEqual({ lo: 30, hi: 39 });
    // [5, 45]: [10,19] grows to [5,19]; [30,39] grows down to 20 (the gap is absorbed);
    // [40, 45] sticks out and becomes a new node, which is returned.
    expect(d.reserve(5, 45)).toEqual({ lo: 40, hi: 45 });
    expect(d.dump()).toEqual([
      { lo: 5, hi: 19 },
      { lo: 20, hi: 39 },
      { lo: 40, hi: 45 },
    ]);
    // Wholly inside an existing node: that node.
    expect(d.reserve(22, 25)).toEqual({ lo: 20, hi: 39 });
    // Beyond the top pfn (2^52 - 1): refused.
    expect(d.reserve(2 ** 52, 2 ** 52)).toBeUndefined();
  });
});

describe('default policy', () => {
  it('takes the highest aligned slot under the limit', () => {
    const d = domain('default', 1, 100);
    // 5 pages aligned to 8, end <= 100: x = 96 ([96, 100]).
    expect(d.alloc(5, 100, true)).toBe(96);
    // 3 pages aligned to 4 in [1, 95]: x + 2 <= 95 -> x <= 93 -> 92.
    expect(d.alloc(3, 100, true)).toBe(92);
    // 1 page: 95 is free.
    expect(d.alloc(1, 100)).toBe(95);
    // 6 pages unaligned, below 92: [86, 91].
    expect(d.alloc(6, 100)).toBe(86);
    // Limit 50: [45, 50].
    expect(d.alloc(6, 50)).toBe(45);
    expect(d.check()).toBeUndefined();
  });

  it('fails only when nothing fits, and freed space is reused', () => {
    const d = domain('default', 10, 25);
    // Space [10, 25]: 16 pages.
    expect(d.alloc(17, 25)).toBeUndefined();
    expect(d.alloc(16, 25)).toBe(10);
    expect(d.alloc(1, 25)).toBeUndefined();
    expect(d.free(17)).toBe(true);
    // 16 pages aligned to 16 would need x = 0 (below the start) or 16 ([16, 31] > 25).
    expect(d.alloc(16, 25, true)).toBeUndefined();
    // 8 aligned to 8: x <= 18, x >= 10 -> 16.
    expect(d.alloc(8, 25, true)).toBe(16);
  });

  it('reserve fills only the free parts and leaves allocations alone', () => {
    const d = domain('default', 1, 1000);
    expect(d.alloc(4, 99)).toBe(96);
    // [90, 97]: 90..95 are free and become a reserved range; [96, 99] stays as it is.
    expect(d.reserve(90, 97)).toEqual({ lo: 90, hi: 97 });
    expect(d.dump()).toEqual([
      { lo: 90, hi: 95 },
      { lo: 96, hi: 99 },
    ]);
    expect(d.free(96)).toBe(true);
    expect(d.find(92)).toEqual({ lo: 90, hi: 95 });
    expect(d.reserve(1001, 1001)).toBeUndefined();
  });
});

describe('32-bit entries and the switch to doubles', () => {
  // Ranges are kept in 32-bit integers while they all lie at or below 2^31 - 2; the anchor of a
  // larger space is stored below its true pfn meanwhile. The first range above switches the tree
  // to doubles. Either way the answers are those of the rules.
  const N = 2 ** 31;

  it('answers for pfns between the highest range and an anchor stored below its true pfn', () => {
    for (const policy of ['default', 'linux'] as const) {
      const d = domain(policy); // top 2^52 - 1: the anchor lies at 2^52
      // 4 pages under the limit 2^31 - 2 (the highest pfn a 32-bit entry may reach): [2^31 - 5, 2^31 - 2].
      expect(d.alloc(4, N - 2)).toBe(N - 5);
      expect(d.find(N - 2)).toEqual({ lo: N - 5, hi: N - 2 });
      // Between that range and the anchor, whatever the stored anchor says, nothing is there.
      for (const pfn of [N - 1, N, N + 7, 2 ** 52 - 1, 2 ** 52]) {
        expect(d.find(pfn)).toBeUndefined();
        expect(d.free(pfn)).toBe(false);
      }
      // Above 4 GiB the linux cursor moves to the range, and back to the anchor when it is freed.
      if (policy === 'linux') expect(d.state().cursors?.cached).toBe(N - 5);
      expect(d.free(N - 3)).toBe(true);
      if (policy === 'linux') expect(d.state().cursors?.cached).toBe('anchor');
      expect(d.check()).toBeUndefined();
    }
  });

  it('switches to doubles for the first range above 2^31 - 2 and keeps every answer', () => {
    const d = domain('default');
    expect(d.alloc(8, N - 2, true)).toBe(N - 16); // [2^31 - 16, 2^31 - 9], aligned to 8
    expect(d.alloc(3, LIMIT32)).toBe(2 ** 20 - 3);
    // 2 pages reaching 2^31: above what 32 bits may hold; the tree widens: [2^31 - 1, 2^31].
    expect(d.alloc(2, N)).toBe(N - 1);
    expect(d.check()).toBeUndefined();
    // The top of the space, then a reservation straddling 2^32.
    expect(d.alloc(1, 2 ** 52 - 1)).toBe(2 ** 52 - 1);
    expect(d.reserve(2 ** 32 - 2, 2 ** 32 + 1)).toEqual({ lo: 2 ** 32 - 2, hi: 2 ** 32 + 1 });
    // Highest 4 aligned pages below the reservation: 2^32 - 6 rounded down to 4 is 2^32 - 8.
    expect(d.alloc(4, 2 ** 32, true)).toBe(2 ** 32 - 8);
    expect(d.dump()).toEqual([
      { lo: 2 ** 20 - 3, hi: 2 ** 20 - 1 },
      { lo: N - 16, hi: N - 9 },
      { lo: N - 1, hi: N },
      { lo: 2 ** 32 - 8, hi: 2 ** 32 - 5 },
      { lo: 2 ** 32 - 2, hi: 2 ** 32 + 1 },
      { lo: 2 ** 52 - 1, hi: 2 ** 52 - 1 },
    ]);
    expect(d.free(N)).toBe(true);
    expect(d.free(2 ** 52 - 1)).toBe(true);
    // The gap below the anchor is the whole space above the reservation again.
    expect(d.alloc(2 ** 40, 2 ** 52 - 1, true)).toBe(2 ** 52 - 2 ** 40);
    expect(d.check()).toBeUndefined();
  });

  it('needs no switch when the whole space fits 32 bits', () => {
    // Top 2^31 - 2: the anchor at 2^31 - 1 is stored as itself.
    const d = domain('default', 1, N - 2);
    expect(d.alloc(1, N - 2)).toBe(N - 2);
    expect(d.alloc(2, N)).toBe(N - 4); // the limit is clamped to the top
    expect(d.find(N - 1)).toBeUndefined();
    expect(d.free(N - 2)).toBe(true);
    expect(d.dump()).toEqual([{ lo: N - 4, hi: N - 3 }]);
    expect(d.check()).toBeUndefined();
  });

  it('handles requests of 2^31 pages and more, which stored gaps cannot count exactly', () => {
    const d = domain('default');
    // Gaps of 2^31 pages and up are stored as "at least 2^31 - 1"; an exact check decides.
    expect(d.reserve(2 ** 33, 2 ** 33)).toEqual({ lo: 2 ** 33, hi: 2 ** 33 });
    // [1, 2^33 - 1] holds 2^33 - 1 pages: 2^32 aligned fits at 2^32 only; 2^33 does not fit.
    expect(d.alloc(2 ** 32, 2 ** 33 - 1, true)).toBe(2 ** 32);
    expect(d.alloc(2 ** 33, 2 ** 33 - 1)).toBeUndefined();
    // [1, 2^32 - 1]: 2^32 - 1 pages unaligned, right under the range just placed.
    expect(d.alloc(2 ** 32 - 1, 2 ** 33 - 1)).toBe(1);
    expect(d.check()).toBeUndefined();
  });
});

describe('fast path', () => {
  it('rounds small sizes to a power of two and aligns them', () => {
    for (const policy of ['linux', 'default'] as const) {
      const d = domain(policy);
      // 3 -> 4 pages aligned to 4 at the top below 4 GiB: 2^20 - 4.
      expect(d.allocFast(3, LIMIT32)).toBe(2 ** 20 - 4);
      expect(d.find(2 ** 20 - 1)).toEqual({ lo: 2 ** 20 - 4, hi: 2 ** 20 - 1 });
      // 17 -> 32 pages aligned to 32: below 2^20 - 4 the next multiple of 32 with room is
      // 2^20 - 64 ([2^20 - 64, 2^20 - 33]).
      expect(d.allocFast(17, LIMIT32)).toBe(2 ** 20 - 64);
      // 33 pages are not rounded: aligned to 64, below 2^20 - 64: 2^20 - 128 ([.., 2^20 - 96]).
      expect(d.allocFast(33, LIMIT32)).toBe(2 ** 20 - 128);
      expect(d.find(2 ** 20 - 96)).toEqual({ lo: 2 ** 20 - 128, hi: 2 ** 20 - 96 });
    }
  });

  it('caches freed ranges per size and hands them back (swap-pop, limit-checked)', () => {
    for (const policy of ['linux', 'default'] as const) {
      const d = domain(policy);
      // Falling limits, so that linux's walk from its cursor lands on the same pages.
      expect(d.allocFast(1, 3000)).toBe(3000);
      expect(d.allocFast(1, 700)).toBe(700);
      expect(d.allocFast(1, 500)).toBe(500);
      d.freeFast(500, 1);
      d.freeFast(3000, 1);
      d.freeFast(700, 1);
      expect(d.rcache()[0].loaded).toEqual([500, 3000, 700]);
      // Limit 600: scanning from the last slot, 700 and 3000 are too high, 500 fits; the
      // last slot (700) moves into its place.
      expect(d.allocFast(1, 600)).toBe(500);
      expect(d.rcache()[0].loaded).toEqual([700, 3000]);
      // Still allocated in the tree while cached.
      expect(d.find(3000)).toEqual({ lo: 3000, hi: 3000 });
      // Freeing 33 pages is not cached: straight back to the tree.
      const big = d.allocFast(33, LIMIT32) as number;
      d.freeFast(big, 33);
      expect(d.find(big)).toBeUndefined();
    }
  });

  it('fills magazines, then prev, then the depot; tick trims the depot', () => {
    const d = domain('linux');
    const pfns: number[] = [];
    for (let i = 0; i < 300; i++) pfns.push(d.allocFast(1, LIMIT32) as number);
    for (const p of pfns) d.freeFast(p, 1);
    // 127 fill loaded; the 128th swaps it into prev; 128..254 fill the new loaded; the 255th
    // pushes loaded to the depot and starts a fresh one: 300 - 254 = 46 / 127 / 1.
    expect(d.state().rcache[0]).toEqual({ loaded: 46, prev: 127, depot: 1 });
    // The depot push scheduled a trim; one magazine is not "more than one": nothing freed,
    // and the trim does not reschedule.
    expect(d.tick()).toBe(1);
    expect(d.state().rcache[0].depot).toBe(1);
    expect(d.tick()).toBe(0);
    // 209 more single pages from the tree, cached on free: 81 fill loaded, the 82nd pushes it
    // (depot 2), 126 fill the next, the 209th pushes again: 1 / 127 / 3.
    const more: number[] = [];
    for (let i = 0; i < 209; i++) more.push(d.alloc(1, LIMIT32) as number);
    for (const p of more) d.freeFast(p, 1);
    expect(d.state().rcache[0]).toEqual({ loaded: 1, prev: 127, depot: 3 });
    // Each scheduled trim frees one magazine (127 ranges) while the depot holds more than one.
    const before = d.rangeCount;
    expect(d.tick()).toBe(1);
    expect(d.rangeCount).toBe(before - 127);
    expect(d.tick()).toBe(1);
    expect(d.rangeCount).toBe(before - 254);
    expect(d.state().rcache[0].depot).toBe(1);
    expect(d.tick()).toBe(1);
    expect(d.rangeCount).toBe(before - 254);
    expect(d.tick()).toBe(0);
  });

  it('flush=false fails under linux but default gives the caches back anyway', () => {
    for (const policy of ['linux', 'default'] as const) {
      const d = domain(policy, 1, 15);
      // Space [1, 15]: 8 -> [8,15], 4 -> [4,7], 2 -> [2,3], 1 -> [1].
      expect([d.allocFast(8, 15), d.allocFast(4, 15), d.allocFast(2, 15), d.allocFast(1, 15)]).toEqual([8, 4, 2, 1]);
      d.freeFast(8, 8);
      d.freeFast(4, 4);
      // Bin 1 is empty, the tree is full: linux gives up; default flushes, then the highest
      // 2-aligned pair under 15 is [14, 15].
      expect(d.allocFast(2, 15, false)).toBe(policy === 'linux' ? undefined : 14);
      // With flush (linux): flushed, [14, 15].
      if (policy === 'linux') expect(d.allocFast(2, 15, true)).toBe(14);
    }
  });
});

describe('byte interface', () => {
  it('converts sizes, limits and addresses at the boundary', () => {
    const d = domain('default');
    // 8 KiB aligned under 4 GiB: pfn 2^20 - 2 -> 0xFFFFE000.
    expect(d.allocBytes(8192n, 0xffff_ffffn, true)).toBe(0xffff_e000n);
    expect(d.findBytes(0xffff_e123n)).toEqual({ start: 0xffff_e000n, last: 0xffff_ffffn });
    // 1 byte is a whole page; a limit of 0x2FFF allows pfn 2, of 0x2FFE only pfn 1.
    expect(d.allocBytes(1n, 0x2fffn)).toBe(0x2000n);
    expect(d.allocBytes(1n, 0x2ffen)).toBe(0x1000n);
    expect(d.allocBytes(1n, 0xfffn)).toBeUndefined();
    expect(d.freeBytes(0x2abcn)).toBe(true);
    expect(d.reserveBytes({ start: 0xfee0_0000n, last: 0xfeef_ffffn })).toEqual({ start: 0xfee0_0000n, last: 0xfeef_ffffn });
    expect(d.findBytes(0xfee8_0000n)).toEqual({ start: 0xfee0_0000n, last: 0xfeef_ffffn });
    // Fast path in bytes: 12 KiB -> 3 pages -> 4, aligned to 4, under 0xFEDFFFFF.
    const a = d.allocFastBytes(12288n, 0xfedf_ffffn) as bigint;
    expect(a).toBe(0xfedf_c000n);
    d.freeFastBytes(a, 12288n);
    expect(d.rcache()[2].loaded).toEqual([0xfedfc]);
    // Addresses beyond the space are simply not there.
    expect(d.findBytes(1n << 63n)).toBeUndefined();
    expect(() => d.allocBytes(0n, 0xffffn)).toThrow(InputError);
  });
});

describe('replay', () => {
  it('formats every operation', () => {
    const out = replayTrace(
      [
        '# comment',
        'init 4096 1',
        '',
        'alloc 0x10 0xFFFFF 1 # trailing comment',
        'allocf 1 0xFFFFF',
        'freef 1048559 1',
        'rcache',
        'state',
        'find 1048560',
        'free 1048560',
        'free 1048560',
        'reserve 10 20',
        'dump',
        'flush',
        'tick',
        'check',
        'put',
      ].join('\n'),
    );
    expect(out).toEqual([
      'ok',
      // 16 pages aligned to 16 under 2^20: [2^20 - 16, 2^20 - 1].
      '1048560 1048575',
      // 1 page below that: 1048559.
      '1048559',
      'ok',
      'b0 L[1048559] P[] D0 b1 L[] P[] D0 b2 L[] P[] D0 b3 L[] P[] D0 b4 L[] P[] D0 b5 L[] P[] D0',
      'cached=anchor cached32=1048559 max32=1048576 rc=1/0/0,0/0/0,0/0/0,0/0/0,0/0/0,0/0/0',
      '1048560 1048575',
      'ok',
      'none',
      '10 20',
      'n=2 10-20 1048559-1048559',
      'ok',
      'ran=0',
      'ok',
      'ok',
    ]);
  });

  it('prints - for the cursors of the default policy', () => {
    expect(replayTrace('init 4096 1\nstate', 'default')[1]).toBe('cached=- cached32=- max32=- rc=0/0/0,0/0/0,0/0/0,0/0/0,0/0/0,0/0/0');
  });

  it('rejects bad lines with their line number and text', () => {
    const bad = (text: string): InputError => {
      try {
        replayTrace(text);
      } catch (e) {
        if (e instanceof InputError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    const e = bad('init 4096 1\n\nalloc 1 2');
    expect(e.line).toBe(3);
    expect(e.message).toContain('"alloc 1 2"');
    expect(e.message).toMatch(/takes 3 operands/);
    expect(bad('init 4096 1\nfrob 1').message).toMatch(/unknown operation "frob"/);
    expect(bad('init 4096 1\nalloc x 1 0').message).toMatch(/not a decimal or 0x hex number/);
    expect(bad('alloc 1 1 0').message).toMatch(/before init/);
    expect(bad('init 4096 1\nalloc 0 5 0').message).toMatch(/at least 1/);
    expect(bad('init 4096 1\nalloc 1 5 2').message).toMatch(/0 or 1/);
    expect(bad('init 3000 1').line).toBe(1);
    expect(bad('init 4096 1\nfind 0x10000000000000000').message).toMatch(/64 bits/);
  });
});
