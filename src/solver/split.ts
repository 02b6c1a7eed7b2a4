/**
 * Splittable requests: guest RAM that a VMM may lay out as several ranges around holes (the
 * HyperTransport hole, an MSI window), as cloud-hypervisor does for AMD guests over 1011 GiB
 * and openvmm does for RAM built from several ranges with one alignment.
 *
 * A split request `{ size, split: { align, minPiece, maxPieces } }` becomes pieces that
 * - together cover exactly `size`, each starting on and sized in multiples of the piece
 *   alignment (the larger of `split.align`, the request's `align` and the IOAS alignment),
 * - are each at least `minPiece` (unless the whole request is smaller), at most `maxPieces`,
 * - avoid every hole, existing mapping and other placement, and keep to `within`, `dmaBits`
 *   and `above`; a `fixed` IOVA is where the first piece starts.
 * Objective: fewest pieces, then the lowest addresses — of all placements with that many
 * pieces, the one whose covered addresses, listed in order, are smallest at the first
 * difference (each piece starts at the bottom of its free range and takes all it can).
 *
 * The stage runs around the solver and leaves it unchanged: the other requests are solved
 * first and the pieces go into the space they leave; when that fails the pieces go first and
 * the others are solved around them (as existing mappings). "unsat" is answered only when a
 * split request cannot be placed even with no other request present (a proof); otherwise a
 * failure of both orders is "unknown".
 */
import { spaceWarnings } from '../model/warnings.js';
import { alignDown, alignUp, formatSize, hexGrouped, MAX_ADDRESS, maskOfBits } from '../model/address.js';
import type { AddressSpace } from '../model/address-space.js';
import { InputError } from '../model/errors.js';
import { kernelEnforces } from '../model/hole.js';
import { pagesForMapping } from '../model/pages.js';
import type { Provenance } from '../model/provenance.js';
import { type IovaRange, overlaps } from '../model/range.js';
import { RangeSet } from '../model/rangeset.js';
import type { Conflict } from './explain.js';
import type { ExistingMapping, Problem } from './problem.js';
import { deadlineOf, type Placement, type SolveOptions, type SolveResult, solve } from './solve.js';
import { type LayoutPlacement, verifyInSpace } from '../explain/verify.js';

export interface SplitRequest {
  name: string;
  index: number;
  size: bigint;
  /** Piece alignment: of every piece's start and size. */
  align: bigint;
  /** Smallest piece (a multiple of `align`, at most `size`). */
  minPiece: bigint;
  maxPieces: number;
  /** Where the first piece starts, when given. */
  fixed?: bigint;
  within?: RangeSet;
  dmaBits?: number;
  above: string[];
  source: Provenance;
}

interface RawSplitRequest {
  name: string;
  size: bigint;
  align?: bigint;
  fixed?: bigint;
  identity?: bigint;
  within?: IovaRange | IovaRange[];
  dmaBits?: number;
  above?: string[];
  offsetFrom?: unknown;
  window?: string;
  pageSize?: unknown;
  split?: { align?: bigint; minPiece?: bigint; maxPieces: number };
}

/** The split requests of a spec, validated (bad input names the JSON path). */
export function splitRequestsOf(requests: readonly RawSplitRequest[], space: AddressSpace, file?: string): SplitRequest[] {
  const out: SplitRequest[] = [];
  requests.forEach((r, i) => {
    if (!r.split) return;
    const path = `requests[${i}]`;
    const fail = (message: string, at = path): never => {
      throw new InputError(message, { file, path: at });
    };
    for (const key of ['identity', 'offsetFrom', 'window', 'pageSize'] as const) if (r[key] !== undefined) fail(`a split request cannot have "${key}"`, `${path}.${key}`);
    const align = [r.split.align ?? 1n, r.align ?? 1n, space.alignment].reduce((a, b) => (b > a ? b : a));
    if (r.size % align !== 0n) fail(`a split request's size must be a multiple of its piece alignment ${formatSize(align)}`, `${path}.size`);
    const wanted = alignUp(r.split.minPiece ?? align, align);
    if (r.fixed !== undefined && r.fixed % align !== 0n) fail(`the first piece must start on the piece alignment ${formatSize(align)}`, `${path}.fixed`);
    out.push({
      name: r.name,
      index: i,
      size: r.size,
      align,
      minPiece: wanted < r.size ? wanted : r.size,
      maxPieces: r.split.maxPieces,
      ...(r.fixed !== undefined ? { fixed: r.fixed } : {}),
      ...(r.within !== undefined ? { within: RangeSet.of(Array.isArray(r.within) ? r.within : [r.within]) } : {}),
      ...(r.dmaBits !== undefined ? { dmaBits: r.dmaBits } : {}),
      above: r.above ?? [],
      source: { what: `request ${r.name}`, path, ...(file ? { file } : {}) },
    });
  });
  return out;
}

