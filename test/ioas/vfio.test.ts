/**
 * VFIO type1 (the v2 interface): the valid IOVA list on attach and detach, and the map, unmap
 * and entry-limit errors.
 */
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { MAX_ADDRESS } from '../../src/model/address.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { expectErrno, expectOk, PAGE } from './helpers.js';

const geometry = (last: string, pages = ['4K', '2M', '1G'], start: string | number = 0) => ({ apertures: [{ start, last }], pageSizes: pages });

/** An Intel host (39-bit VT-d) with an iGPU whose RMRRs are direct and direct-relaxable, and assorted odd domains. */
const host = parseHostFacts(
  {
    name: 'intel',
    platform: { profile: 'intel-vtd', addressWidth: 39 },
    groups: [
      {
        id: 1,
        devices: ['0000:00:02.0'],
        reservedRegions: [
          { start: '0x3e2e0000', last: '0x3e2fffff', type: 'reserved' },
          { start: '0x7c000000', last: '0x7fffffff', type: 'direct-relaxable' },
        ],
      },
      { id: 2, devices: ['0000:03:00.0'] },
    ],
    devices: [
      { id: '00:02.0', group: 1 },
      { id: '03:00.0', group: 2 },
      { id: '04:00.0', iommu: geometry('0xffffffffffff') },
      { id: '05:00.0', iommu: geometry('0x1ffffffffff', ['4K'], '0x10000000000') },
      { id: '06:00.0', iommu: geometry('0xfeefffff', ['4K'], '0xfee00000') },
      { id: '07:00.0', iommu: geometry('0xffffffffffff', ['64K', '2M']) },
      { id: '08:00.0', iommu: geometry('0xffffffffffff', ['2K', '4K']) },
    ],
  },
  'intel.json',
);

const vfio = (options: { dmaEntryLimit?: number } = {}) => Ioas.create(host, { policy: 'vfio-type1', ...options });

describe('VFIO_IOMMU_MAP_DMA', () => {
  const ioas = vfio();
  expectOk(ioas.attach('0000:00:02.0'));

  it('refuses the MSI window the profile reserves (EINVAL), naming it', () => {
    const r = expectErrno(ioas, ioas.map({ iova: 0xfee0_0000n, length: PAGE }), 'EINVAL', 'reserved-overlap');
    expect(r.blocking).toMatchObject({ holeType: 'msi', source: { profile: 'intel-vtd', what: 'MSI window' } });
    expect(r.suggestions.length).toBeGreaterThan(0);
  });

  it('refuses a reserved region but maps over a direct-relaxable one', () => {
    const r = expectErrno(ioas, ioas.map({ iova: 0x3e2e_0000n, length: PAGE }), 'EINVAL', 'reserved-overlap');
    expect(r.blocking?.source).toMatchObject({ group: 1, path: 'groups[0].reservedRegions[0]', file: 'intel.json' });
    const copy = ioas.clone();
    expectOk(copy.map({ iova: 0x7c00_0000n, length: 0x400_0000n }));
  });

  it('refuses IOVAs beyond the 39-bit aperture', () => {
    const r = expectErrno(ioas, ioas.map({ iova: 1n << 39n, length: PAGE }), 'EINVAL', 'outside-aperture');
    expect(r.message).toContain('0x80_0000_0000');
  });

  it('refuses overlaps (EEXIST), zero and misaligned sizes and wrap (EINVAL)', () => {
    const copy = ioas.clone();
    expectOk(copy.map({ iova: 0x1000_0000n, length: 0x10_0000n }));
    expectErrno(copy, copy.map({ iova: 0x100f_f000n, length: 0x2000n }), 'EEXIST', 'area-overlap');
    expectErrno(copy, copy.map({ iova: 0x2000_0000n, length: 0n }), 'EINVAL', 'length-zero');
    expectErrno(copy, copy.map({ iova: 0x2000_0000n, length: 0x800n }), 'EINVAL', 'length-alignment');
    expectErrno(copy, copy.map({ iova: 0x2000_0800n, length: PAGE }), 'EINVAL', 'iova-alignment');
    expectErrno(copy, copy.map({ iova: 0x2000_0000n, length: PAGE, va: 0x7f00_0000_0800n }), 'EINVAL', 'va-alignment');
    expectErrno(copy, copy.map({ iova: MAX_ADDRESS - PAGE + 1n, length: 2n * PAGE }), 'EINVAL', 'iova-wrap');
  });

  it('has no automatic placement', () => {
    expect(() => ioas.map({ length: PAGE, fixed: false })).toThrow(/no automatic IOVA placement/);
  });
});

describe('dma_entry_limit', () => {
  it('refuses the mapping past the limit with ENOSPC; raising the limit is suggested', () => {
    const ioas = vfio({ dmaEntryLimit: 2 });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: PAGE }));
    expectOk(ioas.map({ iova: 0x1000_1000n, length: PAGE }));
    const r = expectErrno(ioas, ioas.map({ iova: 0x1000_2000n, length: PAGE }), 'ENOSPC', 'entry-limit');
    expect(r.suggestions.map((s) => s.steps[0])).toContainEqual({ op: 'set-dma-entry-limit', limit: 3 });
    expectOk(ioas.unmap(0x1000_0000n, PAGE));
    expectOk(ioas.map({ iova: 0x1000_2000n, length: PAGE }));
  });
});

