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
import { areaConflict, holeConflict, type Intro, introText } from './conflicts.js';
import { describeFact, type InvolvedFact, type IoasOperation, type IoasWarning, mappingFact, reject, type Rejected } from '../explain/explanation.js';
import { domainFact, type MapPlan, type MapPlanRequest, mapSubject, span } from './iommufd.js';
import { has, kernelName, NotModelledError } from './kernel.js';
import { holeFact, isEnforced } from './reserved.js';
import type { IoasCore } from './state.js';

/**
 * A container with no group, or whose last group left, has no IOMMU driver: container.c
 * vfio_fops_unl_ioctl() passes IOMMU ioctls to the driver only when one is set (VFIO_SET_IOMMU
 * needs a group first) and answers -EINVAL otherwise.
 */
export function noIommu(core: IoasCore, operation: IoasOperation, ioctl: string): Rejected | undefined {
  if (core.policy !== 'vfio-type1' || core.attachments.length > 0) return undefined;
  return reject(
    operation,
    'EINVAL',
    'no-iommu',
    `The VFIO container has no group and so no IOMMU (VFIO_SET_IOMMU needs a group first); the container answers ${ioctl} with -EINVAL.`,
    [],
  );
}

/** Intel before 5.4: no valid-IOVA list; intel_iommu_map() refuses an IOVA beyond the domain's address width with -EFAULT. */
function widthFault(core: IoasCore, operation: IoasOperation, subject: Intro, r: { start: bigint; last: bigint }, facts: InvolvedFact[]): Rejected {
  if (core.host.platform?.profile !== 'intel-vtd') {
    throw new NotModelledError(`${kernelName(core.config.kernel)} type1 has no valid-IOVA list (5.4); what the ${core.host.platform?.profile ?? 'unknown'} IOMMU driver answers to a map beyond its aperture is not modelled`);
  }
  return reject(
    operation,
    'EFAULT',
    'width-fault',
    `${introText(subject)} (${describeRange(r)}) lies beyond the Intel IOMMU domain's address width; ${kernelName(core.config.kernel)} has no valid-IOVA list yet, and intel_iommu_map() refuses it with -EFAULT when VFIO maps the pages.`,
    facts,
  );
}

