/**
 * Two requests decided exactly in TypeScript, so that a two-request conflict needs no Z3
 * question at all (core minimisation asks a dozen such questions, and the first one to a cold
 * worker costs about a second).
 *
 * Why first fit in each order is exact: if the two must be disjoint, one lies wholly below the
 * other. For a fixed order (low, high), placing `low` at its lowest valid start minimises its
 * last byte, and the starts left for `high` (its domain above that byte) only shrink as that
 * byte rises; so if any placement in that order exists, the one with `low` lowest and `high` at
 * its lowest start above `low` exists. `above` fixes the order; `same-window` is decided per
 * window (both domains cut to the window); without either relation the two are independent.
 * `offset` ties one start to the other and is left to the exact engine.
 */
import { MAX_ADDRESS } from '../model/address.js';
import { RangeSet } from '../model/rangeset.js';
import { domainOf, lowestStart, type RequestDomain } from './domain.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';

/** Whether {@link placePair} decides this constraint set: two requests, no `offset`. */
export function pairDecides(constraints: readonly Constraint[], names: ReadonlySet<string>): boolean {
  return names.size === 2 && !constraints.some((c) => c.kind === 'offset');
}

/** A placement of the two requests satisfying `constraints`, or undefined when none exists. */
export function placePair(problem: Problem, pair: readonly [PlacementRequest, PlacementRequest], constraints: readonly Constraint[]): Map<string, bigint> | undefined {
  const [a, b] = pair;
  const aboveOf = (upper: PlacementRequest, lower: PlacementRequest) => constraints.some((c) => c.kind === 'above' && c.request === upper.name && c.other === lower.name);
  const aAbove = aboveOf(a, b);
  const bAbove = aboveOf(b, a);
  const apart = constraints.some((c) => c.kind === 'disjoint');
  // Orders as [low, high]; `undefined` for two independent requests.
  const orders: Array<readonly [PlacementRequest, PlacementRequest] | undefined> = aAbove && bAbove ? [] : aAbove ? [[b, a]] : bAbove ? [[a, b]] : apart ? [[a, b], [b, a]] : [undefined];
  const windows = constraints.some((c) => c.kind === 'same-window') ? problem.windows.map((w) => RangeSet.single(w.start, w.last)) : [undefined];
  const cut = (d: RequestDomain, by: RangeSet | undefined): RequestDomain => (by ? { ...d, space: d.space.intersect(by) } : d);
  const domains = new Map([a, b].map((r) => [r.name, domainOf(problem, r, constraints)]));
  for (const window of windows) {
    const domain = (r: PlacementRequest) => cut(domains.get(r.name) as RequestDomain, window);
    for (const order of orders) {
      if (order === undefined) {
        const sa = lowestStart(domain(a), a.size);
        const sb = lowestStart(domain(b), b.size);
        if (sa !== undefined && sb !== undefined) return new Map([[a.name, sa], [b.name, sb]]);
        continue;
      }
      const [low, high] = order;
      const s = lowestStart(domain(low), low.size);
      if (s === undefined || s + low.size > MAX_ADDRESS) continue;
      const t = lowestStart(cut(domain(high), RangeSet.single(s + low.size, MAX_ADDRESS)), high.size);
      if (t !== undefined) return new Map([[low.name, s], [high.name, t]]);
    }
  }
  return undefined;
}
