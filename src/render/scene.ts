/**
 * Scenes: what a picture shows, before any pixel. A builder turns an address space — alone,
 * with a solver's answer, or with a layout and its verification — into plain items (windows,
 * holes, usable ranges, placements, existing mappings, conflicts) with their provenance as
 * text and a `conflict` flag on everything a conflict or violation names. The renderers only
 * lay these out.
 */
import type { AddressSpace } from '../model/address-space.js';
import { formatSize, hexGrouped, MAX_ADDRESS, maskOfBits } from '../model/address.js';
import { type Hole, type HoleKind, type HoleType, kernelEnforces } from '../model/hole.js';
import { formatPageSizes } from '../model/pages.js';
import { describeProvenance } from '../model/provenance.js';
import { compareRanges, describeRange, type IovaRange, overlaps, sameRange } from '../model/range.js';
import type { Conflict } from '../solver/explain.js';
import type { ExistingMapping, Problem } from '../solver/problem.js';
import type { SolveResult } from '../solver/solve.js';
import { formatWarning, spaceWarnings } from '../model/warnings.js';
import { type Layout, type Violation, verifyInSpace } from '../explain/verify.js';
import { type HoleCategory, holeCategory } from './palette.js';
import type { AttachInfo, Ioas, MapInfo } from '../ioas/ioas.js';
import { ownersText } from '../ioas/reserved.js';
import { describeFact, type InvolvedFact, type IoasResult } from '../explain/explanation.js';
import { describeStep } from '../explain/render.js';
import { RangeSet } from '../model/rangeset.js';
import { factWarnings } from '../model/warnings.js';
import { plural } from './text.js';

/** An aperture window: addresses the attached domains translate. */
export interface SceneWindow extends IovaRange {
  provenance: string;
}

export interface SceneHole extends IovaRange {
  kind: HoleKind;
  type: HoleType;
  category: HoleCategory;
  /** Whether the kernel refuses mappings there under the scene's policy. */
  enforced: boolean;
  /** Where the hole came from, as one phrase ({@link describeProvenance}). */
  provenance: string;
  /** Named by a conflict or a violation. */
  conflict: boolean;
}

export interface ScenePlacement extends IovaRange {
  name: string;
  size: bigint;
  /**
   * `placed`: where the solver or the layout put it; `wanted`: where a fixed request of an
   * unsatisfiable spec is pinned, or where a rejected map asked to be (nothing is placed then,
   * but these show where the conflict is); `suggested`: where a checked suggestion would put it.
   */
  state: 'placed' | 'wanted' | 'suggested';
  /** Named by a conflict or a violation. */
  conflict: boolean;
  /** Further lines for the hover details: pages, requirements, provenance. */
  details: string[];
}

/** A mapping that exists already (occupied space, not placed by this answer). */
export interface SceneMapping extends IovaRange {
  name: string;
  provenance: string;
  conflict: boolean;
}

/** One conflict (unsat spec) or violation (layout): its sentence and the ranges it names. */
export interface SceneConflict {
  /** `Conflict 1`, `Violation 3`, `-EINVAL reserved-overlap`. */
  label: string;
  /** The short form drawn on its marks: `#1`, `-EINVAL`. */
  mark: string;
  message: string;
  /** One line per constraint, or the violation's source. */
  details: string[];
  /** The ranges this conflict names, highlighted in the picture. */
  ranges: IovaRange[];
}

/**
 * What the picture answers: `space` (a host alone), the solver's `sat` / `unsat` / `unknown`,
 * or whether a host `accepted` or `rejected` a layout.
 */
export type Verdict = 'space' | 'sat' | 'unsat' | 'unknown' | 'accepted' | 'rejected';

/** Everything a picture shows. Build one with {@link sceneOfSpace}, {@link sceneOfSolution}, {@link sceneOfLayout} or {@link sceneOfIoasAnswer}. */
export interface Scene {
  title: string;
  /** Short lines about the host and the policy, shown under the title. */
  facts: string[];
  /** The answer's warnings (facts skipped or assumed), one line each, shown under the facts. */
  warnings: string[];
  verdict: Verdict;
  /** One line: what the verdict means here ("sat: 3 placements", "unsat: 1 conflict"). */
  summary: string;
  windows: SceneWindow[];
  usable: IovaRange[];
  holes: SceneHole[];
  placements: ScenePlacement[];
  existing: SceneMapping[];
  conflicts: SceneConflict[];
  /** For an unsat spec: repairs that each make it sat (already solved again), cheapest first. */
  repairs: string[];
  /** The heading over `repairs` (no final colon), when it is not the solver's: an IOAS answer's suggestions. */
  repairsHeading?: string;
}

