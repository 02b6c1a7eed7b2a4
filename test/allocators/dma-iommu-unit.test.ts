// Hand-computed cases for the DMA-API layer. Each expected IOVA is worked out in the comment
// next to it from the rules (granule, start pfn, limit, below-4-GiB first try, top-down
// placement), not taken from a run.
import { describe, expect, it } from 'vitest';
import { AddressSpace, DmaIommuDomain, type DmaIovaPolicyName, InputError, loadHostFile, parseHostFacts, RangeSet } from '../../src/index.js';

const POLICIES: DmaIovaPolicyName[] = ['default', 'linux'];
const K4 = 0x1000n;
const G4 = 1n << 32n;

/** A host with one IOMMU geometry and the given devices, all in group 1. */
function host(geometry: { apertures: Array<{ start: string; last: string }>; pageSizes: string[] }, devices: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return parseHostFacts({
    name: 'test-host',
    iommu: geometry,
    groups: [{ id: 1, devices: devices.map((d) => d.id), reservedRegions: [] }],
    devices: devices.map((d) => ({ group: 1, ...d })),
    ...extra,
  });
}

/** A domain over `[start, last]` with 4 KiB pages and no reservations. */
function plain(policy: DmaIovaPolicyName, start: bigint, last: bigint, forcedac = false): DmaIommuDomain {
  return new DmaIommuDomain({ granule: K4, aperture: { start, last }, policy, forcedac });
}

