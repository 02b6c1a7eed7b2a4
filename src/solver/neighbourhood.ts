/**
 * The exact engine on part of a large component. A component of thousands of competing
 * requests is too large for one pairwise encoding; after the packing passes, the requests left
 * over go to Z3 together with a run of packed neighbours (adjacent in address order), everything
 * else held where the packing put it. Each round slides the run along the space until a round
 * places them or the budget runs out. A sat answer here is a placement (certified with the rest
 * by the solver); an unsat one proves nothing about the whole, so it only moves the run on.
 *
 * Window tags split a problem by window: once every tag has a window (the packing shares them
 * out), the windows are independent questions, each far smaller than the whole.
 */
import { constraintsFor } from './constraints.js';
import { domainOf, lowestStart } from './domain.js';
import type { IovaRange } from '../model/range.js';
import type { GreedyResult } from './greedy.js';
import { packPlacement } from './packing.js';
import { checkConstraints, type ExactOracle } from './oracle.js';
import type { ExistingMapping, PlacementRequest, Problem } from './problem.js';
import type { Deadline } from './deadline.js';

/** Requests per question: the left-over ones plus this many neighbours at most. */
export const NEIGHBOURHOOD = 120;

const related = (r: PlacementRequest) => r.above.length > 0 || r.offsetFrom !== undefined || r.window !== undefined;

export async function placeAround(
  problem: Problem,
  packed: GreedyResult,
  component: ReadonlySet<string>,
  exact: ExactOracle | undefined,
  deadline: Deadline,
): Promise<Map<string, bigint> | undefined> {
  if (!exact) return undefined;
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  const left = [...component].filter((n) => !packed.placed.has(n)).map((n) => byName.get(n) as PlacementRequest);
  // Relations reach outside any neighbourhood; only plain requests are moved here.
  if (left.length === 0 || left.length >= NEIGHBOURHOOD || left.some(related)) return undefined;
  const movable = problem.requests
    .filter((r) => component.has(r.name) && packed.placed.has(r.name) && !r.fixed && !related(r))
    .sort((a, b) => {
      const x = packed.placed.get(a.name) as bigint;
      const y = packed.placed.get(b.name) as bigint;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  const run = NEIGHBOURHOOD - left.length;
  const step = Math.max(1, Math.floor(run / 2));
  for (let from = 0; from < Math.max(1, movable.length - run + step); from += step) {
    if (deadline.passed()) return undefined;
    const chosen = movable.slice(from, from + run);
    const names = new Set([...left, ...chosen].map((r) => r.name));
    const held: ExistingMapping[] = problem.requests
      .filter((r) => !names.has(r.name) && packed.placed.has(r.name))
      .map((r) => {
        const iova = packed.placed.get(r.name) as bigint;
        return { name: r.name, start: iova, last: iova + r.size - 1n, source: r.source };
      });
    const sub: Problem = { ...problem, requests: problem.requests.filter((r) => names.has(r.name)), existing: [...problem.existing, ...held] };
    const answer = await checkConstraints(sub, constraintsFor(sub, names), exact);
    if (answer.status === 'sat') return answer.placed;
  }
  return undefined;
}

/**
 * Place every request window by window, with each tag in the window `tagWindows` gives it:
 * packing first, then Z3 for a window the packing misses. Only when every flexible request has
 * a tag and no fixed request has one (then the windows share nothing). Undefined when some
 * window cannot be placed this way (which proves nothing about other assignments).
 */
export async function placeByWindow(
  problem: Problem,
  tagWindows: ReadonlyMap<string, IovaRange> | undefined,
  exact: ExactOracle | undefined,
  deadline: Deadline,
): Promise<Map<string, bigint> | undefined> {
  if (!tagWindows || problem.requests.some((r) => (r.window === undefined) !== (r.fixed !== undefined) || r.above.length > 0 || r.offsetFrom)) return undefined;
  const held: ExistingMapping[] = problem.requests.flatMap((r) => (r.fixed ? [{ name: r.name, start: r.fixed.iova, last: r.fixed.iova + r.size - 1n, source: r.source }] : []));
  const placed = new Map<string, bigint>();
  for (const r of problem.requests) {
    if (!r.fixed) continue;
    // A fixed request is a fact here only where it fits its own constraints (its within, DMA mask,
    // the aperture and holes); one that does not is a conflict for the exact path to explain.
    if (lowestStart(domainOf(problem, r, constraintsFor(problem, new Set([r.name]))), r.size) !== r.fixed.iova) return undefined;
    placed.set(r.name, r.fixed.iova);
  }
  for (const w of problem.windows) {
    if (deadline.passed()) return undefined;
    const names = new Set(problem.requests.filter((r) => r.window !== undefined && tagWindows.get(r.window) === w).map((r) => r.name));
    if (names.size === 0) continue;
    // Inside its one window a tag says nothing more: without it, requests can be moved as plain ones.
    const requests = problem.requests.filter((r) => names.has(r.name)).map((r) => ({ ...r, window: undefined }));
    const sub: Problem = { ...problem, windows: [w], requests, existing: [...problem.existing, ...held] };
    const packed = packPlacement(sub, deadline);
    if (packed.interrupted) return undefined;
    if (packed.failed.length === 0) {
      for (const [n, at] of packed.placed) placed.set(n, at);
      continue;
    }
    // A window of many requests is too large for one pairwise encoding (building it alone is
    // quadratic): its left-over requests go to Z3 with their neighbours, as for a large component.
    if (names.size >= NEIGHBOURHOOD) {
      const around = await placeAround(sub, packed, names, exact, deadline);
      if (!around) return undefined;
      for (const [n, at] of [...packed.placed, ...around]) placed.set(n, at);
      continue;
    }
    const answer = await checkConstraints(sub, constraintsFor(sub, names), exact);
    if (answer.status !== 'sat') return undefined;
    for (const [n, at] of answer.placed) placed.set(n, at);
  }
  return placed.size === problem.requests.length ? placed : undefined;
}
