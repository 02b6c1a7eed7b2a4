/**
 * iommufd's rules (drivers/iommu/iommufd: io_pagetable.c, ioas.c, device.c), in the order the
 * kernel checks them, as pure functions of the state: each returns what the operation would do
 * or the rejection, and changes nothing.
 */
import { formatSize, hexGrouped, MAX_ADDRESS } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import type { Backing, IoasMapping } from '../model/ioas-state.js';
import { describeRange, type IovaRange, overlaps, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Attachment } from './attachment.js';
import { autoIova } from './auto-iova.js';
import { areaConflict, holeConflict } from './conflicts.js';
import { allowedFact, backingFact, describeFact, type InvolvedFact, type IoasWarning, mappingFact, reject, type Rejected } from '../explain/explanation.js';
import { has, kernelName } from './kernel.js';
import { holeFact, MANUAL_OWNER } from './reserved.js';
import type { IoasCore } from './state.js';

/** A map request after defaults: `fixed` decided, `iova` present when fixed. */
export interface MapPlanRequest {
  iova?: bigint;
  length: bigint;
  fixed: boolean;
  va?: bigint;
  backing?: Backing;
  /** IOMMU_IOAS_MAP_FILE. */
  file?: boolean;
  /** The size of the dma-buf given to IOMMU_IOAS_MAP_FILE, when known. */
  fileSize?: bigint;
}

export interface MapPlan {
  iova: bigint;
  length: bigint;
  /** The alignment the placement used (automatic) or required (fixed). */
  alignment: bigint;
  /** Accepted now, refused later (pages pinned when a domain is attached). */
  warnings?: IoasWarning[];
}

/**
 * Why the pages of this memory cannot be pinned into a domain, with the errno, or undefined when
 * they can. iommufd pins through GUP (pages.c pfn_reader_user_pin() → pin_user_pages_fast()),
 * which refuses VM_IO / VM_PFNMAP ranges with -EFAULT (mm/gup.c check_vma_flags()); a file is
 * pinned with memfd_pin_folios(), which takes shmem and hugetlbfs files only (-EINVAL), until
 * 6.19 adds dma-bufs (pages.c iopt_map_dmabuf()).
 */
export function pinFailure(core: IoasCore, backing: Backing | undefined, file: boolean): { errno: 'EFAULT' | 'EINVAL'; why: string } | undefined {
  if (!file && backing === 'pfnmap') {
    return { errno: 'EFAULT', why: 'iommufd pins user pages with GUP, which refuses a VM_PFNMAP range such as an mmap()ed PCI BAR (mm/gup.c check_vma_flags())' };
  }
  if (file && backing === 'dma-buf' && !has(core.config.kernel, 'mapFileDmaBuf')) {
    return { errno: 'EINVAL', why: `IOMMU_IOAS_MAP_FILE of ${kernelName(core.config.kernel)} pins files with memfd_pin_folios(), which takes memfd (shmem or hugetlbfs) files only; dma-bufs are accepted from 6.19` };
  }
  return undefined;
}

/** The facts of a domain: its aperture windows with the geometry's provenance. */
export function domainFact(a: Attachment): InvolvedFact {
  const windows = a.geometry.apertures;
  const range = { start: windows[0].start, last: windows[windows.length - 1].last };
  return { fact: 'domain', range, what: `IOMMU domain of ${a.id}`, owners: [a.id], source: a.geometry.source };
}

