/**
 * A user-managed I/O address space — an iommufd IOAS or a VFIO type1 container — that answers
 * every operation the way the kernel would, and explains every refusal: errno, rule, a sentence,
 * the facts involved with their provenance, and suggestions checked to be accepted.
 */
import { hexGrouped, MAX_ADDRESS } from '../model/address.js';
import { InputError } from '../model/errors.js';
import type { Hole } from '../model/hole.js';
import type { HostFacts } from '../model/host.js';
import type { Backing, IoasMapping, IoasState } from '../model/ioas-state.js';
import type { Provenance } from '../model/provenance.js';
import { describeRange, type IovaRange, sizeOf } from '../model/range.js';
import { type Attachment, type IoasPolicy, isIoasPolicy, resolveAttachment } from './attachment.js';
import { type Accepted, type InvolvedFact, type IoasResult, type IoasStep, type IoasWarning, reject, type Rejected, type Suggestion } from '../explain/explanation.js';
import { checkIommufdAllow, checkIommufdReserve, checkLargePagesOff, planCopySource, type MapPlan, type MapPlanRequest, planIommufdAttach, planIommufdMap, planIommufdUnmap } from './iommufd.js';
import { summary } from '../explain/render.js';
import { checkModelled, DEFAULT_KERNEL, formatKernel, type KernelVersion, parseKernel } from './kernel.js';
import { msiReachabilityWarnings } from './msi.js';
import { holeFact } from './reserved.js';
import { checkRequireDirect, requireDirectSuggestions, unscopedDirectWarnings, withoutDirectRegion } from './require-direct.js';
import { type AllowedRange, IoasCore } from './state.js';
import { allowSuggestions, attachSuggestions, groupFirstSuggestions, mapSuggestions, optionSuggestions, reserveSuggestions, type Trial, unmapSuggestions } from './suggest.js';
import { bytesOf, checkVfioUnmapAll, noIommu, planVfioAttach, planVfioMap, planVfioUnmap } from './vfio-type1.js';
import { warningsFor, warningsForAttachment } from './warnings.js';

export interface IoasOptions {
  /** Default `iommufd` (or the state's policy in {@link Ioas.fromState}). */
  policy?: IoasPolicy;
  /** CPU page size; default 4 KiB. */
  pageSize?: bigint;
  /** Cap on automatic alignment (transparent huge page size); default 2 MiB. */
  hugePageSize?: bigint;
  /** VFIO type1's dma_entry_limit module parameter when the container gets its IOMMU; default 65535. */
  dmaEntryLimit?: number;
  /** The kernel version to answer for (`6.8`); default {@link DEFAULT_KERNEL}. */
  kernel?: string | KernelVersion;
  /** VFIO type1 interface: `v2` (default) or the original `v1`. */
  type1?: 'v1' | 'v2';
  /** Search and check suggestions for rejections; default true. */
  suggestions?: boolean;
}

export interface MapRequest {
  /** The IOVA of a fixed map. */
  iova?: bigint;
  length: bigint;
  /** FIXED_IOVA; default: fixed when `iova` is given, automatic otherwise (iommufd only). */
  fixed?: boolean;
  /** The user virtual address mapped; its offset in a page, and for automatic maps its alignment, matter. */
  va?: bigint;
  /** What backs the user memory; default anonymous memory. */
  backing?: Backing;
  /** IOMMU_IOAS_MAP_FILE: map a file (memfd or dma-buf) at offset `va` instead of a user address. */
  file?: boolean;
  /** The dma-buf's size, for MAP_FILE range checks. */
  fileSize?: bigint;
  /** A name for messages. */
  name?: string;
  source?: Provenance;
}

export interface MapInfo {
  iova: bigint;
  length: bigint;
  last: bigint;
  /** Alignment required (fixed) or chosen (automatic). */
  alignment: bigint;
  automatic: boolean;
  mapping: IoasMapping;
}

export interface AttachInfo {
  device: string;
  /** Whether the device brought a new IOMMU domain (aperture and page sizes) into the IOAS. */
  newDomain: boolean;
  alignment: bigint;
  /** The reserved ranges this attachment owns now. */
  reserved: InvolvedFact[];
}

export interface DetachInfo {
  device: string;
  removedDomain: boolean;
  alignment: bigint;
  /** VFIO drops every mapping when the last group leaves the container. */
  unmapped: IoasMapping[];
}

