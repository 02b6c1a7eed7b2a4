/**
 * Example 5 — a NIC and a GPU behind a PCIe switch without ACS redirect.
 *
 * On the bundled EPYC host a PLX switch has the NIC (0000:43:00.0) and the GPU (0000:44:00.0)
 * below two downstream ports with ACS P2P Request Redirect off. The switch routes the NIC's
 * DMA to any address the GPU's port decodes straight to the GPU: such IOVAs are unusable for
 * the NIC although no reserved region says so, and the kernel accepts maps there. With
 * redirect on, the requests go up to the IOMMU and the holes disappear.
 */
import { AddressSpace, describeProvenance, hexGrouped, type HostFacts, loadHostFile, parsePlacementSpec, solve } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

const NIC = '0000:43:00.0';

async function guestOn(host: HostFacts, print: Print) {
  const space = AddressSpace.build(host, { devices: [NIC] });
  const p2p = space.holes.filter((h) => h.kind === 'p2p');
  print(`${host.name}: ${p2p.length} peer-to-peer holes for ${NIC}`);
  for (const h of p2p) print(`  ${hexGrouped(h.start)}–${hexGrouped(h.last)}  ${describeProvenance(h.source)}`);
  // Packet buffers identity-mapped at their physical address, which the GPU's BAR0 also decodes.
  const spec = { host: host.name, devices: [NIC], requests: [{ name: 'rx-buffers', size: '16M', identity: '0xb9000000' }] };
  const result = await solve(parsePlacementSpec(spec, 'nic-buffers.json', host), { repairs: false });
  print(`  rx-buffers at 0xb900_0000 for the NIC: ${result.status}${result.status === 'unsat' ? ` — ${result.conflicts[0].message}` : ''}`);
  return { p2p, result };
}

export async function main(print: Print) {
  const host = loadHostFile(here('hosts/epyc.json'));
  const without = await guestOn(host, print);
  // The same host after `setpci` / the kernel enables ACS redirect on the switch's downstream ports.
  const redirected: HostFacts = {
    ...host,
    name: `${host.name}-acs`,
    pci: {
      ...host.pci,
      bridges: host.pci.bridges.map((b) => (b.role === 'switch-downstream' && b.acs ? { ...b, acs: { ...b.acs, control: { ...b.acs.control, requestRedirect: true, upstreamForwarding: true } } } : b)),
    },
  };
  const withAcs = await guestOn(redirected, print);
  return { without, withAcs };
}

await runIfMain(import.meta.url, main);