describe('attaching a group', () => {
  it('refuses a non-relaxable region over a mapping (EINVAL); unmapping first works', () => {
    const ioas = vfio();
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x3e20_0000n, length: 0x20_0000n, name: 'fw' }));
    const r = expectErrno(ioas, ioas.attach('0000:00:02.0'), 'EINVAL', 'reserved-mapped');
    expect(r.blocking).toMatchObject({ holeType: 'reserved', source: { group: 1 } });
    expect(r.suggestions[0].steps).toEqual([{ op: 'unmap', iova: 0x3e20_0000n, length: 0x20_0000n }, { op: 'attach', device: '0000:00:02.0' }]);
  });

  it('ignores a direct-relaxable region over a mapping', () => {
    const ioas = vfio();
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x7c00_0000n, length: 0x400_0000n }));
    expectOk(ioas.attach('0000:00:02.0'));
  });

  it('refuses an aperture that cuts a mapping, and one disjoint from the valid list; detaching widens it again', () => {
    const ioas = vfio();
    expectOk(ioas.attach('0000:04:00.0'));
    expectOk(ioas.map({ iova: 1n << 40n, length: PAGE }));
    const cut = expectErrno(ioas, ioas.attach('0000:03:00.0'), 'EINVAL', 'aperture-mapped');
    expect(cut.blocking).toMatchObject({ fact: 'mapping', range: { start: 1n << 40n } });
    expectOk(ioas.unmap(1n << 40n, PAGE));
    expectOk(ioas.attach('0000:03:00.0'));
    expectErrno(ioas, ioas.map({ iova: 1n << 40n, length: PAGE }), 'EINVAL', 'outside-aperture');

    const disjoint = expectErrno(ioas, ioas.attach('0000:05:00.0'), 'EINVAL', 'aperture-disjoint');
    expect(disjoint.suggestions.map((s) => s.steps[0])).toContainEqual({ op: 'detach', device: '0000:03:00.0' });

    expectOk(ioas.detach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 1n << 40n, length: PAGE }));
  });

  it('refuses a group that would leave no valid IOVA', () => {
    const ioas = vfio();
    expectErrno(ioas, ioas.attach('0000:06:00.0'), 'EINVAL', 'no-valid-range');
  });

  it('takes the page sizes every domain has, showing sub-page sizes as the CPU page', () => {
    const ioas = vfio();
    expectOk(ioas.attach('0000:08:00.0'));
    expect(ioas.pageSizes).toBe(PAGE);
    ioas.detach('0000:08:00.0');
    expectOk(ioas.attach('0000:07:00.0'));
    expect(ioas.alignment).toBe(0x10000n);
    expectOk(ioas.attach('0000:04:00.0'));
    expect(ioas.pageSizes).toBe(1n << 21n);
    const r = expectErrno(ioas, ioas.map({ iova: 0x10000n, length: 2n << 20n }), 'EINVAL', 'iova-alignment');
    expect(r.suggestions[0].steps).toEqual([{ op: 'map', iova: 0n, length: 2n << 20n, fixed: true }]);
  });

  it('reports the valid IOVA list', () => {
    const ioas = vfio();
    // container.c vfio_fops_unl_ioctl(): no group, no VFIO_SET_IOMMU, so no IOMMU driver to ask.
    const none = expectErrno(ioas, ioas.iovaRanges(), 'EINVAL', 'no-iommu');
    expect(none.suggestions[0].steps[0]).toEqual({ op: 'attach', device: '0000:00:02.0' });
    expectOk(ioas.attach('0000:00:02.0'));
    expect(expectOk(ioas.iovaRanges(1)).ranges).toEqual([
      { start: 0n, last: 0x3e2d_ffffn },
      { start: 0x3e30_0000n, last: 0xfedf_ffffn },
      { start: 0xfef0_0000n, last: (1n << 39n) - 1n },
    ]);
  });
});

describe('VFIO_IOMMU_UNMAP_DMA (v2)', () => {
  it('refuses to cut a mapping, succeeds with nothing there, and drops everything on the last detach', () => {
    const ioas = vfio();
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: 0x4000n }));
    expectOk(ioas.map({ iova: 0x2000_0000n, length: 0x4000n }));
    const cut = expectErrno(ioas, ioas.unmap(0x1000_1000n, PAGE), 'EINVAL', 'partial-unmap');
    expect(cut.suggestions[0].steps).toEqual([{ op: 'unmap', iova: 0x1000_0000n, length: 0x4000n }]);
    expectErrno(ioas, ioas.unmap(0x1000_0800n, PAGE), 'EINVAL', 'unmap-alignment');
    expect(expectOk(ioas.unmap(0x3000_0000n, PAGE)).bytes).toBe(0n);
    expect(expectOk(ioas.unmap(0x1000_0000n, 0x4000n)).bytes).toBe(0x4000n);
    const last = ioas.detach('0000:03:00.0');
    expect(last.unmapped.map((m) => m.start)).toEqual([0x2000_0000n]);
    expect(ioas.mappings).toEqual([]);
  });
});
