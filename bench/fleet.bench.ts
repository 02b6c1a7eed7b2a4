/**
 * Fleet verification on 10,000 generated host files (target: ≤ 30 s on the 2-core machines),
 * with one and with all workers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from './run.js';
import { hex } from '../src/model/address.js';
import { fleetFiles, verifyFleet } from '../src/solver/fleet.js';
import { parseLayout } from '../src/solver/layout.js';

const HOSTS = 10_000;

/** A host like the ones `iova import` writes: a platform, a few groups with regions, devices with BARs. */
function host(i: number) {
  const platforms = ['amd-vi', { profile: 'intel-vtd', addressWidth: 48 }, { profile: 'intel-vtd', addressWidth: 39 }, { profile: 'arm-smmuv3', addressWidth: 48 }];
  const groups = Array.from({ length: 8 }, (_, g) => ({
    id: g,
    devices: [`0000:${(g + 1).toString(16).padStart(2, '0')}:00.0`],
    reservedRegions: [
      { start: '0xfee00000', last: '0xfeefffff', type: 'msi', source: { what: 'msi region', file: `host-${i}/reserved_regions`, line: 1, group: g } },
      // An RMRR in the PCI hole below 4 GiB; on every tenth host, inside guest RAM.
      { start: hex((i % 10 === 0 ? 0x1_0000_0000n : 0xd000_0000n) + BigInt((i * 7 + g) % 128) * 0x100000n), size: '1M', type: 'direct', source: { what: 'RMRR', file: `host-${i}/dmesg`, line: g + 1 } },
    ],
  }));
  const devices = groups.map((g) => ({ id: g.devices[0], group: g.id, bars: [{ bar: 0, start: hex(0xe000_0000n + BigInt(g.id) * 0x100000n), size: '1M' }] }));
  return { name: `host-${i}`, platform: platforms[i % platforms.length], groups, devices };
}

export async function run(report: Report): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'iova-fleet-bench-'));
  const dir = join(root, 'fleet');
  mkdirSync(dir);
  for (let i = 0; i < HOSTS; i++) writeFileSync(join(dir, `host-${String(i).padStart(5, '0')}.json`), JSON.stringify(host(i)));
  const layout = parseLayout({
    policy: 'vfio-type1',
    placements: [
      { name: 'ram-below-4g', iova: '0x0', size: '2G' },
      { name: 'ram-above-4g', iova: '0x100000000', size: '254G' }, // beyond a 39-bit aperture
    ],
  });
  const files = fleetFiles(dir);
  for (const workers of [1, availableParallelism()]) {
    const t0 = performance.now();
    const r = await verifyFleet(layout, files, { workers });
    report({
      case: 'verify --fleet',
      hosts: HOSTS,
      workers,
      seconds: +((performance.now() - t0) / 1000).toFixed(2),
      accepted: r.accepted,
      rejected: r.rejected,
      target: '<= 30 s',
    });
  }
  rmSync(root, { recursive: true, force: true });
}
