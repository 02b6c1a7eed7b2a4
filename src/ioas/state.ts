/**
 * The mutable state of one IOAS and what follows from it: domains, alignment, page sizes, the
 * reserved set with owners. Both policies keep the same state; they differ in the rules that
 * guard changes to it (`iommufd.ts`, `vfio-type1.ts`).
 *
 * For VFIO type1 the "reserved set" is the complement of the valid IOVA list: the kernel keeps
 * `(∩ apertures) − non-relaxable regions`, which is what the union of the attachments'
 * enforced holes leaves free.
 */
import { lowestSetBit, MAX_ADDRESS } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import type { HostFacts, IommuGeometry } from '../model/host.js';
import type { IoasMapping } from '../model/ioas-state.js';
import type { Provenance } from '../model/provenance.js';
import { IntervalIndex } from '../model/interval-index.js';
import { compareRanges, type IovaRange } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Attachment, IoasPolicy } from './attachment.js';
import type { KernelVersion } from './kernel.js';
import { isEnforced, type OwnedHole, ownedHoles } from './reserved.js';

export interface IoasConfig {
  policy: IoasPolicy;
  /** The CPU page size (PAGE_SIZE). */
  pageSize: bigint;
  /** The largest alignment automatic placement uses (HPAGE_SIZE with THP, else PAGE_SIZE). */
  hugePageSize: bigint;
  /** The kernel the rules are answered for. */
  kernel: KernelVersion;
  /** VFIO type1 interface version the container was opened with (VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU). */
  type1: 'v1' | 'v2';
}

export type AllowedRange = IovaRange & { source: Provenance };

/** One IOMMU domain: the attachments sharing it and its geometry. */
export interface Domain {
  key: string;
  geometry: IommuGeometry;
  members: string[];
}

interface Derived {
  reserved: OwnedHole[];
  reservedSet: RangeSet;
  /** The reserved holes by range (the kernel's reserved tree), and the same for the rest. */
  reservedIndex: IntervalIndex<IovaRange & { owned: OwnedHole }>;
  advisory: OwnedHole[];
  advisorySet: RangeSet;
  advisoryIndex: IntervalIndex<IovaRange & { owned: OwnedHole }>;
  /** The allowed ranges by range (the kernel's allowed tree). */
  allowedIndex: IntervalIndex<AllowedRange>;
  domains: Domain[];
}

/** Owned holes as ranges for an {@link IntervalIndex}. */
function holeIndex(list: readonly OwnedHole[]): IntervalIndex<IovaRange & { owned: OwnedHole }> {
  return new IntervalIndex(list.map((owned) => ({ start: owned.hole.start, last: owned.hole.last, owned })));
}

/**
 * Index of the first range in `list` (sorted by start, pairwise disjoint, so sorted by last
 * too) whose last address is at or above `at`; `list.length` when there is none. O(log n).
 */
function firstEndingAtOrAbove(list: readonly IovaRange[], at: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].last < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The ranges of a sorted disjoint `list` that meet `r`: O(log n + what they are). */
function overlappingSorted<T extends IovaRange>(list: readonly T[], r: IovaRange): T[] {
  const out: T[] = [];
  for (let i = firstEndingAtOrAbove(list, r.start); i < list.length && list[i].start <= r.last; i++) out.push(list[i]);
  return out;
}

export class IoasCore {
  /** Replaced only by a firmware step of a suggestion (a copy of the facts without a region). */
  host: HostFacts;
  readonly config: IoasConfig;
  attachments: Attachment[] = [];
  /** Reservations added by hand (iommufd only). */
  manual: Hole[] = [];
  allowed: AllowedRange[] = [];
  /**
   * Existing mappings, sorted by start, pairwise disjoint (the kernel's area tree). Kept sorted
   * in place: a lookup is a binary search, an insert or removal a binary search and one move of
   * the entries after it (none when maps come in address order, as a replay's do).
   */
  private areaList: IoasMapping[] = [];
  /** The areas as a RangeSet, built when first asked for after a change of the areas. */
  private areaSetCache?: RangeSet;
  /** iommufd IOMMU_OPTION_HUGE_PAGES = 0: everything aligned to PAGE_SIZE. */
  largePagesDisabled = false;
  /**
   * VFIO type1: the container's limit, copied from the module parameter when it got its IOMMU
   * (vfio_iommu_type1_open() sets dma_avail = dma_entry_limit); a later change of the parameter
   * does not reach it.
   */
  dmaEntryLimit: number;
  /** The vfio_iommu_type1 dma_entry_limit module parameter now. */
  dmaEntryLimitParameter: number;
  private derived?: Derived;

  constructor(host: HostFacts, config: IoasConfig, dmaEntryLimit: number) {
    this.host = host;
    this.config = config;
    this.dmaEntryLimit = dmaEntryLimit;
    this.dmaEntryLimitParameter = dmaEntryLimit;
  }

  clone(): IoasCore {
    const copy = new IoasCore(this.host, this.config, this.dmaEntryLimit);
    copy.dmaEntryLimitParameter = this.dmaEntryLimitParameter;
    copy.attachments = [...this.attachments];
    copy.manual = [...this.manual];
    copy.allowed = [...this.allowed];
    copy.areaList = this.areaList.slice();
    copy.areaSetCache = this.areaSetCache;
    copy.largePagesDisabled = this.largePagesDisabled;
    copy.derived = this.derived;
    return copy;
  }

  /** Call after every change to the fields above (areas keep their own index: see addArea). */
  changed(): void {
    this.derived = undefined;
  }

