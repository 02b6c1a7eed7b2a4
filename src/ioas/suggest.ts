/**
 * Candidate fixes for a rejected operation. Candidates are cheap guesses; the IOAS keeps only
 * those that a trial run on a copy of the state accepts, so every suggestion shown works.
 */
import { alignDown, alignUp, formatSize, hexGrouped, MAX_ADDRESS } from '../model/address.js';
import { describeRange, type IovaRange, sameRange, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { IoasResult, IoasStep, Rejected, Suggestion } from './explanation.js';
import { type MapPlanRequest, span } from './iommufd.js';
import { MANUAL_OWNER } from './reserved.js';
import type { IoasCore } from './state.js';

/** Runs steps on a copy of the IOAS: the last step's result, or the first failure. */
export type Trial = (steps: readonly IoasStep[]) => IoasResult<unknown> | undefined;

/** Rules a different IOVA can cure. */
const PLACEMENT_RULES = new Set(['iova-alignment', 'length-alignment', 'outside-aperture', 'reserved-overlap', 'area-overlap', 'iova-wrap', 'argument-overflow']);
const HOLE_RULES = new Set(['outside-aperture', 'reserved-overlap', 'area-overlap']);

/** One line for a step, for suggestion texts. */
export function describeStep(s: IoasStep): string {
  switch (s.op) {
    case 'map':
      return s.fixed && s.iova !== undefined ? `map ${describeRange(span(s.iova, s.length))}` : `map ${formatSize(s.length)} at an IOVA the kernel picks`;
    case 'unmap':
      return `unmap ${describeRange(span(s.iova, s.length))}`;
    case 'unmap-all':
      return 'unmap everything';
    case 'attach':
      return `attach ${s.device}`;
    case 'detach':
      return `detach ${s.device}`;
    case 'allow':
      return s.ranges.length === 0 ? 'clear the allowed ranges' : `set the allowed ranges to ${s.ranges.map(describeRange).join(', ')}`;
    case 'iova-ranges':
      return `ask again with room for ${s.capacity} ranges`;
    case 'set-large-pages':
      return `turn large pages ${s.enabled ? 'on' : 'off'}`;
    case 'set-dma-entry-limit':
      return `raise dma_entry_limit to ${s.limit}`;
    case 'reserve':
      return `reserve ${describeRange({ start: s.start, last: s.last })}`;
  }
}

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

/** The parts of `r` clear of reserved ranges and mappings, shrunk to `align`. */
function splitPieces(core: IoasCore, r: IovaRange, align: bigint): IovaRange[] {
  const clear = RangeSet.single(r.start, r.last).subtract(core.reservedSet.union(core.areaSet));
  const pieces = clear.ranges
    .map((p) => ({ start: alignUp(p.start, align), last: alignDown(p.last + 1n, align) - 1n }))
    .filter((p) => p.start <= p.last);
  if (pieces.length === 1 && sameRange(pieces[0], r)) return [];
  return pieces;
}

export function mapSuggestions(core: IoasCore, req: MapPlanRequest, r: Rejected): Suggestion[] {
  const align = core.alignment;
  const out: Suggestion[] = [];
  const withVa = (va: bigint | undefined) => (va !== undefined ? { va } : {});
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
  const at = (start: bigint, length: bigint, va = req.va): IoasStep => ({ op: 'map', iova: start, length, fixed: true, ...withVa(va) });
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
  if (HOLE_RULES.has(r.rule) && iova + length - 1n <= MAX_ADDRESS) {
    const pieces = splitPieces(core, span(iova, length), align);
    if (pieces.length > 0) {
      const steps = pieces.map((p) => at(p.start, sizeOf(p), req.va === undefined ? undefined : req.va + (p.start - iova)));
      const text =
        pieces.length > 1
          ? `Map it as ${pieces.length} pieces around what is in the way: ${pieces.map(describeRange).join(' and ')}`
          : `Map only ${describeRange(pieces[0])}, the part clear of what is in the way`;
      out.push({ text, steps });
    }
  }
  if (r.rule === 'outside-aperture' || r.rule === 'reserved-overlap') {
    const owners = new Set(r.involved.flatMap((f) => f.owners ?? []).filter((o) => o !== MANUAL_OWNER));
    for (const owner of owners) {
      const fact = r.involved.find((f) => f.owners?.includes(owner));
      const why = fact?.holeKind === 'aperture' ? 'whose domain does not translate the range' : `whose ${fact?.what ?? 'reserved range'} is in the way`;
      out.push({ text: `Detach ${owner}, ${why}, then map`, steps: [{ op: 'detach', device: owner }, at(iova, length)] });
    }
  }
  if (r.rule === 'area-overlap') {
    const unmaps: IoasStep[] = r.involved.filter((f) => f.fact === 'mapping').map((f) => ({ op: 'unmap', iova: f.range.start, length: sizeOf(f.range) }));
    out.push({ text: `${sentence(unmaps)} first, then map`, steps: [...unmaps, at(iova, length)] });
  }
  if (r.rule === 'entry-limit') {
    out.push({ text: `Raise dma_entry_limit to ${core.areas.length + 1}, then map`, steps: [{ op: 'set-dma-entry-limit', limit: core.areas.length + 1 }, at(iova, length)] });
  }
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
    for (const other of core.attachments) out.push({ text: `Detach ${other.id}, whose domain narrows the valid IOVA ranges, then attach ${device}`, steps: [{ op: 'detach', device: other.id }, attach] });
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
