/**
 * Capacity bounds and packing passes, checked independently of the solver: exhaustive search
 * on a tiny universe (addresses 0..63, 1-byte pages), capacity arithmetic on generated
 * over-full instances, and an independent check of every placement.
 */
import { describe, expect, it } from 'vitest';
import { oneWindow, prng, windowTags } from '../../bench/solver-instances.js';
import { checkBound, scanCapacity } from '../../src/solver/capacity.js';
import { Deadline } from '../../src/solver/deadline.js';
import { placeGreedy } from '../../src/solver/greedy.js';
import { packPlacement } from '../../src/solver/packing.js';
import { type SolveProgress, solve } from '../../src/solver/solve.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { tinyHost } from './fixtures/tiny-host.js';
import { iova } from '../cli/run.js';

const U = 64;

interface Req {
  name: string;
  size: number;
  align: number;
}
interface Case {
  aperture: [number, number];
  holes: Array<[number, number]>;
  requests: Req[];
}

function randomCase(next: () => number, pow2: boolean): Case {
  const aperture: [number, number] = [Math.floor(next() * 8), 40 + Math.floor(next() * 24)];
  const holes = Array.from({ length: Math.floor(next() * 5) }, () => {
    const s = Math.floor(next() * U);
    return [s, Math.min(U - 1, s + Math.floor(next() * 6))] as [number, number];
  });
  const requests = Array.from({ length: 2 + Math.floor(next() * 4) }, (_, i) => {
    if (pow2) {
      const size = 1 << Math.floor(next() * 5);
      return { name: `r${i}`, size, align: size };
    }
    return { name: `r${i}`, size: 1 + Math.floor(next() * 20), align: 1 << Math.floor(next() * 4) };
  });
  return { aperture, holes, requests };
}

function toSpec(c: Case) {
  return {
    host: tinyHost(c.aperture, c.holes),
    requests: c.requests.map((r) => ({ name: r.name, size: r.size, align: r.align })),
  };
}

/** Whether some placement exists: every request in the aperture, aligned, clear of holes and of each other. */
function exhaustive(c: Case): boolean {
  const used: Array<[number, number]> = [];
  const free = (p: number, l: number) => p >= c.aperture[0] && l <= c.aperture[1] && !c.holes.some(([s, e]) => !(l < s || p > e)) && !used.some(([s, e]) => !(l < s || p > e));
  const go = (i: number): boolean => {
    if (i === c.requests.length) return true;
    const r = c.requests[i];
    for (let p = 0; p + r.size - 1 < U; p += r.align) {
      if (!free(p, p + r.size - 1)) continue;
      used.push([p, p + r.size - 1]);
      if (go(i + 1)) return true;
      used.pop();
    }
    return false;
  };
  return go(0);
}

/** A placement checked without the solver's code. */
function valid(c: Case, placed: ReadonlyMap<string, bigint>): boolean {
  const spans = c.requests.map((r) => {
    const p = Number(placed.get(r.name));
    return { r, p, l: p + r.size - 1 };
  });
  return spans.every(
    ({ r, p, l }, i) =>
      p % r.align === 0 &&
      p >= c.aperture[0] &&
      l <= c.aperture[1] &&
      !c.holes.some(([s, e]) => !(l < s || p > e)) &&
      spans.every((o, j) => j === i || o.l < p || l < o.p),
  );
}

