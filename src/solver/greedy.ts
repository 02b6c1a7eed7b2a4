/**
 * Deterministic placement in plain TypeScript: requests are placed one unit at a time into
 * the free space, in an order that puts facts and tight requests first, each at the slot the
 * objective prefers. It handles the easy bulk of a problem; when it cannot place a request,
 * the solver hands that request's competitors to Z3, which either finds a placement the
 * greedy order missed or proves that none exists.
 *
 * A unit is a request with everything placed at a fixed offset from it (`offsetFrom`); `above`
 * orders units; a window tag restricts later members to the window of the first one placed.
 *
 * Two modes: with the whole problem, every request shares one free space (the usable ranges
 * minus existing mappings), kept in a {@link FreeList}; with a subset of constraints (when
 * checking part of a conflict), each request's own domain comes from its constraints.
 */
import { MAX_ADDRESS, maskOfBits } from '../model/address.js';
import { type IovaRange, sizeOf } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import { reachOf } from './constraints.js';
import { domainOf, pickStart, type RequestDomain, startsIn } from './domain.js';
import { FreeList } from './free-list.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';
import type { Deadline } from './deadline.js';

const G4 = 1n << 32n;

export interface GreedyResult {
  placed: Map<string, bigint>;
  /** Requests that could not be placed, in the order they were tried (and, when interrupted, those not tried). */
  failed: string[];
  /** The deadline passed before every request was tried: `failed` proves nothing. */
  interrupted?: boolean;
}

interface Unit {
  root: PlacementRequest;
  /** Members with their offset from the root (the root itself at 0). */
  members: Array<{ request: PlacementRequest; offset: bigint }>;
  key: Array<bigint | number>;
}

/** Where each request may go: the shared free list, or per-request domains and what is taken. */
interface Space {
  domain(r: PlacementRequest): RequestDomain;
  take(slot: IovaRange): void;
  /** The shared free list, when there is one (enables the fast path). */
  free?: FreeList;
}

/**
 * How to place: the objective's order and slot (the default), or a packing pass for when that
 * misses: `decreasing` takes larger alignments, then larger sizes first; `first` takes the
 * lowest slot, `best` the lowest slot of the shortest free range that holds it. `tagWindows`
 * sends each window tag to a window chosen beforehand.
 */
export interface GreedyOptions {
  order?: 'objective' | 'decreasing';
  fit?: 'objective' | 'first' | 'best';
  tagWindows?: ReadonlyMap<string, IovaRange>;
  /** Stop when it passes, with the requests placed so far (checked every few units). */
  deadline?: Deadline;
}

/** Place every request it can, under `constraints` (default: the whole problem). */
export function placeGreedy(problem: Problem, constraints?: readonly Constraint[], options: GreedyOptions = {}): GreedyResult {
  const space = constraints ? subsetSpace(problem, constraints) : sharedSpace(problem);
  const units = buildUnits(problem, options.order === 'decreasing');
  const unitOf = new Map<string, Unit>();
  for (const u of units) for (const m of u.members) unitOf.set(m.request.name, u);

  // Kahn's order over `above` between units, the smallest key first among the ready ones.
  units.sort((a, b) => compareKeys(a.key, b.key));
  const rank = new Map(units.map((u, i) => [u, i]));
  const waitingOn = new Map<Unit, number>(units.map((u) => [u, 0]));
  const dependents = new Map<Unit, Unit[]>();
  for (const u of units) {
    const before = new Set<Unit>();
    for (const m of u.members) {
      for (const other of m.request.above) {
        const b = unitOf.get(other);
        if (b && b !== u) before.add(b);
      }
    }
    for (const b of before) dependents.set(b, [...(dependents.get(b) ?? []), u]);
    waitingOn.set(u, before.size);
  }
  const ready = new MinHeap(units.filter((u) => waitingOn.get(u) === 0).map((u) => rank.get(u) as number));

  const placed = new Map<string, bigint>();
  const sizes = new Map(problem.requests.map((r) => [r.name, r.size]));
  const failed: string[] = [];
  const tagWindow = new Map<string, IovaRange>(options.tagWindows ?? []);
  let done = 0;
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    if (options.deadline?.passedAt(done)) {
      const tried = new Set([...placed.keys(), ...failed]);
      for (const r of problem.requests) if (!tried.has(r.name)) failed.push(r.name);
      return { placed, failed, interrupted: true };
    }
    const unit = units[next];
    done++;
    for (const d of dependents.get(unit) ?? []) {
      const left = (waitingOn.get(d) as number) - 1;
      waitingOn.set(d, left);
      if (left === 0) ready.push(rank.get(d) as number);
    }
    const start = placeUnit(problem, unit, space, placed, sizes, tagWindow, options.fit ?? 'objective');
    if (start === undefined) {
      failed.push(...unit.members.map((m) => m.request.name));
      continue;
    }
    for (const m of unit.members) {
      const iova = start + m.offset;
      placed.set(m.request.name, iova);
      space.take({ start: iova, last: iova + m.request.size - 1n });
      if (m.request.window !== undefined && !tagWindow.has(m.request.window)) {
        const w = problem.windows.find((x) => x.start <= iova && iova <= x.last);
        if (w) tagWindow.set(m.request.window, w);
      }
    }
  }
  // Units left waiting sit on a cycle of `above`: nothing there can be placed in order.
  if (done < units.length) for (const u of units) if ((waitingOn.get(u) as number) > 0) failed.push(...u.members.map((m) => m.request.name));
  return { placed, failed };
}