export function planVfioMap(core: IoasCore, req: MapPlanRequest): MapPlan | Rejected {
  if (!req.fixed || req.iova === undefined) {
    throw new InputError('VFIO type1 has no automatic IOVA placement: VFIO_IOMMU_MAP_DMA always maps at the IOVA given');
  }
  const none = noIommu(core, 'map', 'VFIO_IOMMU_MAP_DMA');
  if (none) return none;
  const { iova, length, va } = req;
  const align = core.alignment;
  const what = (): string => mapSubject(req);
  const page = (): string => `the smallest page size VFIO offers (${formatSize(align)})`;
  if (length === 0n) return reject('map', 'EINVAL', 'length-zero', 'A mapping must have a size; VFIO_IOMMU_MAP_DMA refuses size 0.', []);
  if (length % align !== 0n) return reject('map', 'EINVAL', 'length-alignment', `${what()}: the size ${hexGrouped(length)} is not a multiple of ${page()}.`, []);
  if (iova % align !== 0n) return reject('map', 'EINVAL', 'iova-alignment', `${what()}: the IOVA ${hexGrouped(iova)} is not a multiple of ${page()}.`, []);
  if (va !== undefined && va % align !== 0n) return reject('map', 'EINVAL', 'va-alignment', `${what()}: the user address ${hexGrouped(va)} is not a multiple of ${page()}.`, []);
  if (iova + length - 1n > MAX_ADDRESS) return reject('map', 'EINVAL', 'iova-wrap', `The map at ${hexGrouped(iova)} of ${formatSize(length)} wraps past the end of the 64-bit IOVA space.`, []);
  if (va !== undefined && va + length - 1n > MAX_ADDRESS) return reject('map', 'EINVAL', 'va-wrap', `The user buffer at ${hexGrouped(va)} of ${formatSize(length)} wraps around the address space.`, []);
  const r = span(iova, length);
  const area = areaConflict(core, what, r);
  if (area) return area;
  // vfio_dma_do_map(): !iommu->dma_avail → -ENOSPC (from 5.1; the count was set at VFIO_SET_IOMMU).
  if (has(core.config.kernel, 'dmaEntryLimit') && core.areas.length >= core.dmaEntryLimit) {
    return reject(
      'map',
      'ENOSPC',
      'entry-limit',
      `The container already holds ${core.areas.length} mappings, the dma_entry_limit of ${core.dmaEntryLimit} it read when it got its IOMMU; VFIO refuses more (changing the vfio_iommu_type1 dma_entry_limit parameter now does not reach this container).`,
      [],
    );
  }
  if (has(core.config.kernel, 'type1IovaList')) {
    // vfio_dma_do_map() → vfio_iommu_iova_dma_valid() → -EINVAL.
    const hole = holeConflict(core, 'map', 'EINVAL', what, r, {
      aperture: "VFIO's valid IOVA ranges end at the aperture of every attached domain",
      reserved: 'VFIO maps only inside one of its valid IOVA ranges, which leave out reserved regions',
    });
    if (hole) return hole;
    return { iova, length, alignment: align };
  }
  const hits = core.reservedOverlapping(r);
  const outside = hits.filter((o) => o.hole.kind === 'aperture');
  if (outside.length > 0) return widthFault(core, 'map', what, r, outside.map((o) => holeFact(o, core.policy)));
  const warnings: IoasWarning[] = hits.map((o) => {
    const fact = holeFact(o, core.policy);
    return {
      kind: 'dma-api',
      range: r,
      fact,
      message: `${kernelName(core.config.kernel)} maps over the ${describeFact(fact)}: type1 checks reserved regions from 5.4 on; DMA there does not reach memory`,
    };
  });
  return { iova, length, alignment: align, ...(warnings.length > 0 ? { warnings } : {}) };
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
  const newDomain = !core.domains.some((d) => d.key === att.domain);
  if (!has(core.config.kernel, 'type1IovaList')) {
    // Before 5.4 the attach only replays the mappings into a new domain (vfio_iommu_replay()).
    if (!newDomain) return { newDomain };
    const outside = core.areas.filter((m) => m.start < aperture.start || m.last > aperture.last);
    if (outside.length > 0) return widthFault(core, 'attach', `Replaying the ${describeFact(mappingFact(outside[0]))} into the domain of ${att.id}`, outside[0], [mappingFact(outside[0]), domain]);
    return replayAlignment(core, att) ?? { newDomain };
  }
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
  return newDomain ? (replayAlignment(core, att) ?? { newDomain }) : { newDomain };
}

/**
 * vfio_iommu_replay() maps every existing mapping into a new domain; iommu.c __iommu_map()
 * refuses an IOVA, address or size that is not a multiple of the domain's smallest page with
 * -EINVAL ("unaligned"). The user address stands in for the physical one (same page offset).
 */
function replayAlignment(core: IoasCore, att: Attachment): Rejected | undefined {
  const min = att.geometry.pageSizes & -att.geometry.pageSizes;
  // Mappings are whole CPU pages already; only a domain whose smallest page is larger can fail.
  if (min <= core.config.pageSize) return undefined;
  const hits = core.areas.filter((m) => m.start % min !== 0n || sizeOf(m) % min !== 0n || (m.va !== undefined && m.va % min !== 0n));
  if (hits.length === 0) return undefined;
  const fact = mappingFact(hits[0]);
  return reject(
    'attach',
    'EINVAL',
    'replay-alignment',
    `The IOMMU domain of ${att.id} maps nothing smaller than ${formatSize(min)}, but the ${describeFact(fact)}${hits.length > 1 ? ` (and ${hits.length - 1} more)` : ''} is not aligned to it; replaying the mappings into the new domain fails.`,
    [...hits.map(mappingFact), domainFact(att)],
    fact,
  );
}

