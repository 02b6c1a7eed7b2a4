/**
 * Solver answers checked against brute force on a tiny universe (addresses 0..63, 1-byte
 * pages): a sat answer really satisfies every requirement; an unsat answer means brute force
 * finds nothing; every conflict is unsat on its own and sat once any one member is dropped.
 * The brute force and the constraint semantics below are written independently of the solver.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExplainedConstraint } from '../../src/solver/explain.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { tinyHost } from './fixtures/tiny-host.js';
import { solve } from '../../src/solver/solve.js';

const U = 64;

interface Req {
  name: string;
  size: number;
  align: number;
  within?: [number, number];
  fixed?: number;
}
interface Case {
  holes: Array<[number, number]>;
  aperture: [number, number];
  requests: Req[];
}

/** Undefined three times out of four: most requests are flexible, so both answers are common. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    holes: fc.array(fc.tuple(fc.nat(U - 1), fc.integer({ min: 1, max: 12 })), { maxLength: 6 }),
    aperture: fc.tuple(fc.nat(8), fc.integer({ min: 40, max: U - 1 })),
    requests: fc.array(
      fc.record({
        size: fc.integer({ min: 1, max: 24 }),
        alignLog: fc.nat(4),
        within: rarely(fc.tuple(fc.nat(U - 1), fc.nat(U - 1))),
        fixed: rarely(fc.nat(U - 1)),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ holes, aperture, requests }) => ({
    holes: holes.map(([s, len]) => [s, Math.min(U - 1, s + len - 1)] as [number, number]),
    aperture,
    requests: requests.map((r, i) => ({
      name: `r${i}`,
      size: r.size,
      align: 1 << r.alignLog,
      within: r.within ? ([Math.min(...r.within), Math.max(...r.within)] as [number, number]) : undefined,
      fixed: r.fixed,
    })),
  }));

function toSpec(c: Case) {
  return {
    host: tinyHost(c.aperture, c.holes),
    requests: c.requests.map((r) => ({
      name: r.name,
      size: r.size,
      align: r.align,
      ...(r.within ? { within: { start: r.within[0], last: r.within[1] } } : {}),
      ...(r.fixed !== undefined ? { fixed: r.fixed } : {}),
    })),
  };
}

/** Independent semantics of each constraint the solver may name, on concrete positions. */
function holds(c: Case, x: ExplainedConstraint, at: Map<string, number>): boolean {
  const [kind, a, b] = x.id.split(':');
  const req = (n: string) => c.requests.find((r) => r.name === n) as Req;
  const span = (n: string): [number, number] => [at.get(n) as number, (at.get(n) as number) + req(n).size - 1];
  switch (kind) {
    case 'aperture': {
      const [s, l] = span(a);
      return s >= c.aperture[0] && l <= c.aperture[1];
    }
    case 'hole': {
      const h = x.range as { start: bigint; last: bigint };
      // The hole must be one of the case's regions.
      expect(c.holes.some(([hs, hl]) => BigInt(hs) === h.start && BigInt(hl) === h.last)).toBe(true);
      const [s, l] = span(a);
      return BigInt(l) < h.start || BigInt(s) > h.last;
    }
    case 'align':
      return (at.get(a) as number) % req(a).align === 0;
    case 'within': {
      const [s, l] = span(a);
      const w = req(a).within as [number, number];
      return s >= w[0] && l <= w[1];
    }
    case 'fixed':
      return at.get(a) === req(a).fixed;
    case 'disjoint': {
      const [s1, l1] = span(a);
      const [s2, l2] = span(b);
      return l1 < s2 || l2 < s1;
    }
    default:
      throw new Error(`unexpected constraint ${x.id}`);
  }
}

/**
 * Whether some placement of the named requests satisfies all the given constraints (positions
 * up to 2U, so that dropping the aperture leaves room above it). Each constraint is checked as
 * soon as every request it names is placed.
 */
function satisfiable(c: Case, cs: readonly ExplainedConstraint[], names: readonly string[]): boolean {
  const at = new Map<string, number>();
  const ready = names.map((_, i) => cs.filter((x) => x.requests.every((n) => names.indexOf(n) <= i) && x.requests.includes(names[i])));
  const go = (i: number): boolean => {
    if (i === names.length) return true;
    for (let p = 0; p < 2 * U; p++) {
      at.set(names[i], p);
      if (ready[i].every((x) => holds(c, x, at)) && go(i + 1)) return true;
    }
    at.delete(names[i]);
    return false;
  };
  return go(0);
}

/** Brute force over the whole case: every request in the aperture, aligned, within, fixed, clear of holes and of each other. */
function bruteForce(c: Case): boolean {
  const at = new Map<string, number>();
  const ok = (r: Req, p: number) => {
    const l = p + r.size - 1;
    if (p < c.aperture[0] || l > c.aperture[1] || p % r.align !== 0) return false;
    if (r.fixed !== undefined && p !== r.fixed) return false;
    if (r.within && (p < r.within[0] || l > r.within[1])) return false;
    if (c.holes.some(([hs, hl]) => !(l < hs || p > hl))) return false;
    for (const [n, q] of at) {
      const o = c.requests.find((x) => x.name === n) as Req;
      if (!(l < q || q + o.size - 1 < p)) return false;
    }
    return true;
  };
  const go = (i: number): boolean => {
    if (i === c.requests.length) return true;
    const r = c.requests[i];
    for (let p = 0; p < U; p++) {
      if (!ok(r, p)) continue;
      at.set(r.name, p);
      if (go(i + 1)) return true;
      at.delete(r.name);
    }
    return false;
  };
  return go(0);
}

const namesOf = (cs: readonly ExplainedConstraint[]) => [...new Set(cs.flatMap((x) => x.requests))].sort();

describe('solver answers against brute force', () => {
  it('sat answers satisfy everything; unsat answers have minimal cores; both agree with brute force', async () => {
    let sat = 0;
    let unsat = 0;
    let unknown = 0;
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const result = await solve(parsePlacementSpec(toSpec(c)), { repairs: false });
        if (result.status === 'unknown') {
          unknown++;
          return;
        }
        expect(result.status === 'sat').toBe(bruteForce(c));
        if (result.status === 'sat') {
          sat++;
          const at = new Map(result.placements.map((p) => [p.name, Number(p.iova)]));
          for (const r of c.requests) {
            const p = at.get(r.name) as number;
            expect(p % r.align).toBe(0);
            expect(p >= c.aperture[0] && p + r.size - 1 <= c.aperture[1]).toBe(true);
            if (r.fixed !== undefined) expect(p).toBe(r.fixed);
            if (r.within) expect(p >= r.within[0] && p + r.size - 1 <= r.within[1]).toBe(true);
            for (const [hs, hl] of c.holes) expect(p + r.size - 1 < hs || p > hl).toBe(true);
          }
          return;
        }
        unsat++;
        for (const conflict of result.conflicts) {
          const cs = conflict.constraints;
          const names = namesOf(cs);
          expect(conflict.minimal).toBe(true);
          expect(satisfiable(c, cs, names)).toBe(false);
          for (const drop of cs) expect(satisfiable(c, cs.filter((x) => x !== drop), names)).toBe(true);
        }
      }),
      { numRuns: 300, seed: 20261121 },
    );
    // The generator must exercise both answers.
    expect(sat).toBeGreaterThan(50);
    expect(unsat).toBeGreaterThan(50);
    // With the Z3 engine every case is decided.
    expect(unknown).toBe(0);
  });
});