/** The whole problem: one free space, the usable ranges minus existing mappings. */
function sharedSpace(problem: Problem): Space {
  const free = new FreeList(problem.space.usable.subtract(RangeSet.of(problem.existing)));
  return {
    free,
    take: (slot) => free.take(slot.start, slot.last),
    domain(r) {
      const reach = reachOf(problem, r);
      let space = reach ? free.slice(reach.start, reach.last) : RangeSet.EMPTY;
      if (r.within) space = space.intersect(r.within);
      return { space, align: r.align, pinned: r.fixed?.iova, possible: r.size % problem.space.alignment === 0n };
    },
  };
}

/** A subset of constraints: each request's domain from its own constraints, minus what is taken. */
function subsetSpace(problem: Problem, constraints: readonly Constraint[]): Space {
  const byRequest = new Map<string, Constraint[]>();
  for (const c of constraints) byRequest.set(c.request, [...(byRequest.get(c.request) ?? []), c]);
  let taken = RangeSet.EMPTY;
  return {
    take: (slot) => {
      taken = taken.union(RangeSet.single(slot.start, slot.last));
    },
    domain(r) {
      const d = domainOf(problem, r, byRequest.get(r.name) ?? []);
      return { ...d, space: d.space.subtract(taken) };
    },
  };
}

function buildUnits(problem: Problem, decreasing: boolean): Unit[] {
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
  for (const u of units.values()) u.key = unitKey(problem, u, decreasing);
  return [...units.values()];
}

/**
 * Placement order: facts (fixed requests) first; under `compact`, larger alignments and sizes
 * first (first-fit decreasing packs power-of-two blocks perfectly); otherwise the requests
 * with the least room first; the spec order breaks ties.
 */
function unitKey(problem: Problem, u: Unit, decreasing: boolean): Array<bigint | number> {
  const fixed = u.members.some((m) => m.request.fixed) ? 0 : 1;
  const align = u.members.reduce((a, m) => (m.request.align > a ? m.request.align : a), 1n);
  const size = u.members.reduce((s, m) => s + m.request.size, 0n);
  const reach = u.members.reduce((s, m) => {
    const r = reachOf(problem, m.request);
    const n = r ? sizeOf(r) : 0n;
    return n < s ? n : s;
  }, 1n << 64n);
  if (decreasing || problem.objective === 'compact') return [fixed, -align, -size, u.root.index];
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
  space: Space,
  placed: ReadonlyMap<string, bigint>,
  sizes: ReadonlyMap<string, bigint>,
  tagWindow: ReadonlyMap<string, IovaRange>,
  fit: NonNullable<GreedyOptions['fit']>,
): bigint | undefined {
  const floorOf = (m: PlacementRequest) => {
    let floor = 0n;
    for (const other of m.above) {
      const size = sizes.get(other);
      const at = placed.get(other);
      if (size !== undefined && at !== undefined && at + size > floor) floor = at + size;
    }
    return floor;
  };
  const single = unit.members.length === 1 ? unit.root : undefined;
  if (single && space.free && !single.within && single.window === undefined && !single.fixed) {
    return fastStart(problem, single, space.free, floorOf(single), fit);
  }

  let starts = RangeSet.FULL;
  let align = 1n;
  let residue = 0n;
  let pinned: bigint | undefined;
  for (const { request: m, offset } of unit.members) {
    const domain = space.domain(m);
    if (!domain.possible) return undefined;
    let free = domain.space;
    const window = m.window !== undefined ? tagWindow.get(m.window) : undefined;
    if (window) free = free.intersect(RangeSet.single(window.start, window.last));
    const own = startsIn(free, m.size).intersect(RangeSet.single(floorOf(m), MAX_ADDRESS));
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
  if (fit !== 'objective') return pickStart(starts, align, residue, false);
  return chooseStart(problem, unit, starts, align, residue);
}

/** A lone request in the shared free space: search the free list directly, without building sets. */
function fastStart(problem: Problem, r: PlacementRequest, free: FreeList, floor: bigint, fit: NonNullable<GreedyOptions['fit']>): bigint | undefined {
  if (r.size % problem.space.alignment !== 0n) return undefined;
  const limit = r.dmaBits !== undefined && r.dmaBits < 64 ? maskOfBits(r.dmaBits) : MAX_ADDRESS;
  if (fit === 'first') return free.lowest(r.size, { align: r.align, floor, limit });
  if (fit === 'best') return free.best(r.size, { align: r.align, floor, limit });
  const aligns = r.preferAlign !== undefined && r.preferAlign > r.align ? [r.preferAlign, r.align] : [r.align];
  for (const align of aligns) {
    const found =
      problem.objective === 'high'
        ? free.highest(r.size, { align, floor, limit })
        : problem.objective === 'free-below-4g'
          ? (free.lowest(r.size, { align, floor: floor > G4 ? floor : G4, limit }) ?? free.highest(r.size, { align, floor, limit }))
          : free.lowest(r.size, { align, floor, limit });
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Pick a start from the valid starts as the objective prefers, trying a preferred alignment first. */
function chooseStart(problem: Problem, unit: Unit, starts: RangeSet, align: bigint, residue: bigint): bigint | undefined {
  const prefer = unit.members.length === 1 ? unit.root.preferAlign : undefined;
  const aligns = prefer !== undefined && prefer > align && residue === 0n ? [prefer, align] : [align];
  for (const a of aligns) {
    const r = mod(residue, a);
    const found =
      problem.objective === 'high'
        ? pickStart(starts, a, r, true)
        : problem.objective === 'free-below-4g'
          ? (pickStart(starts.intersect(RangeSet.single(G4, MAX_ADDRESS)), a, r, false) ?? pickStart(starts, a, r, true))
          : pickStart(starts, a, r, false);
    if (found !== undefined) return found;
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

/** A binary min-heap of numbers (unit ranks). */
class MinHeap {
  private readonly items: number[] = [];

  constructor(initial: number[]) {
    for (const x of initial) this.push(x);
  }

  push(x: number): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): number | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
