/**
 * Minimal conflicts. Starting from an unsat set of constraints (ideally already an engine's
 * unsat core), drop members one at a time and keep a member only when dropping it makes the
 * rest satisfiable. The result is unsat on its own and becomes sat when any one member is
 * dropped: every set that was found sat along the way contains the final set minus that member.
 */
import { checkConstraints, type ExactOracle } from './oracle.js';
import type { Constraint, Problem } from './problem.js';

export interface MinimalCore {
  constraints: Constraint[];
  /** False when the engine could not decide some step (a timeout): the set may be larger than needed. */
  minimal: boolean;
}

/**
 * The order in which members are tried for removal; what is tried last is kept when there is
 * a choice. Peer windows go before the BARs inside them and larger holes before smaller ones,
 * so that the most specific fact stays; existing mappings go before holes, and holes before
 * alignment, so that a conflict names what the kernel checks first (alignment, then reserved
 * ranges, then mappings) and agrees with the IOAS model's verdict.
 */
export function removalOrder(a: Constraint, b: Constraint): number {
  const rank = (c: Constraint) => {
    if (c.kind === 'hole') return c.hole.type === 'peer-window' ? 0 : 2;
    if (c.kind === 'existing') return 1;
    if (c.kind === 'disjoint' || c.kind === 'same-window') return 3;
    return 4;
  };
  const size = (c: Constraint) => (c.kind === 'hole' ? c.hole.last - c.hole.start : -1n);
  return rank(a) - rank(b) || (size(a) > size(b) ? -1 : size(a) < size(b) ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** With a `deadline` (a `performance.now()` time), members not yet tried when it passes are kept. */
export async function minimiseCore(problem: Problem, unsat: readonly Constraint[], exact?: ExactOracle, deadline?: number): Promise<MinimalCore> {
  let core = [...unsat];
  let minimal = true;
  for (const candidate of [...unsat].sort(removalOrder)) {
    if (!core.includes(candidate)) continue;
    if (deadline !== undefined && performance.now() >= deadline) {
      minimal = false;
      break;
    }
    const rest = core.filter((c) => c !== candidate);
    const answer = await checkConstraints(problem, rest, exact);
    if (answer.status === 'unsat') {
      const keep = answer.core ? new Set(answer.core) : undefined;
      core = keep ? rest.filter((c) => keep.has(c.id)) : rest;
    } else if (answer.status === 'unknown') {
      minimal = false;
    }
  }
  const order = new Map(unsat.map((c, i) => [c, i]));
  core.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  return { constraints: core, minimal };
}
