/**
 * The address space of real hosts, from their captured output through the importers.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/model/address-space.js';
import { importSources } from '../../src/model/import/index.js';
import { realdataDir as realdata } from '../import/helpers.js';

const load = (name: string) => importSources([resolve(realdata, name)]);

describe('real hosts', () => {
  it('N1SDP: the PLX switch redirects peer requests (ReqRedir+), so the SATA controller has no peer-to-peer holes', () => {
    const host = load('lspci-arm64-n1sdp-plx8749-switch-acs.txt');
    const space = AddressSpace.build(host, { devices: ['0000:06:00.0'] });
    expect(space.holes.filter((h) => h.kind === 'p2p')).toEqual([]);
  });

  it('N1SDP with redirect turned off: the other downstream ports and the switch BAR become holes', () => {
    const host = load('lspci-arm64-n1sdp-plx8749-switch-acs.txt');
    for (const b of host.pci.bridges) if (b.acs) b.acs.control.requestRedirect = false;
    const space = AddressSpace.build(host, { devices: ['0000:06:00.0'] });
    const p2p = space.holes.filter((h) => h.kind === 'p2p');
    // 06:00.0 sits below 02:12.0; its siblings 02:08.0, 02:11.0, 02:13.0 and 02:14.0 decode
    // their windows (the excerpt shows none for 02:10.0), and the upstream port 01:00.0 its BAR0
    // at 0x71b0_0000 (256 KiB).
    const peers = [...new Set(p2p.map((h) => h.source.peer))].sort();
    expect(peers).toEqual(['0000:01:00.0', '0000:02:08.0', '0000:02:11.0', '0000:02:13.0', '0000:02:14.0']);
    expect(p2p.every((h) => h.source.port === '0000:02:12.0')).toBe(true);
    expect(p2p.find((h) => h.source.peer === '0000:01:00.0')).toMatchObject({ start: 0x71b00000n, last: 0x71b3ffffn, type: 'peer-bar' });
    expect(p2p.filter((h) => h.source.peer === '0000:02:11.0').map((h) => [h.start, h.last])).toEqual([
      [0x71400000n, 0x715fffffn],
      [0x900200000n, 0x9003fffffn],
    ]);
  });

  it('the AMD test box: the HyperTransport hole and the MSI window leave three usable ranges', () => {
    const space = AddressSpace.build(load('rr-amd-ht-hole-alex-williamson.txt'), { policy: 'vfio-type1' });
    expect(space.usable.ranges.map((r) => [r.start, r.last])).toEqual([
      [0n, 0xfedfffffn],
      [0xfef00000n, 0xfcffffffffn],
      [0x10000000000n, (1n << 64n) - 1n],
    ]);
  });

  it('the DL388: its ISA-bridge RMRR at 0 is a hole under iommufd; the SolidRun direct-relaxable regions are not', () => {
    const dl388 = AddressSpace.build(load('rr-intel-hp-dl388g8-x79-rmrr.txt'));
    expect(dl388.usable.containsAddress(0x1000n)).toBe(false);
    expect(dl388.holes.find((h) => h.start === 0n && h.last === 0xffffffn)?.source.group).toBe(19);
    const solidrun = load('rr-arm-solidrun-fslmc-iort-rmr.txt');
    expect(AddressSpace.build(solidrun, { policy: 'iommufd' }).usable.containsAddress(0x1000000n)).toBe(true);
    expect(AddressSpace.build(solidrun, { policy: 'dma-iommu' }).usable.containsAddress(0x1000000n)).toBe(false);
    // The software MSI window is a hole for iommufd, not for dma-iommu (which maps it itself).
    expect(AddressSpace.build(solidrun, { policy: 'iommufd' }).usable.containsAddress(0x8000000n)).toBe(false);
    expect(AddressSpace.build(solidrun, { policy: 'dma-iommu' }).holes.some((h) => h.type === 'sw-msi')).toBe(false);
  });

  it('the Ivy Bridge desktop: a 36-bit aperture from DMAR', () => {
    const space = AddressSpace.build(load('dmesg-intel-ivybridge-z77-dmar-width36.txt'));
    expect(space.windows.ranges).toEqual([{ start: 0n, last: (1n << 36n) - 1n }]);
    expect(space.usable.containsAddress(0xdb800000n)).toBe(false); // the iGPU RMRR
  });
});