/** VFIO_IOMMU_UNMAP_DMA (v2): aligned, and no mapping cut at either end. */
export function planVfioUnmap(core: IoasCore, iova: bigint, length: bigint): { removed: IoasMapping[]; rejection?: Rejected; warnings?: IoasWarning[] } {
  const align = core.alignment;
  const fail = (rejection: Rejected) => ({ removed: [], rejection });
  const none = noIommu(core, 'unmap', 'VFIO_IOMMU_UNMAP_DMA');
  if (none) return fail(none);
  if (iova % align !== 0n) return fail(reject('unmap', 'EINVAL', 'unmap-alignment', `The unmap IOVA ${hexGrouped(iova)} is not a multiple of the smallest page size ${formatSize(align)}.`, []));
  if (length === 0n) return fail(reject('unmap', 'EINVAL', 'unmap-length-zero', 'An unmap must have a size (use the unmap-all flag to remove everything).', []));
  if (length % align !== 0n) return fail(reject('unmap', 'EINVAL', 'unmap-alignment', `The unmap size ${hexGrouped(length)} is not a multiple of the smallest page size ${formatSize(align)}.`, []));
  if (iova + length - 1n > MAX_ADDRESS) return fail(reject('unmap', 'EINVAL', 'unmap-overflow', `The unmap at ${hexGrouped(iova)} of ${formatSize(length)} wraps past the end of the 64-bit space.`, []));
  const r = span(iova, length);
  if (core.config.type1 === 'v1') return planV1Unmap(core, r);
  const cut = core.areasOverlapping(r).filter((a) => a.start < r.start || a.last > r.last);
  if (cut.length > 0) {
    const fact = mappingFact(cut[0]);
    return fail(reject('unmap', 'EINVAL', 'partial-unmap', `The unmap of ${describeRange(r)} would cut the ${describeFact(fact)}; the VFIO v2 interface unmaps whole mappings only.`, cut.map(mappingFact)));
  }
  return { removed: core.areasOverlapping(r) };
}

/**
 * The v1 interface (VFIO_TYPE1_IOMMU) never refuses a cut: vfio_dma_do_unmap() walks the
 * mappings from the lowest one the range touches, stops at once if that one starts below the
 * range (success, nothing unmapped), and otherwise removes every mapping whose start lies in the
 * range — whole, even past the range's end. Kernels before 5.12 walked the tree in search order
 * instead, so which mappings go when one straddles the start is not modelled there.
 */
function planV1Unmap(core: IoasCore, r: { start: bigint; last: bigint }): { removed: IoasMapping[]; warnings?: IoasWarning[] } {
  const touched = core.areasOverlapping(r);
  if (touched.length === 0) return { removed: [] };
  if (touched[0].start < r.start) {
    if (touched.length > 1 && !has(core.config.kernel, 'unmapAll')) {
      throw new NotModelledError(`a v1 unmap that starts inside a mapping, on ${kernelName(core.config.kernel)} (before 5.12 the kernel walks its tree in search order)`);
    }
    const fact = mappingFact(touched[0]);
    return { removed: [], warnings: [{ kind: 'assumption', range: touched[0], fact, message: `The v1 interface returns success with nothing unmapped: the range starts inside the ${describeFact(fact)}.` }] };
  }
  const removed = touched.filter((m) => m.start >= r.start);
  const beyond = removed.filter((m) => m.last > r.last);
  const warnings: IoasWarning[] = beyond.map((m) => {
    const fact = mappingFact(m);
    return { kind: 'assumption', range: m, fact, message: `The v1 interface removes the whole ${describeFact(fact)}, beyond the end of the range.` };
  });
  return { removed, ...(warnings.length > 0 ? { warnings } : {}) };
}

/**
 * VFIO_DMA_UNMAP_FLAG_ALL (from 5.12): vfio_iommu_type1_unmap_dma() refuses flags it does not
 * know with -EINVAL before that; vfio_dma_do_unmap() needs an aligned IOVA, then IOVA 0 and size 0.
 */
export function checkVfioUnmapAll(core: IoasCore, iova: bigint, size: bigint): Rejected | undefined {
  const none = noIommu(core, 'unmap', 'VFIO_IOMMU_UNMAP_DMA');
  if (none) return none;
  if (!has(core.config.kernel, 'unmapAll')) {
    return reject('unmap', 'EINVAL', 'unmap-flags', `VFIO_DMA_UNMAP_FLAG_ALL does not exist in ${kernelName(core.config.kernel)} (it arrived in 5.12); the unknown flag is refused.`, []);
  }
  if (iova % core.alignment !== 0n) {
    return reject('unmap', 'EINVAL', 'unmap-alignment', `The unmap IOVA ${hexGrouped(iova)} is not a multiple of the smallest page size ${formatSize(core.alignment)}.`, []);
  }
  if (iova !== 0n || size !== 0n) {
    return reject('unmap', 'EINVAL', 'unmap-all-args', `VFIO_DMA_UNMAP_FLAG_ALL unmaps everything and needs IOVA 0 and size 0, not ${hexGrouped(iova)} and ${hexGrouped(size)}.`, []);
  }
  return undefined;
}

/** Bytes in a list of mappings. */
export function bytesOf(mappings: readonly IoasMapping[]): bigint {
  return mappings.reduce((sum, m) => sum + sizeOf(m), 0n);
}
