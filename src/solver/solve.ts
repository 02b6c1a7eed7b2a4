/**
 * Solving a placement problem: greedy placement for the bulk, the exact engine for the
 * requests the greedy order could not place, minimal conflicts in domain words when no
 * placement exists, and repairs that have each been solved again. Every sat answer is
 * certified by the independent verifier before it is returned.
 */
import { pagesForMapping } from '../model/pages.js';
import { spaceWarnings, type Warning } from '../model/warnings.js';
import { AddressSpace } from '../model/address-space.js';
import { InputError } from '../model/errors.js';
import { expect } from '../model/guard.js';
import { overlaps } from '../model/range.js';
import { boundConstraints, type CapacityBound, checkBound, scanCapacity } from './capacity.js';
import { constraintsFor, reachOf } from './constraints.js';
import { minimiseCore, removalOrder } from './core.js';
import { type Conflict, explainBound, explainCore } from './explain.js';
import { type GreedyResult, placeGreedy } from './greedy.js';
import { placeAround, placeByWindow } from './neighbourhood.js';
import { boundRepairs, packPlacement } from './packing.js';
import { checkConstraints, type ExactOracle } from './oracle.js';
import type { Constraint, Problem } from './problem.js';
import { applyRepair, compareRepairCost, describeChange, pairRepairs, type RepairChange, type RepairProposal, singleRequestRepairs } from './repair.js';
import { pairDecides } from './pair.js';
import { certify } from './certify.js';
import { Deadline } from './deadline.js';
import { type Z3Engine, z3Engine } from './z3-engine.js';

/**
 * The most competing requests handed to the exact engine in one question: its encoding has a
 * constraint per pair. A larger component is not refused: the capacity and packing layers
 * decide it first, and Z3 then gets the requests left over with their neighbourhood (at most
 * this many), the rest of the packing held fixed, until the budget runs out.
 */
export const MAX_EXACT_COMPONENT = 200;

/** A failed capacity bound with at most this many members is also given as a minimal core. */
const CORE_FROM_BOUND = 6;

/** Each repair's re-solve gets at least this, or 1/REPAIR_SHARES of what is left. */
const REPAIR_SHARE_MIN_MS = 500;
const REPAIR_SHARES = 3;

/** Default budget of a whole solve (placement, cores and repairs together), in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Node's timers hold at most 2^31 − 1 ms; longer budgets are clamped to it. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** What a solve is doing, for a progress indicator. */
export type SolvePhase = 'greedy' | 'capacity' | 'packing' | 'exact' | 'core' | 'repairs';
export interface SolveProgress {
  phase: SolvePhase;
  /** Milliseconds since the solve started. */
  elapsedMs: number;
}

export interface Placement {
  name: string;
  iova: bigint;
  last: bigint;
  size: bigint;
  /** How the kernel would map it: pages of each size, smallest size first. */
  pages: Array<{ pageSize: bigint; count: bigint }>;
  /** A split request's pieces, lowest first (`iova`..`last` then spans them all). */
  pieces?: Array<{ iova: bigint; last: bigint; size: bigint }>;
}

export interface Repair {
  changes: RepairChange[];
  /** The changes in words, `; `-separated. */
  description: string;
  /** The placement of every request once the repair is applied (certified). */
  placements: Placement[];
}

/** What a solve found, before the warnings it rests on are added ({@link SolveResult}). */
export type SolveAnswer =
  | { status: 'sat'; placements: Placement[] }
  | { status: 'unsat'; conflicts: Conflict[]; repairs: Repair[] }
  | {
      status: 'unknown';
      reason: string;
      /** The phase the time budget ran out in, when it did. */
      phase?: SolvePhase;
      tried: string[];
      /**
       * What was learnt before the budget ran out: the requests a consistent partial placement
       * holds (not certified: the rest did not fit around them), and the capacity bound with
       * the least room left.
       */
      learnt?: { placed: Array<{ name: string; iova: bigint }>; closest?: CapacityBound };
    };

