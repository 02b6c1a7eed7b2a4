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
import { type Layout, type Violation, verifyInSpace } from '../explain/verify.js';
import { type HoleCategory, holeCategory } from './palette.js';

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
   * unsatisfiable spec is pinned (nothing is placed then, but these show where the conflict is).
   */
  state: 'placed' | 'wanted';
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
  /** `Conflict 1`, `Violation 3`. */
  label: string;
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

/** Everything a picture shows. Build one with {@link sceneOfSpace}, {@link sceneOfSolution} or {@link sceneOfLayout}. */
export interface Scene {
  title: string;
  /** Short lines about the host and the policy, shown under the title. */
  facts: string[];
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
}

export interface SceneOptions {
  /** Replaces the default title. */
  title?: string;
}

export interface LayoutSceneOptions extends SceneOptions {
  /** The violations to show; default: what {@link verifyInSpace} finds. */
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
    summary: `${space.usable.ranges.length} usable range${plural(space.usable.ranges.length)}, ${space.holes.length} hole${plural(space.holes.length)}`,
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
      scene.summary = `sat: ${result.placements.length} placement${plural(result.placements.length)}`;
      scene.placements = result.placements.map((p) => {
        const request = problem.requests.find((r) => r.name === p.name);
        return {
          name: p.name,
          start: p.iova,
          last: p.last,
          size: p.size,
          state: 'placed',
          conflict: false,
          details: [`pages: ${p.pages.map((x) => `${x.count}×${formatSize(x.pageSize)}`).join(' + ')}`, ...(request ? [describeProvenance(request.source)] : [])],
        };
      });
      break;
    case 'unsat':
      scene.summary = `unsat: ${result.conflicts.length} conflict${plural(result.conflicts.length)}`;
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
 * A layout on a host: its placements, with every violation that {@link verifyInSpace} finds
 * (or the ones given) highlighted on the placements, holes and mappings it names.
 */
export function sceneOfLayout(space: AddressSpace, layout: Layout, options: LayoutSceneOptions = {}): Scene {
  const existing = layout.existing ?? [];
  const violations = options.violations ?? verifyInSpace(space, layout.placements, existing);
  const scene: Scene = {
    ...base(space),
    title: options.title ?? `Layout on host ${space.host.name}`,
    verdict: violations.length === 0 ? 'accepted' : 'rejected',
    summary: violations.length === 0 ? 'accepted: no violation' : `rejected: ${violations.length} violation${plural(violations.length)}`,
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
      message: v.message + (v.enforced ? '' : ' [the kernel would not refuse this; the DMA would misbehave]'),
      // The source, unless the message already quotes it.
      details: v.source && !v.message.includes(describeProvenance(v.source)) ? [describeProvenance(v.source)] : [],
      ranges: uniqueRanges(ranges),
    });
  });
  return scene;
}

function base(space: AddressSpace): Omit<Scene, 'title' | 'verdict' | 'summary'> {
  const attached = space.attachments.map((a) => (a.group && a.device ? `${a.id} (group ${a.group.id})` : a.id));
  const sources = [...new Set(space.attachments.map((a) => describeProvenance(a.geometry.source)))];
  return {
    facts: [
      `host ${space.host.name}, policy ${space.policy}, alignment ${formatSize(space.alignment)}, pages ${formatPageSizes(space.pageSizes)}`,
      `attached: ${attached.length > 0 ? attached.join(', ') : 'nothing'}`,
    ],
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

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
