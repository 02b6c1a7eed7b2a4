/**
 * Example 2 — kernel-managed IOVA space: a DPDK-like user asks the DMA API for IOVAs.
 *
 * On the bundled EPYC host the NIC (0000:43:00.0) and the GPU (0000:44:00.0) share IOMMU group
 * 30, so one DMA-API domain. Set up as the kernel's DMA layer does it, the domain keeps the MSI
 * window, the HyperTransport hole and the host bridge's memory windows away from allocation.
 * The NIC's driver sets a 32-bit DMA mask and maps 2 MiB packet-buffer pools until nothing is
 * left below 4 GiB: every pool lands top-down around the reserved ranges, and the next map
 * fails. The GPU (40-bit mask) is a PCI device, so it first looks below 4 GiB too; finding it
 * full, it switches to its whole mask for good — even after the NIC frees space below 4 GiB.
 */
import { DmaIommuDomain, formatSize, hexGrouped, loadHostFile, overlaps } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

const NIC = '0000:43:00.0';
const GPU = '0000:44:00.0';
const POOL = 2n << 20n;
const BELOW_4G = 1n << 32n;

export async function main(print: Print) {
  const host = loadHostFile(here('hosts/epyc.json'));
  const domain = DmaIommuDomain.fromHost(host, { devices: [NIC, GPU] });
  print(`${host.name}: DMA-API domain of ${NIC} and ${GPU}: granule ${formatSize(domain.granule)}, first IOVA ${hexGrouped(BigInt(domain.startPfn) * domain.granule)}`);
  // Both devices sit below the same host bridge: print each reserved range once.
  const shown = new Set<string>();
  for (const r of domain.reservations) {
    const range = `${hexGrouped(r.start)}–${hexGrouped(r.last)}`;
    if (shown.has(range)) continue;
    shown.add(range);
    print(`  reserved ${range}  ${r.hole ? `${r.hole.type}, from ${r.hole.source.file}:${r.hole.source.line}` : r.reason}`);
  }

  const nic = domain.attach({ id: NIC, dmaMaskBits: 32 });
  const pools: bigint[] = [];
  for (let iova = nic.map(POOL); iova !== undefined; iova = nic.map(POOL)) pools.push(iova);
  const after = (iova: bigint): string => `${hexGrouped(iova)}, then ${hexGrouped(pools[pools.indexOf(iova) + 1])}`;
  print(`NIC ${NIC} with a 32-bit DMA mask maps ${formatSize(POOL)} pools:`);
  print(`  first ${pools.slice(0, 3).map(hexGrouped).join(', ')}`);
  print(`  at the MSI window: ${after(0xff00_0000n)}`);
  print(`  at the host-bridge window: ${after(0xc600_0000n)}`);
  print(`  last ${hexGrouped(pools[pools.length - 1])}`);
  const hit = pools.filter((p) => domain.space?.holes.some((h) => h.kind !== 'dma-mask' && overlaps(h, { start: p, last: p + POOL - 1n })));
  print(`  ${pools.length} pools (${formatSize(BigInt(pools.length) * POOL)}) below 4 GiB, ${hit.length} of them in a hole; the next map fails`);

  const gpu = domain.attach({ id: GPU, dmaMaskBits: 40 });
  const first = gpu.map(POOL) as bigint;
  print(`GPU ${GPU} with a 40-bit DMA mask: ${hexGrouped(first)} (below 4 GiB is full; the HyperTransport hole starts at 0xfd_0000_0000)`);
  for (const line of gpu.notices) print(`  kernel notice: ${line}`);
  nic.unmap(0xff00_0000n, POOL);
  const second = gpu.map(POOL) as bigint;
  print(`NIC unmaps 0xff00_0000; the GPU maps ${hexGrouped(second)} (it no longer looks below 4 GiB); the NIC maps ${hexGrouped(nic.map(POOL) as bigint)}`);

  for (const p of pools) nic.unmap(p, POOL);
  const packet = nic.map(1500n, { phys: 0x1_2345_6780n, dir: 'to-device' }) as bigint;
  print(`a 1500-byte packet at physical 0x1_2345_6780 gets IOVA ${hexGrouped(packet)} (same offset in its 4 KiB page)`);
  const below = domain.mappings().filter((m) => m.last < BELOW_4G).length;
  print(`live: ${domain.mappedCount} mappings, ${below} of them below 4 GiB`);
  return { domain, pools, gpu: [first, second], packet };
}

await runIfMain(import.meta.url, main);