export interface UnmapInfo {
  unmapped: IoasMapping[];
  bytes: bigint;
}

export interface RangesInfo {
  ranges: IovaRange[];
  alignment: bigint;
  count: number;
}

export const DEFAULT_PAGE_SIZE = 0x1000n;
export const DEFAULT_HUGE_PAGE_SIZE = 0x20_0000n;
export const DEFAULT_DMA_ENTRY_LIMIT = 65535;

function isRejected(x: object): x is Rejected {
  return 'ok' in x && x.ok === false;
}

/** `value` (a fresh object of the caller's) marked accepted: no copy, as every map makes one. */
function accepted<T extends object>(kernel: KernelVersion, value: T, warnings: IoasWarning[] = []): Accepted<T> {
  return Object.assign(value, { ok: true as const, warnings, kernel: formatKernel(kernel) });
}

function checkAddress(value: bigint, what: string): void {
  if (value < 0n || value > MAX_ADDRESS) throw new InputError(`${what} ${value} is outside the 64-bit range`);
}

/**
 * A model of one I/O address space as iommufd (`IOMMU_IOAS_*`) or a VFIO type1 container manages
 * it: attach and detach devices, set allowed ranges, map and unmap. Every operation answers what
 * the kernel would: accepted with its effect, or rejected with the errno, the kernel rule that
 * decided it, the facts involved (each with its source) and suggestions that have been checked
 * to be accepted. A rejected operation changes nothing. Addresses and lengths are bytes.
 *
 * ```ts
 * const ioas = Ioas.create(host, { policy: 'iommufd' });
 * ioas.attach('0000:43:00.0');
 * const answer = ioas.map({ iova: 0xfee0_0000n, length: 0x1000n, fixed: true });
 * if (!answer.ok) console.log(`-${answer.errno}`, answer.rule, answer.message);
 * ```
 *
 * Bad arguments (a policy other than iommufd or vfio-type1, a page size that is not a power of
 * two, an address outside 64 bits) throw {@link InputError}; the kernel's refusals are answers,
 * not exceptions.
 */
export class Ioas {
  private readonly core: IoasCore;
  private readonly suggest: boolean;

  private constructor(core: IoasCore, suggest: boolean) {
    this.core = core;
    this.suggest = suggest;
  }

  /** An empty IOAS on `host`: nothing attached, no allowed ranges, no mappings. */
  static create(host: HostFacts, options: IoasOptions = {}): Ioas {
    const policy = options.policy ?? 'iommufd';
    if (!isIoasPolicy(policy)) throw new InputError(`an IOAS is modelled for iommufd or vfio-type1, not ${String(policy)}`);
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const hugePageSize = options.hugePageSize ?? DEFAULT_HUGE_PAGE_SIZE;
    for (const [what, v] of [['page size', pageSize], ['huge page size', hugePageSize]] as const) {
      if (v <= 0n || (v & (v - 1n)) !== 0n) throw new InputError(`${what} ${hexGrouped(v)} is not a power of two`);
    }
    const limit = options.dmaEntryLimit ?? DEFAULT_DMA_ENTRY_LIMIT;
    checkLimit(limit);
    const kernel = typeof options.kernel === 'object' ? options.kernel : parseKernel(options.kernel ?? DEFAULT_KERNEL);
    checkModelled(kernel, policy);
    const type1 = options.type1 ?? 'v2';
    if (type1 === 'v1' && policy !== 'vfio-type1') throw new InputError('the v1 interface is a VFIO type1 container option');
    return new Ioas(new IoasCore(host, { policy, pageSize, hugePageSize, kernel, type1 }, limit), options.suggestions ?? true);
  }

