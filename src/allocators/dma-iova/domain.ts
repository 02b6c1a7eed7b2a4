/**
 * `DmaIovaDomain`: a DMA-API IOVA domain — the allocator a kernel's DMA layer uses to hand out
 * I/O virtual addresses — with a choice of placement policy behind one interface.
 *
 * Units are page-frame numbers (pfns) of the domain's granule, held in JS numbers; the
 * `…Bytes` methods take and return bigint byte addresses for the rest of the project.
 */
import { InputError } from '../../model/errors.js';
import type { IovaRange } from '../../model/range.js';
import { DefaultPolicy } from './default-policy.js';
import { LinuxPolicy } from './linux-policy.js';
import {
  addrToPfn,
  bytesToPages,
  fullSpaceTopPfn,
  granuleShift,
  limitAddrToPfn,
  MAX_TOP_PFN,
  orderBase2,
  pfnToAddr,
  requireInt,
} from './pfn.js';
import type { CursorState, PfnRange, TreePolicy } from './policy.js';
import { CACHE_BINS, RangeCache, type CacheBinState } from './rcache.js';

/**
 * - `'default'`: finds the highest fitting slot exactly; fails only when none exists.
 * - `'linux'`: reproduces the Linux kernel's `iova.c` placement, quirks included.
 */
export type DmaIovaPolicyName = 'linux' | 'default';

export interface DmaIovaDomainOptions {
  /** Allocation unit in bytes: a power of two, normally the smallest IOMMU page size. */
  granule: number;
  /** Lowest pfn that may be allocated (the kernel's DMA layer uses at least 1). */
  startPfn: number;
  /** Placement policy; `'default'` unless asked otherwise. */
  policy?: DmaIovaPolicyName;
  /**
   * Highest pfn of the space. Defaults to the whole 64-bit space, `2^64 / granule - 1`, which
   * is only representable for granules of 2 KiB and up; smaller granules must name a top pfn
   * of at most `2^53 - 1` (a space of `2^53 × granule` bytes).
   */
  topPfn?: number;
}

/** Internals exposed for inspection (the trace `state` op). */
export interface DomainState {
  /** Cursors and 32-bit gate of the `linux` policy; undefined for `default`. */
  readonly cursors: CursorState | undefined;
  /** Per cache bin (orders 0..5): how many pfns the loaded and prev magazines hold, and the depot size. */
  readonly rcache: ReadonlyArray<{ readonly loaded: number; readonly prev: number; readonly depot: number }>;
}

/**
 * The largest size the caches take (the last bin's). The fast path rounds smaller sizes up to a
 * power of two so that they match a bin.
 */
const FAST_MAX = 2 ** (CACHE_BINS - 1);

/**
 * An IOVA domain as the kernel's DMA layer allocates from it (`drivers/iommu/iova.c`): a tree of
 * allocated page-frame ranges, allocation top-down below a limit, and the per-size caches of the
 * fast path. With `policy: 'linux'` every answer, cursor and cache state is the kernel's exactly
 * (checked against traces recorded from the kernel's own code); `'default'` finds the highest
 * fitting slot exactly and fails only when none exists. Sizes and limits are in pages of
 * `granule` bytes (pfns); the `…Bytes` methods take and return byte addresses. The constructor
 * throws {@link InputError} for options it cannot model (see there).
 *
 * ```ts
 * const domain = new DmaIovaDomain({ granule: 4096, startPfn: 1, policy: 'linux' });
 * const iova = domain.allocBytes(64n * 1024n, 0xffff_ffffn, true); // 64 KiB below 4 GiB
 * ```
 */
export class DmaIovaDomain {
  readonly policy: DmaIovaPolicyName;
  /** Bytes per pfn. */
  readonly granule: number;
  /** log2(granule). */
  readonly shift: number;
  readonly startPfn: number;
  readonly topPfn: number;
  /** First pfn at or above 4 GiB. */
  readonly dma32Pfn: number;
  private readonly linux: boolean;
  private readonly impl: TreePolicy;
  private readonly cache = new RangeCache();
  private readonly releaseCached = (pfn: number): void => {
    // A cached pfn that no longer names a range (the caller freed something twice) is skipped.
    this.impl.free(pfn);
  };

