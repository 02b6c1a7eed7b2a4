/**
 * Consumer policies: the three kernel consumers of reserved regions treat the region types
 * differently (SEMANTICS.md, "How each kernel consumer treats the types"):
 *
 * | type             | iommufd  | vfio-type1 | dma-iommu |
 * |------------------|----------|------------|-----------|
 * | direct           | hole     | hole       | hole      |
 * | direct-relaxable | ignored  | ignored    | hole      |
 * | reserved         | hole     | hole       | hole      |
 * | msi              | hole     | hole       | hole      |
 * | sw-msi           | hole     | hole       | ignored (dma-iommu maps it itself) |
 *
 * dma-iommu also keeps PCI devices away from host-bridge windows and from gaps between a host
 * bridge's dma-ranges. Those "DMA-API-only" holes are their own kind: on by default under
 * dma-iommu (as the kernel does), opt-in under the others.
 */
import type { ReservedRegionType } from './host.js';

export const POLICIES = ['iommufd', 'vfio-type1', 'dma-iommu'] as const;
export type Policy = (typeof POLICIES)[number];

const IGNORED: Record<Policy, ReadonlySet<ReservedRegionType>> = {
  iommufd: new Set(['direct-relaxable']),
  'vfio-type1': new Set(['direct-relaxable']),
  'dma-iommu': new Set(['sw-msi']),
};

/** Whether a reserved region of this type makes a hole under the policy. */
export function regionIsHole(policy: Policy, type: ReservedRegionType): boolean {
  return !IGNORED[policy].has(type);
}

/** Whether DMA-API-only holes (host-bridge windows, dma-ranges gaps) apply by default. */
export function dmaApiHolesByDefault(policy: Policy): boolean {
  return policy === 'dma-iommu';
}

/** Whether `text` names a consumer policy (one of {@link POLICIES}). */
export function isPolicy(text: string): text is Policy {
  return (POLICIES as readonly string[]).includes(text);
}
