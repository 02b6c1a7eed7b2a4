/**
 * Solving a placement problem: greedy placement for the bulk, the exact engine for the
 * requests the greedy order could not place, minimal conflicts in domain words when no
 * placement exists, and repairs that have each been solved again. Every sat answer is
 * certified by the independent verifier before it is returned.
 */
import { pagesForMapping } from '../model/pages.js';
import { overlaps } from '../model/range.js';
import { constraintsFor, reachOf } from './constraints.js';
import { minimiseCore, removalOrder } from './core.js';
import { type Conflict, explainCore } from './explain.js';
import { placeGreedy } from './greedy.js';
import { checkConstraints, type ExactOracle } from './oracle.js';
import type { Constraint, Problem } from './problem.js';
import { applyRepair, compareRepairCost, describeChange, type RepairChange, type RepairProposal, singleRequestRepairs } from './repair.js';
import { certify } from './certify.js';
import { type Z3Engine, z3Engine } from './z3-engine.js';

/**
 * The most competing requests handed to the exact engine at once: its encoding has a
 * constraint per pair, so beyond this it would spend its time building terms, not solving.
 */
export const MAX_EXACT_COMPONENT = 200;

export interface Placement {
  name: string;
  iova: bigint;
  last: bigint;
  size: bigint;
  /** How the kernel would map it: pages of each size, smallest size first. */
  pages: Array<{ pageSize: bigint; count: bigint }>;
}

export interface Repair {
  changes: RepairChange[];
  /** The changes in words, `; `-separated. */
  description: string;
  /** The placement of every request once the repair is applied (certified). */
  placements: Placement[];
}

export type SolveResult =
  | { status: 'sat'; placements: Placement[] }
  | { status: 'unsat'; conflicts: Conflict[]; repairs: Repair[] }
  | { status: 'unknown'; reason: string; tried: string[] };

export interface SolveOptions {
  /**
   * The exact engine for requests the greedy order cannot place. Default: the Z3 engine
   * (started only when needed); `null`: none, and such cases may end `unknown`.
   */
  exact?: ExactOracle | null;
  /** Budget of each question to the default Z3 engine, in milliseconds (default 10 s). */
  timeoutMs?: number;
  /** Compute repairs for an unsat answer (default true). */
  repairs?: boolean;
  /** At most this many repairs (default 5). */
  maxRepairs?: number;
  /** Repairs proposed by the exact engine for conflicts among several requests. */
  proposeRepairs?: (problem: Problem, core: readonly Constraint[]) => Promise<RepairProposal[]>;
}

export async function solve(problem: Problem, given: SolveOptions = {}): Promise<SolveResult> {
  const engine = given.exact === undefined ? z3Engine({ timeoutMs: given.timeoutMs }) : given.exact;
  const options: SolveOptions & { exact?: ExactOracle } = {
    ...given,
    exact: engine ?? undefined,
    proposeRepairs: given.proposeRepairs ?? (engine && 'proposeRepairs' in engine ? (engine as Z3Engine).proposeRepairs : undefined),
  };
  const greedy = placeGreedy(problem);
  const placed = new Map(greedy.placed);
  const conflicts: Array<{ conflict: Conflict; core: Constraint[] }> = [];
  const tried: string[] = [];
  const handled = new Set<string>();

  for (const name of greedy.failed) {
    if (handled.has(name)) continue;
    // Alone first: most conflicts are one request against the facts, decided exactly here.
    const alone = constraintsFor(problem, new Set([name]));
    const single = await checkConstraints(problem, alone, options.exact);
    const component = single.status === 'unsat' ? new Set([name]) : componentOf(problem, name);
    for (const n of component) handled.add(n);
    if (component.size > MAX_EXACT_COMPONENT) {
      tried.push(`${name} competes with ${component.size - 1} other requests: more than the exact engine takes at once (${MAX_EXACT_COMPONENT})`);
      continue;
    }
    const constraints = single.status === 'unsat' ? alone : constraintsFor(problem, component);
    const order = [...constraints].sort(removalOrder).map((c) => c.id);
    const answer = single.status === 'unsat' ? single : await checkConstraints(problem, constraints, options.exact, order);
    if (answer.status === 'sat') {
      for (const [n, iova] of answer.placed) placed.set(n, iova);
      tried.push(`${[...component].join(', ')}: placed by the exact engine`);
    } else if (answer.status === 'unsat') {
      const start = answer.core ? constraints.filter((c) => answer.core?.includes(c.id)) : constraints;
      // The exact engine may have minimised its core already; the TypeScript oracle has not.
      const minimal = answer.minimal !== undefined ? { constraints: start, minimal: answer.minimal } : await minimiseCore(problem, start, options.exact);
      conflicts.push({ conflict: explainCore(problem, minimal.constraints, minimal.minimal), core: minimal.constraints });
    } else {
      tried.push(`${[...component].join(', ')}: ${answer.reason}`);
    }
  }

  if (conflicts.length > 0) {
    const repairs = options.repairs === false ? [] : await findRepairs(problem, conflicts, options);
    return { status: 'unsat', conflicts: conflicts.map((c) => c.conflict), repairs };
  }
  if (placed.size < problem.requests.length) {
    return { status: 'unknown', reason: 'some requests could be neither placed nor proven impossible', tried };
  }
  const violations = certify(problem, placed);
  if (violations.length > 0) {
    // A wrong answer is worse than none: this is a bug, not a user error.
    throw new Error(`placement failed certification: ${violations.map((v) => v.message).join('; ')}`);
  }
  return { status: 'sat', placements: placementsOf(problem, placed) };
}

