/**
 * The guest memory map a VMM hands its guest for a planned layout: the E820 table (usable RAM
 * and the reserved ranges the guest must not reuse, each with why), the same reserved ranges as
 * ACPI motherboard resources (a PNP0C02 device's _CRS, so the guest never assigns a BAR there),
 * and a check of what a booted guest reports (its boot-time E820 or /proc/iomem) against the plan.
 *
 * Guest-physical addresses equal IOVAs for an assigned device's DMA (the VMM maps guest RAM at
 * IOVA = GPA), so every hole of the host's IOVA space that the kernel enforces is a range the
 * guest must not use as RAM, nor place a BAR over.
 */
import { AddressSpace } from '../model/address-space.js';
import { formatSize, hex } from '../model/address.js';
import { InputError } from '../model/errors.js';
import { kernelEnforces } from '../model/hole.js';
import type { HostFacts } from '../model/host.js';
import { splitLines } from '../model/import/lines.js';
import { describeProvenance } from '../model/provenance.js';
import { compareRanges, type IovaRange, overlaps } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Layout } from '../explain/verify.js';

/** E820 entry types as the kernel prints them (`e820_print_type` in arch/x86/kernel/e820.c). */
export type E820Type = 'usable' | 'reserved' | 'ACPI data' | 'ACPI NVS' | 'unusable' | 'other';

export interface E820Entry extends IovaRange {
  type: E820Type;
  /** Why the range has this type: the placements (RAM) or holes (reserved) it stands for. */
  reasons: string[];
}

export interface GuestMemoryMap {
  e820: E820Entry[];
  /** The reserved entries again, as the ranges of a PNP0C02 motherboard-resources device. */
  acpiReserved: E820Entry[];
  /** Hosts whose holes the map reserves. */
  hosts: string[];
}

/** Which placements of a layout are guest RAM: the named ones, or by default those named `ram…`. */
export function ramPlacements(layout: Layout, names?: readonly string[]): Set<string> {
  // A split request's pieces are named `name[i]` and count as that request.
  const nameOf = (p: Layout['placements'][number]) => p.splitOf ?? p.name;
  if (names === undefined) return new Set(layout.placements.filter((p) => /^ram/i.test(nameOf(p))).map((p) => p.name));
  const known = new Set(layout.placements.map(nameOf));
  for (const n of names) if (!known.has(n)) throw new InputError(`--ram names "${n}", which is not a placement of the layout (placements: ${[...known].join(', ')})`);
  return new Set(layout.placements.filter((p) => names.includes(nameOf(p))).map((p) => p.name));
}

/**
 * The guest memory map of `layout` for a guest that may run on any of `hosts`: RAM placements
 * are usable; every enforced hole of any host (reserved regions: MSI windows, the
 * HyperTransport hole, RMRRs of attached devices) and every placement that is not RAM is
 * reserved. Throws {@link InputError} when RAM overlaps such a range (the layout does not fit
 * the host: `iova verify` says why).
 */
export function guestMemoryMap(layout: Layout, hosts: readonly HostFacts[], ram: ReadonlySet<string>): GuestMemoryMap {
  const entries: E820Entry[] = [];
  for (const p of layout.placements) {
    const r = { start: p.iova, last: p.iova + p.size - 1n };
    entries.push(ram.has(p.name) ? { ...r, type: 'usable', reasons: [`guest RAM: placement ${p.name}`] } : { ...r, type: 'reserved', reasons: [`placement ${p.name} (not guest RAM)`] });
  }
  for (const host of hosts) {
    const space = AddressSpace.build(host, { policy: layout.policy, devices: layout.devices, dmaApiHoles: layout.dmaApiHoles });
    for (const h of space.holes) {
      if (h.kind !== 'reserved-region' || !kernelEnforces(h.kind, space.policy)) continue;
      entries.push({ start: h.start, last: h.last, type: 'reserved', reasons: [`${describeProvenance(h.source)}${hosts.length > 1 ? ` on ${host.name}` : ''}`] });
    }
  }
  const usable = entries.filter((e) => e.type === 'usable');
  const reserved = entries.filter((e) => e.type === 'reserved');
  for (const u of usable) {
    const hit = reserved.find((r) => overlaps(r, u));
    if (hit) throw new InputError(`guest RAM ${u.reasons[0].replace('guest RAM: ', '')} (${hex(u.start)}–${hex(u.last)}) overlaps a range the guest must not use as RAM: ${hit.reasons[0]}; check the layout with iova verify`);
  }
  const e820 = [...mergeEntries(usable), ...mergeEntries(reserved)].sort(compareRanges);
  return { e820, acpiReserved: e820.filter((e) => e.type === 'reserved'), hosts: hosts.map((h) => h.name) };
}