describe('capacity bounds against exhaustive search', () => {
  it('a failed bound is never wrong, passes its check, and needs every member', () => {
    const next = prng(20261206);
    let failed = 0;
    let infeasible = 0;
    for (let k = 0; k < 800; k++) {
      const c = randomCase(next, false);
      const problem = parsePlacementSpec(toSpec(c));
      const truth = exhaustive(c);
      if (!truth) infeasible++;
      const scan = scanCapacity(problem);
      if (!scan.failed) continue;
      failed++;
      expect(truth).toBe(false);
      expect(checkBound(problem, scan.failed)).toBeUndefined();
      // Minimal for the bound: without any one member, the rounded sizes fit what it counted.
      const round = (s: bigint) => ((s + scan.failed!.align - 1n) / scan.failed!.align) * scan.failed!.align;
      for (const name of scan.failed.requests) {
        const size = BigInt(c.requests.find((r) => r.name === name)!.size);
        expect(scan.failed.need - round(size) <= scan.failed.holds).toBe(true);
      }
    }
    // The generator must exercise both: many cases the bound proves, more that it cannot.
    expect(failed).toBeGreaterThan(50);
    expect(infeasible).toBeGreaterThan(failed);
  });

  it('the packing passes place only valid placements', () => {
    const next = prng(7);
    let packed = 0;
    for (let k = 0; k < 800; k++) {
      const c = randomCase(next, false);
      const result = packPlacement(parsePlacementSpec(toSpec(c)));
      if (result.failed.length > 0) continue;
      packed++;
      expect(valid(c, result.placed)).toBe(true);
    }
    expect(packed).toBeGreaterThan(150);
  });

  it('the exact case: power-of-two sizes, naturally aligned — packing places all exactly when a placement exists, and the bound proves every other case', () => {
    const next = prng(99);
    let sat = 0;
    let unsat = 0;
    for (let k = 0; k < 800; k++) {
      const c = randomCase(next, true);
      const problem = parsePlacementSpec(toSpec(c));
      const truth = exhaustive(c);
      // First-fit decreasing alone (not the exact search the packing also has).
      const result = placeGreedy(problem, undefined, { order: 'decreasing', fit: 'first' });
      expect(result.failed.length === 0).toBe(truth);
      if (truth) {
        sat++;
        expect(valid(c, result.placed)).toBe(true);
      } else {
        unsat++;
        const scan = scanCapacity(problem);
        // A lone request with no room is the single-request path's to explain; the bound still fails.
        expect(scan.failed).toBeDefined();
        expect(checkBound(problem, scan.failed!)).toBeUndefined();
      }
    }
    expect(sat).toBeGreaterThan(100);
    expect(unsat).toBeGreaterThan(100);
  });
});

/** Free bytes of a generated one-window instance, computed from its spec alone. */
function freeBytes(spec: ReturnType<typeof oneWindow>['spec']): bigint {
  const host = spec.host as { iommu: { apertures: Array<{ start: string; last: string }> }; reservedRegions: Array<{ start: string; last: string }> };
  const w = host.iommu.apertures[0];
  let total = BigInt(w.last) - BigInt(w.start) + 1n;
  let covered = BigInt(w.start);
  for (const r of [...host.reservedRegions].sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1))) {
    const s = BigInt(r.start) > covered ? BigInt(r.start) : covered;
    const l = BigInt(r.last);
    if (l >= s) {
      total -= l - s + 1n;
      covered = l + 1n;
    }
  }
  return total;
}