export function planIommufdMap(core: IoasCore, req: MapPlanRequest): MapPlan | Rejected {
  const { length, va } = req;
  const page = core.config.pageSize;
  const align = core.alignment;
  const what = (): string => mapSubject(req);
  if (req.file) {
    // iommufd main.c: IOMMU_IOAS_MAP_FILE is in the ioctl table from 6.13; an unknown ioctl number is -ENOTTY.
    if (!has(core.config.kernel, 'mapFile')) {
      return reject('map', 'ENOTTY', 'ioctl-missing', `IOMMU_IOAS_MAP_FILE does not exist in ${kernelName(core.config.kernel)}; it arrived in 6.13.`, []);
    }
    if (req.backing === 'anonymous' || req.backing === 'pfnmap') {
      return reject('map', 'EINVAL', 'map-file-backing', `IOMMU_IOAS_MAP_FILE maps a memfd (or from 6.19 a dma-buf); ${req.backing} memory has no such file.`, []);
    }
    // pages.c iopt_alloc_dmabuf_pages(): the range must lie inside the dma-buf (selftest dmabuf_simple).
    const start = va ?? 0n;
    if (req.backing === 'dma-buf' && req.fileSize !== undefined && length > 0n && start + length > req.fileSize && has(core.config.kernel, 'mapFileDmaBuf')) {
      return reject('map', 'EINVAL', 'file-range', `The range ${hexGrouped(start)} + ${formatSize(length)} runs past the end of the ${formatSize(req.fileSize)} dma-buf.`, []);
    }
  }
  if (req.iova === MAX_ADDRESS || length === MAX_ADDRESS) {
    return reject('map', 'EOVERFLOW', 'argument-overflow', `${what()}: IOVA and length must be below 2^64 - 1 (${hexGrouped(MAX_ADDRESS)}), which IOMMU_IOAS_MAP refuses outright.`, []);
  }
  if (length === 0n) return reject('map', 'EINVAL', 'length-zero', 'A mapping must have a length; a length of 0 is refused.', []);
  if (length > MAX_ADDRESS - page) {
    return reject('map', 'EINVAL', 'length-too-large', `The length ${hexGrouped(length)} leaves no room to round the user buffer to whole ${formatSize(page)} pages.`, []);
  }
  if (va !== undefined && va + length > MAX_ADDRESS) {
    return reject('map', 'EOVERFLOW', 'va-overflow', `The user buffer at ${hexGrouped(va)} of ${formatSize(length)} runs past the end of the address space.`, []);
  }
  if (length % align !== 0n) {
    return reject('map', 'EINVAL', 'length-alignment', `${what()}: the length ${hexGrouped(length)} is not a multiple of the IOAS alignment ${formatSize(align)}${alignmentWhy(core)}.`, domainFacts(core));
  }
  let iova: bigint;
  let used = align;
  if (req.fixed) {
    iova = req.iova ?? 0n;
    const r = span(iova, length);
    if (iova % align !== 0n) {
      return reject('map', 'EINVAL', 'iova-alignment', `${what()}: the IOVA ${hexGrouped(iova)} is not a multiple of the IOAS alignment ${formatSize(align)}${alignmentWhy(core)}.`, domainFacts(core));
    }
    if (iova + length - 1n > MAX_ADDRESS) {
      return reject('map', 'EOVERFLOW', 'iova-wrap', `The fixed map at ${hexGrouped(iova)} of ${formatSize(length)} runs past the end of the 64-bit IOVA space.`, []);
    }
    const reserved = holeConflict(core, 'map', 'EINVAL', what, r, {
      aperture: 'iommufd reserves everything outside the aperture of each attached domain',
      reserved: 'iommufd refuses fixed maps over reserved IOVAs (allowed ranges do not matter for fixed maps)',
    });
    if (reserved) return reserved;
    const area = areaConflict(core, what, r);
    if (area) return area;
  } else {
    const outcome = autoIova({
      length,
      va,
      pageSize: page,
      hugePageSize: core.config.hugePageSize,
      ioasAlignment: align,
      allowed: RangeSet.of(core.allowed),
      used: core.reservedSet.union(core.areaSet),
    });
    if (!outcome.ok) return autoRejection(core, req, outcome);
    iova = outcome.iova;
    used = outcome.alignment;
  }
  const pageOffset = (va ?? 0n) % page;
  if (pageOffset % align !== 0n) {
    return reject(
      'map',
      'EINVAL',
      'va-offset-alignment',
      `${what()}: the user address ${hexGrouped(va ?? 0n)} sits ${hexGrouped(pageOffset)} into its ${formatSize(page)} page, which is not a multiple of the IOAS alignment ${formatSize(align)}${alignmentWhy(core)}.`,
      domainFacts(core),
    );
  }
  const range = span(iova, length);
  const pin = pinFailure(core, req.backing, req.file ?? false);
  const backing = req.backing ? backingFact(range, req.backing, { what: `${req.backing} memory`, note: req.file ? 'the file given to IOMMU_IOAS_MAP_FILE' : 'the user address range of the map' }) : undefined;
  if (pin && backing) {
    // io_pagetable.c iopt_map_pages() → iopt_fill_domains_pages(): pages are pinned at map time only when a domain exists.
    if (core.domains.length > 0) return reject('map', pin.errno, 'pfnmap-backing', `${what()} cannot be pinned: ${pin.why}.`, [backing, ...domainFacts(core)], backing);
    const message = `No IOMMU domain is attached, so the pages are not pinned yet and the map is accepted; attaching a device later fails with -${pin.errno} when the kernel pins them: ${pin.why}.`;
    return { iova, length, alignment: used, warnings: [{ kind: 'deferred', range, fact: backing, message }] };
  }
  if (req.file && req.backing === 'dma-buf' && backing) {
    const message = 'The dma-buf is assumed to come from vfio-pci (VFIO_DEVICE_FEATURE_DMA_BUF) and to cover one physical range; iommufd refuses other exporters and multi-range dma-bufs.';
    return { iova, length, alignment: used, warnings: [{ kind: 'assumption', range, fact: backing, message }] };
  }
  return { iova, length, alignment: used };
}

