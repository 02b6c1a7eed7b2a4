// IOAS replay at VFIO's default dma_entry_limit: N mappings of 2 MiB loaded into an IOAS (as a
// state file is replayed: fixed maps in order), then one more map answered: one that fits, and
// one that overlaps a mapping (explained, with suggestions checked). Side by side with a plain
// reference in the same run: a list of mappings searched and re-sorted on every map, as the
// model did before its areas were indexed (the overlap answer only, no explanation).
import { loadavg } from 'node:os';
import { Ioas, type IoasPolicy } from '../src/ioas/index.js';
import { parseHostFacts } from '../src/model/schema.js';
import type { Report } from './run.js';

const SIZES = (process.env.IOVA_BENCH_IOAS ?? '4096,65535').split(',').map(Number);
const MAP = 0x20_0000n;
const BASE = 0x1_0000_0000n;

function host() {
  return parseHostFacts({
    name: 'bench',
    devices: [{ id: '0000:01:00.0', iommu: { apertures: [{ start: '0x0', last: '0xffffffffffff' }], pageSizes: '0x40201000' } }],
  });
}

/** The plain reference: overlap by a linear scan, the list copied and sorted on every insert. */
function plainReplay(n: number): number {
  let areas: Array<{ start: bigint; last: bigint }> = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const start = BASE + BigInt(i) * MAP;
    const r = { start, last: start + MAP - 1n };
    if (areas.some((a) => a.start <= r.last && r.start <= a.last)) throw new Error('overlap');
    areas = [...areas, r].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }
  return performance.now() - t0;
}

export async function run(report: Report): Promise<void> {
  for (const policy of ['vfio-type1', 'iommufd'] as IoasPolicy[]) {
    for (const n of SIZES) {
      const t0 = performance.now();
      const ioas = Ioas.create(host(), { policy, dmaEntryLimit: 65535 + 1 });
      if (!ioas.attach('0000:01:00.0').ok) throw new Error('attach');
      for (let i = 0; i < n; i++) {
        const iova = BASE + BigInt(i) * MAP;
        if (!ioas.map({ iova, length: MAP, va: 0x7f00_0000_0000n + BigInt(i) * MAP }).ok) throw new Error(`map ${i}`);
      }
      const loadMs = performance.now() - t0;
      const t1 = performance.now();
      const fits = ioas.map({ iova: BASE + BigInt(n) * MAP, length: MAP, va: 0x7e00_0000_0000n });
      const fitMs = performance.now() - t1;
      const t2 = performance.now();
      const clash = ioas.map({ iova: BASE + BigInt(n >> 1) * MAP + 0x1000n * 16n, length: MAP, va: 0x7d00_0000_0000n });
      const explainMs = performance.now() - t2;
      if (!fits.ok || clash.ok) throw new Error('unexpected verdict');
      const t3 = performance.now();
      const un = ioas.unmap(BASE, BigInt(n >> 2) * MAP);
      const unmapMs = performance.now() - t3;
      // The reference is quadratic: above 16,384 mappings it would take minutes.
      const plainN = Math.min(n, 16384);
      const plainMs = plainReplay(plainN);
      report({
        case: 'ioas-replay',
        policy,
        mappings: n,
        load_ms: Math.round(loadMs),
        per_map_us: +((loadMs * 1000) / n).toFixed(1),
        one_more_fits_ms: +fitMs.toFixed(2),
        one_more_explained_ms: +explainMs.toFixed(2),
        explained_rule: clash.ok ? '' : clash.rule,
        suggestions: clash.ok ? 0 : (clash.suggestions?.length ?? 0),
        load_and_explain_s: +((loadMs + fitMs + explainMs) / 1000).toFixed(2),
        target: '<= 1 s at 65,535',
        unmap_quarter_ms: +unmapMs.toFixed(1),
        unmapped: un.ok ? un.unmapped.length : 0,
        plain_reference_mappings: plainN,
        plain_reference_ms: Math.round(plainMs),
        ...(plainN === n ? { ratio_to_plain: +(loadMs / plainMs).toFixed(3) } : {}),
        loadavg_1m: +loadavg()[0].toFixed(1),
      });
    }
  }
}