/** The failed request and everything that competes with it, transitively. */
export function componentOf(problem: Problem, name: string): Set<string> {
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  const reach = new Map(problem.requests.map((r) => [r.name, reachOf(problem, r)]));
  const related = (a: string, b: string) => {
    const ra = byName.get(a);
    const rb = byName.get(b);
    if (!ra || !rb) return false;
    const linked =
      ra.above.includes(b) ||
      rb.above.includes(a) ||
      ra.offsetFrom?.request === b ||
      rb.offsetFrom?.request === a ||
      (ra.window !== undefined && ra.window === rb.window);
    const x = reach.get(a);
    const y = reach.get(b);
    return linked || (x !== undefined && y !== undefined && overlaps(x, y));
  };
  const out = new Set([name]);
  const queue = [name];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const r of problem.requests) {
      if (!out.has(r.name) && related(at, r.name)) {
        out.add(r.name);
        queue.push(r.name);
      }
    }
  }
  return out;
}

export function placementsOf(problem: Problem, placed: ReadonlyMap<string, bigint>): Placement[] {
  return problem.requests.map((r) => {
    const iova = placed.get(r.name) as bigint;
    const pages = [...pagesForMapping(iova, r.size, problem.space.pageSizes)].map(([pageSize, count]) => ({ pageSize, count }));
    return { name: r.name, iova, last: iova + r.size - 1n, size: r.size, pages };
  });
}

/** Propose, apply and re-solve repairs; keep those that make the whole problem sat. */
async function findRepairs(problem: Problem, conflicts: Array<{ core: Constraint[] }>, options: SolveOptions): Promise<Repair[]> {
  const proposals: RepairProposal[] = [];
  for (const { core } of conflicts) {
    const names = new Set(core.flatMap((c) => ('other' in c ? [c.request, c.other] : [c.request])));
    if (names.size === 1) {
      const r = problem.requests.find((q) => q.name === [...names][0]);
      if (r) proposals.push(...singleRequestRepairs(problem, r, core));
    } else if (options.proposeRepairs) {
      proposals.push(...(await options.proposeRepairs(problem, core)));
    } else {
      for (const n of [...names].sort()) proposals.push({ changes: [{ kind: 'drop', request: n }] });
    }
  }
  const seen = new Set<string>();
  const unique = proposals.filter((p) => {
    const key = JSON.stringify(p.changes, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return seen.has(key) ? false : (seen.add(key), true);
  });
  unique.sort(compareRepairCost);

  const repairs: Repair[] = [];
  for (const p of unique) {
    if (repairs.length >= (options.maxRepairs ?? 5)) break;
    const answer = await solve(applyRepair(problem, p.changes), { ...options, repairs: false });
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
