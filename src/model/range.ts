/**
 * One contiguous range of the IOVA space.
 *
 * The project uses one convention everywhere: **inclusive** `[start, last]`, as the kernel
 * does. It represents every range of the 64-bit space, including the whole space
 * `[0, 2^64 - 1]`, without needing 2^64.
 */
import { formatSize, hex, hexGrouped, MAX_ADDRESS } from './address.js';
import { InputError } from './errors.js';

export interface IovaRange {
  readonly start: bigint;
  /** Inclusive: the last byte of the range. */
  readonly last: bigint;
}

/** `[start, last]`, checked: `start <= last`, both inside the 64-bit space. */
export function range(start: bigint, last: bigint): IovaRange {
  if (start < 0n || last > MAX_ADDRESS) throw new InputError(`range ${hex(start)}-${hex(last)} is outside the 64-bit space`);
  if (start > last) throw new InputError(`range start ${hex(start)} is above its last address ${hex(last)}`);
  return { start, last };
}

/** `[start, start + size - 1]`, checked for zero size and for wrapping past 2^64. */
export function rangeOfSize(start: bigint, size: bigint): IovaRange {
  if (size <= 0n) throw new InputError(`range at ${hex(start)} has size ${size}; it must be at least 1`);
  const last = start + size - 1n;
  if (last > MAX_ADDRESS) {
    throw new InputError(`range at ${hex(start)} of size ${hex(size)} wraps past the end of the 64-bit space`);
  }
  return range(start, last);
}

export const WHOLE_SPACE: IovaRange = { start: 0n, last: MAX_ADDRESS };

/** Number of addresses in `r` (its last address is inclusive), in bytes. */
export function sizeOf(r: IovaRange): bigint {
  return r.last - r.start + 1n;
}

/** Whether `a` and `b` share at least one address. */
export function overlaps(a: IovaRange, b: IovaRange): boolean {
  return a.start <= b.last && b.start <= a.last;
}

/** Whether `outer` contains all of `inner`. */
export function containsRange(outer: IovaRange, inner: IovaRange): boolean {
  return outer.start <= inner.start && inner.last <= outer.last;
}

/** Whether `address` lies in `r` (both ends inclusive). */
export function containsAddress(r: IovaRange, address: bigint): boolean {
  return r.start <= address && address <= r.last;
}

/** The addresses `a` and `b` share, or undefined when they do not overlap. */
export function intersection(a: IovaRange, b: IovaRange): IovaRange | undefined {
  const start = a.start > b.start ? a.start : b.start;
  const last = a.last < b.last ? a.last : b.last;
  return start <= last ? { start, last } : undefined;
}

export function sameRange(a: IovaRange, b: IovaRange): boolean {
  return a.start === b.start && a.last === b.last;
}

/** Order by start, then by last. */
export function compareRanges(a: IovaRange, b: IovaRange): number {
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  if (a.last !== b.last) return a.last < b.last ? -1 : 1;
  return 0;
}

/** `0xfee00000-0xfeefffff`: compact, for JSON-ish and log output. */
export function formatRange(r: IovaRange): string {
  return `${hex(r.start)}-${hex(r.last)}`;
}

/** `0xfd_0000_0000–0xff_ffff_ffff (12 GiB)`: for sentences and tables. */
export function describeRange(r: IovaRange): string {
  return `${hexGrouped(r.start)}–${hexGrouped(r.last)} (${formatSize(sizeOf(r))})`;
}
