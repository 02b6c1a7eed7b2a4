/**
 * Property: over random small states, a fixed map is accepted exactly when a brute-force model
 * says so — aligned, inside the aperture, clear of every region the policy enforces and of
 * every mapping — and a rejection's blocking fact is real and overlaps the request.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ioas, type IoasPolicy, type Rejected } from '../../src/ioas/index.js';
import type { ReservedRegionType } from '../../src/model/host.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { expectSuggestionsWork } from './helpers.js';

const UNIT = 0x400n;
const TYPES: ReservedRegionType[] = ['direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi'];
const PAGE_CHOICES = [[0x1000n], [0x800n, 0x1000n], [0x800n], [0x1000n, 0x10000n]];

interface Span {
  start: bigint;
  last: bigint;
}
interface Region extends Span {
  type: ReservedRegionType;
}

const span = (start: number, units: number): Span => ({ start: BigInt(start) * UNIT, last: (BigInt(start) + BigInt(units)) * UNIT - 1n });
const meets = (a: Span, b: Span) => a.start <= b.last && b.start <= a.last;

const arbCase = fc.record({
  policy: fc.constantFrom<IoasPolicy>('iommufd', 'vfio-type1'),
  pages: fc.constantFrom(...PAGE_CHOICES),
  aperture: fc.record({ start: fc.integer({ min: 0, max: 8 }), units: fc.integer({ min: 24, max: 160 }) }),
  regions: fc.array(fc.record({ start: fc.integer({ min: 0, max: 180 }), units: fc.integer({ min: 1, max: 12 }), type: fc.constantFrom(...TYPES) }), { maxLength: 3 }),
  maps: fc.array(fc.record({ start: fc.integer({ min: 0, max: 190 }), units: fc.integer({ min: 0, max: 16 }) }), { minLength: 1, maxLength: 8 }),
});

/** The same verdict from first principles: lists and loops, no RangeSet. */
function oracle(policy: IoasPolicy, pages: bigint[], aperture: Span, regions: Region[], areas: Span[], req: Span, length: bigint): boolean {
  const smallest = pages.reduce((a, b) => (b < a ? b : a));
  const align = policy === 'vfio-type1' && smallest < 0x1000n ? 0x1000n : smallest;
  if (length === 0n || length % align !== 0n || req.start % align !== 0n) return false;
  if (req.start < aperture.start || req.last > aperture.last) return false;
  if (regions.some((r) => r.type !== 'direct-relaxable' && meets(r, req))) return false;
  return !areas.some((a) => meets(a, req));
}

/** The rejection's blocking fact exists in the state and overlaps the request. */
function checkBlocking(r: Rejected, aperture: Span, regions: Region[], areas: Span[], req: Span): void {
  const factRules = ['outside-aperture', 'reserved-overlap', 'area-overlap'];
  if (!factRules.includes(r.rule)) return;
  const b = r.blocking;
  expect(b).toBeDefined();
  if (!b) return;
  expect(meets(b.range, req)).toBe(true);
  for (const f of r.involved) expect(meets(f.range, req)).toBe(true);
  if (r.rule === 'area-overlap') {
    expect(areas.some((a) => a.start === b.range.start && a.last === b.range.last)).toBe(true);
  } else if (r.rule === 'outside-aperture') {
    expect(b.holeKind).toBe('aperture');
    expect(meets(b.range, aperture)).toBe(false);
  } else {
    expect(regions.some((g) => g.start === b.range.start && g.last === b.range.last && g.type === b.holeType && g.type !== 'direct-relaxable')).toBe(true);
  }
}

describe('fixed maps agree with a brute-force model', () => {
  it('accepts exactly what the model accepts, and blames a real, overlapping fact', () => {
    fc.assert(
      fc.property(arbCase, ({ policy, pages, aperture: ap, regions: rawRegions, maps }) => {
        const aperture = span(ap.start, ap.units);
        const regions: Region[] = rawRegions.map((r) => ({ ...span(r.start, r.units), type: r.type }));
        const host = parseHostFacts({
          name: 'random',
          devices: [
            {
              id: '0000:01:00.0',
              iommu: { apertures: [{ start: aperture.start, last: aperture.last }], pageSizes: pages },
              reservedRegions: regions.map((r) => ({ start: r.start, last: r.last, type: r.type })),
            },
          ],
        });
        const ioas = Ioas.create(host, { policy });
        const attached = ioas.attach('0000:01:00.0');
        // A non-relaxable direct region keeps VFIO and iommufd from claiming the device at all (6.5+).
        if (regions.some((r) => r.type === 'direct')) {
          if (attached.ok || attached.rule !== 'require-direct') throw new Error(`${policy}: a device with a direct region attached (${attached.ok ? 'ok' : attached.rule})`);
          return;
        }
        fc.pre(attached.ok);
        const areas: Span[] = [];
        for (const m of maps) {
          const length = BigInt(m.units) * UNIT;
          const req = { start: BigInt(m.start) * UNIT, last: BigInt(m.start) * UNIT + length - 1n };
          const expected = oracle(policy, pages, aperture, regions, areas, req, length);
          const r = ioas.map({ iova: req.start, length });
          if (r.ok !== expected) throw new Error(`${policy} map ${req.start.toString(16)}+${length.toString(16)}: model says ${expected}, got ${r.ok ? 'accepted' : `${r.errno} ${r.rule}: ${r.message}`}`);
          if (r.ok) {
            areas.push(req);
          } else {
            checkBlocking(r, aperture, regions, areas, req);
            expectSuggestionsWork(ioas, r);
          }
        }
      }),
      { numRuns: 300, seed: 20260101 },
    );
  });
});
