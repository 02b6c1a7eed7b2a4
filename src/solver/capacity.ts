/**
 * Capacity bounds: arithmetic that proves a group of requests cannot all fit, before any search.
 *
 * Every flexible request must lie wholly inside one free segment of the space it may use
 * (the aperture windows ∩ its `within` ranges ∩ below its DMA mask, minus holes, existing
 * mappings and fixed requests), start at a multiple of its alignment, and overlap no other
 * request. For an alignment level A and a size threshold T, take the members aligned to at
 * least A with size at least T:
 *
 *   Σ alignUp(size, A)  ≤  Σ over segments [s, l] with l + 1 − alignUp(s, A) ≥ T of
 *                          alignUp(l + 1, A) − alignUp(s, A)
 *
 * Why it holds: such a request at x (a multiple of A) in segment [s, l] has x ≥ alignUp(s, A)
 * and x + size ≤ l + 1, so its slot rounded up to A, [x, alignUp(x + size, A) − 1], lies in
 * [alignUp(s, A), alignUp(l + 1, A) − 1]; two such rounded slots never overlap (the later one
 * starts at a multiple of A at or after the earlier one's end); and it can only be in a segment
 * whose aligned room l + 1 − alignUp(s, A) is at least its size ≥ T. A = 1 and T = the smallest
 * size is the plain area bound (total size against free space). When every member's size is a
 * multiple of A too, a slot ends at a multiple of A, so a segment holds only its whole A-blocks:
 * alignDown(l + 1, A) − alignUp(s, A) (the `whole` form). When the inequality fails, no
 * placement exists: the failed inequality is the proof, and {@link checkBound} re-derives it
 * from the problem alone before an answer uses it.
 */
import { alignDown, alignUp, maskOfBits, MAX_ADDRESS } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import type { IovaRange } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import { type Constraint, constraintId, type ExistingMapping, type PlacementRequest, type Problem } from './problem.js';
import { constraintsFor } from './constraints.js';
import type { Deadline } from './deadline.js';

/** Something that takes space out of what the members may use. */
export type Cut =
  | { kind: 'hole'; index: number; hole: Hole }
  | { kind: 'existing'; index: number; mapping: ExistingMapping }
  | { kind: 'fixed'; request: string; range: IovaRange };

export interface CapacityBound {
  /** The requests the bound is about, largest first. */
  requests: string[];
  /** Every member is aligned to at least this; sizes and segments are counted rounded to it. */
  align: bigint;
  /** Only segments with room for a slot of this size (at `align`) count: no member is smaller. */
  minSize: bigint;
  /** Every member's size is a multiple of `align`: segments count only their whole aligned blocks. */
  whole: boolean;
  /** Σ of the members' sizes, each rounded up to `align`. */
  need: bigint;
  /** What the counted segments hold at `align`. */
  holds: bigint;
  /** The space the members may use before cuts: windows ∩ within ∩ DMA masks. */
  space: IovaRange[];
  /** The cuts the bound needs (dropping any one lets `holds` reach `need`, when `minimal`). */
  cuts: Cut[];
  /** Every member and cut was checked to be needed by the bound. */
  minimal: boolean;
}

/** The failed bound with the fewest members, and the tightest bound that held (for `unknown`). */
export interface CapacityScan {
  failed?: CapacityBound;
  /** The bound with the least room left (holds − need), when none failed. */
  closest?: CapacityBound;
  /** The deadline passed before every group was scanned: finding no failed bound proves nothing. */
  interrupted?: boolean;
}

interface Member {
  name: string;
  size: bigint;
  align: bigint;
}

/** Where a flexible request may go before cuts. */
function baseOf(problem: Problem, r: PlacementRequest): RangeSet {
  let base = RangeSet.of(problem.windows);
  if (r.within) base = base.intersect(r.within);
  if (r.dmaBits !== undefined && r.dmaBits < 64) base = base.intersect(RangeSet.single(0n, maskOfBits(r.dmaBits)));
  return base;
}

