/**
 * arm64 MSI reachability. On an SMMU the kernel maps each MSI doorbell at an IOVA inside the
 * software MSI window (IOMMU_RESV_SW_MSI, MSI_IOVA_BASE in arm-smmu-v3.c; dma-iommu.c
 * iommu_dma_get_msi_page() picks the IOVA, vfio_iommu_type1 and iommufd install the cookie). No
 * kernel function checks that the device can reach that window: if the window lies in IOVA the
 * device cannot emit — above its DMA mask, in a dma-ranges gap or host-bridge window, over
 * platform MMIO or a peer's BAR — the attach succeeds and every MSI write faults or goes astray.
 * The answer warns and says where a window of the same size would fit.
 */
import { groupIdOf } from '../model/address-space.js';
import type { IoasWarning, InvolvedFact } from '../explain/explanation.js';
import { hexGrouped, MAX_ADDRESS, maskOfBits } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange, type IovaRange, overlaps, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Attachment } from './attachment.js';
import { holeFact } from './reserved.js';
import type { IoasCore } from './state.js';

/** Holes a device's DMA (and so its MSI writes) cannot go through to the IOMMU. */
function unreachable(h: Hole): boolean {
  if (h.kind === 'reserved-region') return h.type === 'reserved' || h.type === 'direct' || h.type === 'msi';
  return h.kind === 'dma-api' || h.kind === 'p2p' || h.kind === 'dma-mask' || h.kind === 'aperture';
}

/** The smallest DMA mask among the attachment's devices, as the IOVA range above it. */
function aboveMask(core: IoasCore, att: Attachment): (IovaRange & { bits: number; device: string }) | undefined {
  const group = groupIdOf(att.id);
  const devices = core.host.devices.filter((d) => d.id === att.id || (group !== undefined && d.group === group));
  let worst: { bits: number; device: string } | undefined;
  for (const d of devices) if (d.dmaMaskBits !== undefined && d.dmaMaskBits < 64 && (!worst || d.dmaMaskBits < worst.bits)) worst = { bits: d.dmaMaskBits, device: d.id };
  if (!worst) return undefined;
  return { start: maskOfBits(worst.bits) + 1n, last: MAX_ADDRESS, ...worst };
}

export function msiReachabilityWarnings(core: IoasCore, att: Attachment): IoasWarning[] {
  const windows = att.space.holes.filter((h) => h.kind === 'reserved-region' && h.type === 'sw-msi');
  if (windows.length === 0) return [];
  const mask = aboveMask(core, att);
  const out: IoasWarning[] = [];
  for (const w of windows) {
    const blockers: string[] = att.space.holes.filter((h) => h !== w && unreachable(h) && overlaps(h, w)).map((h) => `${describeRange(h)} (${describeProvenance(h.source)})`);
    if (mask && overlaps(mask, w)) blockers.push(`IOVA above the ${mask.bits}-bit DMA mask of ${mask.device}`);
    if (blockers.length === 0) continue;
    const size = sizeOf(w);
    // Free for a window: clear of every hole of the device, below its mask, and of mappings.
    const taken = RangeSet.of(att.space.holes.filter((h) => h !== w)).union(core.reservedSet.subtract(RangeSet.single(w.start, w.last))).union(core.areaSet);
    const free = (mask ? taken.union(RangeSet.single(mask.start, mask.last)) : taken).complement();
    // Doorbell pages are mapped at page offsets inside the window: keep its natural alignment.
    const fit = free.lowestFit(size, { align: size & -size });
    const fact: InvolvedFact = holeFact({ hole: w, owners: [att.id] }, core.policy);
    const where = fit !== undefined ? ` A window of the same size would fit at ${hexGrouped(fit)}–${hexGrouped(fit + size - 1n)}, which ${att.id} reaches and nothing else uses.` : ' No free range of that size is reachable by the device.';
    out.push({
      kind: 'msi-unreachable',
      range: { start: w.start, last: w.last },
      fact,
      message: `The software MSI window ${describeRange(w)} of ${att.id} lies in IOVA the device cannot reach: ${blockers.join('; ')}. The kernel attaches it anyway, and its MSI writes will fault.${where}`,
    });
  }
  return out;
}