function autoRejection(core: IoasCore, req: MapPlanRequest, outcome: Exclude<ReturnType<typeof autoIova>, { ok: true }>): Rejected {
  const length = req.length;
  switch (outcome.reason) {
    case 'length-overflow':
      return reject('map', 'EOVERFLOW', 'auto-length-overflow', `Automatic placement cannot round a length of ${hexGrouped(length)} up to a power of two; it must be below 2^63 - 1.`, []);
    case 'alignment':
      return reject(
        'map',
        'EINVAL',
        'auto-alignment',
        `Automatic placement aligns ${formatSize(length)} from the user address ${hexGrouped(req.va ?? 0n)} to ${formatSize(outcome.alignment)}, below the IOAS alignment ${formatSize(core.alignment)}${alignmentWhy(core)}.`,
        domainFacts(core),
      );
    case 'no-space': {
      const where =
        core.allowed.length > 0
          ? `inside the allowed ranges ${outcome.spans.map(describeRange).join(', ')}`
          : `in ${outcome.spans.map(describeRange).join(', ')}`;
      const largest = outcome.largest ? `; the largest free block there is ${describeRange(outcome.largest)}` : '; nothing there is free';
      const blockers = core.reserved
        .filter((o) => outcome.spans.some((s) => overlaps(o.hole, s)))
        .sort((a, b) => (sizeOf(b.hole) > sizeOf(a.hole) ? 1 : sizeOf(b.hole) < sizeOf(a.hole) ? -1 : 0))
        .slice(0, 5)
        .map((o) => holeFact(o, core.policy));
      const involved = [...core.allowed.map(allowedFact), ...blockers];
      return reject(
        'map',
        'ENOSPC',
        'no-space',
        `No free block of ${formatSize(length)} aligned to ${formatSize(outcome.alignment)} fits ${where}${largest}.`,
        involved,
        blockers[0] ?? involved[0],
      );
    }
  }
}

/** `The fixed map of 0x1000–0x1fff (4 KiB)` / `The automatic map of 4 KiB`. */
export function mapSubject(req: MapPlanRequest): string {
  if (req.length === 0n) return 'The map';
  if (!req.fixed || req.iova === undefined) return `The automatic map of ${formatSize(req.length)}`;
  // A range past 2^64 cannot be shown as first–last: give its true length and where it would end.
  if (req.iova + req.length - 1n > MAX_ADDRESS) return `The fixed map of ${formatSize(req.length)} at ${hexGrouped(req.iova)} (it would end at 2^64 + ${hexGrouped(req.iova + req.length - 1n - MAX_ADDRESS - 1n)}, an overflow)`;
  return `The fixed map of ${describeRange(span(req.iova, req.length))}`;
}

