import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLayout } from '../../src/solver/layout.js';
import { fleetFiles, verifyFleet } from '../../src/solver/fleet.js';
import { iova } from '../cli/run.js';

const LAYOUT = {
  policy: 'vfio-type1',
  placements: [
    { name: 'ram-below-4g', iova: '0x0', size: '2G' },
    { name: 'ram-above-4g', iova: '0x100000000', size: '126G' },
  ],
};

/**
 * A fleet whose verdicts are known by construction: host i is AMD with the HyperTransport hole
 * (i % 3 == 0: the 126 GiB block does not reach it, accepted), a 36-bit Intel (i % 3 == 1:
 * rejected, aperture), or a 48-bit Intel (i % 3 == 2: accepted); every 40th file is broken.
 */
function makeFleet(n: number): { dir: string; expected: { accepted: number; rejected: number; unreadable: number } } {
  const dir = join(mkdtempSync(join(tmpdir(), 'iova-fleet-')), 'fleet');
  mkdirSync(dir);
  const expected = { accepted: 0, rejected: 0, unreadable: 0 };
  for (let i = 0; i < n; i++) {
    const file = join(dir, `host-${String(i).padStart(4, '0')}.json`);
    if (i % 40 === 39) {
      writeFileSync(file, '{ "name": ');
      expected.unreadable++;
      continue;
    }
    const platform = i % 3 === 0 ? 'amd-vi' : { profile: 'intel-vtd', addressWidth: i % 3 === 1 ? 36 : 48 };
    writeFileSync(file, JSON.stringify({ name: `host-${i}`, platform }));
    if (i % 3 === 1) expected.rejected++;
    else expected.accepted++;
  }
  return { dir, expected };
}

describe('fleet verification', () => {
  it('counts accepting, rejecting and unreadable hosts, and groups the rejections by reason', async () => {
    const { dir, expected } = makeFleet(120);
    let progress = 0;
    const report = await verifyFleet(parseLayout(LAYOUT), fleetFiles(dir), { workers: 2, onProgress: (done) => (progress = done) });
    expect({ accepted: report.accepted, rejected: report.rejected, unreadable: report.unreadable }).toEqual(expected);
    expect(report.total).toBe(120);
    expect(progress).toBe(120);
    expect(report.reasons).toEqual([
      // The 36-bit hosts are i % 3 == 1: the first three in file order are named as examples.
      { reason: '`ram-above-4g` (126 GiB at 0x1_0000_0000) is outside the IOMMU aperture (36-bit aperture)', hosts: expected.rejected, examples: ['host-1', 'host-4', 'host-7'] },
    ]);
    // Results come back in file order whatever the worker that checked them.
    expect(report.hosts.map((h) => h.file)).toEqual(fleetFiles(dir));
    const broken = report.hosts.find((h) => 'error' in h);
    expect(broken && 'error' in broken ? broken.error : '').toMatch(/host-0039\.json:1: not valid JSON/);
  });

  it('runs from the command line: a summary, exit 1 when some host rejects, JSON on request', async () => {
    const { dir, expected } = makeFleet(60);
    const layout = join(dir, '..', 'layout.json');
    writeFileSync(layout, JSON.stringify(LAYOUT));
    const r = await iova('verify', layout, '--fleet', dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^60 host files checked in [0-9.]+ s: ${expected.accepted} accept the layout, ${expected.rejected} reject it, ${expected.unreadable} could not be read\\.`));
    expect(r.out).toContain(`${String(expected.rejected).padStart(6)} × \`ram-above-4g\``);
    expect(r.out).toContain(`e.g. host-1, host-4, host-7 and ${expected.rejected - 3} more`);
    const json = JSON.parse((await iova('verify', layout, '--fleet', dir, '--json')).out);
    expect(json).toMatchObject({ ok: false, total: 60, ...expected });
    expect(json.hosts).toHaveLength(60);
  });

  it('refuses a directory without host files and --host together with --fleet', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'iova-empty-'));
    const layout = join(empty, 'layout.json');
    writeFileSync(layout, JSON.stringify(LAYOUT));
    expect((await iova('verify', layout, '--fleet', join(empty, 'nope'))).err).toMatch(/cannot read the fleet: ENOENT/);
    const dir = join(empty, 'fleet');
    mkdirSync(dir);
    expect((await iova('verify', layout, '--fleet', dir)).err).toMatch(/no host files/);
    const both = await iova('verify', layout, '--fleet', dir, '--host', layout);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/either --host or --fleet/);
  });
});
