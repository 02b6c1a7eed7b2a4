/**
 * Generators of hard placement instances whose answer is known by construction, for the
 * solver benchmarks and tests:
 *
 * - `oneWindow`: one aperture window with many holes. Its free space is carved into requests
 *   from the bottom of each free segment (so a placement exists: the carving itself), then
 *   requests are dropped at random down to the asked load. Above 100 % the whole carving is kept
 *   and extra requests are added until their total exceeds the free space by the excess: unsat
 *   by area, whatever the alignments.
 *   `pow2`: sizes are powers of two pages with natural alignment (the buddy case);
 *   `mixed`: any number of pages (1–64), aligned to the largest power of two the carved start
 *   allows up to 64 KiB, or only to the page.
 * - `windowTags`: several windows, each carved into requests that share a window tag per
 *   window (two tags per window), listed in a shuffled order: sat, and the tags must be shared
 *   out over the windows as bin packing.
 *
 * Every answer is known without the solver: `expect` says which.
 */
import { hex } from '../src/model/address.js';

const PAGE = 4096n;

export interface Instance {
  name: string;
  spec: { host: unknown; requests: Array<Record<string, unknown>> };
  expect: 'sat' | 'unsat';
  /** Requests' total size over the free space, in percent. */
  loadPercent: number;
}

export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Piece {
  start: bigint;
  size: bigint;
  align: bigint;
}

const lowBit = (a: bigint) => (a === 0n ? 1n << 62n : a & -a);

/** Carve a free segment [start, end) into pieces, bottom up. */
function carve(start: bigint, end: bigint, kind: 'pow2' | 'mixed', next: () => number): Piece[] {
  const out: Piece[] = [];
  for (let a = start; a < end; ) {
    const room = (end - a) / PAGE;
    let size: bigint;
    let align: bigint;
    if (kind === 'pow2') {
      let j = Math.floor(next() * 7);
      while (j > 0 && ((PAGE << BigInt(j)) > lowBit(a) || BigInt(1 << j) > room)) j--;
      size = PAGE << BigInt(j);
      align = size;
    } else {
      const pages = BigInt(1 + Math.floor(next() * 64));
      size = (pages < room ? pages : room) * PAGE;
      const natural = lowBit(a) < 16n * PAGE ? lowBit(a) : 16n * PAGE;
      align = next() < 0.5 ? natural : PAGE;
    }
    out.push({ start: a, size, align });
    a += size;
  }
  return out;
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Free segments of a window [base, base + size) with `holes` random holes of 1–16 pages. */
function windowWithHoles(base: bigint, size: bigint, holes: number, next: () => number): { regions: Array<{ start: bigint; last: bigint }>; free: Array<[bigint, bigint]> } {
  const pages = Number(size / PAGE);
  const cuts = Array.from({ length: holes }, () => {
    const at = base + BigInt(Math.floor(next() * pages)) * PAGE;
    const len = BigInt(1 + Math.floor(next() * 16)) * PAGE;
    const last = at + len - 1n < base + size - 1n ? at + len - 1n : base + size - 1n;
    return { start: at, last };
  }).sort((a, b) => (a.start < b.start ? -1 : 1));
  const free: Array<[bigint, bigint]> = [];
  let at = base;
  for (const c of cuts) {
    if (c.start > at) free.push([at, c.start]);
    if (c.last + 1n > at) at = c.last + 1n;
  }
  if (at < base + size) free.push([at, base + size]);
  return { regions: cuts, free };
}

const AVERAGE_PAGES = { pow2: 8, mixed: 32 };

/** One window with n/8 holes (at least 4) at `loadPercent` of its free space (about n requests). */
export function oneWindow(n: number, loadPercent: number, kind: 'pow2' | 'mixed', seed = n * 1009 + loadPercent): Instance {
  const next = prng(seed);
  const base = 1n << 32n;
  const size = BigInt(Math.ceil((n * AVERAGE_PAGES[kind] * 100) / Math.min(loadPercent, 100))) * PAGE;
  const { regions, free } = windowWithHoles(base, size, Math.max(4, Math.floor(n / 8)), next);
  let pieces = free.flatMap(([s, e]) => carve(s, e, kind, next));
  const freeBytes = free.reduce((t, [s, e]) => t + (e - s), 0n);
  if (loadPercent <= 100) {
    const target = (freeBytes * BigInt(loadPercent)) / 100n;
    let total = pieces.reduce((t, p) => t + p.size, 0n);
    // Drop random pieces while the total stays at or above the target.
    pieces = shuffle(pieces, next).filter((p) => {
      if (total - p.size < target) return true;
      total -= p.size;
      return false;
    });
  } else {
    const extra = (freeBytes * BigInt(loadPercent - 100)) / 100n + PAGE;
    for (let added = 0n; added < extra; ) {
      // A small extra request (1–8 pages, naturally aligned for pow2).
      const more = carve(PAGE << BigInt(Math.floor(next() * 4)), 64n * PAGE, kind, next)[0];
      pieces.push(more);
      added += more.size;
    }
    shuffle(pieces, next);
  }
  pieces = pieces.slice(0);
  const total = pieces.reduce((t, p) => t + p.size, 0n);
  return {
    name: `one window ${kind} n=${pieces.length} load ${loadPercent}%`,
    expect: loadPercent <= 100 ? 'sat' : 'unsat',
    loadPercent: Number((total * 10000n) / freeBytes) / 100,
    spec: {
      host: {
        name: `hard-${kind}-${n}-${loadPercent}`,
        iommu: { apertures: [{ start: hex(base), last: hex(base + size - 1n) }], pageSizes: ['4K', '2M', '1G'] },
        reservedRegions: regions.map((r) => ({ start: hex(r.start), last: hex(r.last), type: 'reserved' })),
      },
      requests: pieces.map((p, i) => ({ name: `r${i}`, size: hex(p.size), align: hex(p.align) })),
    },
  };
}

/** `windows` windows, each carved into requests under two tags of its own, shuffled. */
export function windowTags(n: number, windows: number, seed = n * 31 + windows): Instance {
  const next = prng(seed);
  const per = BigInt(Math.ceil(n / windows) * AVERAGE_PAGES.mixed) * PAGE;
  const apertures: Array<{ start: string; last: string }> = [];
  const requests: Array<Record<string, unknown>> = [];
  let freeBytes = 0n;
  let used = 0n;
  for (let w = 0; w < windows; w++) {
    const base = (BigInt(w + 1) << 36n) + BigInt(w) * 0x10_0000n;
    apertures.push({ start: hex(base), last: hex(base + per - 1n) });
    const pieces = carve(base, base + per, 'mixed', next);
    freeBytes += per;
    pieces.forEach((p, i) => {
      // Drop about 3 % so the tags are not all exact fits.
      if (next() < 0.03) return;
      used += p.size;
      requests.push({ name: `w${w}r${i}`, size: hex(p.size), align: hex(p.align), window: `t${w}${i % 2 === 0 ? 'a' : 'b'}` });
    });
  }
  shuffle(requests, next);
  return {
    name: `window tags n=${requests.length} windows=${windows}`,
    expect: 'sat',
    loadPercent: Number((used * 10000n) / freeBytes) / 100,
    spec: { host: { name: `tags-${n}-${windows}`, iommu: { apertures, pageSizes: ['4K', '2M'] } }, requests },
  };
}