  /**
   * Creates an empty domain. Throws {@link InputError} for a granule that is not a power of two
   * (1 B .. 4 GiB), a negative start pfn, or a space whose pfns would not be exact in a JS
   * number (see {@link DmaIovaDomainOptions.topPfn}).
   */
  constructor(options: DmaIovaDomainOptions) {
    const shift = granuleShift(options.granule);
    requireInt(options.startPfn, 'start pfn');
    const fullTop = fullSpaceTopPfn(shift);
    const topPfn = options.topPfn ?? fullTop;
    if (options.topPfn === undefined && fullTop > MAX_TOP_PFN) {
      throw new InputError(
        `granule ${options.granule} gives pfns up to 2^${64 - shift} - 1, which a JS number cannot hold exactly; ` +
          `pass topPfn <= 2^53 - 1 (a space of at most 2^${53 + shift} bytes) or use a granule of 2048 bytes or more`,
      );
    }
    requireInt(topPfn, 'top pfn');
    if (topPfn > fullTop) throw new InputError(`top pfn ${topPfn} lies above the 64-bit space (at most ${fullTop} for granule ${options.granule})`);
    if (topPfn > MAX_TOP_PFN) throw new InputError(`top pfn ${topPfn} is above 2^53 - 1, where pfns stop being exact in a JS number`);
    if (options.startPfn > topPfn) throw new InputError(`start pfn ${options.startPfn} is above the top pfn ${topPfn}`);
    const policy = options.policy ?? 'default';
    if (policy !== 'linux' && policy !== 'default') throw new InputError(`unknown allocator policy "${String(policy)}" (use linux or default)`);
    this.policy = policy;
    this.linux = policy === 'linux';
    this.granule = options.granule;
    this.shift = shift;
    this.startPfn = options.startPfn;
    this.topPfn = topPfn;
    this.dma32Pfn = 2 ** (32 - shift);
    this.impl = this.linux
      ? new LinuxPolicy(options.startPfn, topPfn, shift)
      : new DefaultPolicy(options.startPfn, topPfn);
  }

  /** Number of ranges in the tree (allocated, reserved, or parked in the fast-path caches). */
  get rangeCount(): number {
    return this.impl.tree.count;
  }

  // --- pfn interface ----------------------------------------------------------------------

  /**
   * Allocates `size` pages lying wholly at or below `limitPfn` (inclusive; clamped to the top
   * of the space) and not below the start pfn. With `sizeAligned` the first pfn is a multiple of
   * `roundUpPow2(size)` (the range itself is not padded). Returns the first pfn, or undefined
   * when the policy finds no room. The `default` policy returns the highest such slot, and
   * first gives back anything parked in the fast-path caches before it gives up.
   */
  alloc(size: number, limitPfn: number, sizeAligned = false): number | undefined {
    const limit = this.checkRequest(size, limitPfn);
    let at = this.impl.alloc(size, limit, sizeAligned);
    if (at < 0 && !this.linux && this.cache.held > 0) {
      this.flush();
      at = this.impl.alloc(size, limit, sizeAligned);
    }
    return at < 0 ? undefined : at;
  }

  /**
   * The fast path: sizes below 32 pages are rounded up to a power of two; sizes up to 32 pages
   * are first served from the per-size caches (a cached range whose end is at or below the
   * limit), then from the tree, always size-aligned. When that fails and `flush` is set, every
   * cache is given back to the tree and the tree is tried once more. The `default` policy
   * always does that when the caches hold anything. Returns the first pfn or undefined.
   *
   * Under `linux` a cached pfn 0 counts as a miss (and is dropped), as in the kernel, whose
   * fast path returns 0 for failure.
   */
  allocFast(size: number, limitPfn: number, flush = true): number | undefined {
    // The common case, kept small so that callers inline it: a cached size (an integer 1..32)
    // under a limit inside the space, served from the loaded magazine.
    if (size >= 1 && size <= FAST_MAX && (size | 0) === size && limitPfn >= 0 && limitPfn <= this.topPfn && Number.isInteger(limitPfn)) {
      const order = size === 1 ? 0 : 32 - Math.clz32(size - 1);
      const maxPfn = limitPfn + 1 - (1 << order);
      if (maxPfn >= 0) {
        const pfn = this.cache.get(order, maxPfn);
        if (pfn > 0) return pfn;
        return this.cacheMiss(pfn, order, limitPfn, flush);
      }
    }
    return this.allocFastChecked(size, limitPfn, flush);
  }

