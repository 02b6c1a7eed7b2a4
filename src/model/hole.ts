/**
 * A hole: a range of the IOVA space that cannot be used, why, and where that came from.
 */
import { compareText } from './compare.js';
import type { ReservedRegionType } from './host.js';
import type { Policy } from './policy.js';
import { describeProvenance, type Provenance } from './provenance.js';
import { compareRanges, type IovaRange } from './range.js';

export const HOLE_KINDS = ['aperture', 'reserved-region', 'p2p', 'dma-api', 'dma-mask', 'iova-zero'] as const;
/**
 * - `aperture`: outside every window the IOMMU domain translates;
 * - `reserved-region`: a reserved region of an attached device, group or platform;
 * - `p2p`: decoded by a peer below a switch that does not redirect peer-to-peer requests;
 * - `dma-api`: a host-bridge window or dma-ranges gap (what dma-iommu keeps DMA away from);
 * - `dma-mask`: above the DMA mask of an attached device (dma-iommu);
 * - `iova-zero`: the first page, which dma-iommu never hands out.
 */
export type HoleKind = (typeof HOLE_KINDS)[number];

/** For `reserved-region` the region type; otherwise a finer name of the hole's cause. */
export type HoleType =
  | ReservedRegionType
  | 'outside-aperture'
  | 'peer-bar'
  | 'peer-window'
  | 'host-bridge-window'
  | 'dma-ranges-gap'
  | 'dma-mask'
  | 'iova-zero';

export interface Hole extends IovaRange {
  kind: HoleKind;
  type: HoleType;
  source: Provenance;
}

/**
 * Whether the kernel itself refuses IOVAs in such a hole under the policy (and reports it in
 * IOMMU_IOAS_IOVA_RANGES or VFIO's IOVA-range capability). Peer-to-peer holes are never
 * enforced: the request is routed before it reaches the IOMMU and silently goes to the peer.
 */
export function kernelEnforces(kind: HoleKind, policy: Policy): boolean {
  switch (kind) {
    case 'aperture':
    case 'reserved-region':
      return true;
    case 'p2p':
      return false;
    case 'dma-api':
    case 'dma-mask':
    case 'iova-zero':
      return policy === 'dma-iommu';
  }
}

/** Stable order: by range, then kind, type and provenance text. */
export function compareHoles(a: Hole, b: Hole): number {
  return (
    compareRanges(a, b) ||
    compareText(a.kind, b.kind) ||
    compareText(a.type, b.type) ||
    compareText(describeProvenance(a.source), describeProvenance(b.source))
  );
}
