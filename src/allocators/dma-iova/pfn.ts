/**
 * Page-frame arithmetic for the DMA-API allocator.
 *
 * Inside the allocator a page-frame number (pfn) is a JS `number`: every value the allocator
 * computes lies in `[0, topPfn + 1]`, and the domain refuses to exist unless `topPfn + 1 <= 2^53`,
 * so every pfn, size and intermediate sum is an exact integer. Byte addresses (bigint) are
 * converted at the public boundary only.
 */
import { InputError } from '../../model/errors.js';

/** Largest pfn any domain may use: `topPfn + 1` must still be exact in a double. */
export const MAX_TOP_PFN = Number.MAX_SAFE_INTEGER;

/** Smallest and largest granules accepted (both powers of two). */
export const MIN_GRANULE = 1;
export const MAX_GRANULE = 2 ** 32;

/** `ceil(log2(n))` for an integer `n >= 1` (the kernel's `order_base_2`). */
export function orderBase2(n: number): number {
  if (n <= 0x80000000) return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
  // Above 2^31 clz32 no longer applies; Math.log2 is only a first guess near powers of two.
  let order = Math.ceil(Math.log2(n));
  while (2 ** order < n) order++;
  while (order > 0 && 2 ** (order - 1) >= n) order--;
  return order;
}

/** The smallest power of two `>= n` (n >= 1). */
export function roundUpPow2(n: number): number {
  if (n <= 0x40000000) return n <= 1 ? 1 : 1 << (32 - Math.clz32(n - 1));
  return 2 ** orderBase2(n);
}

/** `log2(granule)` if the granule is a power of two in range; otherwise an {@link InputError}. */
export function granuleShift(granule: number): number {
  if (!Number.isSafeInteger(granule) || granule < MIN_GRANULE || granule > MAX_GRANULE || roundUpPow2(granule) !== granule) {
    throw new InputError(`granule ${String(granule)} must be a power of two between ${MIN_GRANULE} and 2^32 bytes`);
  }
  return orderBase2(granule);
}

/**
 * The highest pfn of a 64-bit space in units of `granule`: `2^64 / granule - 1`. It is only exact
 * (and only accepted by a domain) when the granule is at least 2^11 = 2048 bytes.
 */
export function fullSpaceTopPfn(shift: number): number {
  return 2 ** (64 - shift) - 1;
}

/** Throws unless `value` is a safe integer `>= min`. */
export function requireInt(value: number, what: string, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InputError(`${what} must be an integer >= ${min} (and below 2^53), not ${String(value)}`);
  }
}

/** Byte address of `pfn`. */
export function pfnToAddr(pfn: number, shift: number): bigint {
  return BigInt(pfn) << BigInt(shift);
}

/** Pages needed to hold `bytes` (rounded up); bytes must be positive. */
export function bytesToPages(bytes: bigint, shift: number, what: string): number {
  if (bytes <= 0n) throw new InputError(`${what} must be at least 1 byte, not ${bytes}`);
  const pages = (bytes + (1n << BigInt(shift)) - 1n) >> BigInt(shift);
  if (pages > BigInt(MAX_TOP_PFN)) throw new InputError(`${what} ${bytes} is larger than any address space`);
  return Number(pages);
}

/**
 * The last pfn lying wholly at or below the inclusive byte address `limit`, or -1 if even pfn 0
 * crosses it; saturates at `topPfn`.
 */
export function limitAddrToPfn(limit: bigint, shift: number, topPfn: number): number {
  if (limit < 0n) throw new InputError(`limit address ${limit} is negative`);
  const pfn = ((limit + 1n) >> BigInt(shift)) - 1n;
  return pfn > BigInt(topPfn) ? topPfn : Number(pfn);
}

/** The pfn containing byte address `addr`, or -1 when it lies above `topPfn`. */
export function addrToPfn(addr: bigint, shift: number, topPfn: number): number {
  if (addr < 0n) throw new InputError(`address ${addr} is negative`);
  const pfn = addr >> BigInt(shift);
  return pfn > BigInt(topPfn) ? -1 : Number(pfn);
}