/**
 * Pieces for `size` in `free` (see the module comment for the rules and the objective), or
 * undefined when there are none. `start`: the first piece starts exactly there.
 */
export function planPieces(free: RangeSet, size: bigint, align: bigint, minPiece: bigint, maxPieces: number, start?: bigint): IovaRange[] | undefined {
  const m = minPiece < size ? minPiece : size;
  let segments: IovaRange[] = [];
  for (const r of free.ranges) {
    const s = alignUp(r.start, align);
    const end = alignDown(r.last + 1n, align);
    if (end - s >= m && end > s) segments.push({ start: s, last: end - 1n });
  }
  if (start !== undefined) {
    const first = segments.findIndex((g) => g.start <= start && start <= g.last);
    if (first < 0) return undefined;
    segments = [{ start, last: segments[first].last }, ...segments.slice(first + 1)];
    if (segments[0].last - start + 1n < m) return undefined;
  }
  const caps = segments.map((g) => g.last - g.start + 1n);
  for (let p = 1; p <= maxPieces; p++) {
    const pieces = greedy(segments, caps, size, m, p, start !== undefined);
    if (pieces) return pieces;
  }
  return undefined;
}

/** Whether `r` bytes can be covered by at most `q` pieces (each ≥ m) in segments from `j` on. */
function coverable(caps: readonly bigint[], j: number, r: bigint, m: bigint, q: number): boolean {
  if (r === 0n) return true;
  if (q === 0 || r < m) return false;
  const t = Math.min(q, Number(r / m));
  const top = caps.slice(j).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)).slice(0, t);
  return top.reduce((s, c) => s + c, 0n) >= r;
}

/** Lowest-first placement with at most `p` pieces: each segment, in order, takes all it can. */
function greedy(segments: readonly IovaRange[], caps: readonly bigint[], size: bigint, m: bigint, p: number, forceFirst: boolean): IovaRange[] | undefined {
  const pieces: IovaRange[] = [];
  let r = size;
  for (let i = 0; i < segments.length && r > 0n && pieces.length < p; i++) {
    const left = p - pieces.length - 1;
    let take: bigint | undefined;
    if (caps[i] >= r) take = r;
    else {
      const t = caps[i] < r - m ? caps[i] : r - m;
      if (t >= m && coverable(caps, i + 1, r - t, m, left)) take = t;
    }
    if (take === undefined) {
      if (forceFirst && i === 0) return undefined;
      continue;
    }
    pieces.push({ start: segments[i].start, last: segments[i].start + take - 1n });
    r -= take;
  }
  return r === 0n ? pieces : undefined;
}

/** The space a split request may use: usable, within its limits, clear of what is `taken`. */
function freeFor(problem: Problem, s: SplitRequest, taken: readonly IovaRange[], placed: ReadonlyMap<string, IovaRange>): RangeSet {
  let free = problem.space.usable.subtract(RangeSet.of([...problem.existing, ...taken]));
  if (s.within) free = free.intersect(s.within);
  if (s.dmaBits !== undefined && s.dmaBits < 64) free = free.intersect(RangeSet.single(0n, maskOfBits(s.dmaBits)));
  for (const name of s.above) {
    const below = placed.get(name);
    if (below) free = free.subtract(RangeSet.single(0n, below.last));
  }
  return free;
}

/** A split request placed: one placement spanning its pieces, pages summed over them. */
function splitPlacement(problem: Problem, s: SplitRequest, pieces: readonly IovaRange[]): Placement {
  const pages = new Map<bigint, bigint>();
  for (const piece of pieces) for (const [size, count] of pagesForMapping(piece.start, piece.last - piece.start + 1n, problem.space.pageSizes)) pages.set(size, (pages.get(size) ?? 0n) + count);
  return {
    name: s.name,
    iova: pieces[0].start,
    last: pieces[pieces.length - 1].last,
    size: s.size,
    pages: [...pages].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([pageSize, count]) => ({ pageSize, count })),
    pieces: pieces.map((p) => ({ iova: p.start, last: p.last, size: p.last - p.start + 1n })),
  };
}

/** Every placement as layout placements (a split one as one per piece, `name[i]`). */
export function piecesAsPlacements(placements: readonly Placement[]): LayoutPlacement[] {
  return placements.flatMap((p) => (p.pieces ? p.pieces.map((x, i) => ({ name: `${p.name}[${i}]`, iova: x.iova, size: x.size, splitOf: p.name })) : [{ name: p.name, iova: p.iova, size: p.size }]));
}

/**
 * Independent check of split placements: pieces cover the size, respect count, minimum and
 * alignment, and (with all other placements) pass the verifier in the space.
 */
