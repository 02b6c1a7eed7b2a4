/**
 * What kind of text a file holds, from its content (never from its name).
 *
 * Files often hold more than one kind (a mail with a kernel log and a reserved_regions
 * listing). {@link detectKinds} lists every kind present, the primary one first; every
 * importer reads every file anyway, so detection decides only the kind reported in
 * `sources` and whether bare `subsystem: message` lines count as kernel log.
 *
 * Primary kind: structured outputs beat the log they are usually embedded in —
 * reserved_regions if any line is one, then lspci, then /proc/iomem; between a group listing
 * and a kernel log, the one with more lines carrying facts (group assignments are kernel log
 * lines too, so a log that is mostly `Adding to iommu group` is a group listing).
 */
import type { SourceKind } from './common.js';
import { isDmesgFactLine } from './dmesg.js';
import { isGroupLine } from './groups.js';
import { isIomemLine } from './iomem.js';
import { splitLines, type SourceLine } from './lines.js';
import { isLspciLine } from './lspci.js';
import { isReservedRegionLine } from './reserved-regions.js';

/** A detected kind, or `unknown` when no line of any kind is there. */
export type DetectedKind = SourceKind | 'unknown';

/** Every kind present in the text, the primary kind first. */
export function detectKinds(text: string | readonly SourceLine[]): SourceKind[] {
  const lines = typeof text === 'string' ? splitLines(text) : text;
  const count = { rr: 0, lspci: 0, iomem: 0, groups: 0, dmesgFacts: 0, log: 0 };
  for (const line of lines) {
    if (isReservedRegionLine(line)) count.rr++;
    if (isLspciLine(line)) count.lspci++;
    if (isIomemLine(line)) count.iomem++;
    const group = isGroupLine(line);
    if (group) count.groups++;
    else if (isDmesgFactLine(line)) count.dmesgFacts++;
    if (line.logPrefix && !group) count.log++;
  }
  const present: SourceKind[] = [];
  if (count.rr > 0) present.push('reserved-regions');
  if (count.lspci > 0) present.push('lspci');
  if (count.iomem >= 2) present.push('iomem');
  const groups = count.groups > 0;
  const dmesg = count.dmesgFacts > 0 || count.log > 0;
  if (groups && dmesg && count.dmesgFacts > count.groups) present.push('dmesg', 'groups');
  else {
    if (groups) present.push('groups');
    if (dmesg) present.push('dmesg');
  }
  return present;
}

/** The primary kind of the text (see {@link detectKinds}). */
export function detectKind(text: string | readonly SourceLine[]): DetectedKind {
  return detectKinds(text)[0] ?? 'unknown';
}