describe.each(POLICIES)('dma-iommu (%s policy)', (policy) => {
  it('takes the granule from the smallest page of a 64 KiB domain', () => {
    const h = host({ apertures: [{ start: '0', last: '0xffffffffffff' }], pageSizes: ['64K', '512M'] }, [{ id: 'platform:dev', dmaMaskBits: 32 }]);
    const d = DmaIommuDomain.fromHost(h, { policy });
    expect(d.granule).toBe(0x10000n);
    // Aperture starts at 0: start pfn max(1, 0) = 1, so IOVA 0x1_0000 is the lowest.
    expect(d.startPfn).toBe(1);
    const dev = d.attach('platform:dev');
    expect(dev.pci).toBe(false);
    // 100 bytes -> one 64 KiB granule, highest below 4 GiB: pfn 0xffff -> 0xffff_0000.
    expect(dev.map(100n)).toBe(0xffff_0000n);
    // 64 KiB + 1 -> 2 granules, aligned to 2: top free pfn 0xfffe, 0xfffe - 1 = 0xfffd -> 0xfffc.
    expect(dev.map(0x1_0001n)).toBe(0xfffc_0000n);
    // One byte at physical offset 0x2345: one granule, and the IOVA keeps the offset.
    // default: highest free granule is 0xfffe; linux: next-fit walks on below the last one, 0xfffb.
    expect(dev.map(1n, { phys: 0x1_2345n })).toBe(policy === 'default' ? 0xfffe_2345n : 0xfffb_2345n);
  });

  it('starts allocating at the aperture start', () => {
    // 64 KiB aperture at 0xffff_0000: start pfn 0xffff0, sixteen 4 KiB pages, top down.
    const d = plain(policy, 0xffff_0000n, (1n << 48n) - 1n);
    expect(d.startPfn).toBe(0xffff0);
    const dev = d.attach({ id: 'platform:dev', dmaMaskBits: 32 });
    const got: bigint[] = [];
    for (let i = 0; i < 16; i++) got.push(dev.map(K4) as bigint);
    expect(got[0]).toBe(0xffff_f000n);
    expect(got[15]).toBe(0xffff_0000n);
    expect(dev.map(K4)).toBeUndefined();
    // An aperture starting inside the first granule still starts at pfn 1.
    expect(plain(policy, 0x800n, 0xffff_ffffn).startPfn).toBe(1);
  });

  it('never gives a 32-bit device an IOVA above 4 GiB', () => {
    const d = plain(policy, 0n, (1n << 48n) - 1n);
    const nic = d.attach({ id: '0000:01:00.0', dmaMaskBits: 32 });
    expect(nic.dmaLimit).toBe(G4 - 1n);
    // 1 GiB requests: 4 GiB minus page 0 holds three of them, at 3, 2 and 1 GiB.
    expect([nic.map(1n << 30n), nic.map(1n << 30n), nic.map(1n << 30n)]).toEqual([3n << 30n, 2n << 30n, 1n << 30n]);
    expect(nic.map(1n << 30n)).toBeUndefined();
    // Its limit is 4 GiB anyway: no switch to a wider limit, no notice.
    expect(nic.notices).toEqual([]);
  });

  it('puts a PCI device below 4 GiB first, and above for good once that fails', () => {
    // 512 KiB below 4 GiB: two 256 KiB (64-page, uncached) slots, 0xfffc_0000 and 0xfff8_0000.
    const d = plain(policy, 0xfff8_0000n, (1n << 40n) - 1n);
    const dev = d.attach('0000:01:00.0');
    const S = 0x4_0000n;
    expect(dev.pci).toBe(true);
    expect(dev.tries32BitFirst).toBe(true);
    expect(dev.map(S)).toBe(0xfffc_0000n);
    expect(dev.map(S)).toBe(0xfff8_0000n);
    // Below 4 GiB is full: fall back to the 40-bit aperture's top, 2^40 - 256 KiB.
    expect(dev.map(S)).toBe(0xff_fffc_0000n);
    expect(dev.tries32BitFirst).toBe(false);
    expect(dev.notices).toEqual(['0000:01:00.0: Using 40-bit DMA addresses']);
    // Room below 4 GiB again, but this device no longer looks there.
    dev.unmap(0xfffc_0000n, S);
    expect(dev.map(S)).toBe(0xff_fff8_0000n);
    expect(dev.notices).toHaveLength(1);
    // The switch is per device: another PCI device of the domain still tries below 4 GiB.
    const other = d.attach('0000:02:00.0');
    expect(other.map(S)).toBe(0xfffc_0000n);
    expect(other.tries32BitFirst).toBe(true);
  });

  it('skips the below-4-GiB try with forcedac, and for non-PCI devices', () => {
    const d = plain(policy, 0n, (1n << 40n) - 1n, true);
    const dev = d.attach('0000:01:00.0');
    expect(dev.tries32BitFirst).toBe(false);
    expect(dev.map(K4)).toBe(0xff_ffff_f000n);
    const e = plain(policy, 0n, (1n << 40n) - 1n);
    // Per device: forcedac on one device only.
    expect(e.attach({ id: '0000:01:00.0', forcedac: true }).map(K4)).toBe(0xff_ffff_f000n);
    expect(e.attach('0000:02:00.0').map(K4)).toBe(0xffff_f000n);
    expect(e.attach('platform:gpu').map(K4)).toBe(0xff_ffff_e000n);
  });

  it('caps the limit by the bus limit and the aperture, and uses the coherent mask for alloc', () => {
    const d = plain(policy, 0n, (1n << 48n) - 1n);
    const dev = d.attach({ id: 'platform:a', busDmaLimit: 0xf_ffff_ffffn, coherentDmaMaskBits: 32 });
    expect(dev.dmaLimit).toBe(0xf_ffff_ffffn);
    expect(dev.map(K4)).toBe(0xf_ffff_f000n);
    expect(dev.alloc(100n)).toBe(0xffff_f000n);
    // 64-bit mask, no bus limit: the 48-bit aperture's end.
    const wide = d.attach('platform:b');
    expect(wide.dmaLimit).toBe((1n << 48n) - 1n);
    // default: the top of the aperture. linux: the walk above 4 GiB starts from its cursor, the
    // range just placed at 0xf_ffff_f000, and takes the first gap below it.
    expect(wide.map(K4)).toBe(policy === 'default' ? 0xffff_ffff_f000n : 0xf_ffff_e000n);
  });

  it('keeps sub-granule offsets and unmaps what was mapped', () => {
    const d = plain(policy, 0n, (1n << 48n) - 1n);
    const dev = d.attach({ id: 'platform:dev', dmaMaskBits: 32 });
    // Offset 0x678: 0x100 + 0x678 bytes fit one page, the top one below 4 GiB.
    const a = dev.map(0x100n, { phys: 0x1234_5678n, dir: 'to-device' });
    expect(a).toBe(0xffff_f678n);
    // Offset 0xff0: 0x1000 + 0xff0 bytes need 2 pages, aligned to 2 below 0xfffff: 0xffffc.
    const b = dev.map(0x1000n, { phys: 0xabc_dff0n, dir: 'from-device' });
    expect(b).toBe(0xffff_cff0n);
    expect(d.mappings()).toEqual([
      { device: 'platform:dev', iova: 0xffff_cff0n, size: 0x1000n, start: 0xffff_c000n, last: 0xffff_dfffn, dir: 'from-device', coherent: false },
      { device: 'platform:dev', iova: 0xffff_f678n, size: 0x100n, start: 0xffff_f000n, last: 0xffff_ffffn, dir: 'to-device', coherent: false },
    ]);
    dev.unmap(0xffff_cff0n, 0x1000n);
    dev.unmap(0xffff_f678n, 0x100n);
    expect(d.mappedCount).toBe(0);
    // The 2-page range went to the fast-path cache: the same request gets it back.
    expect(dev.map(0x1000n, { phys: 0xabc_dff0n })).toBe(0xffff_cff0n);
    expect(d.iova.check()).toBeUndefined();
  });

  it('reserves the MSI window, the HyperTransport hole and host-bridge windows (epyc)', () => {
    const epyc = loadHostFile('examples/hosts/epyc.json');
    const d = DmaIommuDomain.fromHost(epyc, { devices: ['0000:43:00.0'], policy });
    const reserved = d.reservations.map((r) => `${r.hole?.type} 0x${r.start.toString(16)}-0x${r.last.toString(16)}`);
    expect(reserved).toEqual([
      'host-bridge-window 0xb8000000-0xc5ffffff',
      'msi 0xfee00000-0xfeefffff',
      'reserved 0xfd00000000-0xffffffffff',
      'host-bridge-window 0x38000000000-0x3ffffffffff',
    ]);
    const nic = d.attach({ id: '0000:43:00.0', dmaMaskBits: 32 });
    const M1 = 1n << 20n;
    const got: bigint[] = [];
    for (let i = 0; i < 18; i++) got.push(nic.map(M1) as bigint);
    // 1 MiB, aligned to 1 MiB, top down: 0xfff0_0000 ... 0xff00_0000 (16), then 0xfef0_0000;
    // 0xfee0_0000 is the MSI window, so the 18th lands at 0xfed0_0000.
    expect(got[15]).toBe(0xff00_0000n);
    expect(got[16]).toBe(0xfef0_0000n);
    expect(got[17]).toBe(0xfed0_0000n);
    // The peer-to-peer holes are reserved only on request.
    expect(d.reservations.some((r) => r.hole?.kind === 'p2p')).toBe(false);
    const withP2p = DmaIommuDomain.fromHost(epyc, { devices: ['0000:43:00.0'], policy, p2pHoles: true });
    expect(withP2p.reservations.filter((r) => r.hole?.kind === 'p2p')).toHaveLength(6);
  });

  it('leaves the software MSI window to itself and reserves direct regions', () => {
    const arm = loadHostFile('examples/fleet/arm-n1sdp.json');
    const d = DmaIommuDomain.fromHost(arm, { policy });
    expect(d.reservations.map((r) => r.hole?.type)).not.toContain('sw-msi');
    expect(d.iova.findBytes(0x800_0000n)).toBeUndefined();
    const ivy = loadHostFile('examples/fleet/intel-ivybridge-36.json');
    const e = DmaIommuDomain.fromHost(ivy, { policy });
    // Two RMRRs (direct) and the MSI window; the 36-bit aperture caps every limit.
    expect(e.reservations.map((r) => r.hole?.type)).toEqual(['direct', 'direct', 'msi']);
    expect(e.iova.findBytes(0xdb80_0000n)).toEqual({ start: 0xdb80_0000n, last: 0xdf9f_ffffn });
    expect(e.attach({ id: '0000:03:00.0', forcedac: true }).map(K4)).toBe(0xf_ffff_f000n);
  });

  it('reserves dma-ranges gaps up to the first granule of the next range, as the kernel does', () => {
    const h = host({ apertures: [{ start: '0', last: '0xffffffffffff' }], pageSizes: ['4K'] }, [{ id: '0000:01:00.0' }, { id: '0000:01:00.1' }], {
      pci: {
        hostBridges: [
          { id: '0000:00', busFirst: 0, busLast: 255, dmaRanges: [{ start: '0', last: '0x7fffffff' }, { start: '0x100000000', last: '0xfffffffff' }] },
        ],
      },
    });
    const d = DmaIommuDomain.fromHost(h, { policy });
    // Each PCI device contributes the same gaps (with its own provenance).
    expect(d.reservations.map((r) => [r.start, r.last])).toEqual([
      [0x8000_0000n, 0x1_0000_0000n],
      [0x8000_0000n, 0x1_0000_0000n],
      [0x10_0000_0000n, (1n << 64n) - 1n],
      [0x10_0000_0000n, (1n << 64n) - 1n],
    ]);
    expect(d.iova.findBytes(0x1_0000_0fffn)).toBeDefined();
    const dev = d.attach('0000:01:00.0');
    // Below 4 GiB first: the top of the first dma-range.
    expect(dev.map(K4)).toBe(0x7fff_f000n);
    const dac = d.attach({ id: '0000:01:00.1', forcedac: true });
    // The whole 48-bit aperture, minus the gap above the second dma-range.
    expect(dac.map(K4)).toBe(0xf_ffff_f000n);
  });

  it('keeps a layout placement or anything outside the usable ranges free', () => {
    const layout = { placements: [{ name: 'guest-ram', iova: 0xc000_0000n, size: 0x4000_0000n }] };
    const d = DmaIommuDomain.forLayout(layout, { granule: K4, policy });
    expect(d.reservations[0].reason).toBe('placement guest-ram of the layout');
    // Everything from 3 GiB up to 4 GiB is the guest's: a 32-bit device starts just below.
    expect(d.attach({ id: 'platform:a', dmaMaskBits: 32 }).map(K4)).toBe(0xbfff_f000n);
    const u = new DmaIommuDomain({ granule: K4, usable: RangeSet.single(0x1000_0000n, 0x1fff_ffffn), policy });
    const dev = u.attach('platform:b');
    expect(dev.map(1n << 27n)).toBe(0x1800_0000n);
    expect(dev.map(1n << 27n)).toBe(0x1000_0000n);
    expect(dev.map(K4)).toBeUndefined();
  });
});

