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
import { compareRanges, type IovaRange, overlaps } from '../model/range.js';
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
  advisory: OwnedHole[];
  advisorySet: RangeSet;
  areaSet: RangeSet;
  domains: Domain[];
}

export class IoasCore {
  /** Replaced only by a firmware step of a suggestion (a copy of the facts without a region). */
  host: HostFacts;
  readonly config: IoasConfig;
  attachments: Attachment[] = [];
  /** Reservations added by hand (iommufd only). */
  manual: Hole[] = [];
  allowed: AllowedRange[] = [];
  /** Existing mappings, sorted by start, pairwise disjoint. */
  areas: IoasMapping[] = [];
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
    copy.areas = [...this.areas];
    copy.largePagesDisabled = this.largePagesDisabled;
    copy.derived = this.derived;
    return copy;
  }

  /** Call after every change to the fields above. */
  changed(): void {
    this.derived = undefined;
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
    return this.derive().areaSet;
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

  reservedOverlapping(r: IovaRange): OwnedHole[] {
    return this.reserved.filter((o) => overlaps(o.hole, r));
  }

  advisoryOverlapping(r: IovaRange): OwnedHole[] {
    return this.advisory.filter((o) => overlaps(o.hole, r));
  }

  areasOverlapping(r: IovaRange): IoasMapping[] {
    return this.areas.filter((a) => overlaps(a, r));
  }

  allowedOverlapping(r: IovaRange): AllowedRange[] {
    return this.allowed.filter((a) => overlaps(a, r));
  }

  addArea(m: IoasMapping): void {
    this.areas = [...this.areas, m].sort(compareRanges);
    this.changed();
  }

  removeAreas(gone: readonly IoasMapping[]): void {
    if (gone.length === 0) return;
    this.areas = this.areas.filter((a) => !gone.includes(a));
    this.changed();
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
      advisory,
      advisorySet: RangeSet.of(advisory.map((o) => o.hole)),
      areaSet: RangeSet.of(this.areas),
      domains,
    };
    return this.derived;
  }
}
