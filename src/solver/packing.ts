/**
 * Constructive packing: when the objective's greedy order misses, a few packing passes try to
 * place everything before any question goes to Z3, and capacity conflicts get their repairs.
 *
 * Passes: first-fit decreasing (larger alignment, then larger size, first; each at the lowest
 * slot), then best fit decreasing (each in the shortest free range that holds it). Window tags
 * are bin packing: the tags are shared out over the windows first-fit decreasing by total size,
 * then depth first over the assignments that fit every window by area (a bounded number).
 *
 * The exact case. When every flexible request's size is a power of two and its alignment equals
 * its size (natural alignment, e.g. 4 KiB requests at a 4 KiB IOAS alignment, or 2 MiB at 2 MiB),
 * and they all may use the same space, first-fit decreasing places them all whenever any
 * placement exists. Proof: aligned power-of-two blocks are laminar (two are nested or disjoint).
 * Fix a size s. Every request of size ≥ s is a multiple of s and s-aligned, so in any placement
 * it covers whole s-aligned s-blocks of the free space, disjoint from the others' blocks: so
 * Σ_{size ≥ s} size/s ≤ C_s, the number of s-aligned s-blocks inside free segments. Decreasing
 * order keeps every free s-block whole until requests of size s are placed (larger ones cover
 * whole s-blocks), so when the requests of size s come, C_s − Σ_{size > s} size/s whole
 * s-blocks are free and each of them takes one: the pass fails only if that inequality fails
 * for some s, that is only if no placement exists. That inequality is the capacity bound of
 * `capacity.ts` at alignment s in its `whole` form, so in the exact case the bound proves every
 * failure (tested against exhaustive search). This is the buddy-allocator argument; see also
 * Coffman, Garey and Johnson, "Bin packing with divisible item sizes" (J. Complexity, 1987).
 */
import { alignUp } from '../model/address.js';
import type { IovaRange } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { CapacityBound } from './capacity.js';
import { cutRange, cutsOf } from './capacity.js';
import { type GreedyOptions, type GreedyResult, placeGreedy } from './greedy.js';
import type { Problem } from './problem.js';
import type { Deadline } from './deadline.js';
import type { RepairProposal } from './repair.js';

/** Try at most this many assignments of tags to windows that fit by area. */
const EXACT_TAG_ASSIGNMENTS = 64;

/** A packing, and the window each tag was sent to (when tags were shared out beforehand). */
export interface Packing extends GreedyResult {
  tagWindows?: ReadonlyMap<string, IovaRange>;
}

/**
 * The packing passes, in order; the first that places everything wins, else the one that placed
 * most. A small one-window problem first gets the exact search below.
 */
export function packPlacement(problem: Problem, deadline?: Deadline): Packing {
  const passes: GreedyOptions[] = [
    { order: 'decreasing', fit: 'first' },
    { order: 'decreasing', fit: 'best' },
  ];
  let best: Packing | undefined;
  const exact = exactPack(problem, deadline);
  if (exact) return { placed: exact, failed: [] };
  const nothing = (): Packing => ({ placed: new Map(), failed: problem.requests.map((r) => r.name), interrupted: true });
  for (const assignment of tagAssignments(problem, deadline)) {
    for (const pass of passes) {
      if (deadline?.passed()) return best ? { ...best, interrupted: true } : nothing();
      const result = placeGreedy(problem, undefined, { ...pass, tagWindows: assignment, deadline });
      if (!best || result.failed.length < best.failed.length) best = { ...result, tagWindows: assignment };
      if (result.failed.length === 0) return best;
      if (result.interrupted) return { ...best, interrupted: true };
    }
  }
  // The assignment search itself may have run out of time.
  return best ? (deadline?.passed() ? { ...best, interrupted: true } : best) : nothing();
}

/**
 * Ways to share the window tags out over the windows: none when there are no tags (the greedy
 * then picks), first-fit decreasing by total size, then (for small cases) every assignment.
 */
