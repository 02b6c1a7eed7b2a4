/**
 * The independent verifier: checks a concrete layout against a host's IOVA space with plain
 * bigint arithmetic (sort and sweep), no Z3 and none of the placement code. Every answer the
 * solver gives is certified here; a VMM runs the same check before migrating a guest with a
 * fixed layout or hot-plugging a device. It lists every violation with provenance, not just
 * the first.
 */
import { AddressSpace, groupIdOf } from '../model/address-space.js';
import { expect, expectHostFacts, expectLayout } from '../model/guard.js';
import { formatSize, hexGrouped, MAX_ADDRESS, maskOfBits } from '../model/address.js';
import { type Hole, kernelEnforces } from '../model/hole.js';
import type { HostFacts } from '../model/host.js';
import { isBdf, normaliseBdf } from '../model/pci.js';
import type { Policy } from '../model/policy.js';
import { describeProvenance, type Provenance } from '../model/provenance.js';
import { compareRanges, type IovaRange } from '../model/range.js';
import { factWarnings, forHost, spaceWarnings, type Warning } from '../model/warnings.js';
import { describeBounds, describeHole, describePlacement } from './words.js';
import { IntervalIndex } from '../model/interval-index.js';

/** One placed range of a layout, with the requirements it must still meet. */
export interface LayoutPlacement {
  name: string;
  iova: bigint;
  size: bigint;
  /** Required alignment of the IOVA (in addition to the IOAS alignment). */
  align?: bigint;
  /** DMA mask width of the device that uses it. */
  dmaBits?: number;
  /** Ranges it must lie in (one of them, wholly). */
  within?: readonly IovaRange[];
  /** For a piece of a split request: the request's name (the piece is named `name[i]`). */
  splitOf?: string;
}

/** An IOAS mapping that exists already: occupied space, not a variable. */
export interface ExistingMapping extends IovaRange {
  name: string;
  source: Provenance;
}

export interface Layout {
  placements: LayoutPlacement[];
  policy?: Policy;
  /** Devices attached on every host (PCI addresses or group:N); default: all of each host's. */
  devices?: string[];
  dmaApiHoles?: boolean;
  existing?: ExistingMapping[];
  /** The kernel version IOAS answers on this layout (hot-plug checks) are for. */
  kernel?: string;
}

