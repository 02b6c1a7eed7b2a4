/**
 * Split requests: the piece planner against exhaustive search on small spaces, the tour's
 * 1022 GiB guest against a hand-computed layout, unsat and bad input, and split layouts read
 * back by verify, render, check-attach and guest-map.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IovaRange } from '../../src/model/range.js';
import { RangeSet } from '../../src/model/rangeset.js';
import { parseLayout } from '../../src/solver/layout.js';
import { planPieces } from '../../src/solver/split.js';
import { iova } from '../cli/run.js';

const repo = resolve(import.meta.dirname, '../..');
const epyc = join(repo, 'examples/hosts/epyc.json');
const G = 1n << 30n;

/** Sort key of a covering: piece count, then the covered blocks in order (smaller first wins). */
type Key = { pieces: number; blocks: number[] };
const better = (a: Key, b: Key) => {
  if (a.pieces !== b.pieces) return a.pieces < b.pieces;
  for (let i = 0; i < a.blocks.length; i++) if (a.blocks[i] !== b.blocks[i]) return a.blocks[i] < b.blocks[i];
  return false;
};

/**
 * Exhaustive search: every set of `size / align` aligned blocks lying wholly in free bytes; its
 * pieces are its runs of consecutive blocks (each at least `minPiece` bytes, at most
 * `maxPieces` of them, the first starting at `start` when given). The best key, or undefined.
 */
function bruteForce(free: boolean[], size: number, align: number, minPiece: number, maxPieces: number, start?: number): Key | undefined {
  const blocks = Math.floor(free.length / align);
  const usable = Array.from({ length: blocks }, (_, b) => free.slice(b * align, (b + 1) * align).every(Boolean));
  const want = size / align;
  const m = Math.min(Math.ceil(minPiece / align), want);
  let best: Key | undefined;
  const choose = (from: number, chosen: number[]) => {
    if (chosen.length === want) {
      const runs: number[] = [];
      chosen.forEach((b, i) => (i > 0 && chosen[i - 1] === b - 1 ? runs[runs.length - 1]++ : runs.push(1)));
      if (runs.length > maxPieces || runs.some((r) => r < m)) return;
      if (start !== undefined && chosen[0] * align !== start) return;
      const key = { pieces: runs.length, blocks: [...chosen] };
      if (!best || better(key, best)) best = key;
      return;
    }
    for (let b = from; b < blocks; b++) if (usable[b]) choose(b + 1, [...chosen, b]);
  };
  choose(0, []);
  return best;
}

function keyOf(pieces: IovaRange[], align: number): Key {
  const blocks: number[] = [];
  for (const p of pieces) for (let b = Number(p.start) / align; b <= Number(p.last) / align - (align - 1) / align; b++) blocks.push(b);
  return { pieces: pieces.length, blocks };
}

describe('planPieces', () => {
  it('agrees with exhaustive search on small spaces (fewest pieces, then lowest addresses)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 8, maxLength: 20 }),
        fc.constantFrom(1, 2, 4),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 0, max: 19 }), { nil: undefined }),
        (free, align, sizeBlocks, minPiece, maxPieces, startByte) => {
          const size = sizeBlocks * align;
          const start = startByte === undefined ? undefined : startByte - (startByte % align);
          const ranges: IovaRange[] = [];
          free.forEach((f, i) => f && ranges.push({ start: BigInt(i), last: BigInt(i) }));
          const got = planPieces(RangeSet.of(ranges), BigInt(size), BigInt(align), BigInt(Math.ceil(minPiece / align) * align), maxPieces, start === undefined ? undefined : BigInt(start));
          const expected = bruteForce(free, size, align, Math.ceil(minPiece / align) * align, maxPieces, start);
          if (expected === undefined) expect(got).toBeUndefined();
          else {
            expect(got).toBeDefined();
            expect(keyOf(got as IovaRange[], align)).toEqual(expected);
          }
        },
      ),
      { numRuns: 400, seed: 14 },
    );
  });

  it('places the tour guest around the HyperTransport hole (hand-computed)', () => {
    // Free: up to the HT hole, and from 1 TiB on. From 4 GiB: 1008 GiB below, the rest above.
    const free = RangeSet.of([
      { start: 0n, last: 0xfc_ffff_ffffn },
      { start: 0x100_0000_0000n, last: 0xffff_ffff_ffffn },
    ]);
    expect(planPieces(free, 1022n * G, G, G, 4, 0x1_0000_0000n)).toEqual([
      { start: 0x1_0000_0000n, last: 0xfc_ffff_ffffn },
      { start: 0x100_0000_0000n, last: 0x100_0000_0000n + 14n * G - 1n },
    ]);
    // One piece from 4 GiB is impossible; without a fixed start one piece above 1 TiB is fewest.
    expect(planPieces(free, 1022n * G, G, G, 1, 0x1_0000_0000n)).toBeUndefined();
    expect(planPieces(free, 1022n * G, G, G, 4)).toEqual([{ start: 0x100_0000_0000n, last: 0x100_0000_0000n + 1022n * G - 1n }]);
  });
});

