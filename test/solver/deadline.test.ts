/**
 * The whole-solve deadline: every long phase looks at one deadline and gives up with what it
 * has. Time is never measured here: a deadline on an injected clock is already past, or passes
 * at a chosen phase, and each phase must then stop at its first look (a control with a clock
 * that never reaches the deadline shows the same call doing the work).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneWindow, windowTags } from '../../bench/solver-instances.js';
import { scanCapacity } from '../../src/solver/capacity.js';
import { Deadline } from '../../src/solver/deadline.js';
import { placeGreedy } from '../../src/solver/greedy.js';
import { packPlacement } from '../../src/solver/packing.js';
import { type SolvePhase, solve } from '../../src/solver/solve.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { budgeted, solveWithSplits } from '../../src/solver/split.js';
import { iova } from '../cli/run.js';

/** A deadline whose clock already reads past it, and one whose clock never gets there. */
const past = () => new Deadline(0, () => 1);
const never = () => new Deadline(1, () => 0);

// Window tags over two windows: the objective's greedy order misses some requests, so the
// capacity scan and the packing passes run (the packing places them all).
const tags = windowTags(2000, 2);
const problem = parsePlacementSpec(tags.spec);
const names = problem.requests.map((r) => r.name).sort();

describe('each phase stops at its first look at a passed deadline', () => {
  it('greedy placement', () => {
    const stopped = placeGreedy(problem, undefined, { deadline: past() });
    expect(stopped.interrupted).toBe(true);
    expect(stopped.placed.size).toBe(0);
    expect([...stopped.failed].sort()).toEqual(names);
    const full = placeGreedy(problem, undefined, { deadline: never() });
    expect(full.interrupted).toBeUndefined();
    expect(full.placed.size + full.failed.length).toBe(problem.requests.length);
    expect(full.placed.size).toBe(placeGreedy(problem).placed.size);
    expect(full.placed.size).toBeGreaterThan(0);
  });

  it('the packing passes', () => {
    const stopped = packPlacement(problem, past());
    expect(stopped.interrupted).toBe(true);
    expect(stopped.placed.size).toBe(0);
    const full = packPlacement(problem, never());
    expect(full.interrupted).toBeUndefined();
    expect(full.failed).toEqual([]);
  });

  it('the capacity scan (finding no bound then proves nothing, and says so)', () => {
    // Over-full by area: the scan proves it unsat, unless stopped first.
    const over = parsePlacementSpec(oneWindow(2000, 101, 'pow2').spec);
    expect(scanCapacity(over, { deadline: never() }).failed).toBeDefined();
    const stopped = scanCapacity(over, { deadline: past() });
    expect(stopped.failed).toBeUndefined();
    expect(stopped.interrupted).toBe(true);
  });
});

describe('solve answers unknown, naming the phase the budget ran out in', () => {
  /** A clock that reads 0 until the solve enters `phase`, then far past the deadline. */
  function expiringAt(phase: SolvePhase) {
    let now = 0;
    return { deadline: new Deadline(1000, () => now), onProgress: (p: { phase: SolvePhase }) => (p.phase === phase ? (now = 1e12) : undefined) };
  }

  it.each(['greedy', 'capacity', 'packing'] as const)('%s', async (phase) => {
    const { deadline, onProgress } = expiringAt(phase);
    const result = await solve(problem, { deadline, onProgress, exact: null });
    expect(result.status).toBe('unknown');
    if (result.status !== 'unknown') return;
    expect(result.phase).toBe(phase);
    expect(result.reason).toMatch(/time budget ran out in/);
    // What was learnt is what the phases before it placed: nothing when greedy itself stopped,
    // else the whole greedy placement (consistent, not certified).
    const greedy = placeGreedy(problem);
    expect(greedy.failed.length).toBeGreaterThan(0);
    expect(result.learnt?.placed.length).toBe(phase === 'greedy' ? 0 : greedy.placed.size);
  });

  it('the same solve with time to spare is sat (the deadline is what stopped it)', async () => {
    const result = await solve(problem, { deadline: never(), exact: null });
    expect(result.status).toBe('sat');
  });

  it('split solving passes the one deadline down, not a fresh budget per sub-solve', async () => {
    const left = budgeted({ deadline: past() });
    expect(left().deadline).toBe(left().deadline);
    const own = budgeted({ timeoutMs: 5000 });
    expect(own().deadline).toBe(own().deadline);
    const spec = { ...tags.spec, requests: [...tags.spec.requests, { name: 'ram', size: '0x100000', split: { maxPieces: 4 } }] };
    const result = await solveWithSplits(parsePlacementSpec(spec), { deadline: past(), exact: null });
    expect(result.status).toBe('unknown');
    if (result.status === 'unknown') expect(result.phase).toBe('greedy');
  });
});

describe('iova solve --timeout bounds the whole command', () => {
  it('answers unknown (exit 3) naming the phase when 1 ms cannot place 2,000 window-tagged requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iova-deadline-'));
    const file = join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify(tags.spec));
    const run = await iova('solve', file, '--timeout', '1', '--json');
    expect(run.code).toBe(3);
    const json = JSON.parse(run.out) as { status: string; phase?: string; reason: string };
    expect(json.status).toBe('unknown');
    expect(['greedy', 'capacity', 'packing', 'exact']).toContain(json.phase);
    const text = await iova('solve', file, '--timeout', '1');
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/^unknown: the time budget ran out in /);
  });
});
