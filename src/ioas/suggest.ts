/**
 * Candidate fixes for a rejected operation. Candidates are cheap guesses; the IOAS keeps only
 * those that a trial run on a copy of the state accepts, so every suggestion shown works.
 */
import { alignDown, alignUp, formatSize, hexGrouped, MAX_ADDRESS } from '../model/address.js';
import { describeRange, type IovaRange, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import { defaultAttachmentIds, HOST_ATTACHMENT } from './attachment.js';
import type { IoasResult, IoasStep, Rejected, Suggestion } from '../explain/explanation.js';
import { describeStep } from '../explain/render.js';
import { has } from './kernel.js';
import type { MapPlanRequest } from './iommufd.js';
import type { IoasCore } from './state.js';

/** Runs steps on a copy of the IOAS: the last step's result, or the first failure. */
export type Trial = (steps: readonly IoasStep[]) => IoasResult<unknown> | undefined;

/** Rules a different IOVA can cure. */
const PLACEMENT_RULES = new Set(['iova-alignment', 'length-alignment', 'outside-aperture', 'reserved-overlap', 'area-overlap', 'iova-wrap', 'argument-overflow']);
const HOLE_RULES = new Set(['outside-aperture', 'reserved-overlap', 'area-overlap']);

function sentence(steps: readonly IoasStep[]): string {
  const text = steps.map(describeStep).join(', then ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Free IOVA starts for `length` bytes nearest to `iova`, below and above, nearest first. */
function nearestPlacements(core: IoasCore, iova: bigint, length: bigint, align: bigint): bigint[] {
  const free = core.reservedSet.union(core.areaSet).complement();
  // Prefer places no peer-to-peer route touches; fall back to what the kernel accepts.
  for (const set of [free.subtract(core.advisorySet), free]) {
    const found: bigint[] = [];
    if (iova > 0n) {
      const limit = iova - 1n + length - 1n;
      const below = set.highestFit(length, { align, limit: limit > MAX_ADDRESS ? MAX_ADDRESS : limit });
      if (below !== undefined) found.push(below);
    }
    if (iova < MAX_ADDRESS) {
      const above = set.lowestFit(length, { align, floor: iova + 1n });
      if (above !== undefined) found.push(above);
    }
    if (found.length > 0) return found.sort((a, b) => (distance(a, iova) < distance(b, iova) ? -1 : 1));
  }
  return [];
}

function distance(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

/**
 * `length` bytes laid from `iova` upwards through the free space, skipping what is in the way:
 * every piece aligned, the total kept, `offset` the bytes before each piece (for its user address).
 * Empty when the first free part does not start at `iova` or the space runs out.
 */
function keepTotalPieces(core: IoasCore, iova: bigint, length: bigint, align: bigint): Array<IovaRange & { offset: bigint }> {
  const free = core.reservedSet.union(core.areaSet).complement();
  const pieces: Array<IovaRange & { offset: bigint }> = [];
  let left = length;
  for (const f of free.ranges) {
    if (left === 0n || pieces.length >= 8) break;
    if (f.last < iova) continue;
    const start = alignUp(f.start > iova ? f.start : iova, align);
    const end = alignDown(f.last + 1n, align);
    if (pieces.length === 0 && start !== iova) return [];
    if (end <= start) continue;
    const take = end - start < left ? end - start : left;
    pieces.push({ start, last: start + take - 1n, offset: length - left });
    left -= take;
  }
  return left === 0n ? pieces : [];
}

/**
 * For a VFIO container without an IOMMU: attach one of the host's devices (its group) first.
 * Each is tried by the caller; a device the kernel will not let VFIO claim drops out there.
 */
export function groupFirstSuggestions(core: IoasCore, then: IoasStep[]): Suggestion[] {
  return defaultAttachmentIds(core.host)
    .slice(0, 8)
    .map((id) => ({ text: `Attach ${id} first (VFIO_GROUP_SET_CONTAINER, then VFIO_SET_IOMMU), then go on`, steps: [{ op: 'attach', device: id }, ...then] }));
}

export function mapSuggestions(core: IoasCore, req: MapPlanRequest, r: Rejected): Suggestion[] {
  const align = core.alignment;
  const out: Suggestion[] = [];
  const withVa = (va: bigint | undefined) => (va !== undefined ? { va } : {});
  const same = (): Extract<IoasStep, { op: 'map' }> => ({ op: 'map', length: req.length, fixed: req.fixed, ...(req.iova !== undefined ? { iova: req.iova } : {}), ...withVa(req.va), ...(req.backing ? { backing: req.backing } : {}), ...(req.file ? { file: true } : {}) });
  if (r.rule === 'no-iommu') return groupFirstSuggestions(core, [same()]);
  if (r.rule === 'pfnmap-backing' && !req.file && has(core.config.kernel, 'mapFileDmaBuf')) {
    // The BAR itself, exported by vfio-pci as a dma-buf, at offset 0 of it.
    const step: IoasStep = { ...same(), va: 0n, backing: 'dma-buf', file: true };
    return [{ text: 'Export the BAR as a dma-buf (VFIO_DEVICE_FEATURE_DMA_BUF on the vfio-pci device) and map it with IOMMU_IOAS_MAP_FILE, whole, at the same IOVA', steps: [step] }];
  }
  if (!req.fixed || req.iova === undefined) {
    const auto = (length: bigint): IoasStep => ({ op: 'map', length, fixed: false, ...withVa(req.va) });
    if (r.rule === 'length-alignment') {
      const length = alignUp(req.length, align);
      out.push({ text: `Round the length up to ${hexGrouped(length)}, a multiple of ${formatSize(align)}`, steps: [auto(length)] });
    }
    if (r.rule === 'no-space' && core.allowed.length > 0) {
      out.push({ text: 'Clear the allowed ranges, then map again', steps: [{ op: 'allow', ranges: [] }, auto(req.length)] });
    }
    return out;
  }
  const iova = req.iova;
  const at = (start: bigint, length: bigint, va = req.va): IoasStep => ({ op: 'map', iova: start, length, fixed: true, ...withVa(va), ...(req.backing ? { backing: req.backing } : {}), ...(req.file ? { file: true } : {}) });
  let length = req.length;
  if (r.rule === 'length-alignment') {
    length = alignUp(req.length, align);
    if (length <= MAX_ADDRESS) out.push({ text: `Round the length up to ${hexGrouped(length)}, a multiple of ${formatSize(align)}`, steps: [at(iova, length)] });
  }
  if (PLACEMENT_RULES.has(r.rule) && length > 0n && length <= MAX_ADDRESS) {
    for (const c of nearestPlacements(core, iova, length, align)) {
      const where = c < iova ? `${formatSize(iova - c)} lower` : `${formatSize(c - iova)} higher`;
      out.push({ text: `Map at ${hexGrouped(c)} instead: the nearest free ${formatSize(align)}-aligned IOVA ${c < iova ? 'below' : 'above'} (${where})`, steps: [at(c, length)] });
    }
  }
  // A BAR (pfnmap, dma-buf) is mapped whole or not at all: half a BAR is no use to a peer.
  const whole = req.backing === 'pfnmap' || req.backing === 'dma-buf';
  if (HOLE_RULES.has(r.rule) && !whole && iova + length - 1n <= MAX_ADDRESS) {
    const pieces = keepTotalPieces(core, iova, length, align);
    if (pieces.length > 1) {
      const steps = pieces.map((p) => at(p.start, sizeOf(p), req.va === undefined ? undefined : req.va + p.offset));
      const text = `Map it as ${pieces.length} pieces that keep all ${formatSize(length)}: ${pieces.map((p) => `${describeRange(p)}`).join(', then ')} — the part before what is in the way stays at ${hexGrouped(iova)}, the rest moves past it`;
      out.push({ text, steps });
    }
  }
  if (PLACEMENT_RULES.has(r.rule) && length > 0n && length <= MAX_ADDRESS) {
    // A guest that picks IOVAs itself (virtio-iommu, a vIOMMU) must be told where it may: the valid ranges.
    const valid = core.validSet.ranges.filter((v) => sizeOf(v) >= length);
    const first = core.reservedSet.union(core.areaSet).complement().lowestFit(length, { align });
    if (valid.length > 0 && first !== undefined) {
      const list = valid.slice(0, 3).map(describeRange).join(', ') + (valid.length > 3 ? ` and ${valid.length - 3} more` : '');
      out.push({
        text: `If a guest chooses this IOVA (virtio-iommu, vIOMMU), advertise only ${list} as its input range and the rest as reserved regions; its first fit is ${hexGrouped(first)}`,
        steps: [at(first, length)],
      });
    }
  }
  if (r.rule === 'area-overlap') {
    const unmaps: IoasStep[] = r.involved.filter((f) => f.fact === 'mapping').map((f) => ({ op: 'unmap', iova: f.range.start, length: sizeOf(f.range) }));
    out.push({ text: `${sentence(unmaps)} first, then map`, steps: [...unmaps, at(iova, length)] });
  }
  if (r.rule === 'entry-limit') out.push(...entryLimitSuggestions(core, req, at(iova, length)));
  return out;
}

/**
 * The container keeps the limit it read at VFIO_SET_IOMMU. Two ways out: merge the new range
 * with a neighbour it continues (same count), or raise the parameter and re-open the container
 * (every group leaves, which drops all mappings; they come back, and everything is mapped again).
 */
function entryLimitSuggestions(core: IoasCore, req: MapPlanRequest, map: IoasStep): Suggestion[] {
  const out: Suggestion[] = [];
  if (req.iova === undefined) return out;
  const last = req.iova + req.length - 1n;
  for (const m of core.areas) {
    const before = m.last + 1n === req.iova;
    const after = last + 1n === m.start;
    if (!before && !after) continue;
    const vaKnown = m.va !== undefined && req.va !== undefined;
    if (vaKnown && (before ? (m.va as bigint) + sizeOf(m) !== req.va : (req.va as bigint) + req.length !== m.va)) continue;
    const start = before ? m.start : req.iova;
    const va = vaKnown ? (before ? m.va : req.va) : undefined;
    const merged: IoasStep = { op: 'map', iova: start, length: req.length + sizeOf(m), fixed: true, ...(va !== undefined ? { va } : {}) };
    const note = vaKnown ? '' : ' (the user memory must be contiguous too)';
    out.push({ text: `Merge it with the adjacent ${describeRange(m)}: unmap that and map ${describeRange({ start, last: start + req.length + sizeOf(m) - 1n })} as one mapping${note}`, steps: [{ op: 'unmap', iova: m.start, length: sizeOf(m) }, merged] });
  }
  const limit = core.areas.length + 1;
  const groups = core.attachments.map((a) => a.id);
  const remap: IoasStep[] = core.areas.map((m) => ({ op: 'map', iova: m.start, length: sizeOf(m), fixed: true, ...(m.va !== undefined ? { va: m.va } : {}) }));
  out.push({
    text: `Set vfio_iommu_type1.dma_entry_limit to ${limit} or more and re-open the container (it reads the limit only when it gets its IOMMU): detach ${groups.join(', ')}, attach again, map the ${core.areas.length} mappings again, then this one`,
    steps: [{ op: 'set-dma-entry-limit', limit }, ...groups.map((device): IoasStep => ({ op: 'detach', device })), ...groups.map((device): IoasStep => ({ op: 'attach', device })), ...remap, map],
  });
  return out;
}

/**
 * For an attach: clear what it collides with — unmap the mappings in the way, trim allowed
 * ranges — re-trying after each fix; or detach another attachment that shapes the valid list.
 */
export function attachSuggestions(core: IoasCore, device: string, r: Rejected, trial: Trial): Suggestion[] {
  const out: Suggestion[] = [];
  const attach: IoasStep = { op: 'attach', device };
  const steps: IoasStep[] = [];
  let allowed: IovaRange[] = core.allowed.map((a) => ({ start: a.start, last: a.last }));
  let result: IoasResult<unknown> | undefined = r;
  for (let round = 0; round < 8; round++) {
    if (!result || result.ok) break;
    const fix = conflictFix(result, steps, allowed);
    if (fix.length === 0) break;
    for (const s of fix) if (s.op === 'allow') allowed = s.ranges;
    steps.push(...fix);
    result = trial([...steps, attach]);
  }
  if (result?.ok && steps.length > 0) out.push({ text: `${sentence(steps)}, then attach ${device}`, steps: [...steps, attach] });
  if (r.rule === 'aperture-disjoint' || r.rule === 'no-valid-range') {
    // The host itself is never detached; another device can move to an IOAS of its own.
    for (const other of core.attachments.filter((a) => a.id !== HOST_ATTACHMENT)) {
      out.push({ text: `Move ${other.id}, whose domain narrows the valid IOVA ranges, to an IOAS of its own (detach it here), then attach ${device}`, steps: [{ op: 'detach', device: other.id }, attach] });
    }
  }
  return out;
}

/** Steps that remove the conflicts a rejection names: unmap its mappings, trim allowed ranges. */
function conflictFix(r: Rejected, done: readonly IoasStep[], allowed: IovaRange[]): IoasStep[] {
  const fix: IoasStep[] = [];
  for (const f of r.involved) {
    if (f.fact !== 'mapping') continue;
    const step: IoasStep = { op: 'unmap', iova: f.range.start, length: sizeOf(f.range) };
    if (!done.some((d) => d.op === 'unmap' && d.iova === step.iova)) fix.push(step);
  }
  const blocking = r.blocking;
  if (r.involved.some((f) => f.fact === 'allowed') && blocking) {
    const trimmed = RangeSet.of(allowed).subtract(RangeSet.single(blocking.range.start, blocking.range.last)).ranges.filter((x) => x.start < x.last);
    fix.push({ op: 'allow', ranges: [...trimmed] });
  }
  return fix;
}

/** For IOMMU_IOAS_ALLOW_IOVAS: drop bad ranges, merge overlapping ones, trim reserved parts. */
export function allowSuggestions(core: IoasCore, ranges: readonly IovaRange[], r: Rejected): Suggestion[] {
  const plain = (list: readonly IovaRange[]) => list.map((x) => ({ start: x.start, last: x.last }));
  const trimmed = (list: readonly IovaRange[]) => plain(RangeSet.of(list).subtract(core.reservedSet).ranges.filter((x) => x.start < x.last));
  const candidates: IovaRange[][] = [];
  if (r.rule === 'allowed-invalid') candidates.push(plain(ranges.filter((x) => x.start < x.last)));
  if (r.rule === 'allowed-overlap') candidates.push(plain(RangeSet.of(ranges).ranges), trimmed(RangeSet.of(ranges).ranges));
  if (r.rule === 'allowed-reserved') candidates.push(trimmed(ranges));
  return candidates.map((list) => ({ text: list.length > 0 ? `Allow ${list.map(describeRange).join(', ')} instead` : 'Allow nothing (no restriction)', steps: [{ op: 'allow', ranges: list }] }));
}

export function unmapSuggestions(core: IoasCore, iova: bigint, length: bigint, r: Rejected): Suggestion[] {
  if (r.rule === 'partial-unmap' && length > 0n) {
    let start = iova;
    let last = iova + length - 1n;
    for (const f of r.involved) {
      if (f.range.start < start) start = f.range.start;
      if (f.range.last > last) last = f.range.last;
    }
    for (const a of core.areasOverlapping({ start, last })) {
      if (a.start < start) start = a.start;
      if (a.last > last) last = a.last;
    }
    const step: IoasStep = { op: 'unmap', iova: start, length: last - start + 1n };
    return [{ text: `Unmap ${describeRange({ start, last })}, which covers the mappings whole`, steps: [step] }];
  }
  if (r.rule === 'unmap-alignment') {
    const align = core.alignment;
    const start = alignDown(iova, align);
    const end = alignUp(iova + length, align);
    if (end > start && end - 1n <= MAX_ADDRESS) return [{ text: `Unmap ${describeRange({ start, last: end - 1n })}, widened to ${formatSize(align)} pages`, steps: [{ op: 'unmap', iova: start, length: end - start }] }];
  }
  return [];
}

export function optionSuggestions(r: Rejected): Suggestion[] {
  const off: IoasStep = { op: 'set-large-pages', enabled: false };
  if (r.rule === 'large-pages-in-use') return [{ text: 'Unmap everything, then turn large pages off', steps: [{ op: 'unmap-all' }, off] }];
  if (r.rule === 'alignment-in-use') {
    const unmaps: IoasStep[] = r.involved.filter((f) => f.fact === 'mapping').map((f) => ({ op: 'unmap', iova: f.range.start, length: sizeOf(f.range) }));
    return [{ text: `${sentence(unmaps)}, then turn large pages off`, steps: [...unmaps, off] }];
  }
  return [];
}

export function reserveSuggestions(core: IoasCore, range: IovaRange, r: Rejected): Suggestion[] {
  const steps: IoasStep[] = core.areasOverlapping(range).map((m) => ({ op: 'unmap', iova: m.start, length: sizeOf(m) }));
  if (r.rule === 'reserved-allowed' || core.allowedOverlapping(range).length > 0) {
    const allowed = RangeSet.of(core.allowed).subtract(RangeSet.single(range.start, range.last)).ranges.filter((x) => x.start < x.last);
    steps.push({ op: 'allow', ranges: [...allowed] });
  }
  if (steps.length === 0) return [];
  return [{ text: `${sentence(steps)}, then reserve ${describeRange(range)}`, steps: [...steps, { op: 'reserve', start: range.start, last: range.last }] }];
}
