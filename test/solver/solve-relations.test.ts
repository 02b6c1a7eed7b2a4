/**
 * Relations between requests, objectives and page-size preferences, with expectations worked
 * out by hand on small hosts.
 */
import { describe, expect, it } from 'vitest';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { solve } from '../../src/solver/solve.js';
import { advertise, requestWindow } from '../../src/solver/negotiate.js';
import { parseHostFacts } from '../../src/model/schema.js';

const G = 1n << 30n;
const M = 1n << 20n;

/** 48-bit Intel: MSI window at 0xfee0_0000, 4K|2M|1G pages. */
const intel = { name: 'intel', platform: { profile: 'intel-vtd', addressWidth: 48 } };

async function place(requests: unknown[], extra: Record<string, unknown> = {}, host: unknown = intel) {
  const result = await solve(parsePlacementSpec({ host, requests, ...extra }));
  if (result.status !== 'sat') throw new Error(`expected sat, got ${result.status}: ${JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  return new Map(result.placements.map((p) => [p.name, p]));
}

describe('relations', () => {
  it('above: the request lies wholly above the other', async () => {
    const p = await place([
      { name: 'high', size: '1G', above: 'low' },
      { name: 'low', size: '2G' },
    ]);
    // low at 0; high at the first free byte after it (2 GiB), below the MSI window.
    expect(p.get('low')?.iova).toBe(0n);
    expect(p.get('high')?.iova).toBe(2n * G);
  });

  it('offsetFrom: a fixed distance, negative offsets included, placed as one unit', async () => {
    const p = await place([
      { name: 'ring', size: '64K', offsetFrom: { request: 'buffers', offset: '-0x10000' } },
      { name: 'buffers', size: '1M', align: '1M' },
    ]);
    // buffers 1 MiB-aligned with 64 KiB free below it for the ring: 1 MiB, ring at 0xf_0000.
    expect(p.get('buffers')?.iova).toBe(M);
    expect(p.get('ring')?.iova).toBe(M - 0x10000n);
  });

  it('window: tagged requests share one aperture window (sPAPR has two)', async () => {
    const spapr = { name: 'phb', platform: { profile: 'spapr', window64Size: '1T' } };
    const p = await place(
      [
        { name: 'big', size: '2G', window: 'w' }, // only the 64-bit window holds 2 GiB
        { name: 'small', size: '4K', window: 'w' },
      ],
      {},
      spapr,
    );
    const w64 = 1n << 59n;
    expect(p.get('big')?.iova).toBe(w64);
    // Without the tag `small` would go at 0, in the 32-bit window.
    expect(p.get('small')?.iova).toBe(w64 + 2n * G);
    const untagged = await place([{ name: 'big', size: '2G' }, { name: 'small', size: '4K' }], {}, spapr);
    expect(untagged.get('small')?.iova).toBe(0n);
  });

  it('a cycle of above is unsat, and the conflict is the cycle', async () => {
    const result = await solve(parsePlacementSpec({ host: intel, requests: [{ name: 'a', size: '4K', above: 'b' }, { name: 'b', size: '4K', above: 'a' }] }), { repairs: false });
    expect(result.status).toBe('unsat');
    if (result.status === 'unsat') expect(result.conflicts[0].constraints.map((c) => c.id).sort()).toEqual(['above:a:b', 'above:b:a']);
  });

  it('rejects offsetFrom loops and unknown names as bad input', () => {
    expect(() => parsePlacementSpec({ host: intel, requests: [{ name: 'a', size: '4K', offsetFrom: { request: 'b', offset: 0 } }, { name: 'b', size: '4K', offsetFrom: { request: 'a', offset: 0 } }] })).toThrowError(/form a loop/);
    expect(() => parsePlacementSpec({ host: intel, requests: [{ name: 'a', size: '4K', above: 'zz' }] })).toThrowError(/no request named "zz"/);
    expect(() => parsePlacementSpec({ host: intel, requests: [{ name: 'a', size: '4K' }, { name: 'a', size: '8K' }] })).toThrowError(/request name "a" is given twice \(first at requests\[0\]\.name\)/);
  });
});

describe('objectives and page sizes', () => {
  const two = [
    { name: 'a', size: '4M' },
    { name: 'b', size: '2M' },
  ];

  it('low and high', async () => {
    const low = await place(two, { objective: 'low' });
    expect([low.get('a')?.iova, low.get('b')?.iova]).toEqual([0n, 4n * M]);
    const high = await place(two, { objective: 'high' });
    const top = 1n << 48n;
    expect([high.get('a')?.iova, high.get('b')?.iova]).toEqual([top - 4n * M, top - 6n * M]);
  });

  it('free-below-4g keeps the low 4 GiB empty while there is room above', async () => {
    const p = await place([...two, { name: 'dma32', size: '1M', dmaBits: 32 }], { objective: 'free-below-4g' });
    expect(p.get('a')?.iova).toBe(4n * G);
    expect(p.get('b')?.iova).toBe(4n * G + 4n * M);
    // A 32-bit device has no choice: as high as it fits below 4 GiB.
    expect(p.get('dma32')?.iova).toBe(4n * G - M);
  });

  it('fewest-pages aligns each request to the largest page its size can use', async () => {
    const p = await place([{ name: 'small', size: '4K' }, { name: 'huge', size: '2G' }], { objective: 'fewest-pages' });
    // 2 GiB 1 GiB-aligned maps as two 1 GiB pages; 4 KiB then goes to the lowest free page.
    expect(p.get('huge')?.iova).toBe(0n);
    expect(p.get('huge')?.pages).toEqual([{ pageSize: G, count: 2n }]);
    expect(p.get('small')?.iova).toBe(2n * G);
  });

  it('pageSize: a preference, not a requirement', async () => {
    const preferred = await place([{ name: 'x', size: '4M', pageSize: '2M' }, { name: 'pad', size: '4K', fixed: '0' }]);
    expect(preferred.get('x')?.iova).toBe(2n * M);
    expect(preferred.get('x')?.pages).toEqual([{ pageSize: 2n * M, count: 2n }]);
    // In a window too small for a 2 MiB-aligned slot, it falls back to 4 KiB alignment.
    const tight = await place([{ name: 'x', size: '4M', pageSize: '2M', within: { start: '0x1000', last: '0x400fff' } }]);
    expect(tight.get('x')?.iova).toBe(0x1000n);
  });

  it('compact packs larger alignments first', async () => {
    const p = await place(
      [
        { name: 'a', size: '4K' },
        { name: 'b', size: '2M', align: '2M' },
      ],
      { objective: 'compact' },
    );
    expect(p.get('b')?.iova).toBe(0n);
    expect(p.get('a')?.iova).toBe(2n * M);
  });
});

describe('negotiation', () => {
  const host = parseHostFacts(intel);

  it('advertise: the usable ranges and the alignment', () => {
    const ad = advertise(host);
    expect(ad.alignment).toBe(4096n);
    expect(ad.usable).toEqual([
      { start: 0n, last: 0xfedfffffn },
      { start: 0xfef00000n, last: (1n << 48n) - 1n },
    ]);
  });

  it('request / ack-or-nack: within a [base, max] hint, at a base, and refused', async () => {
    // Within 0xfe00_0000–0xffff_ffff: the 14 MiB below the MSI window take it.
    const within = await requestWindow(host, { size: 2n * M, within: { start: 0xfe000000n, last: 0xffffffffn } });
    expect(within.ack && within.placement.iova).toBe(0xfe000000n);
    // 16 MiB does not fit below the MSI window there: above it.
    const above = await requestWindow(host, { size: 16n * M, within: { start: 0xfe000000n, last: 0xffffffffn } });
    expect(above.ack && above.placement.iova).toBe(0xfef00000n);
    const at = await requestWindow(host, { size: G, base: 4n * G });
    expect(at.ack && at.placement.iova).toBe(4n * G);
    const refused = await requestWindow(host, { size: 2n * M, base: 0xfee00000n });
    expect(refused.ack).toBe(false);
    if (!refused.ack && 'conflicts' in refused) {
      expect(refused.conflicts[0].message).toMatch(/overlaps the MSI doorbell range 0xfee0_0000–0xfeef_ffff/);
      expect(refused.repairs[0].description).toBe('move `window` from 0xfee0_0000 to 0x0');
    }
  });
});