describe('dma-iommu errors', () => {
  const d = plain('default', 0n, (1n << 48n) - 1n);
  const a = d.attach('platform:a');
  const b = d.attach('platform:b');

  it('rejects bad requests', () => {
    expect(() => a.map(0n)).toThrow(InputError);
    expect(() => a.map(-5n)).toThrow(/at least 1 byte/);
    expect(() => a.map(4096 as unknown as bigint)).toThrow(InputError);
    expect(() => a.map(K4, { dir: 'none' as never })).toThrow(/DMA direction "none"/);
    expect(() => a.map(K4, { phys: -1n })).toThrow(/physical address/);
    expect(() => a.map(0x2000n, { phys: (1n << 64n) - 0x1000n })).toThrow(/past the end/);
  });

  it('rejects unmaps that do not match a mapping of the device', () => {
    const iova = a.map(0x1800n, { phys: 0x10n }) as bigint;
    expect(() => a.unmap(iova + 0x1000n, 0x1800n)).toThrow(/nothing is mapped there/);
    expect(() => a.unmap(iova + 1n, 0x1800n)).toThrow(/nothing is mapped there/);
    expect(() => b.unmap(iova, 0x1800n)).toThrow(/mapped by platform:a/);
    expect(() => a.unmap(iova, 0x3000n)).toThrow(/the mapping there is 6144 bytes/);
    expect(() => a.free(iova, 0x1800n)).toThrow(/comes from map \(use unmap\)/);
    a.unmap(iova, 0x1800n);
    expect(() => a.unmap(iova, 0x1800n)).toThrow(/nothing is mapped there/);
  });

  it('rejects bad domains and devices', () => {
    expect(() => new DmaIommuDomain({ granule: 3000n })).toThrow(/power of two/);
    expect(() => new DmaIommuDomain({ granule: 1n << 33n })).toThrow(/power of two/);
    expect(() => new DmaIommuDomain({ granule: K4, aperture: { start: 0x2000n, last: 0x1000n } })).toThrow(/not a range/);
    expect(() => d.attach('platform:a')).toThrow(/attached already/);
    expect(() => d.attach({ id: 'platform:c', dmaMaskBits: 0 })).toThrow(/from 1 to 64/);
    expect(() => d.attach({ id: 'platform:c', dmaMaskBits: 65 })).toThrow(/from 1 to 64/);
    expect(() => d.attach({ id: 'platform:c', busDmaLimit: -1n })).toThrow(/bus DMA limit/);
    expect(() => d.attach({ id: '' })).toThrow(/non-empty id/);
    const epyc = loadHostFile('examples/hosts/epyc.json');
    expect(() => DmaIommuDomain.fromHost(epyc, { devices: ['0000:43:00.0'] }).attach('0000:44:00.0')).toThrow(/not part of this domain/);
    expect(() => DmaIommuDomain.fromSpace(AddressSpace.build(epyc, { policy: 'iommufd' }))).toThrow(/policy dma-iommu/);
  });
});
