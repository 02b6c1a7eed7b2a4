// The Z3 runtime's normal operation: real problems through workers, errors, cancellation, and the
// deletion of finished jobs' contexts.
import { afterAll, describe, expect, it } from 'vitest';
import { pingJob, Z3JobError, Z3Pool, type Z3JobOutcome } from '../../src/solver/z3/index.js';
import {
  coreJob,
  diagnosticsJob,
  misuseJob,
  optimizeJob,
  pigeonholeJob,
  throwJob,
  unawaitedJob,
  uncloneableJob,
  type LinearAssertion,
} from './fixtures/z3-test-jobs.js';

const jobModules = [new URL('./fixtures/z3-test-jobs.ts', import.meta.url)];
const pool = new Z3Pool({ size: 2, jobModules });
afterAll(() => pool.shutdown());

const opts = { timeoutMs: 30_000 };

function done<R>(outcome: Z3JobOutcome<R>): R {
  if (outcome.status !== 'done') throw new Error(`expected an answer, got unknown (${outcome.reason}: ${outcome.detail})`);
  return outcome.result;
}

const TWO_60 = 2n ** 60n;

describe('jobs on real problems', () => {
  it('answers unsat with the minimal core of tracked assertions', async () => {
    const assertions: LinearAssertion[] = [
      { name: 'a-above-2^60', lhs: 'a', op: '>=', rhs: TWO_60 },
      { name: 'b-at-most-10', lhs: 'b', op: '<=', rhs: 10n },
      { name: 'a-below-b', lhs: 'a', op: '<', rhs: 'b' },
      { name: 'b-not-negative', lhs: 'b', op: '>=', rhs: 0n },
      { name: 'c-free', lhs: 'c', op: '!=', rhs: 3n },
    ];
    const result = done(await pool.run(coreJob, { vars: ['a', 'b', 'c'], assertions }, opts));
    expect(result).toEqual({ status: 'unsat', core: ['a-above-2^60', 'a-below-b', 'b-at-most-10'] });
  });

  it('answers sat with a model, exact beyond 2^53', async () => {
    const assertions: LinearAssertion[] = [
      { name: 'a-pinned', lhs: 'a', op: '=', rhs: TWO_60 + 7n },
      { name: 'b-after-a', lhs: 'a', offset: 3n, op: '=', rhs: 'b' },
      { name: 'c-above-b', lhs: 'c', op: '>', rhs: 'b' },
      { name: 'c-bounded', lhs: 'c', op: '<=', rhs: TWO_60 + 11n },
    ];
    const result = done(await pool.run(coreJob, { vars: ['a', 'b', 'c'], assertions }, opts));
    expect(result).toEqual({ status: 'sat', model: { a: TWO_60 + 7n, b: TWO_60 + 10n, c: TWO_60 + 11n } });
  });

  it('gives the same answer whichever worker runs the job, whatever it ran before', async () => {
    // Many models satisfy this; Z3's choice must not depend on the worker or its history.
    const assertions: LinearAssertion[] = [
      { name: 'x-low', lhs: 'x', op: '>=', rhs: -1000n },
      { name: 'y-high', lhs: 'y', op: '<=', rhs: 1000n },
      { name: 'x-y', lhs: 'x', offset: 17n, op: '<', rhs: 'y' },
      { name: 'z-between', lhs: 'z', op: '>', rhs: 'x' },
      { name: 'z-not', lhs: 'z', op: '!=', rhs: 'y' },
    ];
    const payload = { vars: ['x', 'y', 'z'], assertions };
    const first = done(await pool.run(coreJob, payload, opts));
    const answers: Promise<Z3JobOutcome<unknown>>[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(pool.run(coreJob, payload, opts));
      answers.push(pool.run(pigeonholeJob, { pigeons: 5, holes: 5 }, opts)); // history in between
    }
    const outcomes = await Promise.all(answers);
    for (const outcome of outcomes.filter((_, i) => i % 2 === 0)) expect(done(outcome)).toEqual(first);
    expect(first.status).toBe('sat');
    expect(pool.stats().spawned).toBe(2);
  });

  it('checks Optimize problems too', async () => {
    expect(done(await pool.run(optimizeJob, { lower: TWO_60 + 1n }, opts))).toBe(TWO_60 + 1n);
  });

  it('runs jobs named by kind, and the built-in ping', async () => {
    expect(done(await pool.run('z3.ping', null, opts))).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(done(await pool.run(pingJob, null, opts))).toHaveProperty('version');
  });
});