  /** {@link allocFast} after the loaded magazine had nothing above pfn 0 for a common request. */
  private cacheMiss(pfn: number, order: number, limitPfn: number, flush: boolean): number | undefined {
    // The kernel's fast path returns 0 for failure: under linux a cached pfn 0 is a miss.
    if (pfn === 0 && !this.linux) return pfn;
    return this.allocTreeFast(1 << order, limitPfn, flush);
  }

  /** {@link allocFast} for any other request: checked, and with the kernel's unsigned bound. */
  private allocFastChecked(size: number, limitPfn: number, flush: boolean): number | undefined {
    const limit = this.checkRequest(size, limitPfn);
    const order = orderBase2(size);
    if (size < FAST_MAX) size = 1 << order;
    if (order < CACHE_BINS) {
      let maxPfn = limit + 1 - size;
      if (this.linux) {
        // The kernel computes this bound unsigned: below zero it wraps and any cached pfn passes.
        if (maxPfn < 0) maxPfn = Infinity;
        const pfn = this.cache.get(order, maxPfn);
        if (pfn > 0) return pfn;
      } else if (maxPfn >= 0) {
        const pfn = this.cache.get(order, maxPfn);
        if (pfn >= 0) return pfn;
      }
    }
    return this.allocTreeFast(size, limit, flush);
  }

  /** The fast path's fall-back to the tree (size-aligned), with the flush-and-retry. */
  private allocTreeFast(size: number, limit: number, flush: boolean): number | undefined {
    let at = this.impl.alloc(size, limit, true);
    if (at < 0 && (this.linux ? flush : this.cache.held > 0)) {
      this.flush();
      at = this.impl.alloc(size, limit, true);
    }
    return at < 0 ? undefined : at;
  }

  /** Frees the range containing `pfn`; false when nothing contains it. */
  free(pfn: number): boolean {
    requireInt(pfn, 'pfn');
    return this.impl.free(pfn);
  }

  /**
   * Gives a range obtained from {@link allocFast} back to the fast-path cache for its size (or to
   * the tree, for more than 32 pages). Like the kernel, this trusts the caller: `pfn` must be the
   * start of a live range of `size` pages as passed to `allocFast`; nothing checks it, and a
   * wrong pair later hands out overlapping ranges.
   */
  freeFast(pfn: number, size: number): void {
    if (size >= 1 && size <= FAST_MAX && (size | 0) === size && pfn >= 0 && Number.isSafeInteger(pfn)) {
      this.cache.put(size === 1 ? 0 : 32 - Math.clz32(size - 1), pfn);
      return;
    }
    if (!(Number.isSafeInteger(pfn) && pfn >= 0)) requireInt(pfn, 'pfn');
    if (!(Number.isSafeInteger(size) && size >= 1)) requireInt(size, 'size', 1);
    const order = orderBase2(size);
    if (order >= CACHE_BINS) this.impl.free(pfn);
    else this.cache.put(order, pfn);
  }

  /**
   * Keeps `[lo, hi]` away from allocation. `linux` grows the nodes it overlaps (including live
   * allocations) and returns the node covering `hi`; `default` adds reserved ranges for the
   * free parts only and returns `[lo, hi]`. Undefined when the range reaches above the top pfn.
   */
  reserve(lo: number, hi: number): PfnRange | undefined {
    requireInt(lo, 'reserve start pfn');
    requireInt(hi, 'reserve end pfn');
    if (lo > hi) throw new InputError(`reserve start pfn ${lo} is above its end pfn ${hi}`);
    return this.impl.reserve(lo, hi);
  }

  /** The range containing `pfn`, if any. */
  find(pfn: number): PfnRange | undefined {
    requireInt(pfn, 'pfn');
    const tree = this.impl.tree;
    const p = tree.find(pfn);
    return p < 0 ? undefined : { lo: tree.loOf(p), hi: tree.hiOf(p) };
  }

  /** Gives every range parked in the fast-path caches back to the tree. */
  flush(): void {
    this.cache.drain(this.releaseCached);
  }

  /**
   * One round of the periodic cache trim: each bin with a trim scheduled (its depot grew) gives
   * one depot magazine back to the tree if the depot holds more than one. Returns how many
   * scheduled trims ran.
   */
  tick(): number {
    return this.cache.tick(this.releaseCached);
  }

  /** Every range in the tree in address order. */
  dump(): PfnRange[] {
    const out: PfnRange[] = [];
    this.impl.tree.forEach((lo, hi) => out.push({ lo, hi }));
    return out;
  }