/**
 * Entries of one type, sorted, with overlapping and adjacent ones merged (reasons kept): the
 * table the kernel prints is sanitised the same way (`e820__update_table` merges neighbours
 * of the same type).
 */
function mergeEntries(list: E820Entry[]): E820Entry[] {
  const out: E820Entry[] = [];
  for (const e of [...list].sort(compareRanges)) {
    const prev = out[out.length - 1];
    if (prev && e.start <= prev.last + 1n) {
      out[out.length - 1] = { ...prev, last: e.last > prev.last ? e.last : prev.last, reasons: [...prev.reasons, ...e.reasons.filter((r) => !prev.reasons.includes(r))] };
    } else out.push({ ...e, reasons: [...e.reasons] });
  }
  return out;
}

/** `%#018Lx`: 0x and 16 lower-case hex digits. */
const hex18 = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;

/** The table as the kernel prints it at boot (`e820__print_table("BIOS-e820")`). */
export function formatE820(map: GuestMemoryMap): string {
  return map.e820.map((e) => `BIOS-e820: [mem ${hex18(e.start)}-${hex18(e.last)}] ${e.type}`).join('\n');
}

/**
 * The reserved ranges as an ASL device with _HID PNP0C02 (motherboard resources): a
 * Memory32Fixed descriptor below 4 GiB, a QWordMemory descriptor above, each with its reason.
 */
export function formatAcpiReserved(map: GuestMemoryMap): string {
  const asl = (v: bigint) => `0x${v.toString(16).toUpperCase()}`;
  const lines = ['Device (RESV) {', '    Name (_HID, EisaId ("PNP0C02"))', '    Name (_UID, 0x52455356)', '    Name (_CRS, ResourceTemplate () {'];
  for (const e of map.acpiReserved) {
    for (const reason of e.reasons) lines.push(`        // ${reason.replace(/[\u0000-\u001f\u007f]/g, '?').replace(/\*\//g, '* /')}`);
    const size = e.last - e.start + 1n;
    if (e.last <= 0xffff_ffffn) lines.push(`        Memory32Fixed (ReadWrite, ${asl(e.start)}, ${asl(size)})`);
    else lines.push(`        QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0x0, ${asl(e.start)}, ${asl(e.last)}, 0x0, ${asl(size)})`);
  }
  lines.push('    })', '}');
  return lines.join('\n');
}

/** The JSON form: addresses as `0x…` strings. */
export function guestMapJson(map: GuestMemoryMap) {
  const entry = (e: E820Entry) => ({ start: hex(e.start), last: hex(e.last), size: hex(e.last - e.start + 1n), type: e.type, reasons: e.reasons });
  return { hosts: map.hosts, e820: map.e820.map(entry), acpi: { hid: 'PNP0C02', reserved: map.acpiReserved.map(entry) } };
}

// ─── what a booted guest reports ─────────────────────────────────────────────────────────

/** One range the guest reported, with where it was read. */
export interface ObservedEntry extends IovaRange {
  type: E820Type;
  file: string;
  line: number;
}

const E820_TYPES: Record<string, E820Type> = { usable: 'usable', reserved: 'reserved', 'acpi data': 'ACPI data', 'acpi nvs': 'ACPI NVS', unusable: 'unusable' };
const IOMEM_TYPES: Record<string, E820Type> = {
  'system ram': 'usable',
  reserved: 'reserved',
  'acpi tables': 'ACPI data',
  'acpi non-volatile storage': 'ACPI NVS',
  unusable: 'unusable',
};

/**
 * A guest's memory map from its boot log (`BIOS-e820: [mem 0x…-0x…] type`, or the pre-3.x
 * `BIOS-e820: start - end (type)` with an exclusive end) or its /proc/iomem (top-level lines
 * only: nested lines are parts of them). Lines of neither form are ignored; a file with no
 * such line is bad input.
 */
