/**
 * Platform profiles against the values of the Linux drivers and QEMU (SEMANTICS.md).
 */
import { describe, expect, it } from 'vitest';
import { maskOfBits } from '../../src/model/address.js';
import { pageSizeList } from '../../src/model/pages.js';
import { platformFacts } from '../../src/model/profiles.js';

const K4 = 1n << 12n;
const M2 = 1n << 21n;
const G1 = 1n << 30n;
const source = { what: 'test' };

describe('platform profiles', () => {
  it('intel-vtd: the DMAR width, 4K|2M|1G, the MSI window; only field widths', () => {
    for (const width of [36, 39, 46, 48, 52, 57]) {
      const f = platformFacts({ profile: 'intel-vtd', addressWidth: width, source });
      expect(f.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(width) }]);
    }
    const f = platformFacts({ profile: 'intel-vtd', source });
    expect(f.geometry.pageSizes).toBe(K4 | M2 | G1);
    expect(f.reservedRegions.map((r) => [r.start, r.last, r.type])).toEqual([[0xfee00000n, 0xfeefffffn, 'msi']]);
    expect(() => platformFacts({ profile: 'intel-vtd', addressWidth: 40, source })).toThrowError(/36, 39, 46, 48, 52, 57/);
  });

  it('amd-vi: v1 all page sizes 4K..2^51 but 512G; v2 47-bit 4K|2M|1G; MSI and the HyperTransport hole', () => {
    const v1 = platformFacts({ profile: 'amd-vi', source });
    expect(v1.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(64) }]);
    const sizes = pageSizeList(v1.geometry.pageSizes);
    expect(sizes[0]).toBe(K4);
    expect(sizes.at(-1)).toBe(1n << 51n);
    expect(sizes).not.toContain(1n << 39n);
    expect(sizes).toHaveLength(51 - 12 + 1 - 1);
    const v2 = platformFacts({ profile: 'amd-vi', pageTable: 'v2', source });
    expect(v2.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(47) }]);
    expect(v2.geometry.pageSizes).toBe(K4 | M2 | G1);
    expect(v1.reservedRegions.map((r) => [r.start, r.last, r.type, r.source.what])).toEqual([
      [0xfee00000n, 0xfeefffffn, 'msi', 'MSI window'],
      [0xfd00000000n, 0xffffffffffn, 'reserved', 'HyperTransport hole'],
    ]);
  });

  it('arm-smmuv3: IAS aperture and the software MSI window at 0x800_0000 (1 MiB)', () => {
    const f = platformFacts({ profile: 'arm-smmuv3', addressWidth: 44, source });
    expect(f.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(44) }]);
    expect(f.reservedRegions.map((r) => [r.start, r.last, r.type])).toEqual([[0x8000000n, 0x80fffffn, 'sw-msi']]);
  });

  it("spapr: QEMU's 32-bit window at 0..1 GiB and 64-bit window at 2^59, 4K|64K", () => {
    const f = platformFacts({ profile: 'spapr', window64Size: 1n << 40n, source });
    expect(f.geometry.apertures).toEqual([
      { start: 0n, last: G1 - 1n },
      { start: 1n << 59n, last: (1n << 59n) + (1n << 40n) - 1n },
    ]);
    expect(f.geometry.pageSizes).toBe(K4 | (1n << 16n));
    expect(f.reservedRegions).toEqual([]);
    // Without a size the 64-bit window is as large as its base's alignment allows.
    expect(platformFacts({ profile: 'spapr', source }).geometry.apertures[1]).toEqual({ start: 1n << 59n, last: (1n << 60n) - 1n });
  });

  it('virtio-iommu: the input range, 4K and larger pages, the x86 MSI window unless told otherwise', () => {
    const f = platformFacts({ profile: 'virtio-iommu', source });
    expect(f.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(64) }]);
    expect(pageSizeList(f.geometry.pageSizes)[0]).toBe(K4);
    expect(f.reservedRegions.map((r) => r.type)).toEqual(['msi']);
    const arm = platformFacts({ profile: 'virtio-iommu', msiWindow: 'none', inputRange: { start: 0n, last: maskOfBits(48) }, source });
    expect(arm.reservedRegions).toEqual([]);
    expect(arm.geometry.apertures).toEqual([{ start: 0n, last: maskOfBits(48) }]);
  });
});