const tmp = () => mkdtempSync(join(tmpdir(), 'iova-split-'));

function tourSpec(maxPieces: number) {
  return {
    host: epyc,
    policy: 'vfio-type1',
    devices: ['0000:43:00.0'],
    requests: [
      { name: 'ram-below-4g', size: '2G', fixed: '0x0' },
      { name: 'ram-above-4g', size: '1022G', fixed: '0x100000000', split: { align: '1G', minPiece: '1G', maxPieces } },
      { name: 'vfio-msix', size: '64K', within: { start: '0x0', last: '0xffffffff' }, dmaBits: 32 },
    ],
  };
}

describe('iova solve with split requests', () => {
  it('keeps the 1022 GiB guest below and above the HyperTransport hole, and the layout is read back everywhere', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(tourSpec(4)));
    const layoutFile = join(dir, 'layout.json');
    const r = await iova('solve', join(dir, 'spec.json'), '--json', '-o', layoutFile);
    expect(r.code, r.err).toBe(0);
    const ram = JSON.parse(r.out).placements.find((p: { name: string }) => p.name === 'ram-above-4g');
    // 4 GiB up to the hole at 0xfd_0000_0000 is 1008 GiB; the other 14 GiB start at 1 TiB.
    expect(ram.pieces).toEqual([
      { iova: '0x100000000', last: '0xfcffffffff', size: '0xfc00000000' },
      { iova: '0x10000000000', last: '0x1037fffffff', size: '0x380000000' },
    ]);
    expect((await iova('verify', layoutFile, '--host', epyc)).code).toBe(0);
    expect((await iova('render', layoutFile, '--host', epyc, '-o', join(dir, 'map.svg'))).code).toBe(0);
    // The split layout is read; the USB controller then fails on its own non-relaxable direct
    // region (require_direct, Linux 6.5 and later), not on anything the pieces did.
    const attach = await iova('check-attach', layoutFile, '--host', epyc, '--device', '0000:05:00.3', '--json');
    expect(attach.code, attach.err).toBe(1);
    expect(JSON.parse(attach.out)).toMatchObject({ errno: 'EINVAL', collisions: [] });
    const map = await iova('guest-map', layoutFile, '--host', epyc, '--ram', 'ram-below-4g,ram-above-4g');
    expect(map.out.split('\n').filter((l) => l.endsWith('usable'))).toEqual([
      'BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable',
      'BIOS-e820: [mem 0x0000000100000000-0x000000fcffffffff] usable',
      'BIOS-e820: [mem 0x0000010000000000-0x000001037fffffff] usable',
    ]);
  });

  it('verify names the piece that touches a hole', async () => {
    const layout = { policy: 'vfio-type1', devices: ['0000:43:00.0'], placements: [{ name: 'ram', pieces: [{ iova: '0x100000000', size: '1008G' }, { iova: '0xfd00000000', size: '1G' }] }] };
    const dir = tmp();
    writeFileSync(join(dir, 'layout.json'), JSON.stringify(layout));
    const r = await iova('verify', join(dir, 'layout.json'), '--host', epyc);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/`ram\[1\]` \(1 GiB at 0xfd_0000_0000\) overlaps .*HyperTransport/);
    expect(parseLayout(layout).placements.map((p) => [p.name, p.splitOf])).toEqual([
      ['ram[0]', 'ram'],
      ['ram[1]', 'ram'],
    ]);
  });

  it('answers unsat when one piece from 4 GiB cannot hold it, naming the HyperTransport hole', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(tourSpec(1)));
    const r = await iova('solve', join(dir, 'spec.json'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/`ram-above-4g` \(1022 GiB in at most 1 piece, each at least 1 GiB, 1 GiB-aligned, the first at 0x1_0000_0000\) does not fit/);
    expect(r.out).toMatch(/must avoid reserved 0xfd_0000_0000–0xff_ffff_ffff/);
  });

  it('refuses a size that is not a multiple of the piece alignment, and relations to a split request (exit 2, with the JSON path)', async () => {
    const dir = tmp();
    const spec = tourSpec(4);
    spec.requests[1] = { ...spec.requests[1], size: '1023M' };
    writeFileSync(join(dir, 'a.json'), JSON.stringify(spec));
    const a = await iova('solve', join(dir, 'a.json'));
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/requests\[1\]\.size.*multiple of its piece alignment 1 GiB/);
    const rel = tourSpec(4);
    rel.requests.push({ name: 'after', size: '1G', above: 'ram-above-4g' } as never);
    writeFileSync(join(dir, 'b.json'), JSON.stringify(rel));
    const b = await iova('solve', join(dir, 'b.json'));
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/requests\[3\].*"ram-above-4g" is split into pieces/);
  });
});
