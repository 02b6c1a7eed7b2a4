/**
 * Model figures: RangeSet union and difference over 10^5 ranges, and the usable-range
 * computation for 1,000 devices with 10 reserved regions each.
 */
import type { Report } from './run.js';
import { AddressSpace } from '../src/model/address-space.js';
import { hex } from '../src/model/address.js';
import type { IovaRange } from '../src/model/range.js';
import { RangeSet } from '../src/model/rangeset.js';
import { parseHostFacts } from '../src/model/schema.js';

/** xorshift64*: a seeded generator, so every run measures the same inputs. */
function prng(seed: bigint) {
  let x = seed;
  return () => {
    x ^= x >> 12n;
    x ^= (x << 25n) & 0xffffffffffffffffn;
    x ^= x >> 27n;
    return (x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
  };
}

function randomRanges(n: number, seed: bigint): IovaRange[] {
  const next = prng(seed);
  const out: IovaRange[] = [];
  for (let i = 0; i < n; i++) {
    const start = next() >> 8n;
    out.push({ start, last: start + (next() >> 40n) });
  }
  return out;
}

function time<T>(f: () => T, repeat = 5): { ms: number; value: T } {
  let value = f();
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) value = f();
  return { ms: (performance.now() - t0) / repeat, value };
}

export async function run(report: Report): Promise<void> {
  const a = randomRanges(100_000, 1n);
  const b = randomRanges(100_000, 2n);
  const build = time(() => RangeSet.of(a));
  report({ case: 'RangeSet.of (sort + coalesce)', ranges: a.length, ms: +build.ms.toFixed(2) });
  const sa = RangeSet.of(a);
  const sb = RangeSet.of(b);
  const union = time(() => sa.union(sb));
  report({ case: 'RangeSet union', ranges: sa.ranges.length + sb.ranges.length, ms: +union.ms.toFixed(2), result: union.value.ranges.length });
  const diff = time(() => sa.subtract(sb));
  report({ case: 'RangeSet difference', ranges: sa.ranges.length + sb.ranges.length, ms: +diff.ms.toFixed(2), result: diff.value.ranges.length });
  const inter = time(() => sa.intersect(sb));
  report({ case: 'RangeSet intersection', ranges: sa.ranges.length + sb.ranges.length, ms: +inter.ms.toFixed(2), result: inter.value.ranges.length });

  // 1,000 devices, each in its own group with 10 reserved regions spread over the space.
  const next = prng(3n);
  const groups = [];
  const devices = [];
  for (let d = 0; d < 1000; d++) {
    const bdf = `0000:${(d >> 5).toString(16).padStart(2, '0')}:${(d & 31).toString(16).padStart(2, '0')}.0`;
    const regions = [];
    for (let r = 0; r < 10; r++) {
      const start = (next() >> 16n) & ~0xfffn;
      regions.push({ start: hex(start), size: hex(((next() >> 44n) + 1n) << 12n), type: r === 0 ? 'msi' : 'reserved' });
    }
    groups.push({ id: d, devices: [bdf], reservedRegions: regions });
    devices.push({ id: bdf, group: d });
  }
  const host = parseHostFacts({ name: 'bench', platform: 'intel-vtd', groups, devices });
  const space = time(() => AddressSpace.build(host, { policy: 'iommufd' }), 3);
  report({
    case: 'usable ranges: 1,000 devices × 10 reserved regions',
    devices: 1000,
    regions: 10_000,
    ms: +space.ms.toFixed(2),
    usableRanges: space.value.usable.ranges.length,
    holes: space.value.holes.length,
  });
}
