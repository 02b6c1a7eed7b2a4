import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../src/model/schema.js';
import { parseLayout } from '../../src/solver/layout.js';
import { verifyLayout } from '../../src/explain/verify.js';
import { AMD_GROUP12 } from '../fixtures/hosts.js';

const G = 1n << 30n;

const amd = parseHostFacts(AMD_GROUP12, 'amd.json');
const intel = parseHostFacts({ name: 'intel', platform: { profile: 'intel-vtd', addressWidth: 48 }, devices: [{ id: '0000:41:00.0' }] }, 'intel.json');

/** QEMU's pc layout for a 1 TiB guest: RAM below 3 GiB, then from 4 GiB up. */
const bigGuest = parseLayout({
  placements: [
    { name: 'ram-lo', iova: '0', size: '3G' },
    { name: 'ram-hi', iova: '0x100000000', size: '1T' },
  ],
});

describe('verify', () => {
  it('accepts the layout on Intel and rejects it on AMD, naming the HyperTransport hole of group 12', () => {
    const report = verifyLayout(bigGuest, [intel, amd]);
    expect(report.ok).toBe(false);
    expect(report.hosts.map((h) => [h.host, h.ok])).toEqual([
      ['intel', true],
      ['amd', false],
    ]);
    const [violation] = report.hosts[1].violations;
    expect(report.hosts[1].violations).toHaveLength(1);
    expect(violation).toMatchObject({ kind: 'hole', placement: 'ram-hi', enforced: true });
    expect(violation.hole?.start).toBe(0xfd00000000n);
    expect(violation.source?.group).toBe(12);
    expect(violation.message).toBe(
      '`ram-hi` (1 TiB at 0x1_0000_0000) overlaps the reserved range 0xfd_0000_0000–0xff_ffff_ffff (12 GiB): reserved region of IOMMU group 12 (amd.json; groups[0].reservedRegions[1]; the HyperTransport hole of the amd-vi platform)',
    );
  });

  it('lists every violation, not just the first', () => {
    const layout = parseLayout({
      placements: [
        { name: 'a', iova: '0xfee00800', size: '4K' }, // misaligned and in the MSI window
        { name: 'b', iova: '0x1000', size: '8K', align: '8K' }, // not 8K-aligned
        { name: 'c', iova: '0x2000', size: '4K' }, // overlaps b
        { name: 'd', iova: '0x100000000', size: '4K', dmaBits: 32 }, // above its DMA mask
        { name: 'e', iova: '0x200000', size: '0x1800' }, // not a whole number of pages
        { name: 'f', iova: '0x400000', size: '4K', within: { start: '0', last: '0x3fffff' } },
        { name: 'g', iova: '0xfffffffff000', size: '8K' }, // runs past the 48-bit aperture
      ],
    });
    const [verdict] = verifyLayout(layout, [intel]).hosts;
    expect(verdict.violations.map((v) => [v.kind, v.placement, v.other ?? null, v.enforced])).toEqual([
      ['hole', 'a', null, true],
      ['misaligned', 'a', null, true],
      ['misaligned', 'b', null, false],
      ['dma-mask', 'd', null, false],
      ['size-not-multiple', 'e', null, true],
      ['within', 'f', null, false],
      ['outside-aperture', 'g', null, true],
      ['overlap', 'c', 'b', true],
    ]);
    expect(verdict.violations[0].source?.profile).toBe('intel-vtd');
  });

  it('reports a device the layout attaches but the host lacks', () => {
    const layout = parseLayout({ devices: ['0000:99:00.0'], placements: [{ name: 'x', iova: 0, size: 4096 }] });
    const [verdict] = verifyLayout(layout, [amd]).hosts;
    expect(verdict.ok).toBe(false);
    expect(verdict.violations[0]).toMatchObject({ kind: 'missing-device' });
    expect(verdict.violations[0].message).toContain('0000:99:00.0');
  });

  it('reads a spec whose requests are all fixed as a layout, and refuses one that is not', () => {
    const layout = parseLayout({ host: 'h.json', requests: [{ name: 'a', size: '1G', fixed: '0x40000000' }] });
    expect(layout.placements).toEqual([{ name: 'a', iova: G, size: G, align: undefined, dmaBits: undefined, within: undefined }]);
    expect(() => parseLayout({ host: 'h.json', requests: [{ name: 'a', size: '1G' }] }, 'spec.json')).toThrowError(/no fixed IOVA/);
  });

  it('accepts exactly at the edges of a window and rejects one byte past', () => {
    const edge = parseLayout({ placements: [{ name: 'top', iova: '0xffffff000000', size: '16M' }] });
    expect(verifyLayout(edge, [intel]).ok).toBe(true);
    const past = parseLayout({ placements: [{ name: 'top', iova: '0xffffff001000', size: '16M' }] });
    expect(verifyLayout(past, [intel]).hosts[0].violations.map((v) => v.kind)).toEqual(['outside-aperture']);
  });
});
