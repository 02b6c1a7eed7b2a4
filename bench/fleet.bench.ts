/**
 * Fleet verification on 10,000 and 100,000 generated host files (target: 100,000 in <= 10 s on
 * the 2-core machines), with one and two workers. A realistic fleet: most hosts are one of a
 * few dozen hardware/firmware models (identical facts, each host's own provenance), a fifth
 * have a host-specific quirk (unique facts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from './run.js';
import { hex } from '../src/model/address.js';
import { fleetFiles, verifyFleet } from '../src/solver/fleet.js';
import { parseLayout } from '../src/solver/layout.js';

const SIZES = (process.env.IOVA_BENCH_FLEET ?? '10000,100000').split(',').map(Number);
const MODELS = 40;
const UNIQUE_SHARE = 0.2;

/** A host like the ones `iova import` writes: a platform, a few groups with regions, devices with BARs. */
function host(i: number) {
  // Model m, unless this host has a quirk of its own (then its RMRR sits at a host-specific place).
  const unique = (Math.imul(i, 2654435761) >>> 0) / 2 ** 32 < UNIQUE_SHARE;
  const m = unique ? i : i % MODELS;
  const platforms = ['amd-vi', { profile: 'intel-vtd', addressWidth: 48 }, { profile: 'intel-vtd', addressWidth: 39 }, { profile: 'arm-smmuv3', addressWidth: 48 }];
  const groups = Array.from({ length: 8 }, (_, g) => ({
    id: g,
    devices: [`0000:${(g + 1).toString(16).padStart(2, '0')}:00.0`],
    reservedRegions: [
      { start: '0xfee00000', last: '0xfeefffff', type: 'msi', source: { what: 'msi region', file: `host-${i}/reserved_regions`, line: 1, group: g } },
      // An RMRR in the PCI hole below 4 GiB; on every tenth host, inside guest RAM.
      { start: hex((m % 10 === 0 ? 0x1_0000_0000n : 0xd000_0000n) + BigInt((m * 7 + g) % 128) * 0x100000n + (unique ? BigInt(i % 4096) * 0x1000n : 0n)), size: '1M', type: 'direct', source: { what: 'RMRR', file: `host-${i}/dmesg`, line: g + 1 } },
    ],
  }));
  const devices = groups.map((g) => ({ id: g.devices[0], group: g.id, bars: [{ bar: 0, start: hex(0xe000_0000n + BigInt(g.id) * 0x100000n), size: '1M' }] }));
  return { name: `host-${i}`, platform: platforms[m % platforms.length], groups, devices };
}

export async function run(report: Report): Promise<void> {
  const layout = parseLayout({
    policy: 'vfio-type1',
    placements: [
      { name: 'ram-below-4g', iova: '0x0', size: '2G' },
      { name: 'ram-above-4g', iova: '0x100000000', size: '254G' }, // beyond a 39-bit aperture
    ],
  });
  for (const hosts of SIZES) {
    const root = mkdtempSync(join(tmpdir(), 'iova-fleet-bench-'));
    const dir = join(root, 'fleet');
    mkdirSync(dir);
    for (let i = 0; i < hosts; i++) writeFileSync(join(dir, `host-${String(i).padStart(6, '0')}.json`), JSON.stringify(host(i)));
    const files = fleetFiles(dir);
    let one = 0;
    for (const workers of [1, 2]) {
      const t0 = performance.now();
      const r = await verifyFleet(layout, files, { workers });
      const seconds = (performance.now() - t0) / 1000;
      if (workers === 1) one = seconds;
      report({
        case: 'verify --fleet',
        hosts,
        workers,
        seconds: +seconds.toFixed(2),
        hosts_per_s: Math.round(hosts / seconds),
        ...(workers === 2 ? { speedup_vs_1_worker: +(one / seconds).toFixed(2) } : {}),
        accepted: r.accepted,
        rejected: r.rejected,
        models: MODELS,
        unique_share: UNIQUE_SHARE,
        target: hosts === 100_000 ? '<= 10 s' : '',
        loadavg_1m: +loadavg()[0].toFixed(1),
      });
    }
    rmSync(root, { recursive: true, force: true });
  }
}
