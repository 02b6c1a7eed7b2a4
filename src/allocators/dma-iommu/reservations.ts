/**
 * What a DMA-API domain keeps away from allocation before its first map, and why.
 *
 * From a host (an {@link AddressSpace} built under the `dma-iommu` policy), the reservations are
 * the ones the kernel's DMA layer makes when it sets a domain up for a device: its reserved
 * regions (every type but the software MSI window, which the DMA layer maps itself), the memory
 * windows of a PCI device's host bridge and the gaps around the bridge's dma-ranges. Holes the
 * domain enforces otherwise are not reserved: page 0 and everything below the aperture lie below
 * the start pfn, and the DMA mask and the aperture's end cap each request's limit. Gaps between
 * two aperture windows (which the kernel's single-window geometry cannot express) are reserved;
 * peer-to-peer holes only on request, since the kernel does not know them.
 *
 * Without a host, the caller names what must stay free of DMA-API allocations: a solver layout's
 * placements, or any set of ranges.
 */
import { MAX_ADDRESS } from '../../model/address.js';
import type { AddressSpace } from '../../model/address-space.js';
import type { Hole } from '../../model/hole.js';
import { describeProvenance } from '../../model/provenance.js';
import type { IovaRange } from '../../model/range.js';
import { RangeSet } from '../../model/rangeset.js';
import type { Layout } from '../../explain/verify.js';

/** One range kept away from allocation. */
export interface DmaIommuReservation extends IovaRange {
  /** Why, in words: the hole's provenance, a layout placement, or the caller's reason. */
  readonly reason: string;
  /** The address-space hole this comes from, for a domain built from a host. */
  readonly hole?: Hole;
}

/** Which holes of an address space become reservations. */
export interface SpaceReservationOptions {
  /** Also reserve peer-to-peer holes (the kernel does not know them). Default false. */
  p2pHoles?: boolean;
}

/**
 * The reservations the DMA layer makes for `space` (see the module comment); `apertureStart`
 * and `apertureEnd` bound the windows' span.
 */
export function reservationsOfSpace(
  space: AddressSpace,
  apertureStart: bigint,
  apertureEnd: bigint,
  options: SpaceReservationOptions = {},
): DmaIommuReservation[] {
  const out: DmaIommuReservation[] = [];
  for (const hole of space.holes) {
    // The DMA mask and page 0 are enforced per request (the limit) and by the start pfn; so is
    // the aperture outside the windows' span.
    if (hole.kind === 'dma-mask' || hole.kind === 'iova-zero') continue;
    if (hole.kind === 'aperture' && (hole.last < apertureStart || hole.start > apertureEnd)) continue;
    if (hole.kind === 'p2p' && !options.p2pHoles) continue;
    let last = hole.last;
    // The kernel reserves a dma-ranges gap up to and including the granule that holds the first
    // address of the next dma-range (it passes that address as the gap's end).
    if (hole.type === 'dma-ranges-gap' && last < MAX_ADDRESS) last += 1n;
    out.push({ start: hole.start, last, reason: `${hole.type}: ${describeProvenance(hole.source)}`, hole });
  }
  return out;
}

/** A layout's placements and existing mappings, which DMA-API allocations must leave free. */
export function reservationsOfLayout(layout: Layout): DmaIommuReservation[] {
  const out: DmaIommuReservation[] = [];
  for (const p of layout.placements) {
    out.push({ start: p.iova, last: p.iova + p.size - 1n, reason: `placement ${p.name} of the layout` });
  }
  for (const m of layout.existing ?? []) out.push({ start: m.start, last: m.last, reason: `existing mapping ${m.name}` });
  return out;
}

/** Everything outside `usable`, as reservations. */
export function reservationsOutside(usable: RangeSet): DmaIommuReservation[] {
  return usable.complement().ranges.map((r) => ({
    start: r.start,
    last: r.last,
    reason: 'outside the usable ranges',
  }));
}