  /**
   * The IOAS a state file describes: its devices attached in order, its allowed ranges set, its
   * mappings replayed as fixed maps. Anything the kernel would refuse on the way is bad input.
   */
  static fromState(state: IoasState, options: IoasOptions = {}): Ioas {
    const policy = options.policy ?? (isIoasPolicy(state.policy) ? state.policy : undefined);
    if (!policy) throw new InputError(`an IOAS state must use policy iommufd or vfio-type1, not ${state.policy}`);
    const ioas = Ioas.create(state.host, {
      ...options,
      policy,
      suggestions: false,
      kernel: options.kernel ?? state.kernel,
      dmaEntryLimit: options.dmaEntryLimit ?? state.dmaEntryLimit,
      type1: options.type1 ?? state.type1,
    });
    state.attached.forEach((id, i) => {
      const r = ioas.attach(id);
      if (!r.ok) throw new InputError(`cannot attach ${id}: ${summary(r)}`, { path: `attached[${i}]` });
    });
    if (state.allowed.length > 0) {
      const path = state.allowed[0].source.path ?? 'allowed';
      if (policy !== 'iommufd') throw new InputError('vfio-type1 has no allowed ranges (IOMMU_IOAS_ALLOW_IOVAS is iommufd only)', { path });
      const r = ioas.allowIovas(state.allowed);
      if (!r.ok) throw new InputError(`cannot set the allowed ranges: ${summary(r)}`, { file: state.allowed[0].source.file, path });
    }
    state.mappings.forEach((m, i) => {
      const r = ioas.map({ iova: m.start, length: sizeOf(m), fixed: true, va: m.va, backing: m.backing, file: m.file, name: m.name, source: m.source });
      if (!r.ok) {
        const name = m.name ? `mapping ${m.name}` : `mapping ${i}`;
        throw new InputError(`${name} (${describeRange(m)}) cannot be replayed: ${summary(r)}`, {
          file: m.source.file,
          path: m.source.path ?? `mappings[${i}]`,
        });
      }
    });
    return new Ioas(ioas.core, options.suggestions ?? true);
  }

  get host(): HostFacts {
    return this.core.host;
  }

  get policy(): IoasPolicy {
    return this.core.policy;
  }

  /** Attached device and group ids, in attach order. */
  get attached(): string[] {
    return this.core.attachments.map((a) => a.id);
  }

  /** The IOAS alignment (iommufd) or smallest page size (VFIO) that IOVAs and lengths need. */
  get alignment(): bigint {
    return this.core.alignment;
  }

  /** Page sizes all attached domains can map. */
  get pageSizes(): bigint {
    return this.core.pageSizes;
  }

  /** The mappings, sorted by start (a snapshot: later changes do not show in it). */
  get mappings(): readonly IoasMapping[] {
    return [...this.core.areas];
  }

  get allowed(): readonly AllowedRange[] {
    return this.core.allowed;
  }

  get largePages(): boolean {
    return !this.core.largePagesDisabled;
  }

  /** The container's mapping limit (copied from the module parameter when it got its IOMMU). */
  get dmaEntryLimit(): number {
    return this.core.dmaEntryLimit;
  }

  /** The kernel version answers hold for (`6.19`). */
  get kernel(): string {
    return formatKernel(this.core.config.kernel);
  }

  /** Every range the kernel refuses to map, with who brought it. */
  reserved(): InvolvedFact[] {
    return this.core.reserved.map((o) => holeFact(o, this.policy));
  }

  /** Holes the kernel does not refuse but DMA will not reach memory through (warnings). */
  advisory(): InvolvedFact[] {
    return this.core.advisory.map((o) => holeFact(o, this.policy));
  }

  /** A copy that evolves independently. */
  clone(): Ioas {
    return new Ioas(this.core.clone(), this.suggest);
  }

  /** Attach a device, a group (`group:12`) or the host itself (`host`). */
  attach(device: string): IoasResult<AttachInfo> {
    const att = resolveAttachment(this.core.host, this.policy, device);
    if (this.core.attachments.some((a) => a.id === att.id)) throw new InputError(`${att.id} is already attached`);
    // Claiming the group (VFIO_GROUP_SET_CONTAINER / iommufd bind) comes before any domain is attached.
    const direct = checkRequireDirect(this.core.host, att.id, this.core.config.kernel);
    if (direct) return this.rejected(direct, () => requireDirectSuggestions(this.core.host, att.id, direct));
    const plan = this.policy === 'iommufd' ? planIommufdAttach(this.core, att) : planVfioAttach(this.core, att);
    if (isRejected(plan)) return this.rejected(plan, () => attachSuggestions(this.core, att.id, plan, this.trial));
    // VFIO_SET_IOMMU with the first group: vfio_iommu_type1_open() reads dma_entry_limit now.
    if (this.policy === 'vfio-type1' && this.core.attachments.length === 0) this.core.dmaEntryLimit = this.core.dmaEntryLimitParameter;
    this.core.attachments = [...this.core.attachments, att];
    this.core.changed();
    const reserved = this.core.reserved.filter((o) => o.owners.includes(att.id)).map((o) => holeFact(o, this.policy));
    return this.ok({ device: att.id, newDomain: plan.newDomain, alignment: this.core.alignment, reserved }, [...unscopedDirectWarnings(this.core.host, att.id), ...msiReachabilityWarnings(this.core, att), ...warningsForAttachment(this.core, att.id)]);
  }

