/**
 * Deterministic placement in plain TypeScript: requests are placed one unit at a time into
 * the free space, in an order that puts facts and tight requests first, each at the slot the
 * objective prefers. It handles the easy bulk of a problem; when it cannot place a request,
 * the solver hands that request's competitors to Z3, which either finds a placement the
 * greedy order missed or proves that none exists.
 *
 * A unit is a request with everything placed at a fixed offset from it (`offsetFrom`); `above`
 * orders units; a window tag restricts later members to the window of the first one placed.
 */
import { MAX_ADDRESS } from '../model/address.js';
import { RangeSet } from '../model/rangeset.js';
import { type IovaRange, sizeOf } from '../model/range.js';
import { constraintsFor, reachOf } from './constraints.js';
import { domainOf, pickStart, startsIn } from './domain.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';

const G4 = 1n << 32n;

export interface GreedyResult {
  placed: Map<string, bigint>;
  /** Requests that could not be placed, in the order they were tried. */
  failed: string[];
}

interface Unit {
  root: PlacementRequest;
  /** Members with their offset from the root (the root itself at 0). */
  members: Array<{ request: PlacementRequest; offset: bigint }>;
  key: Array<bigint | number>;
}

/** Place every request of the problem it can, under `constraints` (default: all of them). */
export function placeGreedy(problem: Problem, constraints?: readonly Constraint[]): GreedyResult {
  const all = constraints ?? constraintsFor(problem, new Set(problem.requests.map((r) => r.name)));
  const byRequest = new Map<string, Constraint[]>();
  for (const c of all) {
    if (c.kind === 'disjoint' || c.kind === 'above' || c.kind === 'offset' || c.kind === 'same-window') continue;
    const list = byRequest.get(c.request) ?? [];
    list.push(c);
    byRequest.set(c.request, list);
  }
  const units = buildUnits(problem);
  const unitOf = new Map<string, Unit>();
  for (const u of units) for (const m of u.members) unitOf.set(m.request.name, u);

  const placed = new Map<string, bigint>();
  const failed: string[] = [];
  const tagWindow = new Map<string, IovaRange>();
  let occupied = RangeSet.EMPTY;
  const done = new Set<Unit>();

  // Kahn's order over `above` between units, taking the smallest key among the ready ones.
  const deps = new Map<Unit, Set<Unit>>(units.map((u) => [u, new Set<Unit>()]));
  for (const u of units) {
    for (const m of u.members) {
      for (const other of m.request.above) {
        const ou = unitOf.get(other);
        if (ou && ou !== u) deps.get(u)?.add(ou);
      }
    }
  }
  const pending = [...units];
  while (pending.length > 0) {
    let pick = -1;
    for (let i = 0; i < pending.length; i++) {
      const ready = [...(deps.get(pending[i]) ?? [])].every((d) => done.has(d));
      if (ready && (pick < 0 || compareKeys(pending[i].key, pending[pick].key) < 0)) pick = i;
    }
    if (pick < 0) {
      // A cycle of `above`: nothing here can be placed in order; Z3 will explain it.
      for (const u of pending) failed.push(...u.members.map((m) => m.request.name));
      break;
    }
    const unit = pending.splice(pick, 1)[0];
    done.add(unit);
    const start = placeUnit(problem, unit, byRequest, occupied, placed, tagWindow);
    if (start === undefined) {
      failed.push(...unit.members.map((m) => m.request.name));
      continue;
    }
    const slots: IovaRange[] = [];
    for (const m of unit.members) {
      const iova = start + m.offset;
      placed.set(m.request.name, iova);
      slots.push({ start: iova, last: iova + m.request.size - 1n });
      if (m.request.window !== undefined && !tagWindow.has(m.request.window)) {
        const w = problem.windows.find((x) => x.start <= iova && iova <= x.last);
        if (w) tagWindow.set(m.request.window, w);
      }
    }
    occupied = occupied.union(RangeSet.of(slots));
  }
  return { placed, failed };
}

function buildUnits(problem: Problem): Unit[] {
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  const rootOf = (r: PlacementRequest): { root: PlacementRequest; offset: bigint } => {
    let offset = 0n;
    let at = r;
    const seen = new Set<string>();
    while (at.offsetFrom && !seen.has(at.name)) {
      const base = byName.get(at.offsetFrom.request);
      if (!base) break; // a sub-problem without the base: the request stands alone
      seen.add(at.name);
      offset += at.offsetFrom.offset;
      at = base;
    }
    return { root: at, offset };
  };
  const units = new Map<PlacementRequest, Unit>();
  for (const r of problem.requests) {
    const { root, offset } = rootOf(r);
    const unit = units.get(root) ?? { root, members: [], key: [] };
    unit.members.push({ request: r, offset });
    units.set(root, unit);
  }
  for (const u of units.values()) u.key = unitKey(problem, u);
  return [...units.values()];
}

