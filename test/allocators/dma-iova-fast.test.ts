// The fast path's magazine storage: 32-bit slots until a wide pfn arrives, then doubles; every
// cached pfn comes back exactly, whichever width it was stored in.
import { describe, expect, it } from 'vitest';
import { DmaIovaDomain } from '../../src/allocators/index.js';

describe('fast-path caches', () => {
  it('keeps pfns below and above 2^31 exact across the switch to wide slots', () => {
    const d = new DmaIovaDomain({ granule: 4096, startPfn: 1, policy: 'default' });
    const narrow = [5, 77, 2 ** 31 - 1];
    const wide = [2 ** 31, 2 ** 40 + 3, 2 ** 52 - 1];
    for (const pfn of narrow) d.freeFast(pfn, 1);
    for (const pfn of wide) d.freeFast(pfn, 1);
    const out: number[] = [];
    for (let k = 0; k < narrow.length + wide.length; k++) out.push(d.allocFast(1, 2 ** 52) as number);
    expect(out.sort((a, b) => a - b)).toEqual([...narrow, ...wide].sort((a, b) => a - b));
  });

  it('serves a limit below the cached top from deeper slots, and misses to the tree otherwise', () => {
    const d = new DmaIovaDomain({ granule: 4096, startPfn: 1, policy: 'linux' });
    const a = d.allocFast(4, 2 ** 20 - 1) as number;
    const b = d.allocFast(4, 2 ** 20 - 1) as number;
    expect(b).toBe(a - 4);
    d.freeFast(b, 4);
    d.freeFast(a, 4);
    // Only b ends at or below b + 3; the magazine is searched from its last slot down.
    expect(d.allocFast(4, b + 3)).toBe(b);
    expect(d.allocFast(4, 2 ** 20 - 1)).toBe(a);
    // Nothing cached any more: the next one comes from the tree, below b.
    expect(d.allocFast(3, 2 ** 20 - 1)).toBe(b - 4);
  });
});
