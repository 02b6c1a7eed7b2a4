/**
 * Solver figures: Z3 start-up; solving 10, 100, 1,000 and 10,000 flexible requests among
 * 50 to 1,000 holes; a competing case the greedy order misses (the Z3 path); and the time to a
 * minimal conflict and to repairs for an unsat case. Targets, warm: 10 requests ≤ 100 ms;
 * 1,000 requests with 1,000 holes ≤ 2 s.
 */
import type { Report } from './run.js';
import { hex } from '../src/model/address.js';
import { parsePlacementSpec } from '../src/solver/spec.js';
import { solve } from '../src/solver/solve.js';
import { runZ3Job, shutdownZ3 } from '../src/solver/z3/index.js';
import { pingJob } from '../src/solver/z3/jobs/builtin.js';
import { prng } from './solver-instances.js';

/** A 48-bit host with `holes` reserved regions spread over the first 256 GiB. */
function host(holes: number, seed: number) {
  const next = prng(seed);
  const regions = [];
  for (let i = 0; i < holes; i++) {
    const start = BigInt(Math.floor(next() * 2 ** 26)) << 12n;
    regions.push({ start: hex(start), size: hex(BigInt(1 + Math.floor(next() * 64)) << 12n), type: 'reserved' });
  }
  return { name: `bench-${holes}`, platform: { profile: 'intel-vtd', addressWidth: 48 }, reservedRegions: regions };
}

function requests(n: number, seed: number) {
  const next = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    const pages = 1 + Math.floor(next() * 512);
    return { name: `r${i}`, size: hex(BigInt(pages) << 12n), align: hex(1n << BigInt(12 + Math.floor(next() * 10))) };
  });
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

export async function run(report: Report): Promise<void> {
  const start = await timed(() => runZ3Job(pingJob, null, { timeoutMs: 60_000 }));
  report({ case: 'Z3 start-up (first job: worker, init, answer)', ms: +start.ms.toFixed(1) });

  for (const [n, holes] of [
    [10, 50],
    [100, 200],
    [1000, 1000],
    [10_000, 1000],
  ] as const) {
    const spec = { host: host(holes, n), requests: requests(n, n + 1) };
    await solve(parsePlacementSpec(spec)); // warm-up (JIT)
    const { ms, value } = await timed(() => solve(parsePlacementSpec(spec)));
    report({ case: 'solve flexible requests', requests: n, holes, ms: +ms.toFixed(1), status: value.status, target: n === 10 ? '<= 100 ms' : n === 1000 ? '<= 2000 ms' : '' });
  }

  // Competing requests the greedy order cannot place: the tighter `b` goes first, takes the
  // lowest slot and leaves no room for `a`; Z3 finds a at 0, b at 8K.
  const window = { name: 'tight', iommu: { apertures: [{ start: 0, last: '0xffff' }], pageSizes: ['4K'] } };
  const competing = (aLast: string, bLast: string) => ({
    host: window,
    requests: [
      { name: 'a', size: '8K', within: { start: 0, last: aLast } },
      { name: 'b', size: '8K', within: { start: '0x1000', last: bLast } },
    ],
  });
  const z3sat = await timed(() => solve(parsePlacementSpec(competing('0x3fff', '0x3fff'))));
  report({ case: 'competing requests (Z3 path)', ms: +z3sat.ms.toFixed(1), status: z3sat.value.status });

  // Unsat: a 1 GiB-aligned 1 GiB window below 4 GiB with one blocker per slot.
  const crowded = {
    host: {
      name: 'crowded',
      platform: { profile: 'intel-vtd', addressWidth: 39 },
      reservedRegions: [
        { start: '0xe8000', last: '0xe8fff', type: 'direct' },
        { start: '0x7b800000', last: '0x7b8fffff', type: 'direct' },
        { start: '0x90000000', last: '0xbfffffff', type: 'reserved' },
      ],
    },
    requests: [{ name: 'lowwin', size: '1G', align: '1G', within: { start: 0, last: '0xffffffff' } }],
  };
  const core = await timed(() => solve(parsePlacementSpec(crowded), { repairs: false }));
  report({ case: 'unsat: minimal conflict (one request, TypeScript)', ms: +core.ms.toFixed(1) });
  const repairs = await timed(() => solve(parsePlacementSpec(crowded)));
  report({ case: 'unsat: conflict and verified repairs', ms: +repairs.ms.toFixed(1), repairs: repairs.value.status === 'unsat' ? repairs.value.repairs.length : 0 });

  // 16 KiB of requests in 12 KiB: each fits alone, not both.
  const two = competing('0x2fff', '0x2fff');
  const z3core = await timed(() => solve(parsePlacementSpec(two), { repairs: false }));
  report({ case: 'unsat: minimal conflict of competing requests (Z3)', ms: +z3core.ms.toFixed(1) });
  const z3repairs = await timed(() => solve(parsePlacementSpec(two)));
  report({ case: 'unsat: conflict and MaxSMT repairs (Z3)', ms: +z3repairs.ms.toFixed(1), repairs: z3repairs.value.status === 'unsat' ? z3repairs.value.repairs.length : 0 });
  await shutdownZ3();
}
