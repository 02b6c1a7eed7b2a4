/**
 * Solving for a migration pool, against exhaustive search: on small pools (a 16-page aperture,
 * random reserved regions per host) every candidate layout is checked on every host with the
 * per-host verifier; the pool answer must be sat exactly when some candidate passes on all
 * hosts, its layout must pass on all, and a "leave out" repair must leave a pool that has a
 * layout while putting back any one left-out host has none.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/model/host.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { validate } from '../../src/model/validate.js';
import { layoutOf } from '../../src/solver/layout.js';
import { hostClasses, solvePool } from '../../src/solver/pool.js';
import { zPlacementSpec } from '../../src/solver/spec.js';
import { type Layout, verifyOnHost } from '../../src/explain/verify.js';
import { iova } from '../cli/run.js';

const PAGE = 0x1000;
const PAGES = 16;
const hex = (n: number) => `0x${n.toString(16)}`;

/** A host with a 16-page aperture and reserved regions at the given pages (one device, one group). */
function host(name: string, reserved: Array<[number, number]>): HostFacts {
  return parseHostFacts({
    name,
    iommu: { apertures: [{ start: '0x0', last: hex(PAGES * PAGE - 1) }], pageSizes: ['4K'] },
    groups: [{ id: 1, devices: ['0000:01:00.0'], reservedRegions: reserved.map(([p, n]) => ({ start: hex(p * PAGE), size: hex(n * PAGE), type: 'reserved', source: { what: `region at page ${p}`, file: `${name}.txt`, line: 1 } })) }],
    devices: [{ id: '0000:01:00.0', group: 1 }],
  });
}

/** A fixed request and a free one (the free one placed by the solver). */
function spec(fixedPage: number, fixedPages: number, freePages: number) {
  return validate(zPlacementSpec, {
    host: 'unused.json',
    policy: 'iommufd',
    requests: [
      { name: 'a', size: hex(fixedPages * PAGE), fixed: hex(fixedPage * PAGE) },
      { name: 'b', size: hex(freePages * PAGE) },
    ],
  });
}

/** Every candidate layout (b at each page) that every host accepts. */
function accepted(hosts: readonly HostFacts[], fixedPage: number, fixedPages: number, freePages: number): Layout[] {
  const out: Layout[] = [];
  for (let p = 0; p < PAGES; p++) {
    const layout: Layout = {
      placements: [
        { name: 'a', iova: BigInt(fixedPage * PAGE), size: BigInt(fixedPages * PAGE) },
        { name: 'b', iova: BigInt(p * PAGE), size: BigInt(freePages * PAGE) },
      ],
    };
    if (hosts.every((h) => verifyOnHost(layout, h).ok)) out.push(layout);
  }
  return out;
}

const arbHostRegions = fc.array(fc.tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: 3 })), { maxLength: 2 });

describe('solvePool against exhaustive search', () => {
  it('is sat exactly when some layout passes on every host, and its layout does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbHostRegions, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 6 }), async (regions, fixedPage, fixedPages, freePages) => {
        const hosts = regions.map((r, i) => host(`h${i}`, r));
        const answer = await solvePool(spec(fixedPage, fixedPages, freePages), hosts, { repairs: false });
        const witnesses = accepted(hosts, fixedPage, fixedPages, freePages);
        expect(answer.result.status).toBe(witnesses.length > 0 ? 'sat' : 'unsat');
        if (answer.result.status === 'sat') {
          const layout = layoutOf(answer.problem, answer.result.placements);
          for (const h of hosts) expect(verifyOnHost(layout, h).ok).toBe(true);
        }
      }),
      { numRuns: 40, seed: 1414 },
    );
  }, 300_000);

  it('counts hosts with identical facts once, whatever their names and provenance', () => {
    const classes = hostClasses([host('a', [[3, 1]]), host('b', [[3, 1]]), host('c', [[4, 1]])], { policy: 'iommufd' });
    expect(classes.map((c) => c.hosts.map((h) => h.name))).toEqual([['a', 'b'], ['c']]);
  });

  it('names the host whose fact rules the layout out, and leaves out a minimal set of hosts', async () => {
    // a takes pages 0–1; b needs 8 pages: h1 leaves 2–9, h2 leaves 2–4 and 7–15, together only
    // 2–4 and 7–9. Leaving out either h1 or h2 (one host) is a minimal repair.
    const hosts = [host('h0', []), host('h1', [[10, 6]]), host('h2', [[5, 2]])];
    const answer = await solvePool(spec(0, 2, 8), hosts);
    expect(answer.result.status).toBe('unsat');
    if (answer.result.status !== 'unsat') return;
    const text = answer.result.conflicts.map((c) => [c.message, ...c.constraints.map((x) => `${x.text} ${x.source?.note ?? ''}`)].join('\n')).join('\n');
    expect(text).toMatch(/on h[12]/);
    const out = answer.leaveOut?.hosts ?? [];
    expect(out.length).toBe(1);
    expect(['h1', 'h2']).toContain(out[0]);
    const kept = hosts.filter((h) => !out.includes(h.name));
    expect(accepted(kept, 0, 2, 8).length).toBeGreaterThan(0);
    expect(accepted(hosts, 0, 2, 8)).toEqual([]);
    const layout = layoutOf(answer.problem, answer.leaveOut?.placements ?? []);
    for (const h of kept) expect(verifyOnHost(layout, h).ok).toBe(true);
  });

  it('iova solve --fleet: one layout for the pool, verified on each host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iova-pool-'));
    const fleet = join(dir, 'fleet');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(fleet);
    const hostJson = (name: string, reserved: Array<[number, number]>) => ({
      name,
      iommu: { apertures: [{ start: '0x0', last: hex(PAGES * PAGE - 1) }], pageSizes: ['4K'] },
      groups: [{ id: 1, devices: ['0000:01:00.0'], reservedRegions: reserved.map(([p, n]) => ({ start: hex(p * PAGE), size: hex(n * PAGE), type: 'reserved' })) }],
      devices: [{ id: '0000:01:00.0', group: 1 }],
    });
    writeFileSync(join(fleet, 'h0.json'), JSON.stringify(hostJson('h0', [[2, 2]])));
    writeFileSync(join(fleet, 'h1.json'), JSON.stringify(hostJson('h1', [[6, 1]])));
    writeFileSync(join(fleet, 'h2.json'), JSON.stringify(hostJson('h2', [[6, 1]])));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ host: 'fleet/h0.json', requests: [{ name: 'b', size: hex(4 * PAGE) }] }));
    const r = await iova('solve', join(dir, 'spec.json'), '--fleet', fleet, '--json', '-o', join(dir, 'layout.json'));
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    expect([json.hosts, json.distinct]).toEqual([3, 2]);
    // Free on all: pages 0–1, 4–5, 7–15; the lowest 4 free pages in a row start at page 7.
    expect(json.placements[0].iova).toBe(hex(7 * PAGE));
    expect((await iova('verify', join(dir, 'layout.json'), '--fleet', fleet)).code).toBe(0);
  });
});