export interface SceneOptions {
  /** Replaces the default title. */
  title?: string;
}

export interface LayoutSceneOptions extends SceneOptions {
  /** The violations to show; default: every violation of the layout in the space (apertures, holes, alignment, limits, overlaps). */
  violations?: readonly Violation[];
  /** The layout file, named in each placement's provenance. */
  file?: string;
}

/** The address space alone: windows, holes and usable ranges. */
export function sceneOfSpace(space: AddressSpace, options: SceneOptions = {}): Scene {
  return {
    ...base(space),
    title: options.title ?? `IOVA space of host ${space.host.name}`,
    verdict: 'space',
    summary: `${plural(space.usable.ranges.length, 'usable range')}, ${plural(space.holes.length, 'hole')}`,
  };
}

/**
 * A solved placement spec: the placements when sat; when unsat, each conflict with the holes,
 * mappings and ranges it names highlighted, and fixed requests drawn where they asked to be.
 */
export function sceneOfSolution(problem: Problem, result: SolveResult, options: SceneOptions = {}): Scene {
  const scene: Scene = {
    ...base(problem.space),
    title: options.title ?? `Placement${problem.source.file ? ` of ${problem.source.file}` : ''} on host ${problem.space.host.name}`,
    verdict: result.status,
    summary: '',
    existing: problem.existing.map(mappingOf),
  };
  switch (result.status) {
    case 'sat':
      scene.summary = `sat: ${plural(result.placements.length, 'placement')}`;
      scene.placements = result.placements.flatMap((p) => {
        const request = problem.requests.find((r) => r.name === p.name);
        // A split request is drawn piece by piece (what lies between them is a hole).
        return (p.pieces ?? [p]).map((x, i) => ({
          name: p.pieces ? `${p.name}[${i}]` : p.name,
          start: x.iova,
          last: x.last,
          size: x.size,
          state: 'placed' as const,
          conflict: false,
          details: [`pages: ${p.pages.map((y) => `${y.count}×${formatSize(y.pageSize)}`).join(' + ')}`, ...(request ? [describeProvenance(request.source)] : [])],
        }));
      });
      break;
    case 'unsat':
      scene.summary = `unsat: ${plural(result.conflicts.length, 'conflict')}`;
      // Nothing is placed, but fixed requests have a place: draw them, the conflicting ones flagged.
      for (const r of problem.requests) {
        if (!r.fixed || r.fixed.iova + r.size - 1n > MAX_ADDRESS) continue;
        scene.placements.push({
          name: r.name,
          start: r.fixed.iova,
          last: r.fixed.iova + r.size - 1n,
          size: r.size,
          state: 'wanted',
          conflict: false,
          details: [`${r.fixed.identity ? 'identity-mapped' : 'fixed'} at ${hexGrouped(r.fixed.iova)}; not placed, the spec is unsat`, describeProvenance(r.source)],
        });
      }
      result.conflicts.forEach((c, i) => markConflict(scene, problem, c, i));
      scene.repairs = result.repairs.map((r) => r.description);
      break;
    case 'unknown':
      scene.summary = `unknown: ${result.reason}`;
      break;
  }
  return scene;
}

/**
 * A layout on a host: its placements, with every violation of them in `space` (apertures,
 * holes, alignment, limits, overlaps; or the violations given) highlighted on the placements,
 * holes and mappings it names.
 */