export function certifySplits(problem: Problem, placements: readonly Placement[]): string[] {
  const errors: string[] = [];
  for (const s of problem.splits ?? []) {
    const p = placements.find((x) => x.name === s.name);
    if (!p?.pieces) {
      errors.push(`${s.name} has no pieces`);
      continue;
    }
    const total = p.pieces.reduce((sum, x) => sum + x.size, 0n);
    if (total !== s.size) errors.push(`${s.name}: pieces cover ${total}, not ${s.size}`);
    if (p.pieces.length > s.maxPieces) errors.push(`${s.name}: ${p.pieces.length} pieces, more than ${s.maxPieces}`);
    for (const x of p.pieces) {
      if (x.iova % s.align !== 0n || x.size % s.align !== 0n) errors.push(`${s.name}: piece at ${hexGrouped(x.iova)} is not on the piece alignment`);
      if (x.size < s.minPiece) errors.push(`${s.name}: piece at ${hexGrouped(x.iova)} is smaller than the minimum piece`);
    }
    if (s.fixed !== undefined && p.pieces[0].iova !== s.fixed) errors.push(`${s.name}: the first piece does not start at ${hexGrouped(s.fixed)}`);
    for (const name of s.above) {
      const below = placements.find((x) => x.name === name);
      if (below && p.pieces.some((x) => x.iova <= below.last)) errors.push(`${s.name}: a piece is not above ${name}`);
    }
  }
  const all = piecesAsPlacements(placements);
  for (const v of verifyInSpace(problem.space, all, problem.existing)) errors.push(v.message);
  for (const s of problem.splits ?? []) {
    const limit = s.dmaBits !== undefined ? maskOfBits(s.dmaBits) : undefined;
    for (const x of all.filter((q) => q.splitOf === s.name)) {
      if (limit !== undefined && x.iova + x.size - 1n > limit) errors.push(`${x.name} is above the ${s.dmaBits}-bit DMA mask`);
      if (s.within && !s.within.contains({ start: x.iova, last: x.iova + x.size - 1n })) errors.push(`${x.name} is not within its ranges`);
    }
  }
  return errors;
}

/**
 * Options that carry one deadline, started now (or the one given), so that several solves in a
 * row keep to the caller's budget for the whole command: each gets what is left, never a fresh budget.
 */
export function budgeted(options: SolveOptions): () => SolveOptions {
  const deadline = deadlineOf(options);
  return () => ({ ...options, deadline });
}

/** Solve a problem that may have split requests (see the module comment for the two orders). */
export async function solveWithSplits(problem: Problem, given: SolveOptions = {}): Promise<SolveResult> {
  const splits = problem.splits ?? [];
  if (splits.length === 0) return solve(problem, given);
  const left = budgeted(given);
  const fixedRanges = problem.requests.filter((r) => r.fixed).map((r) => ({ start: r.fixed?.iova as bigint, last: (r.fixed?.iova as bigint) + r.size - 1n }));

  // A split request that does not fit next to the facts alone (holes, existing mappings, fixed
  // requests) cannot fit at all: that is a proof, and the answer is unsat.
  const impossible = splits.filter((s) => !s.above.some((n) => !problem.requests.some((r) => r.name === n && r.fixed)) && placeSplit(problem, s, fixedRanges, fixedPlacements(problem)) === undefined);
  if (impossible.length > 0) {
    // The other requests may have conflicts of their own: report those too.
    const others = await solve({ ...problem, splits: undefined }, { ...left(), repairs: false });
    const own = others.status === 'unsat' ? others.conflicts : [];
    return { status: 'unsat', conflicts: [...own, ...impossible.map((s) => splitConflict(problem, s, fixedRanges))], repairs: [], warnings: spaceWarnings(problem.space) };
  }

  // Order 1: the others first, the pieces in what they leave.
  const rest = await solve({ ...problem, splits: undefined }, { ...left(), repairs: false });
  if (rest.status === 'unsat') return { ...rest, repairs: [] };
  // Out of time: that answer, naming the phase, rather than a second order with nothing left.
  if (rest.status === 'unknown' && rest.phase) return rest;
  const tried: string[] = [];
  if (rest.status === 'sat') {
    const placed = new Map(rest.placements.map((p) => [p.name, { start: p.iova, last: p.last }]));
    const taken: IovaRange[] = rest.placements.map((p) => ({ start: p.iova, last: p.last }));
    const out = [...rest.placements];
    let ok = true;
    for (const s of splits) {
      const pieces = placeSplit(problem, s, taken, placed);
      if (!pieces) {
        ok = false;
        tried.push(`${s.name}: no room for its pieces once the other requests were placed`);
        break;
      }
      taken.push(...pieces);
      out.push(splitPlacement(problem, s, pieces));
    }
    if (ok) return certified(problem, out);
  } else tried.push(...rest.tried);

  // Order 2: the pieces first (only without "above", which needs the others placed), then
  // the others around them.
  if (splits.every((s) => s.above.length === 0)) {
    const taken: IovaRange[] = [...fixedRanges];
    const out: Placement[] = [];
    for (const s of splits) {
      const pieces = placeSplit(problem, s, taken, new Map());
      if (!pieces) break;
      taken.push(...pieces);
      out.push(splitPlacement(problem, s, pieces));
    }
    if (out.length === splits.length) {
      const existing: ExistingMapping[] = out.flatMap((p) => (p.pieces ?? []).map((x, i) => ({ start: x.iova, last: x.last, name: `${p.name}[${i}]`, source: { what: `piece ${i} of ${p.name}` } })));
      const others = await solve({ ...problem, splits: undefined, existing: [...problem.existing, ...existing] }, { ...left(), repairs: false });
      if (others.status === 'sat') return certified(problem, [...others.placements, ...out]);
      tried.push(`pieces first: the other requests then ${others.status === 'unsat' ? 'do not fit' : 'are undecided'}`);
    }
  }
  return { status: 'unknown', reason: 'the split requests fit on their own, but no combination with the other requests was found (both orders were tried)', tried, warnings: spaceWarnings(problem.space) };
}