  /** Cursors and cache fill levels. */
  state(): DomainState {
    return {
      cursors: this.impl.cursors(),
      rcache: this.cache.snapshot().map((b) => ({ loaded: b.loaded.length, prev: b.prev.length, depot: b.depot })),
    };
  }

  /** Exact contents of the fast-path caches, bin by bin (orders 0..5). */
  rcache(): CacheBinState[] {
    return this.cache.snapshot();
  }

  /**
   * A description of the first broken internal invariant (order and overlap of the ranges, the
   * tree's links and keys, gap summaries), or undefined when all hold. Cached pfns are not
   * checked: the fast path trusts its callers, as the kernel's does.
   */
  check(): string | undefined {
    return this.impl.tree.check();
  }

  // --- byte interface ---------------------------------------------------------------------

  /**
   * {@link alloc} in bytes: `sizeBytes` rounded up to whole granules, placed wholly at or below
   * the inclusive byte address `limitAddr`. Returns the first byte address.
   */
  allocBytes(sizeBytes: bigint, limitAddr: bigint, sizeAligned = false): bigint | undefined {
    return this.allocInBytes(sizeBytes, limitAddr, (pages, limit) => this.alloc(pages, limit, sizeAligned));
  }

  /** {@link allocFast} in bytes. */
  allocFastBytes(sizeBytes: bigint, limitAddr: bigint, flush = true): bigint | undefined {
    return this.allocInBytes(sizeBytes, limitAddr, (pages, limit) => this.allocFast(pages, limit, flush));
  }

  private allocInBytes(sizeBytes: bigint, limitAddr: bigint, allocate: (pages: number, limit: number) => number | undefined): bigint | undefined {
    const pages = bytesToPages(sizeBytes, this.shift, 'allocation size');
    const limit = limitAddrToPfn(limitAddr, this.shift, this.topPfn);
    if (limit < 0) return undefined;
    const pfn = allocate(pages, limit);
    return pfn === undefined ? undefined : pfnToAddr(pfn, this.shift);
  }

  /** {@link free} by any byte address inside the range. */
  freeBytes(addr: bigint): boolean {
    const pfn = addrToPfn(addr, this.shift, this.topPfn);
    return pfn >= 0 && this.impl.free(pfn);
  }

  /** {@link freeFast} by the first byte address and the size in bytes passed to {@link allocFastBytes}. */
  freeFastBytes(addr: bigint, sizeBytes: bigint): void {
    const pfn = addrToPfn(addr, this.shift, this.topPfn);
    if (pfn < 0) throw new InputError(`address ${addr} lies above the top of the domain`);
    this.freeFast(pfn, bytesToPages(sizeBytes, this.shift, 'size'));
  }

  /** {@link reserve} of every granule touched by `range`; returns the resulting range in bytes. */
  reserveBytes(range: IovaRange): IovaRange | undefined {
    const lo = addrToPfn(range.start, this.shift, this.topPfn);
    const hi = addrToPfn(range.last, this.shift, this.topPfn);
    if (lo < 0 || hi < 0) return undefined;
    const r = this.reserve(lo, hi);
    return r === undefined ? undefined : this.toBytes(r);
  }

  /** {@link find} by byte address. */
  findBytes(addr: bigint): IovaRange | undefined {
    const pfn = addrToPfn(addr, this.shift, this.topPfn);
    if (pfn < 0) return undefined;
    const r = this.find(pfn);
    return r === undefined ? undefined : this.toBytes(r);
  }

  /** Byte range `[lo × granule, (hi + 1) × granule - 1]` of a pfn range. */
  toBytes(r: PfnRange): IovaRange {
    return { start: pfnToAddr(r.lo, this.shift), last: pfnToAddr(r.hi + 1, this.shift) - 1n };
  }

  // --- helpers ----------------------------------------------------------------------------

  /** Validates a request and returns its limit clamped to the top pfn. */
  private checkRequest(size: number, limitPfn: number): number {
    if (!(Number.isSafeInteger(size) && size >= 1)) requireInt(size, 'size', 1);
    if (!(Number.isSafeInteger(limitPfn) && limitPfn >= 0)) requireInt(limitPfn, 'limit pfn');
    return limitPfn > this.topPfn ? this.topPfn : limitPfn;
  }
}
