/**
 * A bug inside a fleet worker (an error that is not bad input) is an internal error of the
 * whole run, naming the host it happened on, never a host counted as unreadable. The bug is
 * planted where the worker starts (see faulty-fleet-worker.ts): the real worker, whose key of
 * `host-1`'s facts throws a TypeError.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseLayout } from '../../src/solver/layout.js';
import { fleetFiles, verifyFleet } from '../../src/solver/fleet.js';
import { iova } from '../cli/run.js';

const LAYOUT = { policy: 'vfio-type1', placements: [{ name: 'ram', iova: '0x0', size: '2G' }] };

const planted = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/solver/threads.js', async (original) => {
  const real = await original<typeof import('../../src/solver/threads.js')>();
  return {
    startWorker: (base: string, name: string, options?: object) =>
      planted.on && name === './fleet-worker' ? real.startWorker(import.meta.url, './faulty-fleet-worker', options) : real.startWorker(base, name, options),
  };
});

async function withBug<T>(f: () => Promise<T>): Promise<T> {
  planted.on = true;
  try {
    return await f();
  } finally {
    planted.on = false;
  }
}

function fleet(): { dir: string; files: string[] } {
  const dir = join(mkdtempSync(join(tmpdir(), 'iova-fleet-bug-')), 'fleet');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a-unreadable.json'), '{ "name": ');
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `host-${i}.json`), JSON.stringify({ name: `host-${i}`, platform: 'amd-vi' }));
  return { dir, files: fleetFiles(dir) };
}

describe('an internal error in a fleet worker', () => {
  it('rejects verifyFleet with the host file named; bad input stays an unreadable host', async () => {
    const { dir, files } = fleet();
    const layout = parseLayout(LAYOUT);
    // Without the bug: the broken file is unreadable, the others accept.
    const report = await verifyFleet(layout, files, { workers: 1 });
    expect({ accepted: report.accepted, unreadable: report.unreadable }).toEqual({ accepted: 3, unreadable: 1 });
    // With it: an error naming the host it struck, not one more unreadable host.
    const host1 = join(dir, 'host-1.json').replace(/[.\\/]/g, '\\$&');
    await expect(withBug(() => verifyFleet(layout, files, { workers: 1 }))).rejects.toThrow(new RegExp(`^while verifying ${host1}: planted fault$`));
  });

  it('makes `iova verify --fleet` exit 4 with "internal error" and the host file', async () => {
    const { dir } = fleet();
    const file = join(dir, '..', 'layout.json');
    writeFileSync(file, JSON.stringify(LAYOUT));
    const sound = await iova('verify', file, '--fleet', dir);
    expect(sound.code).toBe(1); // the unreadable host fails the run, as bad input does
    expect(sound.out).toMatch(/1 could not be read/);
    const run = await withBug(() => iova('verify', file, '--fleet', dir));
    expect(run.code).toBe(4);
    expect(run.err).toMatch(/^iova verify: internal error: while verifying .*host-1\.json: planted fault$/m);
    expect(run.out).not.toMatch(/could not be read/);
  });
});