function* tagAssignments(problem: Problem, deadline?: Deadline): Generator<ReadonlyMap<string, IovaRange> | undefined> {
  const totals = new Map<string, bigint>();
  for (const r of problem.requests) if (r.window !== undefined && !r.fixed) totals.set(r.window, (totals.get(r.window) ?? 0n) + r.size);
  // A tag with a fixed member has its window already.
  for (const r of problem.requests) if (r.window !== undefined && r.fixed) totals.delete(r.window);
  if (totals.size === 0 || problem.windows.length < 2) {
    yield undefined;
    return;
  }
  const free = RangeSet.of(problem.windows).subtract(RangeSet.of(cutsOf(problem).map(cutRange)));
  const room = problem.windows.map((w) => free.intersect(RangeSet.single(w.start, w.last)).size);
  const tags = [...totals.keys()].sort((a, b) => {
    const x = totals.get(a) as bigint;
    const y = totals.get(b) as bigint;
    return x > y ? -1 : x < y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
  const ffd = new Map<string, IovaRange>();
  const left = [...room];
  for (const t of tags) {
    const need = totals.get(t) as bigint;
    const i = left.findIndex((x) => x >= need);
    const at = i >= 0 ? i : left.indexOf(left.reduce((a, b) => (b > a ? b : a), 0n));
    ffd.set(t, problem.windows[at]);
    left[at] -= need;
  }
  yield ffd;
  yield undefined;
  // Then assignments that fit every window by area, depth first in the same order (largest
  // tag first), at most a bounded number of them.
  const choice: number[] = [];
  const used = room.map(() => 0n);
  let tries = 0;
  let nodes = 0;
  function* assign(i: number): Generator<ReadonlyMap<string, IovaRange>> {
    if (tries >= EXACT_TAG_ASSIGNMENTS || deadline?.passedAt(nodes++)) return;
    if (i === tags.length) {
      tries++;
      yield new Map(tags.map((t, k) => [t, problem.windows[choice[k]]]));
      return;
    }
    const need = totals.get(tags[i]) as bigint;
    for (let w = 0; w < problem.windows.length; w++) {
      if (used[w] + need > room[w]) continue;
      used[w] += need;
      choice[i] = w;
      yield* assign(i + 1);
      used[w] -= need;
    }
  }
  yield* assign(0);
}

/**
 * Repairs for a capacity conflict, each to be solved again: shrink the largest member by the
 * shortfall (when it stays at least one IOAS page), or drop the fewest largest members that
 * cover it.
 */
export function boundRepairs(problem: Problem, bound: CapacityBound): RepairProposal[] {
  const page = problem.space.alignment > bound.align ? problem.space.alignment : bound.align;
  const short = alignUp(bound.need - bound.holds, page);
  const members = bound.requests.map((n) => problem.requests.find((r) => r.name === n)).filter((r) => r !== undefined);
  const out: RepairProposal[] = [];
  const largest = members[0];
  if (largest && largest.size - short >= problem.space.alignment) {
    out.push({ changes: [{ kind: 'shrink', request: largest.name, size: largest.size - short }] });
  }
  let covered = 0n;
  const drops: RepairProposal['changes'] = [];
  for (const r of members) {
    if (covered >= bound.need - bound.holds) break;
    drops.push({ kind: 'drop', request: r.name });
    covered += alignUp(r.size, bound.align);
  }
  out.push({ changes: drops });
  // The smallest single member that covers the shortfall, when one does.
  const one = [...members].reverse().find((r) => alignUp(r.size, bound.align) >= bound.need - bound.holds);
  if (one && (drops.length !== 1 || drops[0].request !== one.name)) out.push({ changes: [{ kind: 'drop', request: one.name }] });
  return out;
}

/** The exact search takes one-window problems of at most this many plain requests … */
const EXACT_PACK_REQUESTS = 40;
/** … and gives up after visiting this many search nodes. */
const EXACT_PACK_NODES = 200_000;

/**
 * Exact search for a small one-window problem of plain requests (no `within`, mask, relations
 * or fixed ones): fill the free space from the bottom. At the lowest address not yet decided,
 * either a request (one per class of equal size and alignment, to avoid trying twins) starts
 * there, or the address is left empty, which spends slack (free space minus total size); a
 * branch that spends more slack than there is cannot succeed. Every placement is reachable
 * this way (take any placement and walk it bottom up), so within its node budget the search is
 * complete; past the budget it gives up (undefined) and the other passes and Z3 follow.
 */
function exactPack(problem: Problem, deadline?: Deadline): Map<string, bigint> | undefined {
  const rs = problem.requests;
  if (problem.windows.length !== 1 || rs.length === 0 || rs.length > EXACT_PACK_REQUESTS) return undefined;
  if (rs.some((r) => r.fixed || r.within || r.dmaBits !== undefined || r.above.length > 0 || r.offsetFrom || r.size % problem.space.alignment !== 0n)) return undefined;
  const unit = problem.space.alignment;
  const w = problem.windows[0];
  const segments = RangeSet.single(w.start, w.last).subtract(RangeSet.of(cutsOf(problem).map(cutRange))).ranges;
  let slack = segments.reduce((t, x) => t + (x.last - x.start + 1n), 0n) - rs.reduce((t, r) => t + r.size, 0n);
  if (slack < 0n) return undefined;
  const classes = new Map<string, { size: bigint; align: bigint; names: string[] }>();
  for (const r of rs) {
    const key = `${r.size}/${r.align}`;
    const c = classes.get(key) ?? { size: r.size, align: r.align, names: [] };
    c.names.push(r.name);
    classes.set(key, c);
  }
  // Larger alignment, then larger size first: the first branch tried is first-fit decreasing's choice.
  const order = [...classes.values()].sort((a, b) => (a.align > b.align ? -1 : a.align < b.align ? 1 : a.size > b.size ? -1 : 1));
  const left = order.map((c) => c.names.length);
  const placed = new Map<string, bigint>();
  let nodes = 0;
  let remaining = rs.length;
  const go = (seg: number, at: bigint): boolean | undefined => {
    if (remaining === 0) return true;
    if (++nodes > EXACT_PACK_NODES || deadline?.passedAt(nodes)) return undefined;
    if (seg === segments.length) return false;
    const end = segments[seg].last + 1n;
    if (at >= end) return go(seg + 1, seg + 1 < segments.length ? segments[seg + 1].start : 0n);
    for (let k = 0; k < order.length; k++) {
      const c = order[k];
      if (left[k] === 0 || at % c.align !== 0n || at + c.size > end) continue;
      left[k]--;
      remaining--;
      const name = c.names[left[k]];
      placed.set(name, at);
      const found = go(seg, at + c.size);
      if (found !== false) return found;
      placed.delete(name);
      left[k]++;
      remaining++;
    }
    // Leave [at, next) empty: up to the next address some waiting request could start at.
    let next = end;
    for (let k = 0; k < order.length; k++) {
      if (left[k] === 0) continue;
      const s = alignUp(at + 1n, order[k].align < unit ? unit : order[k].align);
      if (s < next) next = s;
    }
    const waste = next - at;
    if (waste > slack) return false;
    slack -= waste;
    const found = go(seg, next);
    slack += waste;
    return found;
  };
  return go(0, segments[0]?.start ?? 0n) === true ? placed : undefined;
}
