// Hazard 2 and friends: deadlines, memory exhaustion, aborts and exits become `unknown` answers,
// the caller lives on, and the pool replaces the worker.
import { writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pingJob, Z3Pool, type Z3JobOutcome, type Z3PoolOptions } from '../../src/solver/z3/index.js';
import { exitJob, oomCheckJob, oomMallocJob, pigeonholeJob, spinJob } from './fixtures/z3-test-jobs.js';

const jobModules = [new URL('./fixtures/z3-test-jobs.ts', import.meta.url)];

async function withPool(options: Z3PoolOptions, body: (pool: Z3Pool) => Promise<void>): Promise<void> {
  const pool = new Z3Pool({ size: 1, jobModules, ...options });
  try {
    await body(pool);
  } finally {
    await pool.shutdown();
  }
}

async function expectHealthy(pool: Z3Pool): Promise<void> {
  const outcome = await pool.run(pingJob, null, { timeoutMs: 30_000 });
  expect(outcome).toMatchObject({ status: 'done', result: { version: expect.any(String) } });
}


/**
 * The memory tests make the z3 wasm runtime abort on purpose. Emscripten reports an abort with
 * `fs.writeSync(2, …)` from the worker and from its pthreads (`Aborted(Cannot enlarge memory
 * arrays … (OOM)…)`, the RuntimeError with its wasm stack, `Pthread 0x… sent an error!`): straight
 * to this process's stderr, past any stream a test could filter. So the report is labelled: one
 * line before the test and one after, written the same way so that they stay in order with it.
 */
async function expectingAborts(test: string, body: () => Promise<void>): Promise<void> {
  writeSync(2, `[expected] ${test}: z3 aborts on purpose here (out of memory); an "Aborted(…OOM…)" report with its stack below is part of the test, not a failure\n`);
  try {
    await body();
  } finally {
    writeSync(2, `[expected] ${test}: end of the deliberate z3 abort\n`);
  }
}

// A 2^20-bit multiplication: bit-blasting it needs far more than the 2 GiB wasm heap.
const HUGE = { bits: 2 ** 20 };

describe('deadlines', () => {
  it('interrupts a hard check at the deadline: unknown (timeout), same worker goes on', async () => {
    await withPool({}, async (pool) => {
      await expectHealthy(pool);
      const outcome = await pool.run(pigeonholeJob, { pigeons: 11, holes: 10 }, { timeoutMs: 300 });
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'timeout' });
      expect(outcome).not.toMatchObject({ detail: expect.stringMatching(/terminated/) }); // Z3 was interrupted, not killed
      await expectHealthy(pool);
      expect(pool.stats()).toMatchObject({ spawned: 1, crashed: 0 });
    });
  });

  it('a per-check budget gives unknown to the handler, not the end of the job', async () => {
    await withPool({}, async (pool) => {
      const outcome = await pool.run(pigeonholeJob, { pigeons: 11, holes: 10, checkTimeoutMs: 200 }, { timeoutMs: 30_000 });
      expect(outcome).toEqual({ status: 'done', result: 'unknown' });
    });
  });

  it('terminates a worker that does not answer within the grace period', async () => {
    await withPool({ graceMs: 300 }, async (pool) => {
      // The job spins for a minute; the answer comes from terminating it after the grace period
      // (the test's own timeout is what a missing termination would run into).
      const outcome = await pool.run(spinJob, { ms: 60_000 }, { timeoutMs: 200 });
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'timeout', detail: expect.stringMatching(/terminated/) });
      await expectHealthy(pool);
      expect(pool.stats()).toMatchObject({ spawned: 2, crashed: 1 });
    });
  });
});

describe('memory exhaustion', () => {
  it('with the memory limit, Z3 gives up cleanly: unknown (out-of-memory)', async () => {
    await withPool({}, async (pool) => {
      const outcome = await pool.run(oomCheckJob, HUGE, { timeoutMs: 60_000 });
      expect(outcome).toMatchObject({ status: 'unknown', reason: 'out-of-memory', detail: expect.stringMatching(/memory/) });
      await expectHealthy(pool);
      expect(pool.stats().crashed).toBe(0);
    });
  });

  it('without it, the wasm heap runs out and aborts the worker: unknown (out-of-memory), pool recovers', async () => {
    await expectingAborts('the wasm heap runs out', async () => {
      await withPool({ memoryLimitMiB: 0 }, async (pool) => {
        const outcome = await pool.run(oomCheckJob, HUGE, { timeoutMs: 60_000 });
        expect(outcome).toMatchObject({ status: 'unknown', reason: 'out-of-memory', detail: expect.stringMatching(/OOM|memory/) });
        await expectHealthy(pool);
        expect(pool.stats()).toMatchObject({ spawned: 2, crashed: 1 });
      });
    });
  });

  it('an abort on the worker’s own thread (heap exhausted by malloc) is caught the same way', async () => {
    await expectingAborts('malloc exhausts the heap', async () => {
      await withPool({}, async (pool) => {
        const outcome = await pool.run(oomMallocJob, undefined, { timeoutMs: 60_000 });
        expect(outcome).toMatchObject({ status: 'unknown', reason: 'out-of-memory', detail: expect.stringMatching(/OOM/) });
        await expectHealthy(pool);
        expect(pool.stats().spawned).toBe(2);
      });
    });
  });
});

describe('workers that die', () => {
  it('a worker that exits mid-job: unknown (worker-crashed), the next job runs on a new worker', async () => {
    await withPool({}, async (pool) => {
      const outcome = await pool.run(exitJob, { code: 3 }, { timeoutMs: 30_000 });
      expect(outcome).toEqual({ status: 'unknown', reason: 'worker-crashed', detail: 'the worker exited with code 3' });
      await expectHealthy(pool);
      expect(pool.stats()).toMatchObject({ spawned: 2, crashed: 1 });
    });
  });

  it('a worker that cannot start answers every queued job once, without retrying forever', async () => {
    const pool = new Z3Pool({ size: 2, jobModules: [new URL('./fixtures/z3-no-such-module.ts', import.meta.url)] });
    try {
      const outcomes = await Promise.all([1, 2, 3].map(() => pool.run(pingJob, null, { timeoutMs: 5_000 })));
      for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'unknown', reason: 'worker-start-failed' });
      expect((outcomes[0] as Extract<Z3JobOutcome<unknown>, { status: 'unknown' }>).detail).toMatch(/z3-no-such-module/);
      expect(pool.stats().queued).toBe(0);
      await expect.poll(() => pool.stats().workers, { timeout: 10_000 }).toBe(0);
      expect(pool.stats().spawned).toBe(2); // one per slot, no retry
    } finally {
      await pool.shutdown();
    }
  });

  it('shutdown answers the running and queued jobs', async () => {
    const pool = new Z3Pool({ size: 1, jobModules });
    const running = pool.run(pigeonholeJob, { pigeons: 11, holes: 10 }, { timeoutMs: 60_000 });
    const queued = pool.run(pingJob, null, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await pool.shutdown();
    expect(await running).toMatchObject({ status: 'unknown', reason: 'shutdown' });
    expect(await queued).toMatchObject({ status: 'unknown', reason: 'shutdown' });
    expect(pool.stats().workers).toBe(0);
    // and it starts again on demand
    await expectHealthy(pool);
    await pool.shutdown();
  });
});
