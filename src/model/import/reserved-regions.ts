/**
 * `/sys/kernel/iommu_groups/<N>/reserved_regions`: one region per line,
 * `0x%016llx 0x%016llx <type>` (start, inclusive end, type).
 *
 * Accepted as one file, as a `grep -h`/`cat … | sort -u` union of several, or as `grep .`
 * output with a path before each line (`/sys/kernel/iommu_groups/19/reserved_regions:0x…`).
 * The group comes from that path, or else from the latest command or path line that names
 * one (`cat /sys/kernel/iommu_groups/0/reserved_regions`, or `/sys/kernel/iommu_groups/19`
 * followed by `cat reserved_regions`). A path through a device
 * (`/sys/bus/pci/devices/0000:05:00.0/iommu_group/reserved_regions`) gives that device's
 * group, whose number another source may know. With no group known (a union over
 * `iommu_groups/*`, or no command at all), the regions go to the host: they then apply to
 * every device, which is right for a union and the safe reading otherwise.
 *
 * sysfs prints `msi` for both the hardware MSI doorbell and the software-managed MSI window.
 * A `msi` region at exactly 0x8000000-0x80fffff is the arm SMMU software MSI window and is
 * read as `sw-msi` (the consumers treat the two differently); other `msi` regions stay `msi`.
 */
import type { ReservedRegion, ReservedRegionType } from '../host.js';
import { normaliseBdf } from '../pci.js';
import type { Provenance } from '../provenance.js';
import { BDF_PATTERN, hexRange, type LineVerdicts, provenance } from './common.js';
import type { SourceLine } from './lines.js';
import type { HostBuilder } from './merge.js';

/** Where the regions being read belong. */
export interface RegionScope {
  group?: number;
  device?: string;
  /** A union over several groups (a wildcard in the path). */
  union?: boolean;
}

const SYSFS_TYPES: Record<string, ReservedRegionType> = {
  direct: 'direct',
  'direct-relaxable': 'direct-relaxable',
  reserved: 'reserved',
  msi: 'msi',
};

const SW_MSI = { start: 0x800_0000n, last: 0x80f_ffffn };

const LINE = /^(?:(\S*?)reserved_regions:)?(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+)$/i;
const FAMILY = /^(?:\S*reserved_regions:)?0x[0-9a-f]+\s+0x/i;
const GROUP_PATH = /iommu_groups\/(\d{1,9})(?:\/|\s|$)/;
const DEVICE_PATH = new RegExp(`/devices/(${BDF_PATTERN})(?:/|\\s|$)`);

/** The scope a path or command names, if any. */
function scopeOfPath(text: string): RegionScope | undefined {
  const group = GROUP_PATH.exec(text);
  if (group) return { group: Number(group[1]) };
  const device = DEVICE_PATH.exec(text);
  if (device) return { device: normaliseBdf(device[1]) };
  if (/iommu_groups\/\*|devices\/\*/.test(text)) return { union: true };
  return undefined;
}

/**
 * Read reserved_regions lines of `lines` into `builder`. `scope` is where regions go until a
 * command or path line says otherwise (the sysfs reader passes the group it is reading).
 */
export function importReservedRegions(
  lines: readonly SourceLine[],
  builder: HostBuilder,
  file: string,
  verdicts: LineVerdicts,
  scope: RegionScope = {},
): void {
  // Regions whose group no path or command gives: one warning for the file, at the first.
  let unscoped: { count: number; line: number; union: boolean } | undefined;
  for (const line of lines) {
    if (line.role === 'prompt' || line.role === 'path') {
      scope = nextScope(scope, line);
      continue;
    }
    if (!isReservedRegionLine(line)) continue;
    const m = LINE.exec(line.message);
    if (!m) {
      verdicts.problem(line, 'not a reserved_regions line: expected "0x<start> 0x<end> <type>"');
      continue;
    }
    const [, prefix, startText, endText, typeText] = m;
    const range = hexRange(startText, endText);
    if (!range) {
      verdicts.problem(line, `reserved region ${startText}-${endText}: start is above end (or not a 64-bit address)`);
      continue;
    }
    const sysfsType = SYSFS_TYPES[typeText];
    if (!sysfsType) {
      verdicts.problem(line, `unknown reserved-region type "${typeText}"; sysfs prints ${Object.keys(SYSFS_TYPES).join(', ')}`);
      continue;
    }
    const lineScope = prefix ? (scopeOfPath(prefix) ?? { union: true }) : scope;
    addScopedRegion(builder, file, line.line, range, sysfsType, lineScope);
    verdicts.fact(line);
    if (lineScope.group === undefined && lineScope.device === undefined) {
      unscoped ??= { count: 0, line: line.line, union: lineScope.union === true };
      unscoped.count++;
    }
  }
  if (unscoped) {
    const n = unscoped.count;
    builder.assume(
      provenance('reserved regions', file, unscoped.line),
      `${n} reserved region${n === 1 ? '' : 's'} ${unscoped.union ? 'from a union over several IOMMU groups' : 'name no IOMMU group (no path or command line gives one)'}: ` +
        `taken to apply to every device, which keeps each device out of ${n === 1 ? 'it' : 'them'} even where the kernel would not`,
    );
  }
}

/** Whether a line is (or tries to be) a reserved_regions line. */
export function isReservedRegionLine(line: SourceLine): boolean {
  return line.role === 'content' && !line.logPrefix && FAMILY.test(line.message);
}

/** A command or path line sets the scope; a bare prompt or a relative `cat reserved_regions` keeps it. */
function nextScope(scope: RegionScope, line: SourceLine): RegionScope {
  const text = line.command ?? '';
  if (text === '') return scope;
  const named = scopeOfPath(text);
  if (named) return named;
  if (line.role === 'prompt' && /(?:^|\s)(?:\.\/)?reserved_regions(?:\s|$)/.test(text)) return scope;
  return {};
}

/** Add one region (already parsed) to the place its scope names. */
function addScopedRegion(
  builder: HostBuilder,
  file: string,
  line: number | undefined,
  range: { start: bigint; last: bigint },
  sysfsType: ReservedRegionType,
  scope: RegionScope,
): void {
  let type = sysfsType;
  let what = `${sysfsType} region`;
  let note: string | undefined;
  if (sysfsType === 'msi' && range.start === SW_MSI.start && range.last === SW_MSI.last) {
    type = 'sw-msi';
    what = 'software MSI window';
    note =
      'sysfs prints "msi" for hardware and software MSI alike; 0x8000000-0x80fffff is the arm SMMU software-managed MSI window, so it is read as sw-msi';
  }
  const extra: Partial<Provenance> = { group: scope.group, device: scope.device };
  if (scope.group === undefined && scope.device === undefined) {
    const why = scope.union
      ? 'union over several IOMMU groups: the source does not say which group each region belongs to, so it is taken to apply to every device'
      : 'the source names no IOMMU group, so the region is taken to apply to every device';
    note = note ? `${note}; ${why}` : why;
  } else if (scope.group === undefined) {
    const why = `read through the iommu_group link of ${scope.device}`;
    note = note ? `${note}; ${why}` : why;
  }
  const region: ReservedRegion = { ...range, type, source: provenance(what, file, line, { ...extra, note }) };
  if (scope.group !== undefined) builder.addGroupRegion(scope.group, region);
  else if (scope.device !== undefined) builder.addDeviceGroupRegion(scope.device, region);
  else builder.addHostRegion(region);
}
