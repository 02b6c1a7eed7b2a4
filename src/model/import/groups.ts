/**
 * IOMMU group membership, from:
 * - the usual listing script's output, `IOMMU Group 1 00:01.0 PCI bridge [0604]: …`, or its
 *   two-level variant (`IOMMU Group 1:` followed by indented `00:01.0 …` lines);
 * - kernel log lines `pci 0000:00:14.0: Adding to iommu group 11` (and the older
 *   `iommu: Adding device 0000:00:14.0 to group 11`);
 * - paths `…/iommu_groups/31/devices/0000:06:00.0` (`find` output), and the BDFs printed by
 *   `ls /sys/kernel/iommu_groups/25/devices/` after that command;
 * - a device's `iommu_group` link: `ls -l` output (`…/0000:01:00.0/iommu_group ->
 *   ../../../../kernel/iommu_groups/14`), or the target printed by `readlink [-f]
 *   …/0000:01:00.0/iommu_group` after that command (`/sys/kernel/iommu_groups/14`).
 */
import { normaliseBdf } from '../pci.js';
import { BDF_PATTERN, type LineVerdicts, provenance } from './common.js';
import type { SourceLine } from './lines.js';
import type { HostBuilder } from './merge.js';

const BDF = BDF_PATTERN;
const LISTING = new RegExp(`^IOMMU [Gg]roup (\\d{1,9}):?\\s+(${BDF})\\s*(.*)$`);
const LISTING_HEAD = /^IOMMU [Gg]roup (\d{1,9}):?$/;
const LISTING_FAMILY = /^IOMMU [Gg]roup\b(?!:)/;
const MEMBER = new RegExp(`^(${BDF})(?:\\s+(.*))?$`);
const KERNEL_ADD = new RegExp(`(?:^|\\s)(${BDF}): Adding to iommu group (\\d{1,9})$`);
const KERNEL_ADD_OLD = new RegExp(`^iommu: Adding device (${BDF}) to group (\\d{1,9})$`);
const KERNEL_FAMILY = /Adding (?:device \S+ )?to (?:iommu )?group/;
const GROUP_DEVICE_PATH = new RegExp(`^(?:\\S*?iommu_groups/|\\.?/?)(\\d{1,9})/devices/(${BDF})/?$`);
const LS_DEVICES = /iommu_groups\/(\d{1,9})\/devices\/?(?:\s|$)/;
const LS_LONG = new RegExp(`\\s(${BDF}) -> \\S+$`);
const GROUP_LINK = new RegExp(`(?:^|/)(${BDF})/iommu_group -> \\S*iommu_groups/(\\d{1,9})/?$`);
const LINK_COMMAND = new RegExp(`^(?:readlink|realpath)\\b.*/(${BDF})/iommu_group/?$`);
const LINK_TARGET = /^\S*iommu_groups\/(\d{1,9})\/?$/;

/** Whether a line states (or tries to state) IOMMU group membership. */
export function isGroupLine(line: SourceLine): boolean {
  if (line.role !== 'content') return false;
  const text = line.message;
  return KERNEL_FAMILY.test(text) || (!line.logPrefix && (LISTING_FAMILY.test(text) || GROUP_DEVICE_PATH.test(text) || GROUP_LINK.test(text)));
}

/** Read group membership lines of `lines` into `builder`. */
export function importGroups(lines: readonly SourceLine[], builder: HostBuilder, file: string, verdicts: LineVerdicts): void {
  // Group whose members the following lines list (after `IOMMU Group N:` or `ls …/N/devices`).
  let listing: number | undefined;
  // Device whose iommu_group link target the next line prints (after `readlink …/iommu_group`).
  let linkOf: string | undefined;
  const member = (line: SourceLine, group: number, bdf: string, description?: string) => {
    const id = normaliseBdf(bdf);
    const source = provenance('IOMMU group membership', file, line.line, { group, device: id });
    builder.setDeviceGroup(id, group, source);
    if (description) builder.describe(id, description, source);
    verdicts.fact(line);
  };

  for (const line of lines) {
    if (line.role === 'prompt') {
      const ls = line.command?.startsWith('ls') ? LS_DEVICES.exec(line.command) : null;
      listing = ls ? Number(ls[1]) : undefined;
      linkOf = LINK_COMMAND.exec(line.command ?? '')?.[1];
      continue;
    }
    const target = linkOf !== undefined && line.role !== 'blank' ? LINK_TARGET.exec(line.message) : null;
    if (target) {
      member(line, Number(target[1]), linkOf!);
      linkOf = undefined;
      continue;
    }
    if (line.role !== 'blank') linkOf = undefined;
    if (line.role === 'path') {
      // `find /sys/kernel/iommu_groups -type l` prints paths on lines of their own.
      const m = GROUP_DEVICE_PATH.exec(line.message);
      if (m) member(line, Number(m[1]), m[2]);
      continue;
    }
    if (line.role !== 'content') {
      if (line.role !== 'marker') listing = undefined;
      continue;
    }
    const text = line.message;
    if (line.logPrefix || KERNEL_FAMILY.test(text)) {
      const m = KERNEL_ADD.exec(text) ?? KERNEL_ADD_OLD.exec(text);
      if (m) member(line, Number(m[2]), m[1]);
      else if (KERNEL_FAMILY.test(text)) verdicts.problem(line, 'IOMMU group assignment not understood');
      continue;
    }
    let m = GROUP_LINK.exec(text);
    if (m) {
      member(line, Number(m[2]), m[1]);
      continue;
    }
    m = LISTING.exec(text);
    if (m) {
      member(line, Number(m[1]), m[2], m[3] || undefined);
      listing = undefined;
      continue;
    }
    m = LISTING_HEAD.exec(text);
    if (m) {
      listing = Number(m[1]);
      builder.group(listing, provenance('IOMMU group', file, line.line, { group: listing }));
      verdicts.fact(line);
      continue;
    }
    if (LISTING_FAMILY.test(text)) {
      verdicts.problem(line, 'IOMMU group listing line not understood: expected "IOMMU Group <N> <BDF> <description>"');
      continue;
    }
    m = GROUP_DEVICE_PATH.exec(text);
    if (m) {
      member(line, Number(m[1]), m[2]);
      continue;
    }
    if (listing !== undefined) {
      if (/^total \d+$/.test(text)) {
        verdicts.known(line); // the first line of `ls -l`
        continue;
      }
      const long = LS_LONG.exec(text);
      const words = long ? [long[1]] : text.split(/\s+/);
      const single = MEMBER.exec(text);
      if (words.every((w) => MEMBER.test(w))) {
        for (const w of words) member(line, listing, w);
        continue;
      }
      if (single && /^\s/.test(line.body)) {
        member(line, listing, single[1], single[2]);
        continue;
      }
      listing = undefined;
    }
  }
}
