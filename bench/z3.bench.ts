// Z3 runtime: what a caller pays to get an answer through a worker. Three figures:
//  - startup: the first job in a fresh pool (worker spawn + Z3 init + first check, which also
//    starts Z3's pthread), over a few fresh pools;
//  - ping: a warm round trip that solves nothing (a fresh context is still made and dropped);
//  - core: a warm check of a small tracked unsat problem, unsat core minimised.
// Run from sources (tsx), the worker also pays tsx's loader on start-up; compiled runs start faster.
// This module doubles as the job module the bench's pool loads (it exports `z3Jobs`).
import { defineZ3Job, pingJob, Z3Pool, type Z3JobOutcome } from '../src/solver/z3/index.js';
import type { Report } from './run.js';

const FRESH_POOLS = 3;
const PINGS = 200;
const CORES = 50;

/** Eight tracked constraints on a chain of six variables; one minimal core (five of them). */
export const smallCoreJob = defineZ3Job('bench.small-core', async (session) => {
  const { ctx } = session;
  const solver = new ctx.Solver();
  solver.set('core.minimize', true);
  const xs = Array.from({ length: 6 }, (_, i) => ctx.Int.const(`x${i}`));
  for (let i = 0; i + 1 < xs.length; i++) solver.addAndTrack(xs[i].add(4096).le(xs[i + 1]), `gap${i}`);
  solver.addAndTrack(xs[0].ge(-65536), 'x0-min');
  solver.addAndTrack(xs[5].lt(16384), 'x5-max');
  solver.addAndTrack(xs[2].ge(8192), 'x2-min');
  const status = await session.check(solver);
  return { status, core: [...solver.unsatCore()].map(String).sort() };
});

export const z3Jobs = [smallCoreJob];

const jobModules = [new URL(import.meta.url)];
const budget = { timeoutMs: 60_000 };

function expectDone<R>(outcome: Z3JobOutcome<R>): R {
  if (outcome.status !== 'done') throw new Error(`bench job answered unknown: ${outcome.reason} (${outcome.detail})`);
  return outcome.result;
}

function summary(samples: number[]): { median_ms: number; p90_ms: number; min_ms: number; max_ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2));
  return { median_ms: at(0.5), p90_ms: at(0.9), min_ms: at(0), max_ms: at(1) };
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function run(report: Report): Promise<void> {
  const mode = import.meta.url.endsWith('.ts') ? 'src-tsx' : 'compiled';

  const startups: number[] = [];
  for (let i = 0; i < FRESH_POOLS; i++) {
    const pool = new Z3Pool({ size: 1, jobModules });
    startups.push(await time(async () => expectDone(await pool.run(smallCoreJob, undefined, budget))));
    await pool.shutdown();
  }
  report({ figure: 'startup', mode, what: 'first job in a fresh pool: spawn + init + first check', runs: FRESH_POOLS, ...summary(startups) });

  const pool = new Z3Pool({ size: 1, jobModules });
  try {
    const result = expectDone(await pool.run(smallCoreJob, undefined, budget));
    if (result.status !== 'unsat' || result.core.join() !== 'gap2,gap3,gap4,x2-min,x5-max') {
      throw new Error(`unexpected answer from the bench problem: ${JSON.stringify(result)}`);
    }
    const pings: number[] = [];
    for (let i = 0; i < PINGS; i++) pings.push(await time(async () => expectDone(await pool.run(pingJob, null, budget))));
    report({ figure: 'ping', mode, what: 'warm round trip, no solving', runs: PINGS, ...summary(pings) });

    const cores: number[] = [];
    for (let i = 0; i < CORES; i++) cores.push(await time(async () => expectDone(await pool.run(smallCoreJob, undefined, budget))));
    report({ figure: 'core', mode, what: 'warm check: 8 tracked Int assertions, unsat, minimised core', runs: CORES, ...summary(cores) });
  } finally {
    await pool.shutdown();
  }
}
