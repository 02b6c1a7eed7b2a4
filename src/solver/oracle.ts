/**
 * Deciding whether a set of constraints can hold together. Exact and instant in TypeScript
 * for one request on its own and for two (without `offset`); for more, the greedy placer may find a witness, and otherwise
 * the question goes to Z3 (when an engine is given).
 */
import { domainOf, lowestStart } from './domain.js';
import { placeGreedy } from './greedy.js';
import { pairDecides, placePair } from './pair.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';

export type OracleAnswer =
  | { status: 'sat'; placed: Map<string, bigint> }
  /**
   * `core`, when the engine gives one, is a subset of the constraint ids that is unsat too;
   * `minimal` says the engine has already checked that dropping any member makes it sat.
   */
  | { status: 'unsat'; core?: string[]; minimal?: boolean }
  | { status: 'unknown'; reason: string };

/** An exact decision procedure for any set of constraints (the Z3 engine). */
export interface ExactOracle {
  /** Decide; with `minimise`, an unsat answer's core is shrunk to a minimal one, trying ids in that order. */
  check(problem: Problem, constraints: readonly Constraint[], minimise?: readonly string[]): Promise<OracleAnswer>;
}

const RELATIONS = new Set<Constraint['kind']>(['disjoint', 'above', 'offset', 'same-window']);

/** The requests a constraint set speaks about. */
export function requestsOf(constraints: readonly Constraint[]): Set<string> {
  const names = new Set<string>();
  for (const c of constraints) {
    names.add(c.request);
    if ('other' in c) names.add(c.other);
  }
  return names;
}

/** The problem restricted to some requests. */
export function subProblem(problem: Problem, names: ReadonlySet<string>): Problem {
  return { ...problem, requests: problem.requests.filter((r) => names.has(r.name)) };
}

/** Decide a constraint set: TypeScript where that is exact or finds a witness, else `exact`. */
export async function checkConstraints(problem: Problem, constraints: readonly Constraint[], exact?: ExactOracle, minimise?: readonly string[]): Promise<OracleAnswer> {
  const names = requestsOf(constraints);
  if (names.size === 1 && !constraints.some((c) => RELATIONS.has(c.kind))) {
    const [name] = names;
    const request = problem.requests.find((r) => r.name === name);
    if (!request) return { status: 'unknown', reason: `no request ${name}` };
    const start = lowestStart(domainOf(problem, request, constraints), request.size);
    return start === undefined ? { status: 'unsat', core: constraints.map((c) => c.id) } : { status: 'sat', placed: new Map([[name, start]]) };
  }
  const sub = subProblem(problem, names);
  if (pairDecides(constraints, names) && sub.requests.length === 2) {
    // Two requests are decided exactly here (see pair.ts): no Z3 question for a two-request
    // conflict. Before the greedy order, which reads window tags from the requests rather than
    // from `constraints` and so can call a subset without `aperture` but with `same-window` sat.
    const placed = placePair(problem, sub.requests as [PlacementRequest, PlacementRequest], constraints);
    return placed ? { status: 'sat', placed } : { status: 'unsat', core: constraints.map((c) => c.id) };
  }
  const greedy = placeGreedy(sub, constraints);
  if (greedy.failed.length === 0) return { status: 'sat', placed: greedy.placed };
  if (!exact) return { status: 'unknown', reason: 'several requests compete and no exact engine was given' };
  return exact.check(sub, constraints, minimise);
}