function fixedPlacements(problem: Problem): Map<string, IovaRange> {
  return new Map(problem.requests.filter((r) => r.fixed).map((r) => [r.name, { start: r.fixed?.iova as bigint, last: (r.fixed?.iova as bigint) + r.size - 1n }]));
}

function placeSplit(problem: Problem, s: SplitRequest, taken: readonly IovaRange[], placed: ReadonlyMap<string, IovaRange>): IovaRange[] | undefined {
  return planPieces(freeFor(problem, s, taken, placed), s.size, s.align, s.minPiece, s.maxPieces, s.fixed);
}

function certified(problem: Problem, placements: Placement[]): SolveResult {
  const order = new Map([...problem.requests.map((r) => [r.name, r.index] as const), ...(problem.splits ?? []).map((s) => [s.name, s.index] as const)]);
  const sorted = [...placements].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  const errors = certifySplits(problem, sorted);
  // A wrong answer is worse than none: this is a bug, not a user error.
  if (errors.length > 0) throw new Error(`split placement failed certification: ${errors.join('; ')}`);
  return { status: 'sat', placements: sorted, warnings: spaceWarnings(problem.space) };
}

/** Why a split request cannot be placed: its capacity against the holes that cut its space. */
function splitConflict(problem: Problem, s: SplitRequest, fixedRanges: readonly IovaRange[]): Conflict {
  const free = freeFor(problem, s, fixedRanges, fixedPlacements(problem));
  const from = s.fixed ?? 0n;
  const region = free.ranges.filter((r) => r.last >= from);
  // The holes in the way: those between the first piece's lowest start and where the request
  // would end at the earliest, or the end of the free space, whichever is later.
  const reach = from + s.size - 1n;
  const lastFree = region.length > 0 ? region[region.length - 1].last : from;
  const span = { start: from, last: reach > lastFree ? (reach > MAX_ADDRESS ? MAX_ADDRESS : reach) : lastFree };
  const cutting = problem.space.holes.filter((h) => overlaps(h, span)).slice(0, 8);
  const limits = [`at most ${s.maxPieces} piece${s.maxPieces === 1 ? '' : 's'}`, `each at least ${formatSize(s.minPiece)}`, `${formatSize(s.align)}-aligned`];
  if (s.fixed !== undefined) limits.push(`the first at ${hexGrouped(s.fixed)}`);
  return {
    message: `\`${s.name}\` (${formatSize(s.size)} in ${limits.join(', ')}) does not fit in the free space of ${problem.space.host.name}, which the holes below cut into ${region.length} range${region.length === 1 ? '' : 's'}`,
    minimal: false,
    constraints: [
      ...(s.fixed !== undefined ? [{ id: `fixed:${s.name}`, kind: 'fixed' as const, requests: [s.name], text: `the first piece of \`${s.name}\` starts at ${hexGrouped(s.fixed)}`, source: s.source }] : []),
      ...cutting.map((h, i) => ({
        id: `hole:${s.name}:${i}`,
        kind: 'hole' as const,
        requests: [s.name],
        text: `\`${s.name}\` must avoid ${h.type} ${hexGrouped(h.start)}–${hexGrouped(h.last)}${kernelEnforces(h.kind, problem.space.policy) ? '' : ' (not enforced by the kernel)'}`,
        range: { start: h.start, last: h.last },
        source: h.source,
      })),
    ].map((c) => ({ ...c, brief: c.text })),
  };
}