export function sceneOfLayout(space: AddressSpace, layout: Layout, options: LayoutSceneOptions = {}): Scene {
  const existing = layout.existing ?? [];
  const violations = options.violations ?? verifyInSpace(space, layout.placements, existing);
  const scene: Scene = {
    ...base(space),
    title: options.title ?? `Layout on host ${space.host.name}`,
    verdict: violations.length === 0 ? 'accepted' : 'rejected',
    summary: violations.length === 0 ? 'accepted: no violation' : `rejected: ${plural(violations.length, 'violation')}`,
    existing: existing.map(mappingOf),
    placements: layout.placements
      .map((p, i) => ({
        name: p.name,
        start: p.iova,
        last: p.iova + p.size - 1n,
        size: p.size,
        state: 'placed' as const,
        conflict: false,
        details: [
          ...(p.align !== undefined ? [`align ${formatSize(p.align)}`] : []),
          ...(p.dmaBits !== undefined ? [`${p.dmaBits}-bit DMA mask`] : []),
          ...(p.within !== undefined ? [`within ${p.within.map((w) => describeRange(w)).join(' or ')}`] : []),
          describeProvenance({ what: `placement ${p.name}`, path: `placements[${i}]`, ...(options.file ? { file: options.file } : {}) }),
        ],
      }))
      // A placement that runs past 2^64 has no picture; its violation is still listed.
      .filter((p) => p.size > 0n && p.last <= MAX_ADDRESS),
  };
  violations.forEach((v, i) => {
    const ranges: IovaRange[] = [];
    for (const p of scene.placements) {
      if (p.name === v.placement || (v.kind === 'overlap' && p.name === v.other)) {
        p.conflict = true;
        ranges.push(p);
      }
    }
    const hole = v.hole;
    if (hole) ranges.push(...flagHoles(scene, (h) => sameHole(h, hole)));
    if (v.kind === 'existing') {
      for (const m of scene.existing) {
        if (m.name === v.other) {
          m.conflict = true;
          ranges.push(m);
        }
      }
    }
    if (v.kind === 'outside-aperture') {
      const placed = scene.placements.find((p) => p.name === v.placement);
      if (placed) ranges.push(...flagHoles(scene, (h) => h.kind === 'aperture' && overlaps(h, placed)));
    }
    scene.conflicts.push({
      label: `Violation ${i + 1}`,
      mark: `#${i + 1}`,
      message: v.message + (v.enforced ? '' : ' [the kernel would not refuse this; the DMA would misbehave]'),
      // The source, unless the message already quotes it.
      details: v.source && !v.message.includes(describeProvenance(v.source)) ? [describeProvenance(v.source)] : [],
      ranges: uniqueRanges(ranges),
    });
  });
  return scene;
}

/** What an IOAS answer was asked: one map (fixed at `iova`, or placed by the kernel) or one attach. */
export type IoasQuestion = { op: 'map'; iova?: bigint; length: bigint; fixed: boolean } | { op: 'attach'; device: string };

export interface IoasSceneOptions extends SceneOptions {
  /** The question in a few words (`fixed map at 0xfd_0000_0000`), as the text answer names it. */
  subject?: string;
}

/**
 * An IOAS answer to one map or attach, drawn on the IOAS it was asked of (`before`: the state
 * before the operation): the aperture, the reserved ranges with who brought them, the allowed
 * ranges, the existing mappings and the requested map. A rejection flags the request and every
 * involved fact, and the best suggestion's fixed maps are drawn as dashed `suggested` placements;
 * an accepted map is drawn where it went, with no conflict marks.
 */