  /** The mappings, sorted by start (the live list: copy it to keep a snapshot). */
  get areas(): readonly IoasMapping[] {
    return this.areaList;
  }

  /** Replaces every mapping. */
  set areas(list: readonly IoasMapping[]) {
    this.areaList = [...list].sort(compareRanges);
    this.areaSetCache = undefined;
  }

  get policy(): IoasPolicy {
    return this.config.policy;
  }

  /** Enforced holes with their owners: iommufd's reserved tree; VFIO's complement of valid IOVAs. */
  get reserved(): readonly OwnedHole[] {
    return this.derive().reserved;
  }

  get reservedSet(): RangeSet {
    return this.derive().reservedSet;
  }

  /** Holes the kernel does not enforce (peer-to-peer, DMA-API-only): they only warn. */
  get advisory(): readonly OwnedHole[] {
    return this.derive().advisory;
  }

  get advisorySet(): RangeSet {
    return this.derive().advisorySet;
  }

  get areaSet(): RangeSet {
    this.areaSetCache ??= RangeSet.of(this.areaList);
    return this.areaSetCache;
  }

  get domains(): readonly Domain[] {
    return this.derive().domains;
  }

  /** iommufd: max(smallest page of each domain, PAGE_SIZE when large pages are off, 1). VFIO: smallest common page. */
  get alignment(): bigint {
    if (this.policy === 'vfio-type1') return lowestSetBit(this.vfioPageSizes());
    let align = this.largePagesDisabled ? this.config.pageSize : 1n;
    for (const d of this.domains) {
      const smallest = lowestSetBit(d.geometry.pageSizes);
      if (smallest > align) align = smallest;
    }
    return align;
  }

  /** Page sizes every domain maps (VFIO shows sub-page sizes as PAGE_SIZE, as the kernel does). */
  get pageSizes(): bigint {
    if (this.policy === 'vfio-type1') return this.vfioPageSizes();
    return this.domains.reduce((bits, d) => bits & d.geometry.pageSizes, MAX_ADDRESS);
  }

  /** What IOMMU_IOAS_IOVA_RANGES or VFIO's IOVA-range capability reports. */
  get validSet(): RangeSet {
    return this.reservedSet.complement();
  }

  /** Reserved holes meeting `r`, in {@link reserved} order: O(log n + what they are). */
  reservedOverlapping(r: IovaRange): OwnedHole[] {
    return this.derive().reservedIndex.overlappingInOrder(r).map((x) => x.owned);
  }

  advisoryOverlapping(r: IovaRange): OwnedHole[] {
    return this.derive().advisoryIndex.overlappingInOrder(r).map((x) => x.owned);
  }

  /** Mappings that meet `r` (iopt_area_iter_first/next): O(log n + what they are). */
  areasOverlapping(r: IovaRange): IoasMapping[] {
    return overlappingSorted(this.areaList, r);
  }

  allowedOverlapping(r: IovaRange): AllowedRange[] {
    return this.derive().allowedIndex.overlappingInOrder(r);
  }

  /** Adds a mapping clear of every other one (the caller checked). */
  addArea(m: IoasMapping): void {
    const list = this.areaList;
    const at = firstEndingAtOrAbove(list, m.start);
    if (at === list.length) list.push(m);
    else list.splice(at, 0, m);
    this.areaSetCache = undefined;
  }

  /** Removes these mappings (objects of this IOAS): a binary search each, or one pass for many. */
  removeAreas(gone: readonly IoasMapping[]): void {
    if (gone.length === 0) return;
    const list = this.areaList;
    if (gone.length === list.length) {
      // UNMAP of everything: nothing to search.
      this.areaList = [];
    } else if (gone.length > 64 && gone.length * 8 > list.length) {
      const drop = new Set(gone);
      this.areaList = list.filter((a) => !drop.has(a));
    } else {
      for (const m of gone) {
        const at = firstEndingAtOrAbove(list, m.start);
        if (list[at] === m) list.splice(at, 1);
      }
    }
    this.areaSetCache = undefined;
  }

  private vfioPageSizes(): bigint {
    const page = this.config.pageSize;
    const pageMask = MAX_ADDRESS & ~(page - 1n);
    let bits = this.domains.length === 0 ? pageMask : this.domains.reduce((acc, d) => acc & d.geometry.pageSizes, MAX_ADDRESS);
    // Sizes below PAGE_SIZE are hidden and PAGE_SIZE offered instead: pinning works in pages.
    if ((bits & (page - 1n)) !== 0n) bits = (bits & pageMask) | page;
    return bits === 0n ? page : bits;
  }

  private derive(): Derived {
    if (this.derived) return this.derived;
    const enforced = isEnforced(this.policy);
    const reserved = ownedHoles(this.attachments, this.manual, enforced);
    const advisory = ownedHoles(this.attachments, [], (h) => !enforced(h));
    const domains: Domain[] = [];
    for (const a of this.attachments) {
      const d = domains.find((x) => x.key === a.domain);
      if (d) d.members.push(a.id);
      else domains.push({ key: a.domain, geometry: a.geometry, members: [a.id] });
    }
    this.derived = {
      reserved,
      reservedSet: RangeSet.of(reserved.map((o) => o.hole)),
      reservedIndex: holeIndex(reserved),
      advisory,
      advisorySet: RangeSet.of(advisory.map((o) => o.hole)),
      advisoryIndex: holeIndex(advisory),
      allowedIndex: new IntervalIndex(this.allowed),
      domains,
    };
    return this.derived;
  }
}
