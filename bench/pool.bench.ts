/**
 * Multi-host solving (`iova solve --fleet`): one layout for a pool of 10, 100 and 1,000
 * distinct hosts (every host's facts differ: its RMRRs sit at host-specific addresses), with a
 * split RAM request and a 32-bit MSI-X window. Time per pool includes grouping the hosts,
 * building the pool's space, solving, and verifying the answer on every host.
 */
import { loadavg } from 'node:os';
import type { Report } from './run.js';
import { hex } from '../src/model/address.js';
import { parseHostFacts } from '../src/model/schema.js';
import { validate } from '../src/model/validate.js';
import { solvePool } from '../src/solver/pool.js';
import { zPlacementSpec } from '../src/solver/spec.js';

/** A host with 4 groups: the MSI window, and one RMRR per group at an address only this host uses. */
function host(i: number) {
  const platforms = ['amd-vi', { profile: 'intel-vtd', addressWidth: 48 }, { profile: 'intel-vtd', addressWidth: 46 }];
  const groups = Array.from({ length: 4 }, (_, g) => ({
    id: g,
    devices: [`0000:${(g + 1).toString(16).padStart(2, '0')}:00.0`],
    reservedRegions: [
      { start: '0xfee00000', last: '0xfeefffff', type: 'msi', source: { what: 'msi region', file: `host-${i}/reserved_regions`, line: 1, group: g } },
      { start: hex(0xc000_0000n + BigInt(i * 4 + g) * 0x10000n), size: '64K', type: 'direct', source: { what: 'RMRR', file: `host-${i}/dmesg`, line: g + 1 } },
    ],
  }));
  return parseHostFacts({ name: `host-${i}`, platform: platforms[i % platforms.length], groups, devices: groups.map((g) => ({ id: g.devices[0], group: g.id })) });
}

const spec = validate(zPlacementSpec, {
  host: 'unused.json',
  policy: 'vfio-type1',
  requests: [
    { name: 'ram-below-4g', size: '2G', fixed: '0x0' },
    { name: 'ram-above-4g', size: '1022G', fixed: '0x100000000', split: { align: '1G', minPiece: '1G', maxPieces: 4 } },
    { name: 'vfio-msix', size: '64K', within: { start: '0x0', last: '0xffffffff' }, dmaBits: 32 },
  ],
});

export async function run(report: Report): Promise<void> {
  for (const count of [10, 100, 1000]) {
    const hosts = Array.from({ length: count }, (_, i) => host(i));
    const started = performance.now();
    const answer = await solvePool(spec, hosts, { repairs: false });
    const ms = performance.now() - started;
    report({
      figure: 'multi-host solve',
      hosts: count,
      distinct: answer.distinct,
      status: answer.result.status,
      ms: Math.round(ms),
      msPerHost: Number((ms / count).toFixed(2)),
      load1: Number(loadavg()[0].toFixed(1)),
    });
  }
}
