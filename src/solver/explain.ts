/**
 * Conflicts in domain words: a minimal set of constraints becomes one headline sentence and
 * one line per constraint, each with its provenance.
 */
import { formatSize, hexGrouped, maskOfBits } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import { describeProvenance, type Provenance } from '../model/provenance.js';
import { describeRange, type IovaRange } from '../model/range.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';
import { requestNamed } from './problem.js';
import { describeBounds, describeHole, describeHoleRange, describePlacement, describeRequest } from '../explain/words.js';

export interface ExplainedConstraint {
  id: string;
  kind: Constraint['kind'];
  /** The request the constraint is about (and the other one, for relations). */
  requests: string[];
  text: string;
  /** The text without its detail (which windows, where a hole came from), for lists of rules. */
  brief: string;
  /** The hole or mapping avoided, for `hole` and `existing`. */
  range?: IovaRange;
  source?: Provenance;
}

export interface Conflict {
  message: string;
  constraints: ExplainedConstraint[];
  /** False when a solver timeout left the set possibly larger than needed. */
  minimal: boolean;
}

/** The conflict a minimal core stands for. */
export function explainCore(problem: Problem, core: readonly Constraint[], minimal = true): Conflict {
  return { message: headline(problem, core), constraints: core.map((c) => explainConstraint(problem, c)), minimal };
}

export function explainConstraint(problem: Problem, c: Constraint): ExplainedConstraint {
  const full = explainInFull(problem, c);
  const name = `\`${c.request}\``;
  const brief = c.kind === 'aperture' ? `${name} must lie inside an aperture window` : c.kind === 'hole' ? `${name} must avoid ${describeHoleRange(c.hole)}` : full.text;
  return { ...full, brief };
}

function explainInFull(problem: Problem, c: Constraint): Omit<ExplainedConstraint, 'brief'> {
  const r = requestNamed(problem, c.request);
  const name = `\`${c.request}\``;
  const base = { id: c.id, kind: c.kind, requests: 'other' in c ? [c.request, c.other] : [c.request] };
  switch (c.kind) {
    case 'aperture':
      return { ...base, text: `${name} must lie inside an aperture window: ${windowsText(problem)}`, source: problem.windows[0]?.source };
    case 'hole':
      return { ...base, text: `${name} must avoid ${describeHole(c.hole)}${inherits(c.hole)}`, range: { start: c.hole.start, last: c.hole.last }, source: c.hole.source };
    case 'existing':
      return { ...base, text: `${name} must avoid ${c.mapping.name}, mapped at ${describeRange(c.mapping)}`, range: { start: c.mapping.start, last: c.mapping.last }, source: c.mapping.source };
    case 'align':
      return {
        ...base,
        text: c.ioas
          ? `${name} must be aligned to ${formatSize(c.align)}, the IOAS alignment (the smallest IOMMU page of the attached domains)`
          : `${name} must be aligned to ${formatSize(c.align)}`,
        source: c.ioas ? problem.space.attachments[0]?.geometry.source : r.source,
      };
    case 'size-multiple':
      return { ...base, text: `${name} is ${formatSize(r.size)}, not a whole number of ${formatSize(c.alignment)} IOMMU pages`, source: r.source };
    case 'fixed':
      return {
        ...base,
        text: c.identity ? `${name} must be identity-mapped at physical address ${hexGrouped(c.iova)}` : `${name} is fixed at ${hexGrouped(c.iova)}`,
        source: r.source,
      };
    case 'within':
      return { ...base, text: `${name} must lie within ${(r.within?.ranges ?? []).map(describeBounds).join(' or ')}`, source: r.source };
    case 'dma-mask':
      return { ...base, text: `${name} must lie below ${hexGrouped(maskOfBits(c.bits) + 1n)} (a ${c.bits}-bit DMA mask)`, source: r.source };
    case 'disjoint':
      return { ...base, text: `${name} and \`${c.other}\` must not overlap` };
    case 'above':
      return { ...base, text: `${name} must lie above \`${c.other}\``, source: r.source };
    case 'offset':
      return { ...base, text: `${name} must start at \`${c.other}\` ${c.offset < 0n ? '-' : '+'} ${hexGrouped(c.offset < 0n ? -c.offset : c.offset)}`, source: r.source };
    case 'same-window':
      return { ...base, text: `${name} and \`${c.other}\` must share one aperture window (window group ${c.tag})`, source: r.source };
  }
}

function windowsText(problem: Problem): string {
  if (problem.windows.length === 0) return 'none (the attached domains have no common aperture)';
  const ranges = problem.windows.map(describeBounds).join(', ');
  const source = problem.windows[0].source;
  return `${ranges} (${describeProvenance(source)})`;
}

