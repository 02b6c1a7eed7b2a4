/**
 * Hosts, specs and layouts for the render tests. `richHost` has a hole of every category
 * between its two policies: an RMRR of 4 KiB, a direct-relaxable, a sw-msi and a reserved region, the MSI
 * window, host-bridge windows, a 32-bit DMA mask, page 0, the aperture, and peer-to-peer holes
 * that overlap (a peer BAR inside the peer's bridge window).
 */
import { AddressSpace } from '../../src/model/address-space.js';
import type { HostFacts } from '../../src/model/host.js';
import { importSources } from '../../src/model/import/index.js';
import type { Policy } from '../../src/model/policy.js';
import { parseHostFacts } from '../../src/model/schema.js';

export const richHostInput = {
  name: 'rich',
  platform: { profile: 'intel-vtd', addressWidth: 48 },
  reservedRegions: [
    { start: '0xe8000', last: '0xe8fff', type: 'direct', source: { what: 'RMRR', file: 'dmesg.txt', line: 3 } },
    { start: '0x7b800000', last: '0x7b8fffff', type: 'direct-relaxable', source: { what: 'RMRR (USB)', file: 'dmesg.txt', line: 4 } },
    { start: '0x8000000', last: '0x80fffff', type: 'sw-msi', source: { what: 'software MSI window' } },
    { start: '0xfd00000000', last: '0xffffffffff', type: 'reserved', source: { what: 'HyperTransport hole' } },
  ],
  devices: [
    { id: '0000:03:00.0', dmaMaskBits: 32, bars: [{ bar: 0, start: '0x71200000', size: '1M' }] },
    { id: '0000:04:00.0', bars: [{ bar: 2, start: '0x900000000', size: '256M', prefetchable: true }] },
  ],
  pci: {
    hostBridges: [{ id: '0000:00', busFirst: 0, busLast: 255, windows: [{ start: '0x90000000', last: '0xbfffffff' }] }],
    bridges: [
      { id: '0000:00:01.0', role: 'root-port', secondaryBus: 1, subordinateBus: 4 },
      { id: '0000:01:00.0', role: 'switch-upstream', primaryBus: 1, secondaryBus: 2, subordinateBus: 4 },
      { id: '0000:02:08.0', role: 'switch-downstream', primaryBus: 2, secondaryBus: 3, subordinateBus: 3, windows: [{ start: '0x71200000', last: '0x713fffff' }] },
      { id: '0000:02:10.0', role: 'switch-downstream', primaryBus: 2, secondaryBus: 4, subordinateBus: 4, windows: [{ start: '0x900000000', last: '0x91fffffff', prefetchable: true }] },
    ],
  },
};

export function richHost(): HostFacts {
  return parseHostFacts(richHostInput, 'rich.json');
}

export function richSpace(policy: Policy = 'iommufd'): AddressSpace {
  return AddressSpace.build(richHost(), { policy, devices: ['0000:03:00.0'] });
}

export const EPYC_SOURCES = ['examples/hosts/epyc/dmesg.txt', 'examples/hosts/epyc/lspci.txt', 'examples/hosts/epyc/reserved_regions.txt'];

/** The bundled EPYC captures: the HyperTransport hole, MSI windows of two groups, peer BARs. */
export function epycHost(): HostFacts {
  return importSources(EPYC_SOURCES);
}

/** A big guest on the EPYC host: 1 TiB of RAM from 4 GiB runs into the HyperTransport hole. */
export const bigGuestLayout = {
  placements: [
    { name: 'ram-low', iova: '0', size: '2G' },
    { name: 'ram-high', iova: '0x100000000', size: '1T' },
    { name: 'msi-doorbell', iova: '0xfee00000', size: '4K' },
    { name: 'fw', iova: '0xffff0000', size: '64K' },
  ],
};
