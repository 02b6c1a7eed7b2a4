/**
 * The IOAS model and the placement solver answer the same question — can this fixed map be
 * made? — by different code. On random small iommufd states they must agree, and name the
 * same blocking fact: the solver's conflict must point at one of the facts the IOAS says were
 * hit (the same hole or mapping), or at the alignment when the IOAS refused for alignment.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { hex } from '../../src/model/address.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { solve } from '../../src/solver/solve.js';

const PAGE = 0x1000;
const PAGES = 64;

const arbState = fc.record({
  apertureLast: fc.integer({ min: 32, max: PAGES - 1 }),
  holes: fc.array(fc.tuple(fc.nat(PAGES - 1), fc.integer({ min: 1, max: 6 })), { maxLength: 4 }),
  mappings: fc.array(fc.tuple(fc.nat(PAGES - 1), fc.integer({ min: 1, max: 8 })), { maxLength: 4 }),
  map: fc.record({
    page: fc.nat(PAGES + 4),
    pages: fc.integer({ min: 1, max: 16 }),
    // Now and then a map that is not a whole number of pages, or not page-aligned.
    skew: fc.constantFrom(0, 0, 0, 0, 0x800),
    skewLength: fc.constantFrom(0, 0, 0, 0, 0x800),
  }),
});

describe('IOAS model and solver agree on fixed maps', () => {
  it('accepted iff sat, and the same blocking fact', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(arbState, async (s) => {
        const host = parseHostFacts({
          name: 'tiny',
          iommu: { apertures: [{ start: 0, last: hex(BigInt((s.apertureLast + 1) * PAGE - 1)) }], pageSizes: ['4K', '2M'] },
          groups: [{ id: 1, devices: ['0000:01:00.0'], reservedRegions: s.holes.map(([p, n]) => ({ start: p * PAGE, size: n * PAGE, type: 'reserved' })) }],
          devices: [{ id: '0000:01:00.0', group: 1 }],
        });
        const ioas = Ioas.create(host, { policy: 'iommufd', suggestions: false });
        expect(ioas.attach('0000:01:00.0').ok).toBe(true);
        // Existing mappings: keep those the IOAS accepts, so both sides start from a valid state.
        const existing = [];
        for (const [p, n] of s.mappings) {
          if (ioas.map({ iova: BigInt(p * PAGE), length: BigInt(n * PAGE), fixed: true }).ok) existing.push({ start: p * PAGE, size: n * PAGE });
        }
        const iova = s.map.page * PAGE + s.map.skew;
        const length = s.map.pages * PAGE + s.map.skewLength;
        const verdict = ioas.map({ iova: BigInt(iova), length: BigInt(length), fixed: true });

        const problem = parsePlacementSpec({ host: 'tiny', existing, requests: [{ name: 'm', size: length, fixed: iova }] }, undefined, host);
        const answer = await solve(problem, { repairs: false });
        expect(answer.status).not.toBe('unknown');
        expect(verdict.ok).toBe(answer.status === 'sat');
        if (verdict.ok || answer.status !== 'unsat') {
          accepted++;
          return;
        }
        refused++;
        const core = answer.conflicts[0].constraints;
        const kinds = core.map((c) => c.kind);
        switch (verdict.rule) {
          case 'iova-alignment':
            expect(kinds).toContain('align');
            break;
          case 'length-alignment':
            expect(kinds).toContain('size-multiple');
            break;
          case 'outside-aperture':
          case 'reserved-overlap':
          case 'area-overlap': {
            // The IOAS lists every fact the map hits; the solver's conflict must name one of them.
            const keyOf = (kind: string, r?: { start: bigint; last: bigint }) => (kind === 'aperture' ? 'aperture' : `${r?.start}-${r?.last}`);
            const hit = verdict.involved.map((f) => keyOf(f.holeKind === 'aperture' ? 'aperture' : f.fact, f.range));
            const named = core.filter((c) => c.kind === 'hole' || c.kind === 'existing' || c.kind === 'aperture').map((c) => keyOf(c.kind, c.range));
            expect(named, `core ${kinds.join(',')} for rule ${verdict.rule}`).toHaveLength(1);
            expect(hit).toContain(named[0]);
            // The kernel checks reserved ranges before mappings; so does the solver's choice.
            const kind = core.find((c) => c.kind === 'hole' || c.kind === 'existing' || c.kind === 'aperture')?.kind;
            expect(verdict.rule === 'area-overlap' ? kind === 'existing' : kind !== 'existing').toBe(true);
            break;
          }
          case 'iova-wrap':
            // Only reachable near 2^64; the generator stays far below.
            throw new Error('unexpected wrap');
          default:
            throw new Error(`unexpected rule ${verdict.rule}`);
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
    expect(accepted).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(100);
  });
});
