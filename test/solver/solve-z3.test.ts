/**
 * The Z3 path of the solver: competing requests the greedy order cannot place, conflicts
 * among several requests and their MaxSMT repairs, time limits, and determinism.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { solve } from '../../src/solver/solve.js';
import { iova } from '../cli/run.js';

const window = { name: 'tight', iommu: { apertures: [{ start: 0, last: '0xffff' }], pageSizes: ['4K'] } };

describe('competing requests', () => {
  it('finds the placement the greedy order misses (b is tighter, goes first, and takes the middle)', async () => {
    // a: 8 KiB within 0..16 KiB; b: 8 KiB within 4..16 KiB. Greedy puts b at 4 KiB and a has no
    // room; the only answer is a at 0, b at 8 KiB.
    const spec = {
      host: window,
      requests: [
        { name: 'a', size: '8K', within: { start: 0, last: '0x3fff' } },
        { name: 'b', size: '8K', within: { start: '0x1000', last: '0x3fff' } },
      ],
    };
    const result = await solve(parsePlacementSpec(spec));
    expect(result.status).toBe('sat');
    if (result.status === 'sat') expect(result.placements.map((p) => [p.name, p.iova])).toEqual([['a', 0n], ['b', 0x2000n]]);
  });

  it('explains two requests that fit alone but not together, and repairs by MaxSMT', async () => {
    // 16 KiB of requests in the 12 KiB both must lie in.
    const spec = {
      host: window,
      requests: [
        { name: 'a', size: '8K', within: { start: 0, last: '0x2fff' } },
        { name: 'b', size: '8K', within: { start: '0x1000', last: '0x2fff' } },
      ],
    };
    const result = await solve(parsePlacementSpec(spec));
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    const [conflict] = result.conflicts;
    expect(conflict.minimal).toBe(true);
    expect(conflict.constraints.map((c) => c.id).sort()).toEqual(['disjoint:a:b', 'within:a', 'within:b']);
    // Found by the capacity bound (16 KiB of requests, 12 KiB of space), then shrunk to a minimal core.
    expect(conflict.message).toMatch(/^these 2 requests \(`a` \(8 KiB\), `b` \(8 KiB\)\) need 16 KiB but the space they may use \(0x0–0x2fff\) holds 12 KiB/);
    // Cheapest first: shrink one of them to the 4 KiB the other leaves (12 KiB - 8 KiB).
    expect(result.repairs.length).toBeGreaterThan(0);
    expect(result.repairs[0].changes).toHaveLength(1);
    expect(result.repairs[0].changes[0]).toMatchObject({ kind: 'shrink', size: 0x1000n });
    for (const r of result.repairs) {
      // Every repair was solved again: its placements fit the changed requests.
      const a = r.placements.find((p) => p.name === 'a');
      const b = r.placements.find((p) => p.name === 'b');
      if (a && b) expect(a.last < b.iova || b.last < a.iova).toBe(true);
    }
  });
});

describe('time limits and determinism', () => {
  /** 24 requests of assorted sizes and alignments packed into exactly their total: hard for Z3. */
  function tightPacking() {
    const sizes = [3, 5, 7, 2, 6, 1, 4, 8, 3, 5, 2, 7, 1, 6, 4, 3, 5, 2, 8, 1, 6, 4, 7, 3];
    const total = sizes.reduce((a, b) => a + b, 0);
    return {
      host: { name: 'packed', iommu: { apertures: [{ start: 0, last: total * 4096 - 1 }], pageSizes: ['4K'] } },
      requests: sizes.map((s, i) => ({ name: `r${i}`, size: s * 4096, align: i % 3 === 0 ? '8K' : '4K' })),
    };
  }

  it('answers unknown when the time limit runs out, saying what was tried', async () => {
    const result = await solve(parsePlacementSpec(tightPacking()), { timeoutMs: 1 });
    expect(result.status).toBe('unknown');
    if (result.status !== 'unknown') return;
    expect(result.reason).toMatch(/time budget ran out/);
    expect(result.tried.join('\n')).toMatch(/time budget was spent|Z3 gave no answer \(timeout/);
  });

  it('decides hundreds of competing requests by capacity: 300 pages for 100 is unsat, with the fewest requests that overflow', async () => {
    // 300 one-page requests for a 100-page window: the greedy order places 100; the area bound
    // proves the rest cannot fit (there is no component cap any more).
    const spec = {
      host: { name: 'small', iommu: { apertures: [{ start: 0, last: 100 * 4096 - 1 }], pageSizes: ['4K'] } },
      requests: Array.from({ length: 300 }, (_, i) => ({ name: `r${i}`, size: '4K' })),
    };
    const result = await solve(parsePlacementSpec(spec));
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    const [conflict] = result.conflicts;
    // 101 pages are the fewest that do not fit in 100 (arithmetic, independent of the solver).
    expect(conflict.bound?.requests).toHaveLength(101);
    expect(conflict.bound?.need).toBe(101n * 4096n);
    expect(conflict.bound?.holds).toBe(100n * 4096n);
    expect(conflict.message).toMatch(/^these 101 requests .* need 404 KiB but the space they may use \(0x0–0x6_3fff\) holds 400 KiB/);
    // Each repair was solved again; dropping one request cannot be enough (200 pages too many).
    for (const r of result.repairs) expect(r.placements.length).toBeLessThanOrEqual(100);
  });

  it('exits 3 from the command line on a timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iova-z3-'));
    const file = join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify(tightPacking()));
    const r = await iova('solve', file, '--timeout', '1');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^unknown: /);
  });

  it('gives byte-identical output for identical input, on the Z3 path too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iova-z3-'));
    const file = join(dir, 'spec.json');
    writeFileSync(
      file,
      JSON.stringify({
        host: window,
        requests: [
          { name: 'a', size: '8K', within: { start: 0, last: '0x2fff' } },
          { name: 'b', size: '8K', within: { start: '0x1000', last: '0x2fff' } },
          { name: 'c', size: '16K', align: '16K' },
        ],
      }),
    );
    const first = await iova('solve', file, '--json');
    const second = await iova('solve', file, '--json');
    expect(first.code).toBe(1);
    expect(second.out).toBe(first.out);
  });
});
