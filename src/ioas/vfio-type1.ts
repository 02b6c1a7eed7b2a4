/**
 * VFIO type1's rules (drivers/vfio/vfio_iommu_type1.c, the v2 interface), in the order the
 * kernel checks them, as pure functions of the state.
 *
 * The valid IOVA list is the intersection of the attached domains' apertures minus every
 * reserved region but direct-relaxable ones; the state's reserved set is its complement. A
 * geometry with several windows (sPAPR) is taken as its hull with the gaps between the windows
 * acting as reserved regions.
 *
 * One deliberate difference: before the first group is attached the kernel keeps no list, so it
 * would only notice a mapping outside the first domain's aperture when replaying it into the
 * domain (and fail there); the model refuses that attach with the aperture rule up front.
 */
import { formatSize, hexGrouped, MAX_ADDRESS } from '../model/address.js';
import { InputError } from '../model/errors.js';
import type { IoasMapping } from '../model/ioas-state.js';
import { describeRange, intersection, type IovaRange, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Attachment } from './attachment.js';
import { areaConflict, holeConflict } from './conflicts.js';
import { describeFact, mappingFact, reject, type Rejected } from './explanation.js';
import { domainFact, type MapPlan, type MapPlanRequest, mapSubject, span } from './iommufd.js';
import { holeFact, isEnforced } from './reserved.js';
import type { IoasCore } from './state.js';

export function planVfioMap(core: IoasCore, req: MapPlanRequest): MapPlan | Rejected {
  if (!req.fixed || req.iova === undefined) {
    throw new InputError('VFIO type1 has no automatic IOVA placement: VFIO_IOMMU_MAP_DMA always maps at the IOVA given');
  }
  const { iova, length, va } = req;
  const align = core.alignment;
  const what = mapSubject(req);
  const page = `the smallest page size VFIO offers (${formatSize(align)})`;
  if (length === 0n) return reject('map', 'EINVAL', 'length-zero', 'A mapping must have a size; VFIO_IOMMU_MAP_DMA refuses size 0.', []);
  if (length % align !== 0n) return reject('map', 'EINVAL', 'length-alignment', `${what}: the size ${hexGrouped(length)} is not a multiple of ${page}.`, []);
  if (iova % align !== 0n) return reject('map', 'EINVAL', 'iova-alignment', `${what}: the IOVA ${hexGrouped(iova)} is not a multiple of ${page}.`, []);
  if (va !== undefined && va % align !== 0n) return reject('map', 'EINVAL', 'va-alignment', `${what}: the user address ${hexGrouped(va)} is not a multiple of ${page}.`, []);
  if (iova + length - 1n > MAX_ADDRESS) return reject('map', 'EINVAL', 'iova-wrap', `The map at ${hexGrouped(iova)} of ${formatSize(length)} wraps past the end of the 64-bit IOVA space.`, []);
  if (va !== undefined && va + length - 1n > MAX_ADDRESS) return reject('map', 'EINVAL', 'va-wrap', `The user buffer at ${hexGrouped(va)} of ${formatSize(length)} wraps around the address space.`, []);
  const r = span(iova, length);
  const area = areaConflict(core, what, r);
  if (area) return area;
  if (core.areas.length >= core.dmaEntryLimit) {
    return reject(
      'map',
      'ENOSPC',
      'entry-limit',
      `The container already holds ${core.areas.length} mappings, the dma_entry_limit of ${core.dmaEntryLimit}; VFIO refuses more (raise the vfio_iommu_type1 dma_entry_limit parameter or use fewer, larger mappings).`,
      [],
    );
  }
  const hole = holeConflict(core, 'map', 'EINVAL', what, r, {
    aperture: "VFIO's valid IOVA ranges end at the aperture of every attached domain",
    reserved: 'VFIO maps only inside one of its valid IOVA ranges, which leave out reserved regions',
  });
  if (hole) return hole;
  return { iova, length, alignment: align };
}

/** The hull of a geometry's windows: what VFIO sees as the domain's aperture. */
function hull(att: Attachment): IovaRange {
  const windows = att.geometry.apertures;
  let start = windows[0].start;
  let last = windows[0].last;
  for (const w of windows) {
    if (w.start < start) start = w.start;
    if (w.last > last) last = w.last;
  }
  return { start, last };
}

