/**
 * IOAS figures: fixed maps, refused maps explained with checked suggestions, and attaches, per
 * operation; and, measured in the same run on the same state, what the kernel-version rules
 * (require_direct, the group-less container, map backing, MSI reachability) cost on their own —
 * the ratio says how much of each operation they are.
 */
import { loadavg } from 'node:os';
import type { Report } from './run.js';
import { Ioas } from '../src/ioas/index.js';
import { parseKernel } from '../src/ioas/kernel.js';
import { pinFailure } from '../src/ioas/iommufd.js';
import { checkRequireDirect, unscopedDirectWarnings } from '../src/ioas/require-direct.js';
import { noIommu } from '../src/ioas/vfio-type1.js';
import { parseHostFacts } from '../src/model/schema.js';

const host = parseHostFacts({
  name: 'bench',
  platform: 'amd-vi',
  groups: [
    { id: 12, devices: ['0000:41:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }, { start: '0xfd00000000', last: '0xffffffffff', type: 'reserved' }] },
    { id: 13, devices: ['0000:42:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }] },
  ],
  devices: [
    { id: '41:00.0', group: 12 },
    { id: '42:00.0', group: 13 },
  ],
});

const PAGE = 0x1000n;

function perOp(n: number, f: (i: number) => void, rounds = 3): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f(i);
    best = Math.min(best, (performance.now() - t0) / n);
  }
  return best * 1000;
}

export function run(report: Report): void {
  const load = loadavg()[0].toFixed(2);
  const kernel = parseKernel('6.19');
  for (const policy of ['iommufd', 'vfio-type1'] as const) {
    const maps = 2000;
    let ioas = Ioas.create(host, { policy, suggestions: false });
    const setup = () => {
      ioas = Ioas.create(host, { policy, suggestions: false });
      ioas.attach('0000:41:00.0');
      ioas.attach('0000:42:00.0');
    };
    setup();
    // Fixed maps at distinct IOVAs (the existing IOAS path), a fresh IOAS per round.
    const mapUs = perOp(maps, (i) => {
      if (i === 0) setup();
      ioas.map({ iova: 0x1_0000_0000n + BigInt(i) * 0x10000n, length: PAGE, va: 0x7f00_0000_0000n + BigInt(i) * PAGE, backing: 'anonymous' });
    });
    // The new per-map checks alone on the same state.
    const core = (ioas as unknown as { core: Parameters<typeof noIommu>[0] }).core;
    const rulesUs = perOp(maps * 10, () => {
      noIommu(core, 'map', 'VFIO_IOMMU_MAP_DMA');
      pinFailure(core, 'anonymous', false);
    });
    report({ case: 'map', policy, mappings: maps, 'µs/map': Number(mapUs.toFixed(2)), 'µs/map for the new rules': Number(rulesUs.toFixed(3)), 'new rules / map': Number((rulesUs / mapUs).toPrecision(2)), load });

    // A refused map over the HyperTransport hole, explained with checked suggestions.
    const explained = Ioas.create(host, { policy });
    explained.attach('0000:41:00.0');
    for (let i = 0; i < 200; i++) explained.map({ iova: 0x1_0000_0000n + BigInt(i) * 0x10000n, length: PAGE });
    const explainUs = perOp(50, () => explained.map({ iova: 0xfd_0000_0000n, length: 0x10000n }));
    report({ case: 'explain map', policy, mappings: 200, 'µs/explain': Number(explainUs.toFixed(1)), load });

    // Attach (with the require_direct and MSI checks) against the checks alone.
    const attachUs = perOp(200, () => {
      const fresh = Ioas.create(host, { policy, suggestions: false });
      fresh.attach('0000:41:00.0');
    });
    const directUs = perOp(2000, () => {
      checkRequireDirect(host, '0000:41:00.0', kernel);
      unscopedDirectWarnings(host, '0000:41:00.0');
    });
    report({ case: 'attach', policy, 'µs/attach': Number(attachUs.toFixed(1)), 'µs/attach for require_direct': Number(directUs.toFixed(2)), 'new rules / attach': Number((directUs / attachUs).toPrecision(2)), load });
  }
}
