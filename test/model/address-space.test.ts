import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/model/address-space.js';
import { MAX_ADDRESS } from '../../src/model/address.js';
import { InputError } from '../../src/model/errors.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { AMD_GROUP12 } from '../fixtures/hosts.js';

const G4 = 1n << 32n;

/** An AMD host as `iova import` would describe it from sysfs: one group with MSI + HT hole. */
const amdHost = parseHostFacts(AMD_GROUP12, 'amd.json');

describe('AddressSpace from reserved regions and a platform profile', () => {
  it('leaves the MSI window and the HyperTransport hole out, exactly', () => {
    const space = AddressSpace.build(amdHost, { policy: 'iommufd' });
    expect(space.usable.ranges).toEqual([
      { start: 0n, last: 0xfedfffffn },
      { start: 0xfef00000n, last: 0xfcffffffffn },
      { start: 0x10000000000n, last: MAX_ADDRESS },
    ]);
    expect(space.reported.equals(space.usable)).toBe(true);
    expect(space.alignment).toBe(4096n);
  });

  it('keeps the provenance of each hole and does not repeat a profile region the facts already have', () => {
    const space = AddressSpace.build(amdHost);
    const holes = space.holes.map((h) => [h.start, h.kind, h.type, h.source.group, h.source.profile]);
    expect(holes).toEqual([
      [0xfee00000n, 'reserved-region', 'msi', 12, undefined],
      [0xfd00000000n, 'reserved-region', 'reserved', 12, undefined],
    ]);
    expect(space.holes[0].source.file).toBe('amd.json');
    expect(space.holes[0].source.path).toBe('groups[0].reservedRegions[0]');
  });

  it('falls back to the profile regions when the host lists none', () => {
    const host = parseHostFacts({ name: 'bare', platform: 'amd-vi' });
    const space = AddressSpace.build(host);
    expect(space.holes.map((h) => [h.type, h.source.what, h.source.profile])).toEqual([
      ['msi', 'MSI window', 'amd-vi'],
      ['reserved', 'HyperTransport hole', 'amd-vi'],
    ]);
  });
});

describe('policies treat region types as the kernel does', () => {
  const host = parseHostFacts({
    name: 'arm',
    platform: { profile: 'arm-smmuv3', addressWidth: 48 },
    groups: [
      {
        id: 0,
        reservedRegions: [
          { start: '0x1000000', last: '0x10ffffff', type: 'direct-relaxable' },
          { start: '0x8000000', last: '0x80fffff', type: 'sw-msi' },
          { start: '0x27b00000', last: '0x286fffff', type: 'direct' },
        ],
      },
    ],
  });
  const typesUnder = (policy: 'iommufd' | 'vfio-type1' | 'dma-iommu') =>
    AddressSpace.build(host, { policy })
      .holes.filter((h) => h.kind === 'reserved-region')
      .map((h) => h.type);

  it('iommufd and VFIO ignore direct-relaxable; dma-iommu ignores the software MSI window', () => {
    expect(typesUnder('iommufd')).toEqual(['sw-msi', 'direct']);
    expect(typesUnder('vfio-type1')).toEqual(['sw-msi', 'direct']);
    expect(typesUnder('dma-iommu')).toEqual(['direct-relaxable', 'direct']);
  });

  it('applies the 48-bit aperture', () => {
    const space = AddressSpace.build(host);
    const aperture = space.holes.find((h) => h.kind === 'aperture');
    expect(aperture).toMatchObject({ start: 1n << 48n, last: MAX_ADDRESS, type: 'outside-aperture' });
    expect(aperture?.source.profile).toBe('arm-smmuv3');
  });
});