export function sceneOfIoasAnswer(before: Ioas, question: IoasQuestion, answer: IoasResult<MapInfo | AttachInfo>, options: IoasSceneOptions = {}): Scene {
  const subject = options.subject ?? (question.op === 'attach' ? `attach ${question.device}` : question.fixed && question.iova !== undefined ? `fixed map at ${hexGrouped(question.iova)}` : 'automatic map');
  const reserved = before.reserved();
  // An accepted attach brings its own reserved ranges: draw them too.
  if (answer.ok && 'device' in answer) for (const f of answer.reserved) if (!reserved.some((r) => sameFact(r, f))) reserved.push(f);
  const holeFacts = [...reserved, ...before.advisory()];
  const apertureHoles = RangeSet.of(reserved.filter((f) => f.holeKind === 'aperture').map((f) => f.range));
  const windows = RangeSet.FULL.subtract(apertureHoles);
  const enforced = RangeSet.of(reserved.filter((f) => f.enforced !== false).map((f) => f.range));
  const allowed = before.allowed;
  let usable = windows.subtract(enforced);
  if (allowed.length > 0) usable = usable.intersect(RangeSet.of(allowed));
  const attached = before.attached;
  const scene: Scene = {
    title: options.title ?? `${subject} on host ${before.host.name}`,
    facts: [
      `host ${before.host.name}, policy ${before.policy}, Linux ${answer.kernel || before.kernel}, alignment ${formatSize(before.alignment)}, pages ${formatPageSizes(before.pageSizes)}`,
      `attached: ${attached.length > 0 ? attached.join(', ') : 'nothing'}`,
      allowed.length > 0 ? `allowed ranges (automatic maps only go there; drawn as usable): ${allowed.map((a) => describeRange(a)).join(', ')}` : 'allowed ranges: none set',
    ],
    warnings: [...factWarnings(before.host).map(formatWarning), ...answer.warnings.map((w) => w.message)],
    verdict: answer.ok ? 'accepted' : 'rejected',
    summary: answer.ok ? `accepted: ${subject}` : `rejected: -${answer.errno} ${answer.rule}`,
    windows: windows.ranges.map((w) => ({ start: w.start, last: w.last, provenance: attached.length > 0 ? `aperture of the domains of ${attached.join(', ')}` : 'the whole 64-bit space (nothing attached)' })),
    usable: [...usable.ranges],
    holes: holeFacts
      .filter((f) => f.holeKind !== undefined && f.holeType !== undefined)
      .map((f) => ({
        start: f.range.start,
        last: f.range.last,
        kind: f.holeKind as HoleKind,
        type: f.holeType as HoleType,
        category: holeCategory({ kind: f.holeKind as HoleKind, type: f.holeType as HoleType }),
        enforced: f.enforced !== false,
        provenance: factProvenance(f),
        conflict: false,
      }))
      .sort(compareRanges),
    placements: [],
    existing: before.mappings.map((m, i) => ({ start: m.start, last: m.last, name: m.name ?? `mapping ${i + 1}`, provenance: describeProvenance(m.source), conflict: false })),
    conflicts: [],
    repairs: [],
  };
  if (question.op === 'map') {
    const at = answer.ok && 'iova' in answer ? answer.iova : question.iova;
    if (at !== undefined && question.length > 0n && at + question.length - 1n <= MAX_ADDRESS) {
      scene.placements.push({
        name: 'requested map',
        start: at,
        last: at + question.length - 1n,
        size: question.length,
        state: answer.ok ? 'placed' : 'wanted',
        conflict: !answer.ok,
        details: [answer.ok ? `${answer.ok && 'automatic' in answer && answer.automatic ? 'placed by the kernel' : 'fixed'} at ${hexGrouped(at)}` : `refused: -${answer.errno} ${answer.rule}`],
      });
    }
  }
  if (answer.ok) return scene;

  // The rejection: the request and every involved fact flagged, the suggestion drawn dashed.
  const ranges: IovaRange[] = scene.placements.filter((p) => p.conflict);
  for (const f of answer.involved) {
    if (f.fact === 'hole') {
      const provenance = factProvenance(f);
      const flagged = flagHoles(scene, (h) => sameRange(h, f.range) && h.kind === f.holeKind && h.provenance === provenance);
      // A refused attach names holes of the device it would bring: draw them, flagged.
      if (flagged.length === 0 && f.holeKind !== undefined && f.holeType !== undefined) {
        const kind = f.holeKind;
        const type = f.holeType;
        scene.holes.push({ start: f.range.start, last: f.range.last, kind, type, category: holeCategory({ kind, type }), enforced: f.enforced !== false, provenance, conflict: true });
        scene.holes.sort(compareRanges);
      }
      ranges.push(f.range);
    } else if (f.fact === 'mapping') {
      for (const m of scene.existing) if (sameRange(m, f.range)) m.conflict = true;
      ranges.push(f.range);
    } else {
      ranges.push(f.range);
    }
  }
  const [best, ...others] = answer.suggestions;
  for (const step of best?.steps ?? []) {
    if (step.op !== 'map' || !step.fixed || step.iova === undefined || step.length === 0n || step.iova + step.length - 1n > MAX_ADDRESS) continue;
    scene.placements.push({
      name: 'suggested map',
      start: step.iova,
      last: step.iova + step.length - 1n,
      size: step.length,
      state: 'suggested',
      conflict: false,
      details: [best.text],
    });
  }
  scene.conflicts.push({
    label: `-${answer.errno} ${answer.rule}`,
    mark: `-${answer.errno}`,
    message: answer.message,
    details: answer.involved.map((f) => describeFact(f) + (f.owners && f.owners.length > 0 ? `; ${ownersText(f.owners)}` : '')),
    ranges: uniqueRanges(ranges),
  });
  if (best) {
    scene.repairsHeading = 'Suggestions (each was checked to be accepted)';
    scene.repairs = [`${best.text} (${best.steps.map(describeStep).join('; ')})`, ...others.map((s) => s.text)];
  }
  return scene;
}

/** A hole fact's source, with who brought it. */
function factProvenance(f: InvolvedFact): string {
  const where = describeProvenance(f.source);
  return f.owners && f.owners.length > 0 ? `${where}; ${ownersText(f.owners)}` : where;
}

function sameFact(a: InvolvedFact, b: InvolvedFact): boolean {
  return sameRange(a.range, b.range) && a.holeKind === b.holeKind && a.holeType === b.holeType && describeProvenance(a.source) === describeProvenance(b.source);
}