/** The answer, with the warnings (facts skipped or assumed) it rests on. */
export type SolveResult = SolveAnswer & { warnings: Warning[] };

export interface SolveOptions {
  /**
   * The exact engine for requests the greedy order cannot place. Default: the Z3 engine
   * (started only when needed); `null`: none, and such cases may end `unknown`.
   */
  exact?: ExactOracle | null;
  /**
   * Budget of the whole solve in milliseconds — placement, core minimisation and repairs
   * together (default 30 s; values above 2^31 − 1 are clamped to it). Past it the answer is
   * `unknown` with what was learnt; an unsat answer found in time keeps the repairs found so far.
   */
  timeoutMs?: number;
  /** Called as the solve enters each phase (for a progress indicator; never for output). */
  onProgress?: (progress: SolveProgress) => void;
  /** Compute repairs for an unsat answer (default true). */
  repairs?: boolean;
  /** At most this many repairs (default 5). */
  maxRepairs?: number;
  /**
   * @internal The deadline of the whole command, instead of `timeoutMs` (split and pool solving
   * pass theirs down; tests give one on their own clock).
   */
  deadline?: Deadline;
  /** @internal Repairs proposed by the exact engine for conflicts among several requests. */
  proposeRepairs?: (problem: Problem, core: readonly Constraint[]) => Promise<RepairProposal[]>;
}

/**
 * Places every request of `problem` (from {@link parsePlacementSpec} or
 * {@link loadPlacementSpec}) in the host's usable IOVA space. Answers:
 *
 * - `sat`: a placement per request (IOVA, last address and size in bytes, and the pages the
 *   kernel would map), certified by the independent verifier;
 * - `unsat`: minimal conflicts in domain words (each constraint with its source) and repairs
 *   that have each been solved again;
 * - `unknown`: the whole solve's time budget (`timeoutMs`, default 30 s, covering placement,
 *   conflicts and repairs) ran out, with what was tried and learnt.
 *
 * Z3 starts in a worker thread only when the greedy placement is not enough. Bad input was
 * already refused while the problem was built; a failure here is a bug.
 *
 * ```ts
 * const result = await solve(parsePlacementSpec(spec, 'guest.json', host));
 * if (result.status === 'sat') for (const p of result.placements) console.log(p.name, hexGrouped(p.iova));
 * ```
 */
export async function solve(problem: Problem, given: SolveOptions = {}): Promise<SolveResult> {
  expect(problem, 'object', 'problem');
  if (!(problem.space instanceof AddressSpace)) throw new InputError('problem must have an AddressSpace at space: build problems with parsePlacementSpec', { path: 'space' });
  expect(problem.requests, 'array', 'problem', 'requests');
  return { ...(await solveBefore(problem, given, deadlineOf(given))), warnings: spaceWarnings(problem.space) };
}

/** The deadline of a solve with these options: the one given, or `timeoutMs` (clamped) from now. */
export function deadlineOf(options: SolveOptions): Deadline {
  if (options.deadline) return options.deadline;
  return Deadline.after(options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : Math.min(Math.max(options.timeoutMs, 1), MAX_TIMEOUT_MS));
}

const PHASE_WORDS: Record<SolvePhase, string> = {
  greedy: 'greedy placement',
  capacity: 'the capacity scan',
  packing: 'the packing passes',
  exact: 'the exact engine',
  core: 'core minimisation',
  repairs: 'the repairs',
};

