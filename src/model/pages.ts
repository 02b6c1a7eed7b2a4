/**
 * IOMMU page sizes: the `pgsize_bitmap` form (bit n set → 2^n-byte pages), how to print it,
 * and how a mapping splits into pages.
 */
import { formatSize, lowestSetBit } from './address.js';

/** The page sizes of a bitmap, smallest first. */
export function pageSizeList(bitmap: bigint): bigint[] {
  const out: bigint[] = [];
  for (let rest = bitmap; rest !== 0n; rest &= rest - 1n) out.push(lowestSetBit(rest));
  return out;
}

/** `4 KiB | 2 MiB | 1 GiB`, or a summary when there are many (`39 sizes, 4 KiB to 2 PiB`). */
export function formatPageSizes(bitmap: bigint): string {
  const sizes = pageSizeList(bitmap);
  if (sizes.length <= 6) return sizes.map(formatSize).join(' | ');
  return `${sizes.length} sizes, ${formatSize(sizes[0])} to ${formatSize(sizes[sizes.length - 1])}`;
}

/**
 * How many pages of each size map `[iova, iova + size)` when, as the kernel's iommu_map does,
 * each step takes the largest supported page that the current IOVA is aligned to and that fits
 * in what is left (the physical side is assumed to be aligned alike). Sizes with no pages are
 * left out; the keys are in ascending order.
 */
export function pagesForMapping(iova: bigint, size: bigint, bitmap: bigint): Map<bigint, bigint> {
  const sizes = pageSizeList(bitmap);
  const counts = new Map<bigint, bigint>();
  let at = iova;
  let left = size;
  while (left > 0n) {
    let page: bigint | undefined;
    for (const s of sizes) if (s <= left && at % s === 0n) page = s;
    if (page === undefined) break;
    // Take as many of this size as fit before a larger page becomes usable or the end is near.
    const larger = sizes.find((s) => s > page);
    let run = left / page;
    if (larger !== undefined) {
      const toNext = (larger - (at % larger)) % larger;
      if (toNext > 0n && toNext / page < run) run = toNext / page;
    }
    counts.set(page, (counts.get(page) ?? 0n) + run);
    at += run * page;
    left -= run * page;
  }
  return new Map([...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}