/** Attach a group: the aperture against the valid list and the mappings, then the regions. */
export function planVfioAttach(core: IoasCore, att: Attachment): { newDomain: boolean } | Rejected {
  const aperture = hull(att);
  const domain = domainFact(att);
  if (core.attachments.length > 0) {
    const valid = core.validSet.ranges;
    const first = valid[0];
    const last = valid[valid.length - 1];
    if (aperture.start > last.last || aperture.last < first.start) {
      const bounds = core.reserved.filter((o) => o.hole.kind === 'aperture').map((o) => holeFact(o, core.policy));
      return reject(
        'attach',
        'EINVAL',
        'aperture-disjoint',
        `The aperture ${describeRange(aperture)} of the IOMMU domain of ${att.id} does not meet the valid IOVA ranges ${describeRange({ start: first.start, last: last.last })} the attached domains leave; VFIO refuses a domain that shares no IOVA with them.`,
        [domain, ...bounds],
      );
    }
  }
  const outside = core.areas.filter((m) => m.start < aperture.start || m.last > aperture.last);
  if (outside.length > 0) {
    const fact = mappingFact(outside[0]);
    return reject(
      'attach',
      'EINVAL',
      'aperture-mapped',
      `The aperture ${describeRange(aperture)} of the IOMMU domain of ${att.id} leaves out the ${describeFact(fact)}${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ''}; VFIO refuses an aperture that cuts existing mappings.`,
      [fact, ...outside.slice(1).map(mappingFact), domain],
      fact,
    );
  }
  const enforced = att.space.holes.filter(isEnforced(core.policy));
  // Aperture holes inside the hull are the gaps between windows; the rest was checked above.
  const regions = enforced.filter((h) => h.kind !== 'aperture' || intersection(h, aperture) !== undefined);
  for (const h of regions) {
    const hits = core.areasOverlapping(h);
    if (hits.length === 0) continue;
    const fact = holeFact({ hole: h, owners: [att.id] }, core.policy);
    return reject(
      'attach',
      'EINVAL',
      'reserved-mapped',
      `Attaching ${att.id} excludes the ${describeFact(fact)} from the valid IOVA ranges, but the ${describeFact(mappingFact(hits[0]))} lies there; VFIO refuses reserved regions over existing mappings.`,
      [fact, ...hits.map(mappingFact)],
      fact,
    );
  }
  const remaining = core.reservedSet.union(RangeSet.of(enforced)).complement();
  if (remaining.isEmpty) {
    return reject(
      'attach',
      'EINVAL',
      'no-valid-range',
      `Attaching ${att.id} would leave no valid IOVA range: its aperture ${describeRange(aperture)} and reserved regions cover all that the attached domains still leave.`,
      [domain, ...enforced.map((h) => holeFact({ hole: h, owners: [att.id] }, core.policy))],
    );
  }
  return { newDomain: !core.domains.some((d) => d.key === att.domain) };
}

/** VFIO_IOMMU_UNMAP_DMA (v2): aligned, and no mapping cut at either end. */
export function planVfioUnmap(core: IoasCore, iova: bigint, length: bigint): { removed: IoasMapping[]; rejection?: Rejected } {
  const align = core.alignment;
  const fail = (rejection: Rejected) => ({ removed: [], rejection });
  if (iova % align !== 0n) return fail(reject('unmap', 'EINVAL', 'unmap-alignment', `The unmap IOVA ${hexGrouped(iova)} is not a multiple of the smallest page size ${formatSize(align)}.`, []));
  if (length === 0n) return fail(reject('unmap', 'EINVAL', 'unmap-length-zero', 'An unmap must have a size (use the unmap-all flag to remove everything).', []));
  if (length % align !== 0n) return fail(reject('unmap', 'EINVAL', 'unmap-alignment', `The unmap size ${hexGrouped(length)} is not a multiple of the smallest page size ${formatSize(align)}.`, []));
  if (iova + length - 1n > MAX_ADDRESS) return fail(reject('unmap', 'EINVAL', 'unmap-overflow', `The unmap at ${hexGrouped(iova)} of ${formatSize(length)} wraps past the end of the 64-bit space.`, []));
  const r = span(iova, length);
  const cut = core.areasOverlapping(r).filter((a) => a.start < r.start || a.last > r.last);
  if (cut.length > 0) {
    const fact = mappingFact(cut[0]);
    return fail(reject('unmap', 'EINVAL', 'partial-unmap', `The unmap of ${describeRange(r)} would cut the ${describeFact(fact)}; the VFIO v2 interface unmaps whole mappings only.`, cut.map(mappingFact)));
  }
  return { removed: core.areasOverlapping(r) };
}

/** Bytes in a list of mappings. */
export function bytesOf(mappings: readonly IoasMapping[]): bigint {
  return mappings.reduce((sum, m) => sum + sizeOf(m), 0n);
}
