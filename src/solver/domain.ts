/**
 * Where one request may start, given a set of its constraints: the plain-TypeScript oracle
 * for a request on its own. The greedy placer uses it with all constraints; core
 * minimisation uses it with subsets.
 */
import { maskOfBits, MAX_ADDRESS } from '../model/address.js';
import { RangeSet } from '../model/rangeset.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';

/** The free space a request's slot must lie in, and the alignment of its start. */
export interface RequestDomain {
  /** The slot `[iova, iova + size - 1]` must lie inside one range of this set. */
  space: RangeSet;
  align: bigint;
  /** The start, when a `fixed` constraint pins it. */
  pinned?: bigint;
  /** False when a constraint can never hold (a size that is not a whole number of pages). */
  possible: boolean;
}

/** The domain of `r` under `constraints` (those that name `r` alone; relations are ignored). */
export function domainOf(problem: Problem, r: PlacementRequest, constraints: readonly Constraint[]): RequestDomain {
  let space = RangeSet.FULL;
  let align = 1n;
  let pinned: bigint | undefined;
  let possible = true;
  const cut: Array<{ start: bigint; last: bigint }> = [];
  for (const c of constraints) {
    if (c.request !== r.name) continue;
    switch (c.kind) {
      case 'aperture':
        space = space.intersect(RangeSet.of(problem.windows));
        break;
      case 'within':
        if (r.within) space = space.intersect(r.within);
        break;
      case 'dma-mask':
        space = space.intersect(RangeSet.single(0n, maskOfBits(c.bits)));
        break;
      case 'hole':
        cut.push(c.hole);
        break;
      case 'existing':
        cut.push(c.mapping);
        break;
      case 'align':
        if (c.align > align) align = c.align;
        break;
      case 'size-multiple':
        if (r.size % c.alignment !== 0n) possible = false;
        break;
      case 'fixed':
        pinned = c.iova;
        break;
      default:
        break;
    }
  }
  if (cut.length > 0) space = space.subtract(RangeSet.of(cut));
  return { space, align, pinned, possible };
}

/** Whether a slot of `size` at `start` satisfies the domain. */
export function slotFits(domain: RequestDomain, start: bigint, size: bigint): boolean {
  if (!domain.possible || start % domain.align !== 0n) return false;
  const last = start + size - 1n;
  return last <= MAX_ADDRESS && domain.space.contains({ start, last });
}

/** The lowest start that fits the domain, or undefined. */
export function lowestStart(domain: RequestDomain, size: bigint): bigint | undefined {
  if (!domain.possible) return undefined;
  if (domain.pinned !== undefined) return slotFits(domain, domain.pinned, size) ? domain.pinned : undefined;
  return domain.space.lowestFit(size, { align: domain.align });
}

/**
 * The valid starts of a slot of `size` inside `space` as a set (alignment not applied):
 * each free range `[s, l]` long enough gives starts `[s, l - size + 1]`.
 */
export function startsIn(space: RangeSet, size: bigint): RangeSet {
  const out: Array<{ start: bigint; last: bigint }> = [];
  for (const r of space.ranges) if (r.last - r.start + 1n >= size) out.push({ start: r.start, last: r.last - size + 1n });
  return RangeSet.of(out);
}

/**
 * The lowest (or highest) value `x` in `starts` with `x ≡ residue (mod align)`; align is a
 * power of two and residue < align.
 */
export function pickStart(starts: RangeSet, align: bigint, residue: bigint, highest: boolean): bigint | undefined {
  const ranges = starts.ranges;
  for (let k = 0; k < ranges.length; k++) {
    const r = ranges[highest ? ranges.length - 1 - k : k];
    if (highest) {
      const x = r.last - ((((r.last - residue) % align) + align) % align);
      if (x >= r.start) return x;
    } else {
      const y = r.start + ((((residue - r.start) % align) + align) % align);
      if (y <= r.last) return y;
    }
  }
  return undefined;
}