function base(space: AddressSpace): Omit<Scene, 'title' | 'verdict' | 'summary'> {
  const attached = space.attachments.map((a) => (a.group && a.device ? `${a.id} (group ${a.group.id})` : a.id));
  const sources = [...new Set(space.attachments.map((a) => describeProvenance(a.geometry.source)))];
  return {
    facts: [
      `host ${space.host.name}, policy ${space.policy}, alignment ${formatSize(space.alignment)}, pages ${formatPageSizes(space.pageSizes)}`,
      `attached: ${attached.length > 0 ? attached.join(', ') : 'nothing'}`,
    ],
    warnings: spaceWarnings(space).map(formatWarning),
    windows: space.windows.ranges.map((w) => ({ start: w.start, last: w.last, provenance: sources.join('; ') || 'the whole 64-bit space' })),
    usable: [...space.usable.ranges],
    holes: space.holes.map((h) => ({
      start: h.start,
      last: h.last,
      kind: h.kind,
      type: h.type,
      category: holeCategory(h),
      enforced: kernelEnforces(h.kind, space.policy),
      provenance: describeProvenance(h.source),
      conflict: false,
    })),
    placements: [],
    existing: [],
    conflicts: [],
    repairs: [],
  };
}

function mappingOf(m: ExistingMapping): SceneMapping {
  return { start: m.start, last: m.last, name: m.name, provenance: describeProvenance(m.source), conflict: false };
}

/** Mark one unsat conflict: the holes and mappings its constraints avoid, the wanted placements. */
function markConflict(scene: Scene, problem: Problem, conflict: Conflict, index: number): void {
  const ranges: IovaRange[] = [];
  const names = [...new Set(conflict.constraints.flatMap((c) => c.requests))];
  const wanted: ScenePlacement[] = [];
  for (const name of names) {
    const p = scene.placements.find((x) => x.name === name);
    if (p) {
      p.conflict = true;
      wanted.push(p);
      ranges.push(p);
    }
  }
  for (const c of conflict.constraints) {
    if (c.kind === 'hole' && c.range) {
      const at = c.range;
      const source = c.source ? describeProvenance(c.source) : undefined;
      const flagged = flagHoles(scene, (h) => sameRange(h, at) && (source === undefined || h.provenance === source));
      ranges.push(...(flagged.length > 0 ? flagged : [at]));
    } else if (c.kind === 'existing' && c.range) {
      const at = c.range;
      for (const m of scene.existing) if (sameRange(m, at)) m.conflict = true;
      ranges.push(at);
    } else if (c.kind === 'aperture') {
      // Outside the aperture: the aperture holes under the wanted placements are the blockers.
      for (const p of wanted) ranges.push(...flagHoles(scene, (h) => h.kind === 'aperture' && overlaps(h, p)));
    } else if (c.kind === 'within') {
      ranges.push(...(problem.requests.find((q) => q.name === c.requests[0])?.within?.ranges ?? []));
    } else if (c.kind === 'dma-mask') {
      // The forbidden part: at and above 2^bits.
      const bits = problem.requests.find((q) => q.name === c.requests[0])?.dmaBits;
      if (bits !== undefined && bits < 64) ranges.push({ start: maskOfBits(bits) + 1n, last: MAX_ADDRESS });
    }
  }
  scene.conflicts.push({
    label: `Conflict ${index + 1}`,
    mark: `#${index + 1}`,
    message: conflict.message + (conflict.minimal ? '' : ' (possibly not minimal)'),
    details: conflict.constraints.map((c) => c.text + (c.source && !c.text.includes(describeProvenance(c.source)) ? ` [${describeProvenance(c.source)}]` : '')),
    ranges: uniqueRanges(ranges),
  });
}

/** Flag the scene's holes that match; their ranges. */
function flagHoles(scene: Scene, match: (h: SceneHole) => boolean): IovaRange[] {
  const out: IovaRange[] = [];
  for (const h of scene.holes) {
    if (match(h)) {
      h.conflict = true;
      out.push(h);
    }
  }
  return out;
}

function sameHole(scene: SceneHole, hole: Hole): boolean {
  return sameRange(scene, hole) && scene.kind === hole.kind && scene.type === hole.type && scene.provenance === describeProvenance(hole.source);
}

/** Distinct ranges, sorted. */
function uniqueRanges(ranges: readonly IovaRange[]): IovaRange[] {
  const seen = new Set<string>();
  const out: IovaRange[] = [];
  for (const r of [...ranges].sort(compareRanges)) {
    const key = `${r.start}:${r.last}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ start: r.start, last: r.last });
  }
  return out;
}