/**
 * Placement order: facts (fixed requests) first; under `compact`, larger alignments and sizes
 * first (first-fit decreasing packs power-of-two blocks perfectly); otherwise the requests
 * with the least room first; the spec order breaks ties.
 */
function unitKey(problem: Problem, u: Unit): Array<bigint | number> {
  const fixed = u.members.some((m) => m.request.fixed) ? 0 : 1;
  const align = u.members.reduce((a, m) => (m.request.align > a ? m.request.align : a), 1n);
  const size = u.members.reduce((s, m) => s + m.request.size, 0n);
  const reach = u.members.reduce((s, m) => {
    const r = reachOf(problem, m.request);
    const n = r ? sizeOf(r) : 0n;
    return n < s ? n : s;
  }, 1n << 64n);
  if (problem.objective === 'compact') return [fixed, -align, -size, u.root.index];
  return [fixed, reach, -align, -size, u.root.index];
}

function compareKeys(a: Array<bigint | number>, b: Array<bigint | number>): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** The root start for a unit, or undefined when no slot satisfies every member. */
function placeUnit(
  problem: Problem,
  unit: Unit,
  byRequest: ReadonlyMap<string, Constraint[]>,
  occupied: RangeSet,
  placed: ReadonlyMap<string, bigint>,
  tagWindow: ReadonlyMap<string, IovaRange>,
): bigint | undefined {
  let starts = RangeSet.FULL;
  let align = 1n;
  let residue = 0n;
  let pinned: bigint | undefined;
  for (const { request: m, offset } of unit.members) {
    const domain = domainOf(problem, m, byRequest.get(m.name) ?? []);
    if (!domain.possible) return undefined;
    let space = domain.space.subtract(occupied);
    const window = m.window !== undefined ? tagWindow.get(m.window) : undefined;
    if (window) space = space.intersect(RangeSet.single(window.start, window.last));
    let floor = 0n;
    for (const other of m.above) {
      const o = problem.requests.find((q) => q.name === other);
      const at = placed.get(other);
      if (o && at !== undefined && at + o.size > floor) floor = at + o.size;
    }
    const own = startsIn(space, m.size).intersect(RangeSet.single(floor, MAX_ADDRESS));
    starts = starts.intersect(shift(own, -offset));
    if (domain.pinned !== undefined) {
      const root = domain.pinned - offset;
      if (pinned !== undefined && pinned !== root) return undefined;
      pinned = root;
    }
    // root + offset ≡ 0 (mod domain.align): fold into one congruence modulo the largest alignment.
    const want = mod(-offset, domain.align);
    if (domain.align >= align) {
      if (mod(residue, align) !== mod(want, align)) return undefined;
      align = domain.align;
      residue = want;
    } else if (mod(residue, domain.align) !== want) return undefined;
  }
  if (pinned !== undefined) return starts.containsAddress(pinned) && mod(pinned, align) === residue ? pinned : undefined;
  return chooseStart(problem, unit, starts, align, residue);
}

/** Pick a start from the valid starts as the objective prefers, trying a preferred alignment first. */
function chooseStart(problem: Problem, unit: Unit, starts: RangeSet, align: bigint, residue: bigint): bigint | undefined {
  const prefer = unit.members.length === 1 ? unit.root.preferAlign : undefined;
  const aligns = prefer !== undefined && prefer > align && residue === 0n ? [prefer, align] : [align];
  for (const a of aligns) {
    const r = mod(residue, a);
    switch (problem.objective) {
      case 'high': {
        const x = pickStart(starts, a, r, true);
        if (x !== undefined) return x;
        break;
      }
      case 'free-below-4g': {
        const above = pickStart(starts.intersect(RangeSet.single(G4, MAX_ADDRESS)), a, r, false);
        if (above !== undefined) return above;
        const below = pickStart(starts, a, r, true);
        if (below !== undefined) return below;
        break;
      }
      default: {
        const x = pickStart(starts, a, r, false);
        if (x !== undefined) return x;
      }
    }
  }
  return undefined;
}

/** The set moved by `delta`, clipped to the 64-bit space. */
function shift(set: RangeSet, delta: bigint): RangeSet {
  if (delta === 0n) return set;
  const out: IovaRange[] = [];
  for (const r of set.ranges) {
    const start = r.start + delta < 0n ? 0n : r.start + delta;
    const last = r.last + delta > MAX_ADDRESS ? MAX_ADDRESS : r.last + delta;
    if (start <= last && r.last + delta >= 0n && r.start + delta <= MAX_ADDRESS) out.push({ start, last });
  }
  return RangeSet.of(out);
}

function mod(a: bigint, m: bigint): bigint {
  return ((a % m) + m) % m;
}
