/**
 * The kernel version an IOAS answer is for. Rules changed over the years (type1's reserved-region
 * check arrived in 5.4, require_direct's errno changed in 6.5, IOMMU_IOAS_MAP_FILE arrived in
 * 6.13 and took dma-bufs in 6.19), so every answer names the version it holds for, and a version
 * outside what the model covers is refused with "not modelled" instead of a guess.
 *
 * Each boundary below says where it was established (the commit or the change in the kernel
 * source that moved it).
 */
import { InputError } from '../model/errors.js';

export interface KernelVersion {
  major: number;
  minor: number;
}

/** The version answers are for when none is given: the newest the model covers. */
export const DEFAULT_KERNEL = '6.19';

/** The newest version whose rules were checked against the kernel source. */
export const NEWEST_MODELLED: KernelVersion = { major: 6, minor: 19 };

/**
 * A kernel version or feature boundary, with where it was established. `since` is the first
 * release that has the behaviour.
 */
export interface KernelBoundary {
  since: KernelVersion;
  /** The change that introduced it. */
  source: string;
}

const v = (major: number, minor: number): KernelVersion => ({ major, minor });

export const BOUNDARIES = {
  /** VFIO (with type1) itself; the oldest version the type1 rules are modelled from. */
  type1: { since: v(3, 12), source: 'drivers/vfio/vfio_iommu_type1.c: vfio_dma_do_map() refuses unaligned, zero and wrapping maps with -EINVAL from the v2 interface on' },
  /** dma_entry_limit (CVE-2019-3882): vfio_iommu_type1_open() copies the module parameter into dma_avail. */
  dmaEntryLimit: { since: v(5, 1), source: 'commit 492855939bdb "vfio/type1: Limit DMA mappings per container" (v5.1)' },
  /** The valid IOVA list: vfio_iommu_iova_dma_valid() refuses maps outside apertures and over reserved regions with -EINVAL. */
  type1IovaList: { since: v(5, 4), source: 'commit 9b77e5c79840 "vfio/type1: check dma map request is within a valid iova range" (v5.4)' },
  /** VFIO_DMA_UNMAP_FLAG_ALL. */
  unmapAll: { since: v(5, 12), source: 'commit c19650995374 "vfio/type1: implement unmap all" (v5.12)' },
  /** /dev/iommu. */
  iommufd: { since: v(6, 2), source: 'drivers/iommu/iommufd merged in v6.2 (IOMMU_IOAS_MAP, _COPY, _UNMAP, IOMMU_OPTION_HUGE_PAGES)' },
  /** require_direct: __iommu_device_set_domain() refuses a blocking domain for a device with a non-relaxable direct region. */
  requireDirect: { since: v(6, 5), source: 'commit "iommu: Prevent RESV_DIRECT devices from blocking domains" (v6.5), drivers/iommu/iommu.c __iommu_device_set_domain()' },
  /** Intel's older refusal of devices with RMRRs in IOMMU API domains (-EPERM). */
  intelRmrr: { since: v(3, 17), source: 'commit c875d2c1b808 "iommu/vt-d: Exclude devices using RMRRs from IOMMU API domains" (v3.17), intel-iommu.c device_is_rmrr_locked()' },
  /** IOMMU_IOAS_MAP_FILE with a memfd. */
  mapFile: { since: v(6, 13), source: 'commit f4986a72d6e4 "iommufd: Add IOMMU_IOAS_MAP_FILE" (v6.13), memfd_pin_folios()' },
  /** IOMMU_IOAS_MAP_FILE with a dma-buf (vfio-pci's VFIO_DEVICE_FEATURE_DMA_BUF exports BARs). */
  mapFileDmaBuf: { since: v(6, 19), source: 'the vfio-pci dma-buf export and iommufd dma-buf import series (v6.19), drivers/iommu/iommufd/pages.c iopt_map_dmabuf()' },
} as const satisfies Record<string, KernelBoundary>;

export type KernelFeature = keyof typeof BOUNDARIES;

/** An answer the model cannot give for this kernel: bad input (exit 2) that says so. */
export class NotModelledError extends InputError {
  constructor(message: string, where: { file?: string; line?: number; path?: string } = {}) {
    super(`not modelled: ${message}`, where);
    this.name = 'NotModelledError';
  }
}

/** `6.19`, `v6.8`, `5.15.0-91-generic` → 6.19 / 6.8 / 5.15. */
export function parseKernel(text: string, where: { file?: string; path?: string } = {}): KernelVersion {
  const m = /^v?(\d{1,2})\.(\d{1,3})(?:[.\-+~][\w.\-+~]*)?$/.exec(text.trim());
  if (!m) throw new InputError(`kernel version "${text.slice(0, 40)}" is not X.Y (for example 6.8 or 5.15.0-91-generic)`, where);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** `6.19`: the version as `X.Y`. */
export function formatKernel(k: KernelVersion): string {
  return `${k.major}.${k.minor}`;
}

export function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** Whether `k` has the feature. */
export function has(k: KernelVersion, feature: KernelFeature): boolean {
  return compareKernel(k, BOUNDARIES[feature].since) >= 0;
}

/** `Linux 6.19` for messages. */
export function kernelName(k: KernelVersion): string {
  return `Linux ${formatKernel(k)}`;
}

/** Refuse a version outside the model: newer than checked, or older than the interface. */
export function checkModelled(k: KernelVersion, policy: 'iommufd' | 'vfio-type1'): void {
  if (compareKernel(k, NEWEST_MODELLED) > 0) {
    throw new NotModelledError(`${kernelName(k)} is newer than the newest version the rules were checked against (${formatKernel(NEWEST_MODELLED)}); answer for ${formatKernel(NEWEST_MODELLED)} with --kernel ${formatKernel(NEWEST_MODELLED)} if its rules are known to hold`);
  }
  const first = policy === 'iommufd' ? BOUNDARIES.iommufd : BOUNDARIES.type1;
  if (compareKernel(k, first.since) < 0) {
    const why = policy === 'iommufd' ? 'iommufd (/dev/iommu) does not exist before 6.2' : `the type1 rules are modelled from ${formatKernel(first.since)}`;
    throw new NotModelledError(`${kernelName(k)}: ${why}`);
  }
}