describe('dma-iommu limits', () => {
  const host = parseHostFacts({
    name: 'intel',
    platform: { profile: 'intel-vtd', addressWidth: 39 },
    devices: [
      { id: '0000:00:02.0', dmaMaskBits: 39 },
      { id: '0000:03:00.0', dmaMaskBits: 32 },
    ],
  });

  it('stops at the narrowest DMA mask and never hands out page 0', () => {
    const space = AddressSpace.build(host, { policy: 'dma-iommu' });
    expect(space.usable.ranges).toEqual([
      { start: 0x1000n, last: 0xfedfffffn },
      { start: 0xfef00000n, last: G4 - 1n },
    ]);
    const mask = space.holes.find((h) => h.kind === 'dma-mask');
    expect(mask?.source.device).toBe('0000:03:00.0');
  });

  it('does not apply DMA masks or page 0 under iommufd', () => {
    const space = AddressSpace.build(host, { policy: 'iommufd' });
    expect(space.usable.ranges[0]).toEqual({ start: 0n, last: 0xfedfffffn });
    expect(space.usable.ranges[1]).toEqual({ start: 0xfef00000n, last: (1n << 39n) - 1n });
  });
});

describe('alignment and page sizes across domains', () => {
  const host = parseHostFacts({
    name: 'mixed',
    iommu: { apertures: [{ start: 0, last: '0xffffffffffff' }], pageSizes: ['4K', '2M', '1G'] },
    devices: [
      { id: '0000:01:00.0' },
      { id: '0000:02:00.0', iommu: { apertures: [{ start: '0x100000', size: '1T' }], pageSizes: ['64K', '2M'] } },
    ],
  });

  it('takes the largest minimum page as the alignment and intersects page sizes and apertures', () => {
    const space = AddressSpace.build(host, { policy: 'iommufd' });
    expect(space.alignment).toBe(0x10000n);
    expect(space.pageSizes).toBe(1n << 21n);
    expect(space.windows.ranges).toEqual([{ start: 0x100000n, last: 0x100000n + (1n << 40n) - 1n }]);
  });

  it('uses one device alone when asked', () => {
    const space = AddressSpace.build(host, { devices: ['01:00.0'] });
    expect(space.alignment).toBe(4096n);
    expect(space.usable.ranges).toEqual([{ start: 0n, last: 0xffffffffffffn }]);
  });

  it('names the unknown device and the known ones', () => {
    expect(() => AddressSpace.build(host, { devices: ['0000:09:00.0'] })).toThrowError(InputError);
    expect(() => AddressSpace.build(host, { devices: ['0000:09:00.0'] })).toThrowError(/0000:09:00.0 is not in host mixed \(known: 0000:01:00.0, 0000:02:00.0\)/);
  });
});

/**
 * Root port 00:01.0 → switch upstream 01:00.0 (own BAR) → downstream 02:08.0 (bus 03, NIC)
 * and 02:10.0 (bus 04, GPU).
 */
function switchHost(redirect: boolean) {
  const acs = { capability: { requestRedirect: true, upstreamForwarding: true }, control: { requestRedirect: redirect, upstreamForwarding: redirect } };
  return parseHostFacts({
    name: redirect ? 'acs' : 'no-acs',
    platform: { profile: 'intel-vtd', addressWidth: 48 },
    devices: [
      { id: '0000:03:00.0', bars: [{ bar: 0, start: '0x71200000', size: '1M' }] },
      { id: '0000:04:00.0', bars: [{ bar: 2, start: '0x900000000', size: '256M', prefetchable: true, is64: true }] },
    ],
    pci: {
      bridges: [
        { id: '0000:00:01.0', role: 'root-port', secondaryBus: 1, subordinateBus: 4, windows: [{ start: '0x71200000', last: '0x71bfffff' }] },
        { id: '0000:01:00.0', role: 'switch-upstream', primaryBus: 1, secondaryBus: 2, subordinateBus: 4, bars: [{ bar: 0, start: '0x71b00000', size: '256K' }] },
        { id: '0000:02:08.0', role: 'switch-downstream', primaryBus: 2, secondaryBus: 3, subordinateBus: 3, windows: [{ start: '0x71200000', last: '0x713fffff' }], acs },
        {
          id: '0000:02:10.0',
          role: 'switch-downstream',
          primaryBus: 2,
          secondaryBus: 4,
          subordinateBus: 4,
          windows: [
            { start: '0x71400000', last: '0x715fffff' },
            { start: '0x900000000', last: '0x90fffffff', prefetchable: true },
          ],
          acs,
        },
      ],
    },
  });
}