/** Reserved regions of a group bind the whole IOAS, not only that group's devices. */
function inherits(hole: Hole): string {
  if (hole.kind === 'reserved-region' && hole.source.group !== undefined) return ', which every device in this IOAS inherits';
  if (hole.kind === 'p2p') return '; the kernel does not refuse such a mapping, the DMA would reach the peer instead of memory';
  return '';
}

function headline(problem: Problem, core: readonly Constraint[]): string {
  const names = [...new Set(core.flatMap((c) => ('other' in c ? [c.request, c.other] : [c.request])))];
  const requests = names.map((n) => requestNamed(problem, n));
  if (requests.length === 1) return singleHeadline(problem, requests[0], core);
  const list = requests.map((r) => describeRequest(r.name, r.size));
  const rules = core.map((c) => explainConstraint(problem, c).brief);
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]} cannot all be placed: ${rules.join('; ')}`;
}

function singleHeadline(problem: Problem, r: PlacementRequest, core: readonly Constraint[]): string {
  const fixed = core.find((c) => c.kind === 'fixed');
  const holes = core.filter((c): c is Extract<Constraint, { kind: 'hole' }> => c.kind === 'hole');
  const existing = core.filter((c): c is Extract<Constraint, { kind: 'existing' }> => c.kind === 'existing');
  if (core.some((c) => c.kind === 'size-multiple')) {
    return `${describeRequest(r.name, r.size)} is not a whole number of ${formatSize(problem.space.alignment)} IOMMU pages, so the kernel refuses to map it`;
  }
  if (fixed && fixed.kind === 'fixed') {
    const at = `${describePlacement(r.name, fixed.iova, r.size)}${fixed.identity ? ', identity-mapped,' : ''}`;
    if (holes.length === 1 && core.length === 2) return `${at} overlaps ${describeHole(holes[0].hole)}${inherits(holes[0].hole)}`;
    if (existing.length === 1 && core.length === 2) return `${at} overlaps ${existing[0].mapping.name}, mapped at ${describeRange(existing[0].mapping)}`;
    const broken = core.filter((c) => c !== fixed).map((c) => violationText(problem, r, fixed.iova, c));
    return `${at} ${broken.join(', and ')}`;
  }
  const needs = core.filter((c) => c.kind !== 'hole' && c.kind !== 'existing').map((c) => ruleText(problem, r, c));
  const blockers = [...holes.map((h) => describeHole(h.hole)), ...existing.map((e) => `${e.mapping.name} at ${describeBounds(e.mapping)}`)];
  const head = `${describeRequest(r.name, r.size)} has no room`;
  const need = needs.length > 0 ? `: it must ${needs.join(', ')}` : '';
  const block = blockers.length > 0 ? `, and every such slot is blocked by ${blockers.join('; ')}` : '';
  return `${head}${need}${block}`;
}

/** What a request pinned at `iova` does wrong, as a verb phrase ("overlaps …"). */
function violationText(problem: Problem, r: PlacementRequest, iova: bigint, c: Constraint): string {
  switch (c.kind) {
    case 'aperture':
      return `lies outside every aperture window: ${windowsText(problem)}`;
    case 'align':
      return `is not aligned to ${formatSize(c.align)}${c.ioas ? ' (the IOAS alignment)' : ''}`;
    case 'within':
      return `is not within ${(r.within?.ranges ?? []).map(describeBounds).join(' or ')}`;
    case 'dma-mask':
      return `ends at ${hexGrouped(iova + r.size - 1n)}, above its ${c.bits}-bit DMA mask`;
    case 'hole':
      return `overlaps ${describeHole(c.hole)}${inherits(c.hole)}`;
    case 'existing':
      return `overlaps ${c.mapping.name}, mapped at ${describeRange(c.mapping)}`;
    default:
      return `conflicts with: ${explainConstraint(problem, c).text}`;
  }
}

/** A requirement as a verb phrase ("be aligned to 1 GiB"). */
function ruleText(problem: Problem, r: PlacementRequest, c: Constraint): string {
  switch (c.kind) {
    case 'aperture':
      return `lie inside an aperture window (${problem.windows.map(describeBounds).join(', ') || 'none'})`;
    case 'align':
      return `be aligned to ${formatSize(c.align)}${c.ioas ? ' (the IOAS alignment)' : ''}`;
    case 'within':
      return `lie within ${(r.within?.ranges ?? []).map(describeBounds).join(' or ')}`;
    case 'dma-mask':
      return `lie below ${hexGrouped(maskOfBits(c.bits) + 1n)} (${c.bits}-bit DMA mask)`;
    case 'hole':
      return `avoid ${describeHole(c.hole)}`;
    default:
      return explainConstraint(problem, c).text.replace(`\`${r.name}\` `, '');
  }
}