/** Everything a solve does, against one deadline. */
async function solveBefore(problem: Problem, given: SolveOptions, deadline: Deadline): Promise<SolveAnswer> {
  const started = performance.now();
  let phase: SolvePhase = 'greedy';
  const progress = (next: SolvePhase) => {
    phase = next;
    given.onProgress?.({ phase: next, elapsedMs: performance.now() - started });
  };
  // The phase in which the deadline was first seen passed, for the unknown answer.
  let spent: SolvePhase | undefined;
  const noteSpent = (interrupted: boolean | undefined) => {
    if (interrupted) spent ??= phase;
  };
  const engine = given.exact === undefined ? z3Engine({ deadline: deadline.system }) : given.exact;
  const exact = engine ?? undefined;
  const options: SolveOptions & { ownEngine?: boolean } = {
    ...given,
    ownEngine: given.exact === undefined,
    exact: engine,
    proposeRepairs: given.proposeRepairs ?? (engine && 'proposeRepairs' in engine ? (engine as Z3Engine).proposeRepairs : undefined),
  };
  const timeLeft = () => deadline.left();
  progress('greedy');
  let greedy: GreedyResult = placeGreedy(problem, undefined, { deadline });
  noteSpent(greedy.interrupted);
  let closest: CapacityBound | undefined;
  if (greedy.failed.length > 0) {
    // Arithmetic first: a failed capacity bound is a proof, found in microseconds.
    progress('capacity');
    const scan = scanCapacity(problem, { deadline });
    noteSpent(scan.interrupted);
    closest = scan.closest;
    const bound = scan.failed;
    if (bound && bound.requests.length > 1) {
      const wrong = checkBound(problem, bound);
      if (wrong) throw new Error(`capacity bound failed its check: ${wrong}`);
      let conflict = explainBound(problem, bound);
      let core: Constraint[] = [];
      if (bound.requests.length <= CORE_FROM_BOUND) {
        // Few members: the named constraints behind the bound, shrunk to a minimal core, so
        // that the conflict lists facts any one of which, dropped, makes the rest placeable.
        progress('core');
        // Tight packings make Z3 slow to prove; the bound already is the proof, so this gets half
        // of the budget and the conflict stays the bound's own when it runs out.
        const share = deadline.share(1 / 2).system;
        const shrink = given.exact === undefined ? z3Engine({ deadline: share }) : exact;
        const behind = boundConstraints(problem, bound);
        const answer = await checkConstraints(problem, behind, shrink, [...behind].sort(removalOrder).map((c) => c.id));
        if (answer.status === 'unsat') {
          const start = answer.core ? behind.filter((c) => answer.core?.includes(c.id)) : behind;
          const minimal = answer.minimal !== undefined ? { constraints: start, minimal: answer.minimal } : await minimiseCore(problem, start, shrink, share);
          if (minimal.minimal) {
            core = minimal.constraints;
            conflict = { ...explainCore(problem, core, true), message: conflict.message, bound };
          }
        }
      }
      progress('repairs');
      const proposals = options.repairs === false ? [] : [...boundRepairs(problem, bound), ...(core.length > 0 ? await proposeFor(problem, [{ core }], options, deadline) : [])];
      // Re-solving a space filled to the brim is the hardest kind of question: a quarter of what is left.
      const until = deadline.share(1 / 4, REPAIR_SHARE_MIN_MS);
      const repairs = options.repairs === false ? [] : await tryRepairs(problem, proposals, options, until);
      return { status: 'unsat', conflicts: [conflict], repairs };
    }
    progress('packing');
    const packed = packPlacement(problem, deadline);
    noteSpent(packed.interrupted);
    if (packed.failed.length < greedy.failed.length) greedy = packed;
    if (greedy.failed.length > 0 && packed.tagWindows) {
      progress('exact');
      const split = await placeByWindow(problem, packed.tagWindows, exact, deadline);
      if (split) greedy = { placed: split, failed: [] };
    }
  }
  const placed = new Map(greedy.placed);
  const conflicts: Array<{ conflict: Conflict; core: Constraint[] }> = [];
  const tried: string[] = [];
  const handled = new Set<string>();

  for (const name of greedy.failed) {
    if (handled.has(name)) continue;
    if (timeLeft() <= 0) {
      spent ??= phase;
      tried.push(`${name}: the time budget was spent before it could be decided`);
      break;
    }
    progress('exact');
    // Alone first: most conflicts are one request against the facts, decided exactly here.
    const alone = constraintsFor(problem, new Set([name]));
    const single = await checkConstraints(problem, alone, exact);
    const component = single.status === 'unsat' ? new Set([name]) : componentOf(problem, name);
    for (const n of component) handled.add(n);
    if (component.size > MAX_EXACT_COMPONENT) {
      const answer = await placeAround(problem, greedy, component, exact, deadline);
      if (answer) {
        for (const [n, iova] of answer) placed.set(n, iova);
        tried.push(`${name}: placed by the exact engine among its neighbours (${component.size} requests compete)`);
      } else {
        tried.push(`${name} competes with ${component.size - 1} other requests; the exact engine, given it with its neighbours, found no placement before the budget ran out`);
      }
      continue;
    }
    const constraints = single.status === 'unsat' ? alone : constraintsFor(problem, component);
    const order = [...constraints].sort(removalOrder).map((c) => c.id);
    const answer = single.status === 'unsat' ? single : await checkConstraints(problem, constraints, exact, order);
    if (answer.status === 'sat') {
      for (const [n, iova] of answer.placed) placed.set(n, iova);
      tried.push(`${[...component].join(', ')}: placed by the exact engine`);
    } else if (answer.status === 'unsat') {
      progress('core');
      const start = answer.core ? constraints.filter((c) => answer.core?.includes(c.id)) : constraints;
      // The exact engine may have minimised its core already; the TypeScript oracle has not.
      const minimal = answer.minimal !== undefined ? { constraints: start, minimal: answer.minimal } : await minimiseCore(problem, start, exact, deadline.system);
      conflicts.push({ conflict: explainCore(problem, minimal.constraints, minimal.minimal), core: minimal.constraints });
    } else {
      tried.push(`${[...component].join(', ')}: ${answer.reason}`);
    }
  }

  if (conflicts.length > 0) {
    progress('repairs');
    const repairs = options.repairs === false ? [] : await findRepairs(problem, conflicts, options, deadline);
    return { status: 'unsat', conflicts: conflicts.map((c) => c.conflict), repairs };
  }
  if (placed.size < problem.requests.length) {
    if (timeLeft() <= 0) spent ??= phase;
    const reason = spent ? `the time budget ran out in ${PHASE_WORDS[spent]}, before every request was placed or proven impossible` : 'some requests could be neither placed nor proven impossible';
    const learnt = { placed: problem.requests.filter((r) => greedy.placed.has(r.name)).map((r) => ({ name: r.name, iova: greedy.placed.get(r.name) as bigint })), closest };
    return { status: 'unknown', reason, ...(spent ? { phase: spent } : {}), tried, learnt };
  }
  const violations = certify(problem, placed);
  if (violations.length > 0) {
    // A wrong answer is worse than none: this is a bug, not a user error.
    throw new Error(`placement failed certification: ${violations.map((v) => v.message).join('; ')}`);
  }
  return { status: 'sat', placements: placementsOf(problem, placed) };
}