describe('errors are the caller’s, answers stay unknown-free', () => {
  it('rejects with Z3JobError when the handler throws, and keeps working', async () => {
    const error = await pool.run(throwJob, undefined, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Z3JobError);
    expect(error).toMatchObject({ kind: 'test.throw', remoteName: 'TypeError' });
    expect((error as Z3JobError).remoteStack).toContain('z3-test-jobs');
    expect(done(await pool.run(pingJob, null, opts))).toHaveProperty('version');
  });

  it('rejects an unregistered kind, and data that cannot be cloned', async () => {
    await expect(pool.run('no.such.job', null, opts)).rejects.toThrow(/no job 'no.such.job' is registered/);
    await expect(pool.run(uncloneableJob, undefined, opts)).rejects.toBeInstanceOf(Z3JobError);
    await expect(pool.run('z3.ping', () => 1, opts)).rejects.toThrow(/cannot be sent/);
    await expect(pool.run(pingJob, null, { timeoutMs: 0 })).rejects.toBeInstanceOf(RangeError);
    expect(done(await pool.run(pingJob, null, opts))).toHaveProperty('version');
  });

  it('refuses to build terms while a check is in flight', async () => {
    expect(done(await pool.run(misuseJob, undefined, opts))).toEqual({ refused: 'Z3ConcurrentCallError', result: 'unknown' });
  });

  it('stops a check a handler left running before the next job', async () => {
    expect(done(await pool.run(unawaitedJob, undefined, opts))).toBe('returned');
    // A check left running would hold the worker's Z3 lock: the next job would never answer.
    expect(done(await pool.run(pingJob, null, opts))).toHaveProperty('version');
  });
});

describe('cancellation', () => {
  it('cancels a running job and a queued one', async () => {
    const solo = new Z3Pool({ size: 1, jobModules });
    try {
      const controller = new AbortController();
      const hard = { pigeons: 11, holes: 10 };
      const running = solo.run(pigeonholeJob, hard, { timeoutMs: 60_000, signal: controller.signal });
      const queued = solo.run(pigeonholeJob, hard, { timeoutMs: 60_000, signal: controller.signal });
      const after = solo.run(pingJob, null, opts);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      controller.abort();
      expect(await running).toMatchObject({ status: 'unknown', reason: 'cancelled' });
      expect(await queued).toMatchObject({ status: 'unknown', reason: 'cancelled', detail: 'cancelled while queued' });
      // The worker winds the interrupted check down and takes the next job.
      expect(done(await after)).toHaveProperty('version');
      expect(solo.stats()).toMatchObject({ spawned: 1, crashed: 0 });
      expect(await solo.run(pingJob, null, { timeoutMs: 1_000, signal: AbortSignal.abort() })).toMatchObject({ reason: 'cancelled' });
    } finally {
      await solo.shutdown();
    }
  });
});

describe('context lifetimes', () => {
  it('deletes the contexts of finished jobs, so the wasm heap does not fill up', async () => {
    const solo = new Z3Pool({ size: 1, jobModules });
    try {
      const payload = {
        vars: ['a', 'b'],
        assertions: [
          { name: 'lo', lhs: 'a', op: '>=', rhs: 5n },
          { name: 'hi', lhs: 'a', op: '<', rhs: 'b' },
        ] satisfies LinearAssertion[],
      };
      for (let i = 0; i < 40; i++) done(await solo.run(coreJob, payload, opts));
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the idle sweep run
      const diagnostics = done(await solo.run(diagnosticsJob, undefined, opts));
      // Each undeleted context would hold ~9 MiB; 40 of them would be ~360 MiB.
      expect(diagnostics.deletedContexts).toBeGreaterThanOrEqual(40);
      expect(diagnostics.liveContexts).toBeLessThanOrEqual(2);
      expect(diagnostics.estimatedAllocBytes).toBeLessThan(64 * 2 ** 20);
      expect(diagnostics.finalizerErrors).toBe(0);
      expect(solo.stats().spawned).toBe(1);
    } finally {
      await solo.shutdown();
    }
  });
});
