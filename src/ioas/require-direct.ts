/**
 * require_direct: a device whose firmware asks for a non-relaxable identity mapping (an Intel
 * RMRR, an AMD IVMD unity range; `direct` in sysfs reserved_regions) cannot be claimed by VFIO or
 * iommufd, because claiming puts its group in a blocking domain without that mapping.
 *
 * - From 6.5, iommu.c `__iommu_device_set_domain()` refuses the blocking domain for a device with
 *   `dev->iommu->require_direct` set: -EINVAL and "Firmware has requested this device have a 1:1
 *   IOMMU mapping" (reached from `iommu_group_claim_dma_owner()` for a VFIO group and
 *   `iommu_device_claim_dma_owner()` for iommufd).
 * - Before 6.5 the Intel driver refused the attach itself: `device_is_rmrr_locked()` in
 *   intel-iommu.c, -EPERM and "Device is ineligible for IOMMU domain attach due to platform RMRR
 *   requirement". Other drivers before 6.5 are not modelled.
 *
 * The claim covers the whole group, so any device of the group with a direct region blocks it.
 * Relaxable regions (USB and graphics RMRRs, `direct-relaxable`) do not count.
 */
import { groupIdOf } from '../model/address-space.js';
import type { HostFacts, ReservedRegion } from '../model/host.js';
import { describeProvenance, withDefaults } from '../model/provenance.js';
import { describeRange, type IovaRange } from '../model/range.js';
import { describeFact, type InvolvedFact, type IoasWarning, reject, type Rejected, type Suggestion } from '../explain/explanation.js';
import { BOUNDARIES, has, type KernelVersion, kernelName, NotModelledError } from './kernel.js';

/** The non-relaxable direct regions of the group (and devices) an attachment claims. */
export function directRegions(host: HostFacts, id: string): ReservedRegion[] {
  const groups = new Set<number>();
  const devices = new Set<string>();
  const group = groupIdOf(id);
  if (group !== undefined) groups.add(group);
  else {
    const d = host.devices.find((x) => x.id === id);
    if (d) {
      devices.add(d.id);
      if (d.group !== undefined) groups.add(d.group);
    }
  }
  for (const g of host.groups) if (g.devices.some((x) => devices.has(x))) groups.add(g.id);
  for (const d of host.devices) if (d.group !== undefined && groups.has(d.group)) devices.add(d.id);
  // Each region says whose it is (the facts file may leave that to the list it sits in).
  const regions = [
    ...host.groups.filter((g) => groups.has(g.id)).flatMap((g) => g.reservedRegions.map((r) => ({ ...r, source: withDefaults(r.source, { group: g.id }) }))),
    ...host.devices.filter((d) => devices.has(d.id)).flatMap((d) => d.reservedRegions.map((r) => ({ ...r, source: withDefaults(r.source, { device: d.id }) }))),
  ];
  return regions.filter((r) => r.type === 'direct');
}

/**
 * Host-wide direct regions: the device they belong to is not known (an RMRR read without its
 * scope). The attach is not refused for them, but the answer says what it assumed.
 */
export function unscopedDirectWarnings(host: HostFacts, id: string): IoasWarning[] {
  return host.reservedRegions
    .filter((r) => r.type === 'direct')
    .map((r) => ({
      kind: 'assumption' as const,
      range: { start: r.start, last: r.last },
      fact: directFact(r, id),
      message: `The direct region ${describeRange(r)} (${describeProvenance(r.source)}) names no device; it is assumed not to belong to ${id}. If it does, the kernel refuses to let VFIO or iommufd claim ${id} (require_direct).`,
    }));
}

function directFact(r: ReservedRegion, owner: string): InvolvedFact {
  return { fact: 'hole', range: { start: r.start, last: r.last }, what: 'direct region', holeKind: 'reserved-region', holeType: 'direct', enforced: true, owners: [owner], source: r.source };
}