/**
 * The failed request and everything that competes with it, transitively: requests whose reaches
 * overlap (found by one sweep over the reaches sorted by start), or that are linked by `above`,
 * `offsetFrom` or a window tag. O(n log n), so that large problems pay little for it.
 */
export function componentOf(problem: Problem, name: string): Set<string> {
  const parent = new Map(problem.requests.map((r) => [r.name, r.name]));
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    for (let at = x; at !== root; ) {
      const next = parent.get(at) as string;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    if (parent.has(a) && parent.has(b)) parent.set(find(a), find(b));
  };
  const tagged = new Map<string, string>();
  const reaches: Array<{ name: string; start: bigint; last: bigint }> = [];
  for (const r of problem.requests) {
    for (const other of r.above) union(r.name, other);
    if (r.offsetFrom) union(r.name, r.offsetFrom.request);
    if (r.window !== undefined) {
      const first = tagged.get(r.window);
      if (first === undefined) tagged.set(r.window, r.name);
      else union(r.name, first);
    }
    const reach = reachOf(problem, r);
    if (reach) reaches.push({ name: r.name, ...reach });
  }
  reaches.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let open: { name: string; last: bigint } | undefined;
  for (const r of reaches) {
    if (open && r.start <= open.last) {
      union(r.name, open.name);
      if (r.last > open.last) open = { name: open.name, last: r.last };
    } else open = { name: r.name, last: r.last };
  }
  const root = find(name);
  return new Set(problem.requests.filter((r) => find(r.name) === root).map((r) => r.name));
}

