/**
 * Assumptions made where the sources are silent, written as warnings on the host facts (kind
 * `assumption`), so that every answer built on them says what it rests on.
 *
 * - No platform and no IOMMU geometry: answers fall back to the default geometry (the whole
 *   64-bit space, 4 KiB pages), which no real IOMMU offers.
 * - A platform without an address width: the profile's default width is used (intel-vtd 48,
 *   amd-vi 64 with the v1 table, arm-smmuv3 48), which may be wider than the hardware's.
 * - An Intel width taken from the DMAR table's host address width (see vtd.ts).
 */
import type { HostFacts, ImportWarning, PlatformSpec } from '../host.js';

/** How every no-IOMMU-facts warning begins (the loader uses it to avoid saying it twice). */
export const NO_IOMMU_FACTS = 'no IOMMU facts';

/** The warning for a host whose sources give neither a platform nor an IOMMU geometry. */
export function noIommuFactsWarning(file: string, sources: readonly string[] = [file]): ImportWarning {
  const where = sources.length <= 1 ? 'the source' : `the ${sources.length} sources`;
  return {
    file,
    line: 0,
    kind: 'assumption',
    text: '',
    message:
      `${NO_IOMMU_FACTS} in ${where} (no platform, IOMMU unit or geometry): answers assume the whole 64-bit ` +
      'space with 4 KiB pages, which no real IOMMU offers; add the kernel log (DMAR/AMD-Vi/SMMU lines) or the ' +
      'sysfs root, or give "platform" in the host file',
  };
}

/** The no-IOMMU-facts warning for a loaded host file, unless it has IOMMU facts or already says so. */
export function missingIommuFacts(host: HostFacts, file: string): ImportWarning | undefined {
  if (host.platform || host.iommu) return undefined;
  if (host.warnings.some((w) => w.kind === 'assumption' && w.message.startsWith(NO_IOMMU_FACTS))) return undefined;
  return noIommuFactsWarning(file);
}

const DEFAULT_WIDTHS: Partial<Record<PlatformSpec['profile'], string>> = {
  'intel-vtd': '48 bits (the intel-vtd profile default); client parts often translate only 39',
  'amd-vi': '64 bits with the v1 page table (the amd-vi profile default)',
  'arm-smmuv3': '48 bits (the arm-smmuv3 profile default)',
};

/** The warning for a platform read without its address width; undefined when none applies. */
export function unknownWidthMessage(platform: PlatformSpec): string | undefined {
  if (platform.addressWidth !== undefined) return undefined;
  const assumed = DEFAULT_WIDTHS[platform.profile];
  if (!assumed) return undefined;
  return `IOMMU address width not in the sources, so it is assumed: ${assumed}; the sysfs root (class/iommu) or the full kernel log gives the real one`;
}

/** The warning for an Intel width taken from the DMAR table's host address width. */
export function weakWidthMessage(platform: PlatformSpec): string | undefined {
  if (platform.addressWidth === undefined) return undefined;
  return (
    `address width ${platform.addressWidth} taken from the DMAR table's host address width, which is the host's ` +
    'physical width, not the domain width the kernel enforces (min of the unit\'s SAGAW and MGAW, from its cap ' +
    'register); no cap register or "iommu width" line is in the sources'
  );
}