/** Holes, existing mappings and fixed requests: everything a flexible request must avoid. */
export function cutsOf(problem: Problem): Cut[] {
  const cuts: Cut[] = [];
  problem.space.holes.forEach((hole, index) => {
    if (hole.kind !== 'aperture') cuts.push({ kind: 'hole', index, hole });
  });
  problem.existing.forEach((mapping, index) => cuts.push({ kind: 'existing', index, mapping }));
  for (const r of problem.requests) {
    if (!r.fixed) continue;
    const last = r.fixed.iova + r.size - 1n;
    cuts.push({ kind: 'fixed', request: r.name, range: { start: r.fixed.iova, last: last > MAX_ADDRESS ? MAX_ADDRESS : last } });
  }
  return cuts;
}

export function cutRange(c: Cut): IovaRange {
  return c.kind === 'hole' ? c.hole : c.kind === 'existing' ? c.mapping : c.range;
}

/** Room of each segment at alignment A: what counts (`room`) and the longest aligned slot (`fit`). */
function segmentsAt(free: RangeSet, align: bigint, whole: boolean): Array<{ fit: bigint; room: bigint }> {
  const out: Array<{ fit: bigint; room: bigint }> = [];
  for (const r of free.ranges) {
    const s = alignUp(r.start, align);
    const end = whole ? alignDown(r.last + 1n, align) : r.last + 1n;
    if (s >= end) continue;
    out.push({ fit: end - s, room: alignUp(end, align) - s });
  }
  return out.sort((a, b) => (a.fit > b.fit ? -1 : a.fit < b.fit ? 1 : 0));
}

/**
 * The first failing prefix at alignment `align`: members (largest rounded size first) against
 * segments sorted by aligned room; the threshold T is the smallest member so far. Also the
 * least slack seen, for the closest bound.
 */
function sweep(
  members: readonly Member[],
  free: RangeSet,
  align: bigint,
): { whole: boolean; failed?: { count: number; need: bigint; holds: bigint; minSize: bigint }; slack?: { count: number; need: bigint; holds: bigint; minSize: bigint } } {
  const eligible = members.filter((m) => m.align >= align).sort((a, b) => (a.size > b.size ? -1 : a.size < b.size ? 1 : 0));
  const whole = eligible.every((m) => m.size % align === 0n);
  if (eligible.length === 0) return { whole };
  const segments = segmentsAt(free, align, whole);
  let need = 0n;
  let holds = 0n;
  let s = 0;
  let slack: { count: number; need: bigint; holds: bigint; minSize: bigint } | undefined;
  let runStart = 0;
  let needBefore = 0n;
  for (let k = 0; k < eligible.length; k++) {
    const m = eligible[k];
    if (k > 0 && eligible[k - 1].size !== m.size) {
      runStart = k;
      needBefore = need;
    }
    need += alignUp(m.size, align);
    while (s < segments.length && segments[s].fit >= m.size) holds += segments[s++].room;
    // Only where the next member is smaller does the threshold move; check at the end of a run.
    if (k + 1 < eligible.length && eligible[k + 1].size === m.size) continue;
    const at = { count: k + 1, need, holds, minSize: m.size };
    if (need > holds) {
      // The fewest members of this run that still overflow (earlier runs passed their check).
      const each = alignUp(m.size, align);
      const count = runStart + Number((holds - needBefore) / each) + 1;
      return { whole, failed: { ...at, count, need: needBefore + BigInt(count - runStart) * each } };
    }
    if (!slack || holds - need < slack.holds - slack.need) slack = at;
  }
  return { whole, slack };
}