export function parseGuestMap(text: string, file: string): ObservedEntry[] {
  const out: ObservedEntry[] = [];
  for (const l of splitLines(text)) {
    const modern = /^(?:BIOS-e820|e820): \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+)$/i.exec(l.message);
    if (modern) {
      out.push({ start: BigInt(modern[1]), last: BigInt(modern[2]), type: E820_TYPES[modern[3].trim().toLowerCase()] ?? 'other', file, line: l.line });
      continue;
    }
    const old = /^BIOS-e820: ([0-9a-f]{8,16}) - ([0-9a-f]{8,16}) \((.+)\)$/i.exec(l.message);
    if (old) {
      const end = BigInt(`0x${old[2]}`);
      if (end > BigInt(`0x${old[1]}`)) out.push({ start: BigInt(`0x${old[1]}`), last: end - 1n, type: E820_TYPES[old[3].trim().toLowerCase()] ?? 'other', file, line: l.line });
      continue;
    }
    const iomem = /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) : (.+)$/i.exec(l.body);
    if (iomem) {
      out.push({ start: BigInt(`0x${iomem[1]}`), last: BigInt(`0x${iomem[2]}`), type: IOMEM_TYPES[iomem[3].trim().toLowerCase()] ?? 'other', file, line: l.line });
    }
  }
  if (out.length === 0) throw new InputError('no memory map here: expected BIOS-e820 lines of a guest boot log, or a guest /proc/iomem (as root: addresses are zero otherwise)', { file });
  if (out.every((e) => e.start === 0n && e.last === 0n)) throw new InputError('every address is zero: /proc/iomem read without root privileges hides them', { file });
  return out;
}

export interface GuestMapDifference {
  kind: 'ram-outside-plan' | 'ram-over-reserved' | 'planned-ram-missing';
  range: IovaRange;
  message: string;
  /** Where the guest said so, when it did. */
  at?: { file: string; line: number };
}

export interface GuestMapCheck {
  ok: boolean;
  differences: GuestMapDifference[];
  /** Planned RAM the guest's firmware took for itself (ACPI tables, reserved): expected, not a difference. */
  firmware: Array<{ range: IovaRange; type: E820Type; at: { file: string; line: number } }>;
}

/** Below 1 MiB the guest firmware owns the map (EBDA, VGA, option ROMs): not compared. */
export const LEGACY_AREA_END = 0x10_0000n;

/**
 * Compare what a guest reports with the plan. Differences: guest RAM the plan does not give
 * (its DMA would miss the IOMMU mapping), guest RAM over a planned reserved range, planned RAM
 * the guest does not show at all. Planned RAM shown with a firmware type is listed, not a
 * difference; the legacy area below 1 MiB is not compared.
 */
export function checkGuestMap(map: GuestMemoryMap, observed: readonly ObservedEntry[]): GuestMapCheck {
  const describe = (r: IovaRange) => `${hex(r.start)}–${hex(r.last)} (${formatSize(r.last - r.start + 1n)})`;
  const legacy = RangeSet.of([{ start: 0n, last: LEGACY_AREA_END - 1n }]);
  const plannedRam = RangeSet.of(map.e820.filter((e) => e.type === 'usable'));
  const differences: GuestMapDifference[] = [];
  const firmware: GuestMapCheck['firmware'] = [];
  for (const o of observed) {
    if (o.type !== 'usable') continue;
    const outside = RangeSet.of([o]).subtract(plannedRam).subtract(legacy);
    for (const r of outside.ranges) {
      const over = map.acpiReserved.find((e) => overlaps(e, r));
      differences.push(
        over
          ? { kind: 'ram-over-reserved', range: r, at: { file: o.file, line: o.line }, message: `the guest uses ${describe(r)} as RAM, which the plan reserves: ${over.reasons.join('; ')}` }
          : { kind: 'ram-outside-plan', range: r, at: { file: o.file, line: o.line }, message: `the guest uses ${describe(r)} as RAM, which the plan does not give it` },
      );
    }
  }
  const seen = RangeSet.of(observed);
  for (const r of plannedRam.subtract(legacy).subtract(seen).ranges) {
    differences.push({ kind: 'planned-ram-missing', range: r, message: `planned RAM ${describe(r)} is missing from the guest's map` });
  }
  for (const o of observed) {
    if (o.type === 'usable' || o.type === 'other') continue;
    for (const r of plannedRam.intersect(RangeSet.of([o])).subtract(legacy).ranges) firmware.push({ range: r, type: o.type, at: { file: o.file, line: o.line } });
  }
  differences.sort((a, b) => compareRanges(a.range, b.range));
  return { ok: differences.length === 0, differences, firmware };
}
