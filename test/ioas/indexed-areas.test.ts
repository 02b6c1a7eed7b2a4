/**
 * Property: the indexed IOAS (areas in a sorted index, reserved and allowed ranges in interval
 * trees) answers random sequences of maps, unmaps, unmap-alls, allows and attaches exactly as the
 * same rules over plain lists do (the model before indexing: linear scans, re-sorted copies),
 * with the same errno, rule, blocking fact, involved facts and unmapped mappings; and every fixed
 * map is accepted exactly when a first-principles check over the reference's own list says so.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ioas, type IoasPolicy } from '../../src/ioas/index.js';
import type { IoasCore } from '../../src/ioas/state.js';
import type { IoasMapping } from '../../src/model/ioas-state.js';
import { compareRanges, type IovaRange } from '../../src/model/range.js';
import { RangeSet } from '../../src/model/rangeset.js';
import { parseHostFacts } from '../../src/model/schema.js';

const UNIT = 0x1000n;
const meets = (a: IovaRange, b: IovaRange) => a.start <= b.last && b.start <= a.last;

/** Replace the core's indexed queries by the plain list versions. */
function plain(ioas: Ioas): Ioas {
  const core = (ioas as unknown as { core: IoasCore }).core;
  let list: IoasMapping[] = [];
  Object.defineProperty(core, 'areas', { get: () => list, set: (v: IoasMapping[]) => (list = [...v].sort(compareRanges)), configurable: true });
  Object.defineProperty(core, 'areaSet', { get: () => RangeSet.of(list), configurable: true });
  Object.assign(core, {
    areasOverlapping: (r: IovaRange) => list.filter((a) => meets(a, r)),
    reservedOverlapping: (r: IovaRange) => core.reserved.filter((o) => meets(o.hole, r)),
    advisoryOverlapping: (r: IovaRange) => core.advisory.filter((o) => meets(o.hole, r)),
    allowedOverlapping: (r: IovaRange) => core.allowed.filter((a) => meets(a, r)),
    addArea: (m: IoasMapping) => {
      list = [...list, m].sort(compareRanges);
    },
    removeAreas: (gone: readonly IoasMapping[]) => {
      list = list.filter((a) => !gone.includes(a));
    },
  });
  return ioas;
}

const host = parseHostFacts({
  name: 'random',
  devices: [
    {
      id: '0000:01:00.0',
      iommu: { apertures: [{ start: '0x10000', last: '0xfffff' }], pageSizes: '0x1000' },
      reservedRegions: [
        { start: '0x40000', last: '0x43fff', type: 'reserved' },
        { start: '0x80000', last: '0x80fff', type: 'msi' },
      ],
    },
    { id: '0000:02:00.0', iommu: { apertures: [{ start: '0x0', last: '0xeffff' }], pageSizes: '0x1000' }, reservedRegions: [{ start: '0x60000', last: '0x61fff', type: 'direct-relaxable' }] },
  ],
});

const arbOp = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('map' as const), start: fc.integer({ min: 0, max: 64 }), units: fc.integer({ min: 1, max: 8 }), offset: fc.constantFrom(0n, 0n, 1n, 0x800n, 0xfffn) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unmap' as const), start: fc.integer({ min: 0, max: 64 }), units: fc.integer({ min: 1, max: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap-all' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('allow' as const), start: fc.integer({ min: 0, max: 200 }), units: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('attach2' as const) }) },
);

/** What must agree: verdict, errno, rule, blocking and involved facts, what was unmapped or placed. */
function summary(r: ReturnType<Ioas['map']> | ReturnType<Ioas['unmap']> | ReturnType<Ioas['allowIovas']> | ReturnType<Ioas['attach']>) {
  if (!r.ok) return { ok: false, errno: r.errno, rule: r.rule, message: r.message, blocking: r.blocking?.range, involved: r.involved.map((f) => [f.fact, f.range.start, f.range.last]) };
  const { kernel: _k, ...rest } = r as Record<string, unknown>;
  return { ...rest, ok: true };
}

describe('indexed IOAS against plain lists', () => {
  for (const policy of ['iommufd', 'vfio-type1'] as IoasPolicy[]) {
    it(`${policy}: same answers on random operation sequences`, () => {
      fc.assert(
        // Without a domain an iommufd IOAS has alignment 1: maps may start and end on any byte.
        fc.property(fc.array(arbOp, { minLength: 1, maxLength: 40 }), fc.boolean(), (ops, domain) => {
          const fast = Ioas.create(host, { policy, suggestions: false });
          const ref = plain(Ioas.create(host, { policy, suggestions: false }));
          const attached = domain || policy === 'vfio-type1';
          if (attached) expect(summary(fast.attach('0000:01:00.0'))).toEqual(summary(ref.attach('0000:01:00.0')));
          let second = false;
          for (const o of ops) {
            if (o.op === 'map') {
              const iova = BigInt(o.start) * UNIT + o.offset;
              const length = BigInt(o.units) * UNIT;
              const before = [...ref.mappings];
              const a = summary(fast.map({ iova, length }));
              const b = summary(ref.map({ iova, length }));
              expect(a).toEqual(b);
              // First principles, over the reference's own list: aligned, inside every aperture, clear
              // of enforced regions (vfio-type1 and iommufd both refuse reserved and msi here) and of
              // every mapping.
              const r = { start: iova, last: iova + length - 1n };
              const domains = (attached ? 1 : 0) + (second ? 1 : 0);
              const inside = domains === 0 || (r.start >= (attached ? 0x10000n : 0n) && r.last <= (second ? 0xeffffn : 0xfffffn));
              const clear = !attached || (!meets(r, { start: 0x40000n, last: 0x43fffn }) && !meets(r, { start: 0x80000n, last: 0x80fffn }));
              expect(a.ok).toBe((domains === 0 || o.offset === 0n) && inside && clear && !before.some((m) => meets(m, r)));
            } else if (o.op === 'unmap') {
              expect(summary(fast.unmap(BigInt(o.start) * UNIT, BigInt(o.units) * UNIT))).toEqual(summary(ref.unmap(BigInt(o.start) * UNIT, BigInt(o.units) * UNIT)));
            } else if (o.op === 'unmap-all') {
              expect(summary(fast.unmapAll())).toEqual(summary(ref.unmapAll()));
            } else if (o.op === 'allow') {
              if (policy !== 'iommufd') continue;
              const ranges = [{ start: BigInt(o.start) * UNIT, last: BigInt(o.start + o.units) * UNIT - 1n }];
              expect(summary(fast.allowIovas(ranges))).toEqual(summary(ref.allowIovas(ranges)));
            } else if (!second) {
              const a = summary(fast.attach('0000:02:00.0'));
              expect(a).toEqual(summary(ref.attach('0000:02:00.0')));
              second = a.ok;
            }
            expect(fast.mappings).toEqual(ref.mappings);
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});