describe('peer-to-peer holes', () => {
  it('makes the peers of a non-redirecting switch port holes, naming peer, BAR and port', () => {
    const space = AddressSpace.build(switchHost(false), { devices: ['0000:03:00.0'] });
    const p2p = space.holes.filter((h) => h.kind === 'p2p');
    expect(p2p.map((h) => [h.start, h.last, h.type, h.source.what, h.source.peer, h.source.port])).toEqual([
      [0x71400000n, 0x715fffffn, 'peer-window', 'bridge window', '0000:02:10.0', '0000:02:08.0'],
      [0x71b00000n, 0x71b3ffffn, 'peer-bar', 'BAR0', '0000:01:00.0', '0000:02:08.0'],
      [0x900000000n, 0x90fffffffn, 'peer-bar', 'BAR2', '0000:04:00.0', '0000:02:08.0'],
      [0x900000000n, 0x90fffffffn, 'peer-window', 'prefetchable bridge window', '0000:02:10.0', '0000:02:08.0'],
    ]);
    expect(space.usable.overlaps({ start: 0x900000000n, last: 0x900000000n })).toBe(false);
    // The kernel does not know: the reported ranges still include the peer's BAR.
    expect(space.reported.containsAddress(0x900000000n)).toBe(true);
  });

  it('has none when the ingress port redirects peer requests upstream', () => {
    const space = AddressSpace.build(switchHost(true), { devices: ['0000:03:00.0'] });
    expect(space.holes.filter((h) => h.kind === 'p2p')).toEqual([]);
  });

  it('infers switch roles from bus numbers when the source gave none', () => {
    const host = switchHost(false);
    for (const b of host.pci.bridges) b.role = 'unknown';
    const space = AddressSpace.build(host, { devices: ['0000:04:00.0'] });
    const peers = space.holes.filter((h) => h.kind === 'p2p').map((h) => `${h.source.peer} ${h.source.what}`);
    expect(peers).toEqual(['0000:03:00.0 BAR0', '0000:02:08.0 bridge window', '0000:01:00.0 BAR0']);
  });
});

describe('DMA-API-only holes', () => {
  const host = parseHostFacts({
    name: 'hb',
    platform: 'intel-vtd',
    devices: [{ id: '0000:00:14.0' }],
    pci: {
      hostBridges: [
        {
          id: '0000:00',
          busFirst: 0,
          busLast: 255,
          windows: [{ start: '0x8f800000', last: '0xdfffffff' }],
          dmaRanges: [{ start: '0x0', last: '0xffffffff' }],
        },
      ],
    },
  });

  it('are opt-in under iommufd and on under dma-iommu', () => {
    expect(AddressSpace.build(host).holes.some((h) => h.kind === 'dma-api')).toBe(false);
    const opted = AddressSpace.build(host, { dmaApiHoles: true });
    expect(opted.holes.filter((h) => h.kind === 'dma-api').map((h) => [h.type, h.start, h.last])).toEqual([
      ['host-bridge-window', 0x8f800000n, 0xdfffffffn],
      ['dma-ranges-gap', G4, MAX_ADDRESS],
    ]);
    expect(opted.reported.containsAddress(0x90000000n)).toBe(true);
    expect(opted.usable.containsAddress(0x90000000n)).toBe(false);
    const dma = AddressSpace.build(host, { policy: 'dma-iommu' });
    expect(dma.reported.containsAddress(0x90000000n)).toBe(false);
  });
});
