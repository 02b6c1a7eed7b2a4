/**
 * iommufd's automatic IOVA placement (IOMMU_IOAS_MAP without FIXED_IOVA), step by step as the
 * kernel takes it:
 *
 * 1. length 0 or ≥ 2^63 - 1 cannot be rounded to a power of two → EOVERFLOW;
 * 2. alignment = roundup_pow_of_two(length), lowered to the lowest set bit of the user address
 *    when there is one (to keep huge pages mappable), and capped at the huge-page size;
 *    below the IOAS alignment → EINVAL;
 * 3. walk the allowed ranges (the whole space when none) clipped to
 *    `[PAGE_SIZE, 2^64 - 1 - PAGE_SIZE]`, lowest first; in each, walk the gaps between reserved
 *    ranges and existing mappings; the first gap where `align_up(start) | page_offset` leaves
 *    room for the length wins. Both walks use the same fit test, including its quirks: an
 *    aligned start that would pass 2^64 does not fit, nor does one equal to the gap's last byte.
 */
import { alignUp, lowestSetBit, MAX_ADDRESS, roundUpPowerOfTwo } from '../model/address.js';
import type { IovaRange } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';

export interface AutoIovaInput {
  length: bigint;
  /** The user virtual address; undefined maps as if it were 0 (alignment from the length alone). */
  va?: bigint;
  pageSize: bigint;
  hugePageSize: bigint;
  ioasAlignment: bigint;
  /** Allowed ranges; empty means no restriction. */
  allowed: RangeSet;
  /** Reserved ranges and existing mappings together. */
  used: RangeSet;
}

export type AutoIovaOutcome =
  | { ok: true; iova: bigint; alignment: bigint }
  | { ok: false; reason: 'length-overflow' }
  | { ok: false; reason: 'alignment'; alignment: bigint }
  | { ok: false; reason: 'no-space'; alignment: bigint; spans: IovaRange[]; largest?: IovaRange };

/** The alignment automatic placement asks for (step 2), before comparing with the IOAS's. */
export function autoAlignment(length: bigint, va: bigint | undefined, hugePageSize: bigint): bigint {
  let align = roundUpPowerOfTwo(length);
  if (va !== undefined && va !== 0n) {
    const vaAlign = lowestSetBit(va);
    if (vaAlign < align) align = vaAlign;
  }
  return align >= hugePageSize ? hugePageSize : align;
}

/** The ranges automatic placement searches, lowest first. */
function autoSpans(allowed: RangeSet, pageSize: bigint): IovaRange[] {
  const window: IovaRange = { start: pageSize, last: MAX_ADDRESS - pageSize };
  return allowed.isEmpty ? [window] : [...allowed.within(window).ranges];
}

export function autoIova(input: AutoIovaInput): AutoIovaOutcome {
  const { length, pageSize } = input;
  if (length === 0n || length >= MAX_ADDRESS >> 1n) return { ok: false, reason: 'length-overflow' };
  const alignment = autoAlignment(length, input.va, input.hugePageSize);
  if (alignment < input.ioasAlignment) return { ok: false, reason: 'alignment', alignment };
  const pageOffset = (input.va ?? 0n) % pageSize;
  const spans = autoSpans(input.allowed, pageSize);
  const free = input.used.complement();
  let largest: IovaRange | undefined;
  for (const span of spans) {
    for (const gap of free.within(span).ranges) {
      if (!largest || gap.last - gap.start > largest.last - largest.start) largest = gap;
    }
    const start = fitStart(span.start, span.last, length, alignment, pageOffset);
    if (start === undefined) continue;
    for (const gap of free.within({ start, last: span.last }).ranges) {
      const iova = fitStart(gap.start, gap.last, length, alignment, pageOffset);
      if (iova !== undefined) return { ok: true, iova, alignment };
    }
  }
  return { ok: false, reason: 'no-space', alignment, spans, largest };
}

/** The aligned start of a `length`-byte block in `[start, last]`, or undefined. */
function fitStart(start: bigint, last: bigint, length: bigint, alignment: bigint, pageOffset: bigint): bigint | undefined {
  if (start + alignment - 1n > MAX_ADDRESS) return undefined;
  const aligned = alignUp(start, alignment) | pageOffset;
  if (aligned >= last || last - aligned < length - 1n) return undefined;
  return aligned;
}