/** Why the IOAS alignment is what it is. */
function alignmentWhy(core: IoasCore): string {
  const domains = core.domains;
  const parts: string[] = [];
  if (domains.length > 0) parts.push(`the smallest page size of the domain${domains.length > 1 ? 's' : ''} of ${domains.map((d) => d.members[0]).join(', ')}`);
  if (core.largePagesDisabled) parts.push(`large pages are off (PAGE_SIZE ${formatSize(core.config.pageSize)})`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

export function domainFacts(core: IoasCore): InvolvedFact[] {
  return core.domains.map((d) => domainFact(core.attachments.find((a) => a.id === d.members[0]) as Attachment));
}

/** Attach: the device's regions, then (for a new domain) the alignment and the aperture. */
export function planIommufdAttach(core: IoasCore, att: Attachment): { newDomain: boolean } | Rejected {
  const holes = att.space.holes.filter((h) => h.kind === 'reserved-region');
  for (const h of holes) {
    const r = reservationConflict(core, h, att.id, 'attach');
    if (r) return r;
  }
  if (core.domains.some((d) => d.key === att.domain)) return { newDomain: false };

  const smallest = att.geometry.pageSizes & -att.geometry.pageSizes;
  const current = core.alignment;
  const next = smallest > current ? smallest : current;
  const page = core.config.pageSize;
  if (next > page) {
    return reject(
      'attach',
      'EINVAL',
      'domain-page-size',
      `The IOMMU domain of ${att.id} cannot map pages smaller than ${formatSize(smallest)}, larger than the CPU page (${formatSize(page)}); iommufd cannot use it.`,
      [domainFact(att)],
    );
  }
  if (next !== current) {
    const bad = misaligned(core.areas, next, page);
    if (bad.length > 0) {
      return reject(
        'attach',
        'EADDRINUSE',
        'alignment-in-use',
        `The IOMMU domain of ${att.id} raises the IOAS alignment from ${formatSize(current)} to ${formatSize(next)}, but the ${describeFact(mappingFact(bad[0]))}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''} is not aligned to it.`,
        [...bad.map(mappingFact), domainFact(att)],
      );
    }
  }
  for (const h of att.space.holes.filter((x) => x.kind === 'aperture')) {
    const r = reservationConflict(core, h, att.id, 'attach');
    if (r) return r;
  }
  // io_pagetable.c iopt_table_add_domain() → iopt_fill_domain(): a new domain pins every area's pages.
  for (const m of core.areas) {
    const pin = pinFailure(core, m.backing, m.file ?? false);
    if (!pin || !m.backing) continue;
    const fact = mappingFact(m);
    return reject(
      'attach',
      pin.errno,
      'pfnmap-backing',
      `Attaching ${att.id} brings a new IOMMU domain, which must be filled with every mapping's pages, but the ${describeFact(fact)} is ${m.backing} memory: ${pin.why}.`,
      [fact, domainFact(att)],
      fact,
    );
  }
  return { newDomain: true };
}

/** Mappings whose IOVA, length or page offset of the user address break `alignment`. */
export function misaligned(areas: readonly IoasMapping[], alignment: bigint, page: bigint): IoasMapping[] {
  return areas.filter((a) => a.start % alignment !== 0n || sizeOf(a) % alignment !== 0n || ((a.va ?? 0n) % page) % alignment !== 0n);
}

/** A new reservation must not touch a mapping or an allowed range (EADDRINUSE). */
export function reservationConflict(core: IoasCore, h: Hole, owner: string, operation: 'attach' | 'reserve'): Rejected | undefined {
  const fact = holeFact({ hole: h, owners: [owner] }, core.policy);
  const aperture = h.kind === 'aperture';
  const subject = owner === MANUAL_OWNER ? `The reservation ${describeRange(h)}` : aperture ? `The IOMMU domain of ${owner}` : `Attaching ${owner}`;
  const areas = core.areasOverlapping(h);
  if (areas.length > 0) {
    const first = mappingFact(areas[0]);
    const message = aperture
      ? `${subject} does not translate ${describeFact(fact)}, but the ${describeFact(first)} lies there.`
      : `${subject} reserves the ${describeFact(fact)}, but the ${describeFact(first)} already uses it.`;
    return reject(operation, 'EADDRINUSE', aperture ? 'aperture-mapped' : 'reserved-mapped', `${message}${more(areas.length)}`, [fact, ...areas.map(mappingFact)], fact);
  }
  const allowed = core.allowedOverlapping(h);
  if (allowed.length > 0) {
    const first = allowedFact(allowed[0]);
    const message = aperture
      ? `${subject} does not translate ${describeFact(fact)}, which the ${describeFact(first)} covers.`
      : `${subject} reserves the ${describeFact(fact)} inside the ${describeFact(first)}.`;
    return reject(operation, 'EADDRINUSE', aperture ? 'aperture-allowed' : 'reserved-allowed', `${message}${more(allowed.length)}`, [fact, ...allowed.map(allowedFact)], fact);
  }
  return undefined;
}

function more(n: number): string {
  return n > 1 ? ` (${n - 1} more overlap too)` : '';
}

/** IOMMU_IOAS_ALLOW_IOVAS: well-formed, disjoint, and clear of every reservation. */
export function checkIommufdAllow(core: IoasCore, ranges: ReadonlyArray<IovaRange & { source: InvolvedFact['source'] }>): Rejected | undefined {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    if (r.start >= r.last) {
      return reject('allow', 'EINVAL', 'allowed-invalid', `Allowed range ${i} (${hexGrouped(r.start)}–${hexGrouped(r.last)}) must have its start below its last address.`, [allowedFact(r)]);
    }
    const earlier = ranges.slice(0, i).find((e) => overlaps(e, r));
    if (earlier) {
      return reject('allow', 'EINVAL', 'allowed-overlap', `Allowed range ${describeRange(r)} overlaps the earlier ${describeRange(earlier)}; allowed ranges must be disjoint.`, [allowedFact(r), allowedFact(earlier)]);
    }
  }
  for (const r of [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
    const hits = core.reservedOverlapping(r);
    if (hits.length > 0) {
      const facts = hits.map((o) => holeFact(o, core.policy));
      return reject(
        'allow',
        'EADDRINUSE',
        'allowed-reserved',
        `The allowed range ${describeRange(r)} touches the ${describeFact(facts[0])}${more(facts.length)}; allowed ranges must stay clear of reserved IOVAs.`,
        [allowedFact(r), ...facts],
        facts[0],
      );
    }
  }
  return undefined;
}

/**
 * IOMMU_IOAS_UNMAP. The kernel removes covered mappings lowest first and stops at the first
 * one the range cuts, so a failed unmap may already have removed some: `removed` lists them.
 */
export function planIommufdUnmap(core: IoasCore, iova: bigint, length: bigint): { removed: IoasMapping[]; rejection?: Rejected; warnings?: IoasWarning[] } {
  if (iova === 0n && length === MAX_ADDRESS) return { removed: [...core.areas] };
  if (iova === MAX_ADDRESS || length === MAX_ADDRESS) {
    return { removed: [], rejection: reject('unmap', 'EOVERFLOW', 'unmap-overflow', 'IOVA and length must be below 2^64 - 1 (only IOVA 0 with length 2^64 - 1 means "everything").', []) };
  }
  if (length === 0n) return { removed: [], rejection: reject('unmap', 'EINVAL', 'unmap-length-zero', 'An unmap must have a length.', []) };
  if (iova + length - 1n > MAX_ADDRESS) {
    return { removed: [], rejection: reject('unmap', 'EOVERFLOW', 'unmap-overflow', `The unmap at ${hexGrouped(iova)} of ${formatSize(length)} runs past the end of the 64-bit space.`, []) };
  }
  const r = span(iova, length);
  const removed: IoasMapping[] = [];
  for (const a of core.areasOverlapping(r)) {
    if (a.start < r.start || a.last > r.last) {
      const fact = mappingFact(a);
      const rejection = reject(
        'unmap',
        'ENOENT',
        'partial-unmap',
        `The unmap of ${describeRange(r)} would cut the ${describeFact(fact)}; iommufd only unmaps whole mappings${removed.length > 0 ? ` (the ${removed.length} mapping${removed.length > 1 ? 's' : ''} below it were already unmapped)` : ''}.`,
        [fact],
      );
      return { removed, rejection: { ...rejection, ...(removed.length > 0 ? { unmapped: removed } : {}) } };
    }
    removed.push(a);
  }
  if (removed.length === 0) return { removed, rejection: reject('unmap', 'ENOENT', 'nothing-mapped', `Nothing is mapped in ${describeRange(r)}.`, []) };
  return { removed };
}

/** IOMMU_OPTION_HUGE_PAGES = 0: every mapping must then be PAGE_SIZE aligned. */
export function checkLargePagesOff(core: IoasCore): Rejected | undefined {
  if (core.largePagesDisabled) return undefined;
  if (core.domains.length > 0 && core.areas.length > 0) {
    return reject('option', 'EINVAL', 'large-pages-in-use', 'Large pages cannot be turned off while domains are attached and hold mappings; unmap everything first.', core.areas.map(mappingFact));
  }
  const page = core.config.pageSize;
  const next = core.alignment > page ? core.alignment : page;
  if (next === core.alignment) return undefined;
  const bad = misaligned(core.areas, next, page);
  if (bad.length === 0) return undefined;
  return reject(
    'option',
    'EADDRINUSE',
    'alignment-in-use',
    `Turning large pages off raises the IOAS alignment to ${formatSize(next)}, but the ${describeFact(mappingFact(bad[0]))}${more(bad.length)} is not aligned to it (IOVA, length or the user address's offset in its page).`,
    bad.map(mappingFact),
  );
}

/** The iommufd self-test's ADD_RESERVED: a reservation owned by nobody. */
export function checkIommufdReserve(core: IoasCore, h: Hole): Rejected | undefined {
  return reservationConflict(core, h, MANUAL_OWNER, 'reserve');
}

/** Inclusive range of `length` bytes at `start` (length ≥ 1, no wrap). */
export function span(start: bigint, length: bigint): IovaRange {
  const last = start + length - 1n;
  return { start, last: last > MAX_ADDRESS ? MAX_ADDRESS : last };
}


/**
 * IOMMU_IOAS_COPY's source side: iopt_get_pages() (io_pagetable.c) needs a length, no wrap, and
 * the whole range covered by mappings that follow each other without a gap (-ENOENT otherwise).
 * The copy maps the same pages, so the first piece's user address and backing carry over.
 */
export function planCopySource(core: IoasCore, srcIova: bigint, length: bigint): Rejected | { va?: bigint; backing?: Backing; file?: boolean; pieces: IoasMapping[] } {
  if (srcIova === MAX_ADDRESS || length === MAX_ADDRESS) {
    return reject('copy', 'EOVERFLOW', 'argument-overflow', 'IOMMU_IOAS_COPY refuses a source IOVA or length of 2^64 - 1.', []);
  }
  if (length === 0n) return reject('copy', 'EINVAL', 'length-zero', 'A copy must have a length.', []);
  if (srcIova + length - 1n > MAX_ADDRESS) {
    return reject('copy', 'EOVERFLOW', 'iova-wrap', `The source range at ${hexGrouped(srcIova)} of ${formatSize(length)} runs past the end of the 64-bit space.`, []);
  }
  const r = span(srcIova, length);
  const pieces = core.areasOverlapping(r);
  let next = r.start;
  for (const m of pieces) {
    if (m.start > next) break;
    next = m.last + 1n;
  }
  if (pieces.length === 0 || pieces[0].start > r.start || next <= r.last) {
    const gap = next <= r.last ? { start: next, last: r.last } : r;
    return reject(
      'copy',
      'ENOENT',
      'copy-not-mapped',
      `The source range ${describeRange(r)} is not wholly mapped: nothing is mapped at ${hexGrouped(pieces.length === 0 || pieces[0].start > r.start ? r.start : gap.start)}; IOMMU_IOAS_COPY copies existing mappings only.`,
      pieces.map(mappingFact),
    );
  }
  const first = pieces[0];
  return {
    pieces,
    ...(first.va !== undefined ? { va: first.va + (srcIova - first.start) } : {}),
    ...(first.backing ? { backing: first.backing } : {}),
    ...(first.file ? { file: first.file } : {}),
  };
}