function bandsOf(members: readonly Member[]): bigint[] {
  return [...new Set(members.map((m) => m.align))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Scan the problem's groups: for every distinct space a request may use, the requests whose
 * space lies inside it; and all flexible requests together. Returns the failed bound with the
 * fewest members, minimised; else the closest bound.
 */
export function scanCapacity(problem: Problem, options: { deadline?: Deadline } = {}): CapacityScan {
  const flexible = problem.requests.filter((r) => !r.fixed);
  if (flexible.length === 0) return {};
  const cuts = cutsOf(problem);
  const cutSet = RangeSet.of(cuts.map(cutRange));
  const bases = new Map<string, { base: RangeSet; members: PlacementRequest[] }>();
  for (const r of flexible) {
    const key = `${r.within ? r.within.ranges.map((x) => `${x.start}-${x.last}`).join(',') : '*'}|${r.dmaBits ?? '*'}`;
    const entry = bases.get(key) ?? { base: baseOf(problem, r), members: [] };
    entry.members.push(r);
    bases.set(key, entry);
  }
  const groups: Array<{ base: RangeSet; members: PlacementRequest[] }> = [];
  const distinct = [...bases.values()];
  // Nested spaces (a 32-bit mask inside the whole window) make groups of their own; pairwise
  // containment is checked only while the number of distinct spaces is small.
  for (const g of distinct) {
    const inside = distinct.length <= 64 ? distinct.filter((h) => h.base.subtract(g.base).isEmpty).flatMap((h) => h.members) : g.members;
    groups.push({ base: g.base, members: inside });
  }
  if (distinct.length > 1) groups.push({ base: distinct.reduce((u, g) => u.union(g.base), RangeSet.EMPTY), members: flexible });

  let failed: { bound: Omit<CapacityBound, 'cuts' | 'minimal'>; base: RangeSet; members: Member[] } | undefined;
  let closest: CapacityBound | undefined;
  let interrupted = false;
  for (const g of groups) {
    // A group costs a sort of its members: worth a look at the clock each.
    if (options.deadline?.passed()) {
      interrupted = true;
      break;
    }
    const free = g.base.subtract(cutSet);
    const members = g.members.map((r) => ({ name: r.name, size: r.size, align: r.align }));
    for (const align of bandsOf(members)) {
      const { whole, failed: f, slack } = sweep(members, free, align);
      if (f && (!failed || f.count < failed.bound.requests.length)) {
        const chosen = members.filter((m) => m.align >= align).sort((a, b) => (a.size > b.size ? -1 : a.size < b.size ? 1 : 0)).slice(0, f.count);
        failed = { bound: { requests: chosen.map((m) => m.name), align, whole, minSize: f.minSize, need: f.need, holds: f.holds, space: [...g.base.ranges] }, base: g.base, members: chosen };
      }
      if (slack && (!closest || slack.holds - slack.need < closest.holds - closest.need)) {
        const chosen = members.filter((m) => m.align >= align).sort((a, b) => (a.size > b.size ? -1 : a.size < b.size ? 1 : 0)).slice(0, slack.count);
        closest = { requests: chosen.map((m) => m.name), align, whole, minSize: slack.minSize, need: slack.need, holds: slack.holds, space: [...g.base.ranges], cuts: [], minimal: false };
      }
    }
  }
  if (!failed) return interrupted ? { closest, interrupted } : { closest };
  return { failed: minimiseCuts(failed.bound, failed.base, failed.members, cuts, options.deadline) };
}

/** What the bound holds for these members, at its alignment, with only `cuts` taken out. */
function holdsWith(base: RangeSet, cuts: readonly Cut[], align: bigint, whole: boolean, minSize: bigint): bigint {
  let holds = 0n;
  for (const seg of segmentsAt(base.subtract(RangeSet.of(cuts.map(cutRange))), align, whole)) if (seg.fit >= minSize) holds += seg.room;
  return holds;
}

/**
 * Keep only the cuts the bound needs: try giving each back (largest first) and keep it out
 * while the bound still fails. Stops early at the deadline (the bound stays a proof, only not
 * a minimal one).
 */
function minimiseCuts(bound: Omit<CapacityBound, 'cuts' | 'minimal'>, base: RangeSet, members: readonly Member[], all: readonly Cut[], deadline?: Deadline): CapacityBound {
  const touching = all.filter((c) => base.overlaps(cutRange(c)));
  const minSize = members.reduce((m, x) => (x.size < m ? x.size : m), members[0].size);
  let kept = [...touching];
  let minimal = true;
  let holds = holdsWith(base, kept, bound.align, bound.whole, minSize);
  if (holdsWith(base, [], bound.align, bound.whole, minSize) < bound.need) {
    kept = [];
    holds = holdsWith(base, [], bound.align, bound.whole, minSize);
  } else {
    const bySize = [...touching].sort((a, b) => {
      const x = cutRange(a).last - cutRange(a).start;
      const y = cutRange(b).last - cutRange(b).start;
      return x > y ? -1 : x < y ? 1 : 0;
    });
    for (const c of bySize) {
      if (deadline?.passed()) {
        minimal = false;
        break;
      }
      const rest = kept.filter((k) => k !== c);
      const h = holdsWith(base, rest, bound.align, bound.whole, minSize);
      if (h < bound.need) {
        kept = rest;
        holds = h;
      }
    }
  }
  return { ...bound, holds, cuts: kept, minimal };
}

/**
 * The core check of a capacity conflict, from the problem alone: every member exists, is
 * flexible and aligned to at least the bound's alignment, may only use space inside the
 * bound's space, and the members' rounded sizes exceed what the space minus the cuts holds.
 * Returns what is wrong, or undefined when the bound proves the conflict.
 */
export function checkBound(problem: Problem, bound: CapacityBound): string | undefined {
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  const space = RangeSet.of(bound.space);
  let need = 0n;
  let minSize: bigint | undefined;
  for (const name of bound.requests) {
    const r = byName.get(name);
    if (!r) return `no request ${name}`;
    if (r.fixed) return `${name} is fixed`;
    if (r.align < bound.align || r.align % bound.align !== 0n) return `${name} is not aligned to ${bound.align}`;
    if (!baseOf(problem, r).subtract(space).isEmpty) return `${name} may lie outside the bound's space`;
    if (bound.whole && r.size % bound.align !== 0n) return `${name}'s size is not a multiple of ${bound.align}`;
    need += alignUp(r.size, bound.align);
    if (minSize === undefined || r.size < minSize) minSize = r.size;
  }
  // Each cut must be something every member has to avoid.
  const cuts = cutsOf(problem);
  for (const c of bound.cuts) {
    const same = cuts.some((x) => x.kind === c.kind && cutRange(x).start === cutRange(c).start && cutRange(x).last === cutRange(c).last);
    if (!same) return 'a cut is not a hole, mapping or fixed request of the problem';
    if (c.kind === 'fixed' && bound.requests.includes(c.request)) return `${c.request} is both a member and a cut`;
  }
  const holds = holdsWith(space, bound.cuts, bound.align, bound.whole, minSize ?? 1n);
  if (need !== bound.need || holds !== bound.holds) return `the figures do not add up (need ${need}, holds ${holds})`;
  return need > holds ? undefined : 'the members fit the space';
}

/**
 * The named constraints a bound rests on, for a bound with few members: each member's window,
 * alignment, `within` and DMA mask, the cuts it needed (each member's own hole or mapping
 * constraint, and a fixed request's pin with its disjointness), and disjointness between members.
 * The set is unsat (the bound proves it); core minimisation can then shrink it to a minimal one.
 */
export function boundConstraints(problem: Problem, bound: CapacityBound): Constraint[] {
  const names = new Set(bound.requests);
  for (const c of bound.cuts) if (c.kind === 'fixed') names.add(c.request);
  const wanted = new Set<string>();
  for (const name of bound.requests) {
    wanted.add(constraintId.aperture(name));
    wanted.add(constraintId.within(name));
    wanted.add(constraintId.dmaMask(name));
    if (bound.align > 1n) {
      wanted.add(constraintId.align(name));
      wanted.add(constraintId.ioasAlign(name));
    }
    for (const c of bound.cuts) {
      if (c.kind === 'hole') wanted.add(constraintId.hole(name, c.index));
      else if (c.kind === 'existing') wanted.add(constraintId.existing(name, c.index));
      else {
        wanted.add(constraintId.fixed(c.request));
        wanted.add(constraintId.disjoint(name, c.request));
      }
    }
    for (const other of bound.requests) if (other !== name) wanted.add(constraintId.disjoint(name, other));
  }
  return constraintsFor(problem, names).filter((c) => wanted.has(c.id));
}