  /** Detach; never refused. Under VFIO the last detach drops every mapping. */
  detach(device: string): Accepted<DetachInfo> {
    const att = this.attachment(device);
    const sharing = this.core.attachments.filter((a) => a.domain === att.domain);
    this.core.attachments = this.core.attachments.filter((a) => a !== att);
    let unmapped: IoasMapping[] = [];
    if (this.policy === 'vfio-type1' && this.core.attachments.length === 0) {
      unmapped = [...this.core.areas];
      this.core.areas = [];
    }
    this.core.changed();
    return this.ok({ device: att.id, removedDomain: sharing.length === 1, alignment: this.core.alignment, unmapped });
  }

  /** IOMMU_IOAS_ALLOW_IOVAS: restrict automatic placement to these ranges (empty: no restriction). */
  allowIovas(ranges: ReadonlyArray<IovaRange & { source?: Provenance }>): IoasResult<{ ranges: IovaRange[] }> {
    if (this.policy !== 'iommufd') throw new InputError('vfio-type1 has no allowed ranges (IOMMU_IOAS_ALLOW_IOVAS is iommufd only)');
    const list: AllowedRange[] = ranges.map((r, i) => {
      checkAddress(r.start, 'allowed start');
      checkAddress(r.last, 'allowed last');
      return { start: r.start, last: r.last, source: r.source ?? { what: 'allowed range', note: `IOMMU_IOAS_ALLOW_IOVAS entry ${i}` } };
    });
    const rejection = checkIommufdAllow(this.core, list);
    if (rejection) return this.rejected(rejection, () => allowSuggestions(this.core, list, rejection));
    this.core.allowed = [...list].sort((a, b) => (a.start < b.start ? -1 : 1));
    this.core.changed();
    return this.ok({ ranges: this.core.allowed.map((a) => ({ start: a.start, last: a.last })) });
  }

