/**
 * The named constraints of a set of requests, generated from a problem. Only constraints that
 * can matter are generated: a hole or mapping outside everywhere a request could go (its
 * reach) is left out, which keeps solver encodings small. A core is a self-contained set of
 * constraints, so leaving irrelevant ones out never makes a reported core wrong.
 */
import { MAX_ADDRESS, maskOfBits } from '../model/address.js';
import { overlaps, type IovaRange } from '../model/range.js';
import { type Constraint, constraintId, type PlacementRequest, type Problem } from './problem.js';

/**
 * Where a request could possibly lie: the hull of its windows, `within` ranges and DMA mask
 * (or its fixed range).
 */
export function reachOf(problem: Problem, r: PlacementRequest): IovaRange | undefined {
  if (r.fixed) {
    // A fixed slot past its DMA mask, or outside every range it must lie within, is cut to what
    // it may use, so it no longer fits its own reach: a conflict, not a placement.
    const limit = r.dmaBits !== undefined ? maskOfBits(r.dmaBits) : MAX_ADDRESS;
    const slot = { start: r.fixed.iova, last: r.fixed.iova + r.size - 1n };
    let start = slot.start;
    let last = slot.last > limit ? limit : slot.last;
    if (r.within && !r.within.ranges.some((w) => w.start <= slot.start && slot.last <= w.last)) {
      const part = r.within.ranges.find((w) => w.start <= slot.last && slot.start <= w.last);
      if (!part) return undefined;
      if (part.start > start) start = part.start;
      if (part.last < last) last = part.last;
    }
    return start <= limit && start <= last ? { start, last } : undefined;
  }
  let start = 0n;
  let last = MAX_ADDRESS;
  const hull = (ranges: readonly IovaRange[]) => {
    if (ranges.length === 0) return;
    if (ranges[0].start > start) start = ranges[0].start;
    if (ranges[ranges.length - 1].last < last) last = ranges[ranges.length - 1].last;
  };
  hull(problem.windows);
  if (r.within) hull(r.within.ranges);
  if (r.dmaBits !== undefined && maskOfBits(r.dmaBits) < last) last = maskOfBits(r.dmaBits);
  return start <= last ? { start, last } : undefined;
}

/** Everything that constrains the given requests (by name), in a stable order. */
export function constraintsFor(problem: Problem, names: ReadonlySet<string>): Constraint[] {
  const out: Constraint[] = [];
  const requests = problem.requests.filter((r) => names.has(r.name));
  const reach = new Map(requests.map((r) => [r.name, reachOf(problem, r)]));
  const ioasAlign = problem.space.alignment;
  const holes = problem.space.holes.map((hole, index) => ({ hole, index })).filter(({ hole }) => hole.kind !== 'aperture');

  for (const r of requests) {
    const near = reach.get(r.name);
    out.push({ id: constraintId.aperture(r.name), kind: 'aperture', request: r.name });
    if (r.fixed) out.push({ id: constraintId.fixed(r.name), kind: 'fixed', request: r.name, iova: r.fixed.iova, identity: r.fixed.identity });
    if (r.ownAlign > 1n) out.push({ id: constraintId.align(r.name), kind: 'align', request: r.name, align: r.ownAlign, ioas: false });
    if (ioasAlign > 1n && ioasAlign > r.ownAlign) out.push({ id: constraintId.ioasAlign(r.name), kind: 'align', request: r.name, align: ioasAlign, ioas: true });
    if (r.size % ioasAlign !== 0n) out.push({ id: constraintId.sizeMultiple(r.name), kind: 'size-multiple', request: r.name, alignment: ioasAlign });
    if (r.within) out.push({ id: constraintId.within(r.name), kind: 'within', request: r.name });
    if (r.dmaBits !== undefined && r.dmaBits < 64) out.push({ id: constraintId.dmaMask(r.name), kind: 'dma-mask', request: r.name, bits: r.dmaBits });
    if (near) {
      for (const { hole, index } of holes) {
        if (overlaps(hole, near)) out.push({ id: constraintId.hole(r.name, index), kind: 'hole', request: r.name, hole });
      }
      problem.existing.forEach((mapping, index) => {
        if (overlaps(mapping, near)) out.push({ id: constraintId.existing(r.name, index), kind: 'existing', request: r.name, mapping });
      });
    }
    for (const other of r.above) out.push({ id: constraintId.above(r.name, other), kind: 'above', request: r.name, other });
    if (r.offsetFrom) out.push({ id: constraintId.offset(r.name), kind: 'offset', request: r.name, other: r.offsetFrom.request, offset: r.offsetFrom.offset });
  }

  for (let i = 0; i < requests.length; i++) {
    for (let j = i + 1; j < requests.length; j++) {
      const a = requests[i];
      const b = requests[j];
      const ra = reach.get(a.name);
      const rb = reach.get(b.name);
      if (ra && rb && overlaps(ra, rb)) out.push({ id: constraintId.disjoint(a.name, b.name), kind: 'disjoint', request: a.name, other: b.name });
    }
  }
  // Sharing a window is transitive, so a chain of neighbours says it for the whole group.
  const lastOfTag = new Map<string, string>();
  for (const r of requests) {
    if (r.window === undefined) continue;
    const previous = lastOfTag.get(r.window);
    if (previous !== undefined) out.push({ id: constraintId.sameWindow(previous, r.name), kind: 'same-window', request: previous, other: r.name, tag: r.window });
    lastOfTag.set(r.window, r.name);
  }
  return out;
}