/** The refusal, or undefined when the attachment has no direct region. */
export function checkRequireDirect(host: HostFacts, id: string, kernel: KernelVersion): Rejected | undefined {
  const regions = directRegions(host, id);
  if (regions.length === 0) return undefined;
  const facts = regions.map((r) => directFact(r, id));
  const first = describeFact(facts[0]);
  if (has(kernel, 'requireDirect')) {
    // iommu.c __iommu_device_set_domain(): require_direct and a blocking domain → -EINVAL.
    return reject(
      'attach',
      'EINVAL',
      'require-direct',
      `The firmware requires a 1:1 (identity) mapping for ${id}: the ${first} is not relaxable, so the kernel refuses to put the device's group in the blocking domain that VFIO and iommufd need to claim it ("Firmware has requested this device have a 1:1 IOMMU mapping", ${kernelName(kernel)}).`,
      facts,
    );
  }
  if (host.platform?.profile === 'intel-vtd' && has(kernel, 'intelRmrr')) {
    // intel-iommu.c device_is_rmrr_locked(): a device with a non-relaxable RMRR → -EPERM.
    return reject(
      'attach',
      'EPERM',
      'require-direct',
      `${id} has a non-relaxable RMRR (the ${first}); the Intel IOMMU driver of ${kernelName(kernel)} refuses to attach it to any domain but its own ("Device is ineligible for IOMMU domain attach due to platform RMRR requirement").`,
      facts,
    );
  }
  throw new NotModelledError(
    `${id} has a direct region (${describeRange(regions[0])}); how ${kernelName(kernel)} treats it under ${host.platform?.profile ?? 'an unknown IOMMU'} is not modelled (the refusal is modelled from ${BOUNDARIES.requireDirect.since.major}.${BOUNDARIES.requireDirect.since.minor} on, and for Intel from 3.17)`,
  );
}

/** How to free the device: the firmware setting or table override, per IOMMU. */
export function requireDirectSuggestions(host: HostFacts, id: string, r: Rejected): Suggestion[] {
  const intel = host.platform?.profile === 'intel-vtd';
  const amd = host.platform?.profile === 'amd-vi';
  const table = intel ? 'RMRR in the ACPI DMAR table' : amd ? 'IVMD entry in the ACPI IVRS table' : 'direct region the firmware reports';
  const how = intel
    ? 'turn off the firmware feature that owns the RMRR (for example HPE\'s "HP Shared Memory features" for a NIC, or the vendor\'s BIOS option for the device), or load a DMAR table without it from the initrd (CONFIG_ACPI_TABLE_UPGRADE); no kernel command-line option relaxes it'
    : amd
      ? 'update or reconfigure the firmware so that its IVMD ranges leave the device out, or load an IVRS table without them from the initrd (CONFIG_ACPI_TABLE_UPGRADE); no kernel command-line option relaxes it'
      : 'change the firmware so that it no longer reports the region for the device; no kernel command-line option relaxes it';
  const regions = r.involved.filter((f) => f.holeType === 'direct');
  if (regions.length === 0) return [];
  return [
    {
      text: `Free ${id} from the ${table} (${regions.map((f) => describeRange(f.range)).join(', ')}): ${how}; then attach it`,
      steps: [...regions.map((f) => ({ op: 'drop-direct' as const, device: id, start: f.range.start, last: f.range.last, how })), { op: 'attach' as const, device: id }],
    },
  ];
}

/** A copy of the host facts without the direct region `range` of the attachment's group and devices. */
export function withoutDirectRegion(host: HostFacts, id: string, range: IovaRange): HostFacts {
  const scoped = directRegions(host, id);
  const groups = new Set(scoped.map((r) => r.source.group).filter((g) => g !== undefined));
  const devices = new Set(scoped.map((r) => r.source.device).filter((d) => d !== undefined));
  const drop = (r: ReservedRegion) => r.type === 'direct' && r.start === range.start && r.last === range.last;
  return {
    ...host,
    groups: host.groups.map((g) => (groups.has(g.id) ? { ...g, reservedRegions: g.reservedRegions.filter((r) => !drop(r)) } : g)),
    devices: host.devices.map((d) => (devices.has(d.id) ? { ...d, reservedRegions: d.reservedRegions.filter((r) => !drop(r)) } : d)),
  };
}