  /** IOMMU_IOAS_MAP (fixed or automatic) or VFIO_IOMMU_MAP_DMA. */
  map(request: MapRequest): IoasResult<MapInfo> {
    const fixed = request.fixed ?? request.iova !== undefined;
    if (fixed && request.iova === undefined) throw new InputError('a fixed map needs an IOVA');
    if (request.iova !== undefined) checkAddress(request.iova, 'IOVA');
    checkAddress(request.length, 'length');
    if (request.va !== undefined) checkAddress(request.va, 'user address');
    if (request.file && this.policy !== 'iommufd') throw new InputError('IOMMU_IOAS_MAP_FILE is an iommufd ioctl; VFIO type1 maps user addresses only');
    if (request.backing === 'dma-buf' && !request.file) {
      throw new InputError('a dma-buf is mapped through IOMMU_IOAS_MAP_FILE (--file); for the user address of an mmap()ed BAR say --backing pfnmap');
    }
    const req: MapPlanRequest = {
      length: request.length,
      fixed,
      ...(fixed ? { iova: request.iova } : {}),
      ...(request.va !== undefined ? { va: request.va } : {}),
      ...(request.backing ? { backing: request.backing } : {}),
      ...(request.file ? { file: true } : {}),
      ...(request.fileSize !== undefined ? { fileSize: request.fileSize } : {}),
    };
    const plan: MapPlan | Rejected = this.policy === 'iommufd' ? planIommufdMap(this.core, req) : planVfioMap(this.core, req);
    if (isRejected(plan)) {
      const withWarnings = req.iova !== undefined && req.length > 0n && req.iova + req.length - 1n <= MAX_ADDRESS ? warningsFor(this.core, { start: req.iova, last: req.iova + req.length - 1n }) : [];
      return this.rejected({ ...plan, warnings: withWarnings }, () => mapSuggestions(this.core, req, plan));
    }
    const last = plan.iova + plan.length - 1n;
    const mapping: IoasMapping = {
      start: plan.iova,
      last,
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.va !== undefined ? { va: request.va } : {}),
      ...(request.backing ? { backing: request.backing } : {}),
      ...(request.file ? { file: true } : {}),
      source: request.source ?? { what: request.name ? `mapping ${request.name}` : 'mapping', note: `made by an earlier ${request.file ? 'IOMMU_IOAS_MAP_FILE' : this.policy === 'iommufd' ? 'IOMMU_IOAS_MAP' : 'VFIO_IOMMU_MAP_DMA'}` },
    };
    this.core.addArea(mapping);
    const warnings = [...(plan.warnings ?? []), ...warningsFor(this.core, mapping)];
    return this.ok({ iova: plan.iova, length: plan.length, last, alignment: plan.alignment, automatic: !fixed, mapping }, warnings);
  }

  /**
   * IOMMU_IOAS_COPY: map into `dst` (another IOAS of the same iommufd, or this one) the pages
   * mapped here at `srcIova`, at `dstIova` (fixed) or where `dst` places them. The source checks
   * are iopt_get_pages(); the destination's are those of a map of the same pages.
   */
  copy(dst: Ioas, request: { srcIova: bigint; length: bigint; dstIova?: bigint; name?: string }): IoasResult<MapInfo> {
    if (this.policy !== 'iommufd' || dst.policy !== 'iommufd') throw new InputError('IOMMU_IOAS_COPY copies between iommufd IOASes');
    checkAddress(request.srcIova, 'source IOVA');
    checkAddress(request.length, 'length');
    if (request.dstIova !== undefined) checkAddress(request.dstIova, 'destination IOVA');
    // ioas.c iommufd_ioas_copy(): a destination IOVA of 2^64 - 1 is -EOVERFLOW before anything else.
    const source = request.dstIova === MAX_ADDRESS ? reject('copy', 'EOVERFLOW', 'argument-overflow', 'IOMMU_IOAS_COPY refuses a destination IOVA of 2^64 - 1.', []) : planCopySource(this.core, request.srcIova, request.length);
    if (isRejected(source)) return this.rejected(source, () => []);
    const r = dst.map({
      ...(request.dstIova !== undefined ? { iova: request.dstIova, fixed: true } : { fixed: false }),
      length: request.length,
      ...(source.va !== undefined ? { va: source.va } : {}),
      ...(source.backing ? { backing: source.backing } : {}),
      ...(source.file ? { file: true } : {}),
      ...(request.name !== undefined ? { name: request.name } : {}),
      source: { what: request.name ? `mapping ${request.name}` : 'mapping', note: `copied by IOMMU_IOAS_COPY from ${describeRange({ start: request.srcIova, last: request.srcIova + request.length - 1n })}` },
    });
    return r.ok ? r : { ...r, operation: 'copy' };
  }

  /**
   * Move a device to another IOAS (detach here, attach there; iommufd can replace the attachment
   * in one step, with the same checks). Refused by `to`, the device stays here.
   */
  moveDevice(device: string, to: Ioas): IoasResult<AttachInfo> {
    if (to === this) throw new InputError('moving a device needs a second IOAS');
    const att = this.attachment(device);
    const r = to.attach(att.id);
    if (r.ok) this.detach(att.id);
    return r;
  }

  /** IOMMU_IOAS_UNMAP / VFIO_IOMMU_UNMAP_DMA. iommufd's `(0, 2^64 - 1)` unmaps everything. */
  unmap(iova: bigint, length: bigint): IoasResult<UnmapInfo> {
    checkAddress(iova, 'IOVA');
    checkAddress(length, 'length');
    const plan = this.policy === 'iommufd' ? planIommufdUnmap(this.core, iova, length) : planVfioUnmap(this.core, iova, length);
    this.core.removeAreas(plan.removed);
    const rejection = plan.rejection;
    if (rejection) return this.rejected(rejection, () => unmapSuggestions(this.core, iova, length, rejection));
    return this.ok({ unmapped: plan.removed, bytes: bytesOf(plan.removed) }, plan.warnings ?? []);
  }

  /**
   * Unmap everything: iommufd `(0, 2^64 - 1)`; VFIO's VFIO_DMA_UNMAP_FLAG_ALL, whose IOVA and
   * size must both be 0 (they are by default).
   */
  unmapAll(iova = 0n, size = 0n): IoasResult<UnmapInfo> {
    if (this.policy === 'vfio-type1') {
      const rejection = checkVfioUnmapAll(this.core, iova, size);
      if (rejection) {
        return this.rejected(rejection, () => (rejection.rule === 'unmap-all-args' ? [{ text: 'Give IOVA 0 and size 0 with VFIO_DMA_UNMAP_FLAG_ALL', steps: [{ op: 'unmap-all' }] }] : []));
      }
    }
    const removed = [...this.core.areas];
    this.core.removeAreas(removed);
    return this.ok({ unmapped: removed, bytes: bytesOf(removed) });
  }

  /**
   * IOMMU_IOAS_IOVA_RANGES (or VFIO's IOVA-range capability): the ranges outside every
   * reservation, and the alignment. With a `capacity` smaller than the count, iommufd answers
   * EMSGSIZE with the count and the ranges that fit; VFIO reports the size it needs instead, so
   * the capacity does not matter there.
   */
  iovaRanges(capacity?: number): IoasResult<RangesInfo> {
    const none = noIommu(this.core, 'iova-ranges', 'VFIO_IOMMU_GET_INFO');
    if (none) return this.rejected(none, () => groupFirstSuggestions(this.core, [{ op: 'iova-ranges', capacity: capacity ?? 1 }]));
    const ranges = [...this.core.validSet.ranges];
    const count = ranges.length;
    if (capacity !== undefined) {
      if (!Number.isSafeInteger(capacity) || capacity < 0) throw new InputError(`capacity ${capacity} is not a count`);
      if (this.policy === 'iommufd' && capacity < count) {
        const r = reject('iova-ranges', 'EMSGSIZE', 'buffer-too-small', `There are ${count} IOVA ranges but room for ${capacity}; the kernel fills what fits and reports the count.`, []);
        return this.rejected({ ...r, count, ranges: ranges.slice(0, capacity) }, () => [
          { text: `Ask again with room for ${count} ranges`, steps: [{ op: 'iova-ranges', capacity: count }] },
        ]);
      }
    }
    return this.ok({ ranges, alignment: this.core.alignment, count });
  }

  /**
   * iommufd IOMMU_OPTION (op SET) with IOMMU_OPTION_HUGE_PAGES and a raw value: 0 turns large
   * pages off, 1 on, anything else is -EINVAL (ioas.c iommufd_ioas_option_huge_pages()).
   */
  setHugePagesOption(value: bigint): IoasResult<{ alignment: bigint }> {
    if (this.policy !== 'iommufd') throw new InputError('IOMMU_OPTION_HUGE_PAGES is an iommufd option');
    if (value !== 0n && value !== 1n) {
      const r = reject('option', 'EINVAL', 'option-value', `IOMMU_OPTION_HUGE_PAGES takes 0 (off) or 1 (on), not ${value}.`, []);
      return this.rejected(r, () => [
        { text: 'Set 0 to turn large pages off', steps: [{ op: 'set-large-pages', enabled: false }] },
        { text: 'Set 1 to keep large pages on', steps: [{ op: 'set-large-pages', enabled: true }] },
      ]);
    }
    return this.setLargePages(value === 1n);
  }

  /** iommufd IOMMU_OPTION_HUGE_PAGES: off forces PAGE_SIZE alignment on everything. */
  setLargePages(enabled: boolean): IoasResult<{ alignment: bigint }> {
    if (this.policy !== 'iommufd') throw new InputError('IOMMU_OPTION_HUGE_PAGES is an iommufd option');
    if (!enabled) {
      const rejection = checkLargePagesOff(this.core);
      if (rejection) return this.rejected(rejection, () => optionSuggestions(rejection));
    }
    this.core.largePagesDisabled = !enabled;
    this.core.changed();
    return this.ok({ alignment: this.core.alignment });
  }

  /**
   * Change VFIO type1's dma_entry_limit module parameter. A container reads it once, when it
   * gets its IOMMU (the first group's VFIO_SET_IOMMU), so this reaches this container only
   * after every group has left it and one is attached again.
   */
  setDmaEntryLimit(limit: number): Accepted<{ limit: number; container: number }> {
    checkLimit(limit);
    this.core.dmaEntryLimitParameter = limit;
    if (this.policy === 'vfio-type1' && this.core.attachments.length === 0) this.core.dmaEntryLimit = limit;
    return this.ok({ limit, container: this.core.dmaEntryLimit });
  }

  /**
   * Reserve a range by hand, as the iommufd self-test's ADD_RESERVED does: refused with
   * EADDRINUSE when a mapping or an allowed range is there.
   */
  addReserved(range: IovaRange, source?: Provenance): IoasResult<{ reserved: InvolvedFact }> {
    if (this.policy !== 'iommufd') throw new InputError('reservations by hand are an iommufd self-test operation');
    checkAddress(range.start, 'reserved start');
    checkAddress(range.last, 'reserved last');
    if (range.start > range.last) throw new InputError(`reserved range start ${hexGrouped(range.start)} is above its last address ${hexGrouped(range.last)}`);
    const hole: Hole = { start: range.start, last: range.last, kind: 'reserved-region', type: 'reserved', source: source ?? { what: 'reserved range added by hand' } };
    const rejection = checkIommufdReserve(this.core, hole);
    if (rejection) return this.rejected(rejection, () => reserveSuggestions(this.core, range, rejection));
    this.core.manual = [...this.core.manual, hole];
    this.core.changed();
    const fact = holeFact({ hole, owners: ['manual'] }, this.policy);
    return this.ok({ reserved: fact });
  }

  /**
   * A firmware change, not an ioctl: the host stops reporting the direct region `range` for the
   * attachment `device` (what a BIOS setting or an ACPI table override does). Used to check the
   * require_direct suggestion.
   */
  dropDirectRegion(device: string, range: IovaRange): Accepted<{ device: string }> {
    const id = resolveAttachment(this.core.host, this.policy, device).id;
    this.core.host = withoutDirectRegion(this.core.host, id, range);
    this.core.changed();
    return this.ok({ device: id });
  }

  /** Apply one step (as suggestions list them). */
  apply(step: IoasStep): IoasResult<object> {
    switch (step.op) {
      case 'map':
        return this.map({ iova: step.iova, length: step.length, fixed: step.fixed, va: step.va, backing: step.backing, file: step.file });
      case 'unmap':
        return this.unmap(step.iova, step.length);
      case 'unmap-all':
        return this.unmapAll();
      case 'attach':
        return this.attach(step.device);
      case 'detach':
        return this.detach(step.device);
      case 'allow':
        return this.allowIovas(step.ranges);
      case 'iova-ranges':
        return this.iovaRanges(step.capacity);
      case 'set-large-pages':
        return this.setLargePages(step.enabled);
      case 'set-dma-entry-limit':
        return this.setDmaEntryLimit(step.limit);
      case 'reserve':
        return this.addReserved({ start: step.start, last: step.last });
      case 'drop-direct':
        return this.dropDirectRegion(step.device, { start: step.start, last: step.last });
    }
  }

  /** Apply steps in order, stopping at the first rejection; the last result. */
  applyAll(steps: readonly IoasStep[]): IoasResult<object> {
    let last: IoasResult<object> = this.ok({});
    for (const step of steps) {
      last = this.apply(step);
      if (!last.ok) break;
    }
    return last;
  }

  private attachment(device: string): Attachment {
    const id = resolveAttachment(this.core.host, this.policy, device).id;
    const att = this.core.attachments.find((a) => a.id === id);
    if (!att) throw new InputError(`${id} is not attached (attached: ${this.attached.join(', ') || 'nothing'})`);
    return att;
  }

  /** Run steps on a quiet copy; undefined when a step is bad input (e.g. detaching a stranger). */
  private readonly trial: Trial = (steps) => {
    const copy = new Ioas(this.core.clone(), false);
    try {
      return copy.applyAll(steps);
    } catch (error) {
      if (error instanceof InputError) return undefined;
      throw error;
    }
  };

  private ok<T extends object>(value: T, warnings: IoasWarning[] = []): Accepted<T> {
    return accepted(this.core.config.kernel, value, warnings);
  }

  private rejected(r0: Rejected, candidates: () => Suggestion[]): Rejected {
    const r: Rejected = { ...r0, kernel: formatKernel(this.core.config.kernel) };
    if (!this.suggest) return r;
    const seen = new Set<string>();
    const suggestions: Suggestion[] = [];
    for (const c of candidates()) {
      if (seen.has(c.text) || suggestions.length >= 4) continue;
      seen.add(c.text);
      if (this.trial(c.steps)?.ok) suggestions.push(c);
    }
    return { ...r, suggestions };
  }
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InputError(`dma_entry_limit ${limit} is not a count`);
}