describe('generated hard instances', () => {
  it('over-full, 10,000 requests: unsat by capacity, and the arithmetic agrees', async () => {
    const inst = oneWindow(10_000, 101, 'pow2');
    const total = inst.spec.requests.reduce((t, r) => t + BigInt(r.size as string), 0n);
    expect(total > freeBytes(inst.spec)).toBe(true);
    const result = await solve(parsePlacementSpec(inst.spec), { repairs: false });
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    const bound = result.conflicts[0].bound;
    expect(bound).toBeDefined();
    // What the bound says the members need is their total size (pages at page alignment) …
    const sizes = new Map(inst.spec.requests.map((r) => [r.name as string, BigInt(r.size as string)]));
    const need = bound!.requests.reduce((t, n) => t + (sizes.get(n) as bigint), 0n);
    if (bound!.align === 4096n) expect(bound!.need).toBe(need);
    // … and never more than the free space holds is claimed to be missing.
    expect(bound!.holds <= freeBytes(inst.spec)).toBe(true);
    expect(result.conflicts[0].message).toMatch(/^these \d+ requests .* need .* but the space they may use .* holds /);
  });

  it('99 % load, 1,000 mixed requests, and window tags: sat, each placement checked independently', async () => {
    for (const inst of [oneWindow(1000, 99, 'mixed'), oneWindow(1000, 99, 'pow2'), windowTags(100, 3)]) {
      const result = await solve(parsePlacementSpec(inst.spec), { timeoutMs: 60_000 });
      expect(result.status, inst.name).toBe('sat');
      if (result.status !== 'sat') continue;
      const host = inst.spec.host as { iommu: { apertures: Array<{ start: string; last: string }> }; reservedRegions?: Array<{ start: string; last: string }> };
      const at = new Map(result.placements.map((p) => [p.name, p]));
      const spans = result.placements.map((p) => [p.iova, p.last] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      for (let i = 1; i < spans.length; i++) expect(spans[i - 1][1] < spans[i][0]).toBe(true);
      const windowOf = (x: bigint) => host.iommu.apertures.findIndex((w) => BigInt(w.start) <= x && x <= BigInt(w.last));
      const tagWindows = new Map<string, number>();
      for (const r of inst.spec.requests) {
        const p = at.get(r.name as string)!;
        expect(p.iova % BigInt(r.align as string)).toBe(0n);
        const w = windowOf(p.iova);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(windowOf(p.last)).toBe(w);
        for (const h of host.reservedRegions ?? []) expect(p.last < BigInt(h.start) || p.iova > BigInt(h.last)).toBe(true);
        if (r.window !== undefined) {
          expect(tagWindows.get(r.window as string) ?? w).toBe(w);
          tagWindows.set(r.window as string, w);
        }
      }
    }
  });
});

describe('the whole-solve budget', () => {
  it('reports its phases and, past the budget, answers unknown with what was learnt', async () => {
    // 99 % load with assorted sizes: greedy misses some. The deadline (on a clock of the test's
    // own, so that load cannot change the outcome) passes as the packing passes begin.
    const phases: SolveProgress['phase'][] = [];
    const inst = oneWindow(100, 99, 'mixed', 5); // a seed whose greedy order misses 3 requests
    const problem = parsePlacementSpec(inst.spec);
    expect(placeGreedy(problem).failed.length).toBeGreaterThan(0);
    let now = 0;
    const deadline = new Deadline(1000, () => now);
    const onProgress = (p: SolveProgress) => {
      phases.push(p.phase);
      if (p.phase === 'packing') now = 2000;
    };
    const result = await solve(problem, { deadline, onProgress, exact: null });
    expect(phases).toEqual(['greedy', 'capacity', 'packing']);
    expect(result.status).toBe('unknown');
    if (result.status !== 'unknown') return;
    expect(result.reason).toMatch(/time budget ran out in the packing passes/);
    expect(result.learnt?.placed.length).toBeGreaterThan(0);
    expect(result.learnt!.placed.length).toBeLessThan(problem.requests.length);
    expect(result.learnt?.closest?.need).toBeDefined();
  });

  it('refuses a --timeout beyond what Node timers hold (exit 2, naming the option), and accepts the largest', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'iova-timeout-'));
    const file = join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify({ host: { name: 'w', iommu: { apertures: [{ start: 0, last: '0xffffff' }], pageSizes: ['4K'] } }, requests: [{ name: 'a', size: '8K' }] }));
    const big = await iova('solve', file, '--timeout', String(2 ** 31));
    expect(big.code).toBe(2);
    expect(big.err).toMatch(/--timeout 2147483648: at most 2147483647 milliseconds/);
    const largest = await iova('solve', file, '--timeout', String(2 ** 31 - 1));
    expect(largest.code).toBe(0);
    expect(largest.out).toMatch(/^sat: 1 placement/);
  });
});
