/**
 * The address width of an Intel VT-d domain, as the kernel decides it.
 *
 * Rule (Linux 6.x, drivers/iommu/intel/iommu.c): `paging_domain_alloc()` sets the domain's
 * width `gaw` to `agaw_to_width(iommu->agaw)`, lowered to `cap_mgaw(iommu->cap)` when that is
 * smaller (`paging_domain_compatible()` applies the same bound on attach). `iommu->agaw` comes
 * from `iommu_calculate_agaw()` → `__iommu_calculate_agaw(iommu, DEFAULT_DOMAIN_ADDRESS_WIDTH
 * = 57)`: the largest adjusted width whose bit is set in the supported-width mask
 * `__iommu_calculate_sagaw()` — `cap_sagaw()` (bits 12:8) for second-stage tables; for
 * first-stage tables in scalable mode, 4-level always and 5-level when `cap_fl5lp_support()`
 * (bit 60). `cap_mgaw()` is bits 21:16 plus one. `intel_iommu_map()` refuses an IOVA above
 * that width with "iommu width (gaw) is not sufficient for the mapped address".
 *
 * The DMAR table's "Host address width" is something else: the host's physical address width
 * (how far DMA can reach in memory), printed by the ACPI table parser; no kernel function
 * uses it as a domain width. It is taken only when nothing better is in the sources, with a
 * warning (it is usually no wider than the domain width: 36 or 39 on client parts whose units
 * translate 39 bits, 46 on servers whose units translate 48).
 */
import { provenance } from './common.js';
import type { HostBuilder } from './merge.js';

/** agaw_to_width(): an adjusted guest address width code → bits (30 + 9 per level, at most 64). */
function agawToWidth(agaw: number): number {
  return Math.min(30 + agaw * 9, 64);
}

/** width_to_agaw(): bits → the smallest adjusted width code that covers them. */
function widthToAgaw(width: number): number {
  return Math.ceil((width - 30) / 9);
}

/** The largest supported agaw at or below `maxWidth` (as `__iommu_calculate_agaw`), or -1. */
function calculateAgaw(sagaw: number, maxWidth: number): number {
  for (let agaw = widthToAgaw(maxWidth); agaw >= 0; agaw--) if (sagaw & (1 << agaw)) return agaw;
  return -1;
}

const DEFAULT_DOMAIN_ADDRESS_WIDTH = 57;

/** What one unit's capability register says about its domains' width. */
export interface VtdWidth {
  /** The domain width: min(agaw width, MGAW). With first-stage tables possibly narrower (`firstStage`). */
  width: number;
  mgaw: number;
  /** The width from the supported-width mask (second-stage tables). */
  agawWidth: number;
  /** The width when the unit uses first-stage tables in scalable mode, when that differs. */
  firstStage?: number;
}

/** The domain width a VT-d capability register gives; undefined when it supports no width. */
export function vtdDomainWidth(cap: bigint): VtdWidth | undefined {
  const mgaw = Number((cap >> 16n) & 0x3fn) + 1;
  const slSagaw = Number((cap >> 8n) & 0x1fn);
  const agaw = calculateAgaw(slSagaw, DEFAULT_DOMAIN_ADDRESS_WIDTH);
  if (agaw < 0) return undefined;
  const agawWidth = agawToWidth(agaw);
  const width = Math.min(agawWidth, mgaw);
  const out: VtdWidth = { width, mgaw, agawWidth };
  // Scalable mode with both stages intersects the masks (first stage: 4-level, 5-level if FL5LP).
  const flSagaw = (1 << 2) | ((cap >> 60n) & 1n ? 1 << 3 : 0);
  const both = calculateAgaw(slSagaw & flSagaw, DEFAULT_DOMAIN_ADDRESS_WIDTH);
  if (both >= 0 && Math.min(agawToWidth(both), mgaw) !== width) out.firstStage = Math.min(agawToWidth(both), mgaw);
  return out;
}

/**
 * Record the least of `readings` as the intel-vtd platform's width, rounded down to a width the
 * profile models (with a warning when that changes it).
 */
export function recordVtdWidth(builder: HostBuilder, file: string, readings: readonly WidthReading[]): boolean {
  const least = leastWidth(readings);
  if (!least) return false;
  const width = profileWidth(least.width) ?? least.width;
  const source = provenance(least.what, least.file ?? file, least.line, { note: least.note });
  builder.setPlatform({ profile: 'intel-vtd', addressWidth: width, source });
  if (width !== least.width) {
    builder.assume(source, `VT-d domain width ${least.width} is not one the intel-vtd profile models; the next narrower one, ${width} bits, is used`);
  }
  return true;
}

/** The widths the intel-vtd profile models (see profiles.ts). */
const PROFILE_WIDTHS = [36, 39, 46, 48, 52, 57];

/** The widest width the profile models that is not wider than `width` (the cautious rounding). */
export function profileWidth(width: number): number | undefined {
  return [...PROFILE_WIDTHS].reverse().find((w) => w <= width);
}

/** A width the kernel enforces, as read from one place. */
export interface WidthReading {
  width: number;
  /** The file, when it differs from the source being read (sysfs: one file per unit). */
  file?: string;
  line: number;
  what: string;
  note?: string;
}

/**
 * The width to record from several readings of one source (units of one host, map failures):
 * the smallest, since a device behind any of them may be asked to map, with a note naming the
 * others.
 */
export function leastWidth(readings: readonly WidthReading[]): WidthReading | undefined {
  if (readings.length === 0) return undefined;
  const least = readings.reduce((a, b) => (b.width < a.width ? b : a));
  const others = [...new Set(readings.map((r) => r.width))].filter((w) => w !== least.width).sort((a, b) => a - b);
  if (others.length === 0) return least;
  const note = `the smallest of ${readings.length} readings (others: ${others.join(', ')} bits)`;
  return { ...least, note: least.note ? `${least.note}; ${note}` : note };
}

/** How a unit's width is described in provenance, with the first-stage caveat when it applies. */
export function describeVtdWidth(unit: string, w: VtdWidth): { width: number; note: string } {
  const parts = [`${unit}: MGAW ${w.mgaw}, supported adjusted width ${w.agawWidth}`];
  if (w.firstStage !== undefined) {
    parts.push(`first-stage tables in scalable mode translate only ${w.firstStage} bits (no 5-level support), so that narrower width is taken`);
  }
  return { width: w.firstStage ?? w.width, note: parts.join('; ') };
}