export function placementsOf(problem: Problem, placed: ReadonlyMap<string, bigint>): Placement[] {
  return problem.requests.map((r) => {
    const iova = placed.get(r.name) as bigint;
    const pages = [...pagesForMapping(iova, r.size, problem.space.pageSizes)].map(([pageSize, count]) => ({ pageSize, count }));
    return { name: r.name, iova, last: iova + r.size - 1n, size: r.size, pages };
  });
}

/** Propose, apply and re-solve repairs; keep those that make the whole problem sat. */
async function findRepairs(problem: Problem, conflicts: Array<{ core: Constraint[] }>, options: SolveOptions, deadline: Deadline): Promise<Repair[]> {
  return tryRepairs(problem, await proposeFor(problem, conflicts, options, deadline), options, deadline);
}

/** Candidate repairs for each conflict's core: exact for one or two requests, the exact engine's (or drops) for more. */
async function proposeFor(problem: Problem, conflicts: Array<{ core: Constraint[] }>, options: SolveOptions, deadline: Deadline): Promise<RepairProposal[]> {
  const proposals: RepairProposal[] = [];
  for (const { core } of conflicts) {
    const names = new Set(core.flatMap((c) => ('other' in c ? [c.request, c.other] : [c.request])));
    if (names.size === 1) {
      const r = problem.requests.find((q) => q.name === [...names][0]);
      if (r) proposals.push(...singleRequestRepairs(problem, r, core));
    } else if (pairDecides(constraintsFor(problem, names), names)) {
      proposals.push(...pairRepairs(problem, core));
    } else if (options.proposeRepairs && !deadline.passed()) {
      proposals.push(...(await options.proposeRepairs(problem, core)));
    } else {
      for (const n of [...names].sort()) proposals.push({ changes: [{ kind: 'drop', request: n }] });
    }
  }
  return proposals;
}

/** Apply each proposal (cheapest first, duplicates once) and keep those whose re-solve is sat, until the deadline. */
async function tryRepairs(problem: Problem, proposals: readonly RepairProposal[], options: SolveOptions, deadline: Deadline): Promise<Repair[]> {
  const seen = new Set<string>();
  const unique = proposals.filter((p) => {
    const key = JSON.stringify(p.changes, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return seen.has(key) ? false : (seen.add(key), true);
  });
  unique.sort(compareRepairCost);

  const repairs: Repair[] = [];
  for (const p of unique) {
    if (repairs.length >= (options.maxRepairs ?? 5) || deadline.passed()) break;
    // Each re-solve gets a share of what is left, so that one hard re-solve cannot starve the rest
    // (with its own Z3 engine bound to that share when the solve made its engine itself).
    const share = deadline.share(1 / REPAIR_SHARES, REPAIR_SHARE_MIN_MS);
    const own = (options as { ownEngine?: boolean }).ownEngine === true;
    const again = { ...options, repairs: false, onProgress: undefined, ...(own ? { exact: undefined, proposeRepairs: undefined } : {}) };
    const answer = await solveBefore(applyRepair(problem, p.changes), again, share);
    if (answer.status !== 'sat') continue;
    // A move says where to: the placement the re-solve found.
    const changes = p.changes.map((c) => {
      const moved = c.kind === 'move' ? answer.placements.find((x) => x.name === c.request) : undefined;
      return moved ? { ...c, iova: moved.iova } : c;
    });
    const description = changes.map((c) => describeChange(problem, c)).join('; ');
    repairs.push({ changes, description, placements: answer.placements });
  }
  return repairs;
}
