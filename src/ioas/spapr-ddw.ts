/**
 * sPAPR dynamic DMA windows: VFIO_IOMMU_SPAPR_TCE_CREATE on a POWER host (powernv).
 *
 * VFIO_IOMMU_SPAPR_TCE_GET_INFO reports the page sizes a window may use (`ddw.pgsizes`) and the
 * most TCE-table levels (`ddw.levels`, POWERNV_IOMMU_MAX_LEVELS = 5 on powernv). A pseries guest
 * running VFIO itself (an L2 setup) gets what its hypervisor offers — often 1 level; its errno
 * rules are not modelled, but `fewestLevels` says how many levels a window needs.
 * The checks, in the kernel's order:
 *
 * - vfio_iommu_spapr_tce.c tce_iommu_create_window(): the IO page size must be one GET_INFO
 *   offers (-EINVAL);
 * - pci-ioda-tce.c pnv_pci_ioda2_table_alloc_pages(): 1 ≤ levels ≤ 5, a power-of-two window
 *   (-EINVAL); the entries (window / IO page) are split evenly over the levels, each level
 *   holding 2^level_shift bytes with level_shift = max(ceil(entries_shift / levels) + 3,
 *   PAGE_SHIFT); and (level_shift − 3) × levels + page_shift must stay below 55 (-EINVAL).
 *
 * Each level is one physically contiguous allocation; whether a large one succeeds depends on
 * the kernel's largest allocation (MAX_ORDER, a build option), so it is reported, not judged:
 * the answer gives the bytes per level and the fewest levels that keep each level within one
 * host page, which always allocates.
 */
import { formatSize } from '../model/address.js';
import { InputError } from '../model/errors.js';
import { NotModelledError } from './kernel.js';

export interface DdwInfo {
  /** GET_INFO ddw.pgsizes: bitmap of IO page sizes. */
  pageSizes: bigint;
  /** GET_INFO ddw.levels. */
  maxLevels: number;
  /** The host's PAGE_SIZE (64 KiB on most POWER kernels). */
  hostPageSize: bigint;
}

export interface DdwRequest {
  windowSize: bigint;
  /** log2 of the IO page size. */
  pageShift: number;
  levels: number;
}

export type DdwAnswer =
  | { ok: true; levelBytes: bigint; tableBytes: bigint; entries: bigint; fewestLevels: number; message: string }
  | { ok: false; errno: 'EINVAL'; rule: 'ddw-page-size' | 'ddw-levels' | 'ddw-window-size' | 'ddw-too-deep'; message: string; fewestLevels?: number };

function log2(v: bigint): number {
  return v.toString(2).length - 1;
}

/** The level shift pnv_pci_ioda2_table_alloc_pages() uses for this request. */
function levelShift(entriesShift: number, levels: number, hostPageShift: number): number {
  return Math.max(Math.ceil(entriesShift / levels) + 3, hostPageShift);
}

/** The fewest levels whose every level fits one host page (each holds hostPage / 8 TCEs). */
export function fewestLevels(windowSize: bigint, pageShift: number, hostPageSize: bigint): number {
  const entriesShift = Math.max(log2(windowSize) - pageShift, 0);
  const perLevel = log2(hostPageSize) - 3;
  return Math.max(1, Math.ceil(entriesShift / perLevel));
}

export function checkDdwCreate(info: DdwInfo, req: DdwRequest): DdwAnswer {
  if (info.maxLevels !== 5) {
    throw new NotModelledError(`the TCE window rules are modelled for powernv hosts (GET_INFO ddw.levels = 5); this container reports ${info.maxLevels} — compare fewestLevels() with it instead`);
  }
  if (info.hostPageSize <= 0n || (info.hostPageSize & (info.hostPageSize - 1n)) !== 0n) throw new InputError(`host page size ${info.hostPageSize} is not a power of two`);
  if (!Number.isInteger(req.pageShift) || req.pageShift < 0 || req.pageShift > 63) throw new InputError(`IO page shift ${req.pageShift} is not 0–63`);
  const pageSize = 1n << BigInt(req.pageShift);
  const fewest = (info.pageSizes & pageSize) !== 0n && req.windowSize > 0n ? fewestLevels(req.windowSize, req.pageShift, info.hostPageSize) : undefined;
  // tce_iommu_create_window(): the page size must be offered.
  if ((info.pageSizes & pageSize) === 0n) {
    return { ok: false, errno: 'EINVAL', rule: 'ddw-page-size', message: `The window's IO page size ${formatSize(pageSize)} is not among those VFIO_IOMMU_SPAPR_TCE_GET_INFO offers.` };
  }
  // pnv_pci_ioda2_table_alloc_pages(): level count, power-of-two window, depth.
  if (!Number.isInteger(req.levels) || req.levels < 1 || req.levels > 5) {
    return { ok: false, errno: 'EINVAL', rule: 'ddw-levels', message: `A TCE table has 1 to 5 levels (POWERNV_IOMMU_MAX_LEVELS), not ${req.levels}.`, ...(fewest !== undefined ? { fewestLevels: fewest } : {}) };
  }
  if (req.windowSize <= 0n || (req.windowSize & (req.windowSize - 1n)) !== 0n) {
    return { ok: false, errno: 'EINVAL', rule: 'ddw-window-size', message: `The window size ${formatSize(req.windowSize)} is not a power of two.` };
  }
  const entriesShift = Math.max(log2(req.windowSize) - req.pageShift, 0);
  const shift = levelShift(entriesShift, req.levels, log2(info.hostPageSize));
  if ((shift - 3) * req.levels + req.pageShift >= 55) {
    return { ok: false, errno: 'EINVAL', rule: 'ddw-too-deep', message: `${req.levels} levels of 2^${shift - 3} TCEs over ${formatSize(pageSize)} pages reach 2^${(shift - 3) * req.levels + req.pageShift} bytes of bus address, past the 2^55 the TCE table can hold.` };
  }
  const levelBytes = 1n << BigInt(shift);
  const entries = 1n << BigInt(entriesShift);
  const tableBytes = entries * 8n;
  const message =
    `A ${formatSize(req.windowSize)} window of ${formatSize(pageSize)} IO pages has ${entries} TCEs (${formatSize(tableBytes)} of table); with ${req.levels} level${req.levels > 1 ? 's' : ''} each level is one ${formatSize(levelBytes)} contiguous allocation` +
    (levelBytes > info.hostPageSize ? `, which fails with -ENOMEM if it is larger than the kernel's largest allocation; ${fewest} level${fewest === 1 ? '' : 's'} keep each within one ${formatSize(info.hostPageSize)} host page` : '') +
    '.';
  return { ok: true, levelBytes, tableBytes, entries, fewestLevels: fewest ?? req.levels, message };
}