export const VIOLATION_KINDS = [
  'outside-aperture',
  'hole',
  'existing',
  'misaligned',
  'size-not-multiple',
  'dma-mask',
  'within',
  'overlap',
  'above',
  'offset',
  'same-window',
  'fixed',
  'missing-device',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Violation {
  kind: ViolationKind;
  /** The placement at fault (empty for a host-level problem such as a missing device). */
  placement: string;
  /** The other placement or mapping involved, for overlaps and relations. */
  other?: string;
  /** The hole hit, for `hole`. */
  hole?: Hole;
  /** Whether the kernel itself would refuse this (a peer-to-peer overlap is accepted and misroutes DMA). */
  enforced: boolean;
  message: string;
  source?: Provenance;
}

export interface HostVerdict {
  host: string;
  ok: boolean;
  violations: Violation[];
  /** Facts of this host the verdict rests on that were skipped or assumed. */
  warnings: Warning[];
}

export interface VerifyReport {
  ok: boolean;
  hosts: HostVerdict[];
  /** Every host's warnings, each tagged with its host. */
  warnings: Warning[];
}

/** Check a layout against each host; a host accepts it when there is no violation at all. */
export function verifyLayout(layout: Layout, hosts: readonly HostFacts[]): VerifyReport {
  expectLayout(layout);
  expect(hosts, 'array', 'hosts');
  const verdicts = hosts.map((host) => verifyOnHost(layout, host));
  return { ok: verdicts.every((v) => v.ok), hosts: verdicts, warnings: verdicts.flatMap((v) => forHost(v.warnings, v.host)) };
}

/** Check a layout against one host. */
export function verifyOnHost(layout: Layout, host: HostFacts): HostVerdict {
  expectLayout(layout);
  expectHostFacts(host);
  const missing = (layout.devices ?? []).filter((id) => !hostHas(host, id));
  if (missing.length > 0) {
    return {
      host: host.name,
      ok: false,
      violations: missing.map((id) => ({
        kind: 'missing-device',
        placement: '',
        enforced: true,
        message: `host ${host.name} has no ${id.startsWith('group:') ? `IOMMU group ${id.slice(6)}` : `device ${id}`}, which the layout attaches`,
      })),
      warnings: factWarnings(host),
    };
  }
  const space = AddressSpace.build(host, { policy: layout.policy, devices: layout.devices, dmaApiHoles: layout.dmaApiHoles });
  const violations = verifyInSpace(space, layout.placements, layout.existing ?? []);
  return { host: host.name, ok: violations.length === 0, violations, warnings: spaceWarnings(space) };
}

/** Whether `id` names a device or group of the host (`host` names a host that lists neither). */
function hostHas(host: HostFacts, id: string): boolean {
  const group = groupIdOf(id);
  if (group !== undefined) return host.groups.some((g) => g.id === group);
  if (id === 'host') return host.devices.length === 0 && host.groups.length === 0;
  const key = isBdf(id) ? normaliseBdf(id) : id;
  return host.devices.some((d) => d.id === key);
}

/** Every violation of `placements` in `space` (apertures, holes, alignment, limits, overlaps). */
export function verifyInSpace(space: AddressSpace, placements: readonly LayoutPlacement[], existing: readonly ExistingMapping[] = []): Violation[] {
  const out: Violation[] = [];
  const windows = space.windows.ranges;
  const holes = space.holes.filter((h) => h.kind !== 'aperture');
  const holeIndex = new IntervalIndex(holes);
  const existingIndex = new IntervalIndex(existing);

  for (const p of placements) {
    if (p.size <= 0n || p.iova + p.size - 1n > MAX_ADDRESS) {
      out.push({ kind: 'outside-aperture', placement: p.name, enforced: true, message: `${describePlacement(p.name, p.iova, p.size)} runs past the end of the 64-bit space` });
      continue;
    }
    const r = { start: p.iova, last: p.iova + p.size - 1n };
    const what = describePlacement(p.name, p.iova, p.size);
    if (!windows.some((w) => w.start <= r.start && r.last <= w.last)) {
      const source = space.attachments[0]?.geometry.source;
      out.push({
        kind: 'outside-aperture',
        placement: p.name,
        enforced: true,
        message: `${what} is not inside an aperture window (${windows.map(describeBounds).join(', ') || 'none'})${source ? `: ${describeProvenance(source)}` : ''}`,
        source,
      });
    }
    for (const h of holeIndex.overlapping(r)) {
      out.push({ kind: 'hole', placement: p.name, hole: h, enforced: kernelEnforces(h.kind, space.policy), message: `${what} overlaps ${describeHole(h)}`, source: h.source });
    }
    for (const m of existingIndex.overlapping(r)) {
      out.push({ kind: 'existing', placement: p.name, other: m.name, enforced: true, message: `${what} overlaps ${m.name} ${describeBounds(m)}`, source: m.source });
    }
    if (p.iova % space.alignment !== 0n) {
      out.push({ kind: 'misaligned', placement: p.name, enforced: true, message: `${what} is not aligned to ${formatSize(space.alignment)}, the IOAS alignment (the smallest IOMMU page)` });
    } else if (p.align !== undefined && p.iova % p.align !== 0n) {
      out.push({ kind: 'misaligned', placement: p.name, enforced: false, message: `${what} is not aligned to ${formatSize(p.align)} as it requires` });
    }
    if (p.size % space.alignment !== 0n) {
      out.push({ kind: 'size-not-multiple', placement: p.name, enforced: true, message: `${what} is not a whole number of ${formatSize(space.alignment)} IOMMU pages` });
    }
    if (p.dmaBits !== undefined && r.last > maskOfBits(p.dmaBits)) {
      out.push({ kind: 'dma-mask', placement: p.name, enforced: false, message: `${what} ends at ${hexGrouped(r.last)}, above its ${p.dmaBits}-bit DMA mask` });
    }
    if (p.within !== undefined && !p.within.some((w) => w.start <= r.start && r.last <= w.last)) {
      out.push({ kind: 'within', placement: p.name, enforced: false, message: `${what} is not within ${p.within.map(describeBounds).join(' or ')}` });
    }
  }
  // One by one: a spread of ~10^5 overlaps would overflow the call stack.
  for (const v of placementOverlaps(placements)) out.push(v);
  return out;
}

/** Pairs of placements that overlap, found by a sweep over placements sorted by IOVA. */
function placementOverlaps(placements: readonly LayoutPlacement[]): Violation[] {
  const sorted = placements.filter((p) => p.size > 0n).map((p) => ({ p, start: p.iova, last: p.iova + p.size - 1n })).sort(compareRanges);
  const out: Violation[] = [];
  const active: typeof sorted = [];
  for (const cur of sorted) {
    for (let i = active.length - 1; i >= 0; i--) if (active[i].last < cur.start) active.splice(i, 1);
    for (const prev of active) {
      out.push({
        kind: 'overlap',
        placement: cur.p.name,
        other: prev.p.name,
        enforced: true,
        message: `${describePlacement(cur.p.name, cur.p.iova, cur.p.size)} overlaps ${describePlacement(prev.p.name, prev.p.iova, prev.p.size)}`,
      });
    }
    active.push(cur);
  }
  return out;
}

