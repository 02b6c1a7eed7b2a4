/**
 * The ordered set of allocated and reserved pfn ranges of one domain: a B+-tree.
 *
 * Ranges never overlap, so one order (by `lo`) serves every query. Leaves hold up to
 * {@link LEAF_SIZE} ranges in contiguous typed arrays and are chained both ways, so walking to
 * a neighbour (the Linux policy's next-fit walk) is an array step; internal nodes hold up to
 * {@link FANOUT} children with each child's smallest `lo` as its key. Wide nodes keep the tree
 * shallow (two levels for thousands of ranges, five for millions), which matters on machines
 * where every dependent memory load costs tens of nanoseconds.
 *
 * An entry is addressed by its *position*, `leaf * LEAF_SIZE + index`. Positions are only valid
 * until the next insert or remove; callers that must remember a range across updates remember
 * its `lo`. An entry's bounds sit side by side in {@link IovaTree.bounds} (see {@link LO}) and
 * its gap summary in a parallel array, so a walk over ranges and a scan over gaps each read
 * one dense array.
 *
 * The last entry is always the *anchor*, a sentinel range at `topPfn + 1`: every free gap,
 * including the one at the top of the space, is then "the gap below some entry".
 *
 * When `augmented`, every entry also records two facts about the free gap directly below it —
 * its length (the largest unaligned request that fits) and the largest size-aligned request that
 * fits ({@link alignedFit}) — and every internal node records, per child, the maximum of each
 * over the child's subtree. {@link IovaTree.highestFit} uses them to find the highest fitting
 * free slot below a limit in O(log n).
 */
import { roundUpPow2 } from './pfn.js';

const LEAF_SHIFT = 5;
/** Entries per leaf (a power of two: positions split into leaf and index by shifting). */
export const LEAF_SIZE = 1 << LEAF_SHIFT;
const LEAF_MASK = LEAF_SIZE - 1;
/** Children per internal node. */
export const FANOUT = 16;

/** Offsets in {@link IovaTree.bounds}: entry `p` has `lo` at `p * STRIDE + LO`, `hi` at `+ HI`. */
export const LO = 0;
export const HI = 1;
export const STRIDE = 2;
const STRIDE_SHIFT = 1;
/** Offsets in the summary array (same stride): free pfns between the previous entry (or the start pfn) and `lo`. */
const GAP = 0;
/** The largest size-aligned request that fits in that gap. */
const FIT = 1;

/**
 * The largest `s` such that `s` pages aligned to `roundUpPow2(s)` fit in the free pfns
 * `[base, top]` (0 when empty). Fitting is monotone in `s` (a slot for `s` also serves any
 * smaller size: its alignment divides the larger one), so one number per gap answers every
 * size-aligned request exactly.
 */
export function alignedFit(base: number, top: number): number {
  const len = top - base + 1;
  if (len <= 0) return 0;
  // Try alignments from the largest a request this long could need, downwards; the first that
  // leaves more than half of itself free above its first aligned pfn gives the answer, since
  // every size it serves is larger than any size a smaller alignment serves.
  let a = roundUpPow2(len);
  for (;;) {
    const run = top - Math.ceil(base / a) * a + 1;
    if (run * 2 > a) return run < a ? run : a;
    a /= 2;
  }
}

export interface TreeOptions {
  /** Highest usable pfn; the anchor sits one above. */
  topPfn: number;
  /** Gaps are counted from here up (nothing is allocated below it). */
  startPfn: number;
  /** Maintain gap summaries for {@link IovaTree.highestFit}. */
  augmented: boolean;
}

export class IovaTree {
  readonly augmented: boolean;
  readonly startPfn: number;
  /** `lo` (and `hi`) of the anchor. */
  readonly anchorLo: number;
  /** Live entries, anchor excluded. */
  count = 0;
  /** After a successful {@link highestFit}: position of the entry directly above the slot. */
  fitAbove = -1;

  /** `lo` and `hi` per position (see {@link LO}). Replaced when it grows: re-read after inserts. */
  bounds: Float64Array;
  /** Gap and aligned fit per position, same layout; empty unless augmented. */
  private sums: Float64Array;
  // Leaf fields, indexed by leaf id.
  private leafCount: Int32Array;
  private leafPrev: Int32Array;
  private leafNext: Int32Array;
  private leafParent: Int32Array;
  /** Index of the leaf among its parent's children. */
  private leafSlot: Int32Array;
  // Internal node fields: per node, and per child slot (node * FANOUT + slot).
  private nodeCount: Int32Array;
  private nodeParent: Int32Array;
  private nodeSlot: Int32Array;
  private key: Float64Array;
  private child: Int32Array;
  private slotGap: Float64Array;
  private slotFit: Float64Array;
  /** Results of {@link summarise}. */
  private maxGap = -1;
  private maxFit = -1;

  /** Root: a leaf id when `height` is 0, else an internal node id. */
  private root = 0;
  private height = 0;
  private firstLeaf = 0;
  private lastLeaf = 0;
  private leafCap = 4;
  private leafUsed = 1;
  private nodeCap = 4;
  private nodeUsed = 0;
  private readonly freeLeaves: number[] = [];
  private readonly freeNodes: number[] = [];

  constructor(options: TreeOptions) {
    this.augmented = options.augmented;
    this.startPfn = options.startPfn;
    this.anchorLo = options.topPfn + 1;
    this.bounds = new Float64Array(this.leafCap * LEAF_SIZE * STRIDE);
    this.sums = new Float64Array(this.augmented ? this.leafCap * LEAF_SIZE * STRIDE : 0);
    this.leafCount = new Int32Array(this.leafCap);
    this.leafNext = new Int32Array(this.leafCap);
    this.leafPrev = new Int32Array(this.leafCap);
    this.leafParent = new Int32Array(this.leafCap);
    this.leafSlot = new Int32Array(this.leafCap);
    const s = this.nodeCap * FANOUT;
    this.nodeCount = new Int32Array(this.nodeCap);
    this.nodeParent = new Int32Array(this.nodeCap);
    this.nodeSlot = new Int32Array(this.nodeCap);
    this.key = new Float64Array(s);
    this.child = new Int32Array(s);
    this.slotGap = new Float64Array(s);
    this.slotFit = new Float64Array(s);
    // Leaf 0 holds the anchor.
    this.leafNext[0] = -1;
    this.leafPrev[0] = -1;
    this.leafParent[0] = -1;
    this.leafCount[0] = 1;
    this.bounds[LO] = this.anchorLo;
    this.bounds[HI] = this.anchorLo;
    if (this.augmented) this.setGap(0, options.startPfn);
  }

  /** `lo` of the entry at `p`. */
  loOf(p: number): number {
    return this.bounds[(p << STRIDE_SHIFT) + LO];
  }

  /** `hi` of the entry at `p`. */
  hiOf(p: number): number {
    return this.bounds[(p << STRIDE_SHIFT) + HI];
  }

  // --- storage ----------------------------------------------------------------------------

  private newLeaf(): number {
    const id = this.freeLeaves.pop();
    if (id !== undefined) return id;
    if (this.leafUsed === this.leafCap) {
      const cap = this.leafCap * 2;
      this.bounds = grow64(this.bounds, cap * LEAF_SIZE * STRIDE);
      if (this.augmented) this.sums = grow64(this.sums, cap * LEAF_SIZE * STRIDE);
      this.leafCount = grow32(this.leafCount, cap);
      this.leafNext = grow32(this.leafNext, cap);
      this.leafPrev = grow32(this.leafPrev, cap);
      this.leafParent = grow32(this.leafParent, cap);
      this.leafSlot = grow32(this.leafSlot, cap);
      this.leafCap = cap;
    }
    return this.leafUsed++;
  }

  private newNode(): number {
    const id = this.freeNodes.pop();
    if (id !== undefined) return id;
    if (this.nodeUsed === this.nodeCap) {
      const cap = this.nodeCap * 2;
      const s = cap * FANOUT;
      this.nodeCount = grow32(this.nodeCount, cap);
      this.nodeParent = grow32(this.nodeParent, cap);
      this.nodeSlot = grow32(this.nodeSlot, cap);
      this.key = grow64(this.key, s);
      this.child = grow32(this.child, s);
      this.slotGap = grow64(this.slotGap, s);
      this.slotFit = grow64(this.slotFit, s);
      this.nodeCap = cap;
    }
    return this.nodeUsed++;
  }

  // --- navigation -------------------------------------------------------------------------

  /** Position of the lowest entry. */
  firstPos(): number {
    return this.firstLeaf << LEAF_SHIFT;
  }

  /** Position after `pos`, or -1 after the anchor. */
  nextPos(pos: number): number {
    const leaf = pos >> LEAF_SHIFT;
    if ((pos & LEAF_MASK) + 1 < this.leafCount[leaf]) return pos + 1;
    const next = this.leafNext[leaf];
    return next < 0 ? -1 : next << LEAF_SHIFT;
  }

  /** Position before `pos`, or -1 before the first entry. */
  prevPos(pos: number): number {
    if ((pos & LEAF_MASK) !== 0) return pos - 1;
    const prev = this.leafPrev[pos >> LEAF_SHIFT];
    return prev < 0 ? -1 : (prev << LEAF_SHIFT) + this.leafCount[prev] - 1;
  }

  /** Position of the last entry with `lo <= x`, or -1 when every entry lies above `x`. */
  floorPos(x: number): number {
    let n = this.root;
    for (let h = this.height; h > 0; h--) {
      const key = this.key;
      const base = n * FANOUT;
      if (key[base] > x) return -1;
      let a = 0;
      let b = this.nodeCount[n] - 1;
      while (a < b) {
        const m = (a + b + 1) >> 1;
        if (key[base + m] <= x) a = m;
        else b = m - 1;
      }
      n = this.child[base + a];
    }
    const e = this.bounds;
    const base = n << LEAF_SHIFT;
    if (e[base << STRIDE_SHIFT] > x) return -1;
    let a = 0;
    let b = this.leafCount[n] - 1;
    while (a < b) {
      const m = (a + b + 1) >> 1;
      if (e[(base + m) << STRIDE_SHIFT] <= x) a = m;
      else b = m - 1;
    }
    return base + a;
  }

  /** Position of the entry containing `pfn` (never the anchor), or -1. */
  find(pfn: number): number {
    const p = this.floorPos(pfn);
    return p >= 0 && this.hiOf(p) >= pfn && pfn < this.anchorLo ? p : -1;
  }

  /** Position of the first entry with `hi >= pfn` (the anchor when nothing else qualifies). */
  ceilingByHi(pfn: number): number {
    const p = this.floorPos(pfn);
    if (p < 0) return this.firstPos();
    return this.hiOf(p) >= pfn ? p : this.nextPos(p);
  }

  /** Calls `visit(lo, hi)` for every entry except the anchor, in address order. */
  forEach(visit: (lo: number, hi: number) => void): void {
    for (let p = this.firstPos(); p >= 0; p = this.nextPos(p)) {
      if (this.loOf(p) < this.anchorLo) visit(this.loOf(p), this.hiOf(p));
    }
  }

  // --- gap bookkeeping --------------------------------------------------------------------

  /** Lowest free pfn of the gap below entry `p` (meaningful when augmented). */
  private gapBase(p: number): number {
    // With a non-empty gap its base is lo - gap; an empty gap means the previous entry touches
    // `lo` or the start pfn lies at or above it, and either way nothing below `lo` is free.
    const i = p << STRIDE_SHIFT;
    const g = this.sums[i + GAP];
    const lo = this.bounds[i + LO];
    return g > 0 ? lo - g : Math.max(lo, this.startPfn);
  }

  /** Sets the gap below entry `p` to run from `base` (clipped to empty) up to `lo - 1`. */
  private setGap(p: number, base: number): void {
    const e = this.sums;
    const i = p << STRIDE_SHIFT;
    const lo = this.bounds[i + LO];
    if (lo > base) {
      e[i + GAP] = lo - base;
      e[i + FIT] = alignedFit(base, lo - 1);
    } else {
      e[i + GAP] = 0;
      e[i + FIT] = 0;
    }
  }

  /**
   * Recomputes the summaries of `leaf` and carries them upwards; with `early` it stops at the
   * first level that does not change (valid when nothing above changed structurally).
   */
  private refreshLeaf(leaf: number, early: boolean): void {
    const e = this.sums;
    let mg = -1;
    let mf = -1;
    const end = ((leaf << LEAF_SHIFT) + this.leafCount[leaf]) << STRIDE_SHIFT;
    for (let i = (leaf << LEAF_SHIFT) << STRIDE_SHIFT; i < end; i += STRIDE) {
      if (e[i + GAP] > mg) mg = e[i + GAP];
      if (e[i + FIT] > mf) mf = e[i + FIT];
    }
    const parent = this.leafParent[leaf];
    if (parent >= 0) this.carryUp(parent * FANOUT + this.leafSlot[leaf], mg, mf, early);
  }

  /** Stores a child's summaries in slot `s` and recomputes upwards. */
  private carryUp(s: number, mg: number, mf: number, early: boolean): void {
    const sg = this.slotGap;
    const sf = this.slotFit;
    for (;;) {
      if (early && sg[s] === mg && sf[s] === mf) return;
      sg[s] = mg;
      sf[s] = mf;
      const node = (s / FANOUT) | 0;
      this.summarise(node);
      mg = this.maxGap;
      mf = this.maxFit;
      const parent = this.nodeParent[node];
      if (parent < 0) return;
      s = parent * FANOUT + this.nodeSlot[node];
    }
  }

  /** Sets {@link maxGap} / {@link maxFit} to the maxima over internal node `node`'s slots. */
  private summarise(node: number): void {
    const sg = this.slotGap;
    const sf = this.slotFit;
    let mg = -1;
    let mf = -1;
    const base = node * FANOUT;
    const end = base + this.nodeCount[node];
    for (let t = base; t < end; t++) {
      if (sg[t] > mg) mg = sg[t];
      if (sf[t] > mf) mf = sf[t];
    }
    this.maxGap = mg;
    this.maxFit = mf;
  }

  /** Raises `leaf`'s summaries to at least (g, f) and carries the increase upwards. */
  private raiseLeaf(leaf: number, g: number, f: number): void {
    const sg = this.slotGap;
    const sf = this.slotFit;
    let node = this.leafParent[leaf];
    let s = node * FANOUT + this.leafSlot[leaf];
    while (node >= 0) {
      if (sg[s] >= g && sf[s] >= f) return;
      if (sg[s] < g) sg[s] = g;
      if (sf[s] < f) sf[s] = f;
      s = this.nodeParent[node] * FANOUT + this.nodeSlot[node];
      node = this.nodeParent[node];
    }
  }

  /** Sets the key of `leaf` (its first `lo`) in its ancestors. */
  private fixKey(leaf: number): void {
    const k = this.bounds[((leaf << LEAF_SHIFT) << STRIDE_SHIFT) + LO];
    let node = this.leafParent[leaf];
    let slot = this.leafSlot[leaf];
    while (node >= 0) {
      this.key[node * FANOUT + slot] = k;
      if (slot !== 0) return;
      slot = this.nodeSlot[node];
      node = this.nodeParent[node];
    }
  }

  // --- structure --------------------------------------------------------------------------

  /**
   * Makes room in full `leaf` by moving its entries from index `at` on into a new leaf linked
   * after it; returns the new leaf.
   */
  private splitLeaf(leaf: number, at: number): number {
    const nl = this.newLeaf();
    const count = this.leafCount[leaf];
    const from = ((leaf << LEAF_SHIFT) + at) << STRIDE_SHIFT;
    const end = ((leaf << LEAF_SHIFT) + count) << STRIDE_SHIFT;
    this.bounds.copyWithin((nl << LEAF_SHIFT) << STRIDE_SHIFT, from, end);
    if (this.augmented) this.sums.copyWithin((nl << LEAF_SHIFT) << STRIDE_SHIFT, from, end);
    this.leafCount[nl] = count - at;
    this.leafCount[leaf] = at;
    const next = this.leafNext[leaf];
    this.leafNext[nl] = next;
    this.leafPrev[nl] = leaf;
    if (next >= 0) this.leafPrev[next] = nl;
    else this.lastLeaf = nl;
    this.leafNext[leaf] = nl;
    this.addChild(this.leafParent[leaf], leaf, nl, this.loOf(nl << LEAF_SHIFT), true);
    return nl;
  }

  /**
   * Adds `newChild` (key `k`) right after `after` in node `node` (or above the root when
   * `node` is -1), splitting full nodes on the way up. Summaries are left to the caller.
   */
  private addChild(node: number, after: number, newChild: number, k: number, leaves: boolean): void {
    if (node < 0) {
      // `after` was the root: grow a level.
      const r = this.newNode();
      const base = r * FANOUT;
      this.nodeCount[r] = 2;
      this.nodeParent[r] = -1;
      this.child[base] = after;
      this.child[base + 1] = newChild;
      this.key[base] = leaves ? this.loOf(after << LEAF_SHIFT) : this.key[after * FANOUT];
      this.key[base + 1] = k;
      this.setParent(after, r, 0, leaves);
      this.setParent(newChild, r, 1, leaves);
      this.root = r;
      this.height++;
      return;
    }
    let slot = (leaves ? this.leafSlot[after] : this.nodeSlot[after]) + 1;
    if (this.nodeCount[node] === FANOUT) {
      // Split node: the upper half moves to a new sibling.
      const half = FANOUT >> 1;
      const sib = this.newNode();
      const from = node * FANOUT + half;
      const end = node * FANOUT + FANOUT;
      const to = sib * FANOUT;
      this.moveSlots(to, from, end);
      this.nodeCount[sib] = FANOUT - half;
      this.nodeCount[node] = half;
      for (let t = 0; t < FANOUT - half; t++) this.setParent(this.child[to + t], sib, t, leaves);
      this.addChild(this.nodeParent[node], node, sib, this.key[to], false);
      this.storeSummary(node);
      this.storeSummary(sib);
      if (slot > half) {
        node = sib;
        slot -= half;
      }
    }
    const base = node * FANOUT;
    const s = base + slot;
    this.moveSlots(s + 1, s, base + this.nodeCount[node]);
    this.key[s] = k;
    this.child[s] = newChild;
    this.slotGap[s] = -1;
    this.slotFit[s] = -1;
    this.nodeCount[node]++;
    for (let t = slot; t < this.nodeCount[node]; t++) this.setParent(this.child[base + t], node, t, leaves);
  }

  private setParent(id: number, parent: number, slot: number, leaf: boolean): void {
    if (leaf) {
      this.leafParent[id] = parent;
      this.leafSlot[id] = slot;
    } else {
      this.nodeParent[id] = parent;
      this.nodeSlot[id] = slot;
    }
  }

  /** Writes internal node `node`'s summaries into its parent's slot (no propagation). */
  private storeSummary(node: number): void {
    const parent = this.nodeParent[node];
    if (parent < 0 || !this.augmented) return;
    this.summarise(node);
    const s = parent * FANOUT + this.nodeSlot[node];
    this.slotGap[s] = this.maxGap;
    this.slotFit[s] = this.maxFit;
  }

  /** Moves the slots `[from, end)` of the internal-node arrays to start at `to`. */
  private moveSlots(to: number, from: number, end: number): void {
    this.key.copyWithin(to, from, end);
    this.child.copyWithin(to, from, end);
    this.slotGap.copyWithin(to, from, end);
    this.slotFit.copyWithin(to, from, end);
  }

  /** Unlinks empty `leaf` and removes it (and any internal node left empty) from the tree. */
  private dropLeaf(leaf: number): void {
    const prev = this.leafPrev[leaf];
    const next = this.leafNext[leaf];
    // The anchor's leaf is never empty, so `next` exists.
    this.leafPrev[next] = prev;
    if (prev >= 0) this.leafNext[prev] = next;
    else this.firstLeaf = next;
    this.freeLeaves.push(leaf);
    let node = this.leafParent[leaf];
    let slot = this.leafSlot[leaf];
    let leaves = true;
    for (;;) {
      const base = node * FANOUT;
      const s = base + slot;
      this.moveSlots(s, s + 1, base + this.nodeCount[node]);
      if (--this.nodeCount[node] > 0) {
        for (let t = slot; t < this.nodeCount[node]; t++) this.setParent(this.child[base + t], node, t, leaves);
        if (slot === 0) this.fixNodeKey(node);
        if (this.augmented) this.resummarise(node);
        break;
      }
      // The node is empty too: it can never be the root, which always leads to the anchor.
      this.freeNodes.push(node);
      slot = this.nodeSlot[node];
      node = this.nodeParent[node];
      leaves = false;
    }
    // Shrink the root while it has a single child.
    while (this.height > 0 && this.nodeCount[this.root] === 1) {
      const only = this.child[this.root * FANOUT];
      this.freeNodes.push(this.root);
      this.height--;
      this.root = only;
      this.setParent(only, -1, 0, this.height === 0);
    }
  }

  /** After `node` lost its first child: its key changed, in its ancestors. */
  private fixNodeKey(node: number): void {
    const k = this.key[node * FANOUT];
    let slot = this.nodeSlot[node];
    let parent = this.nodeParent[node];
    while (parent >= 0) {
      this.key[parent * FANOUT + slot] = k;
      if (slot !== 0) return;
      slot = this.nodeSlot[parent];
      parent = this.nodeParent[parent];
    }
  }

  /** Recomputes internal node `node`'s summaries and carries them up. */
  private resummarise(node: number): void {
    const parent = this.nodeParent[node];
    if (parent < 0) return;
    this.summarise(node);
    this.carryUp(parent * FANOUT + this.nodeSlot[node], this.maxGap, this.maxFit, false);
  }

  // --- updates ----------------------------------------------------------------------------

  /**
   * Inserts `[lo, hi]` directly before the entry at position `above`; the caller guarantees it
   * lies strictly between that entry's predecessor and the entry. Returns the new position.
   */
  insertBefore(above: number, lo: number, hi: number): number {
    let leaf = above >> LEAF_SHIFT;
    let idx = above & LEAF_MASK;
    const base = this.augmented ? this.gapBase(above) : 0;
    const oldGap = this.augmented ? this.sums[(above << STRIDE_SHIFT) + GAP] : 0;
    const oldFit = this.augmented ? this.sums[(above << STRIDE_SHIFT) + FIT] : 0;
    // After a split, the leaf that was not inserted into (-1: no split).
    let other = -1;
    if (this.leafCount[leaf] === LEAF_SIZE) {
      if (idx === 0) {
        // Inserting at the front (the common top-down case): the whole leaf moves right and
        // the new entry starts a fresh leaf, so descending fills pack leaves completely.
        other = this.splitLeaf(leaf, 0);
      } else {
        const half = LEAF_SIZE >> 1;
        other = this.splitLeaf(leaf, half);
        if (idx >= half) {
          [leaf, other] = [other, leaf];
          idx -= half;
        }
      }
    }
    const p = (leaf << LEAF_SHIFT) + idx;
    const e = this.bounds;
    const i = p << STRIDE_SHIFT;
    const end = ((leaf << LEAF_SHIFT) + this.leafCount[leaf]) << STRIDE_SHIFT;
    e.copyWithin(i + STRIDE, i, end);
    e[i + LO] = lo;
    e[i + HI] = hi;
    if (this.augmented) this.sums.copyWithin(i + STRIDE, i, end);
    this.leafCount[leaf]++;
    this.count++;
    if (idx === 0) this.fixKey(leaf);
    if (this.augmented) {
      const ap = this.nextPos(p);
      this.setGap(p, base);
      this.setGap(ap, hi + 1 > base ? hi + 1 : base);
      if (other >= 0) {
        // New structure above: recompute both halves' paths in full.
        this.refreshLeaf(leaf, false);
        this.refreshLeaf(other, false);
      } else {
        // Both new gaps lie inside the old one, so only a maximum equal to it can drop.
        const parent = this.leafParent[leaf];
        if (parent >= 0) {
          const sl = parent * FANOUT + this.leafSlot[leaf];
          if (this.slotGap[sl] <= oldGap || this.slotFit[sl] <= oldFit) this.refreshLeaf(leaf, true);
        }
      }
    }
    return p;
  }

  /** Inserts `[lo, hi]`, which must not overlap any entry; returns its position. */
  insert(lo: number, hi: number): number {
    const below = this.floorPos(hi);
    return this.insertBefore(below < 0 ? this.firstPos() : this.nextPos(below), lo, hi);
  }

  /** Removes the entry at position `p` (never the anchor). */
  remove(p: number): void {
    const leaf = p >> LEAF_SHIFT;
    let ap = this.nextPos(p);
    if (this.augmented) this.setGap(ap, this.gapBase(p));
    const i = p << STRIDE_SHIFT;
    const end = ((leaf << LEAF_SHIFT) + this.leafCount[leaf]) << STRIDE_SHIFT;
    this.bounds.copyWithin(i, i + STRIDE, end);
    if (this.augmented) this.sums.copyWithin(i, i + STRIDE, end);
    this.count--;
    const sameLeaf = ap >> LEAF_SHIFT === leaf;
    if (sameLeaf) ap--;
    if (--this.leafCount[leaf] === 0) {
      this.dropLeaf(leaf);
    } else {
      if ((p & LEAF_MASK) === 0) this.fixKey(leaf);
      // The removed gap is now part of the (larger) gap above it: a leaf keeping both can only
      // gain; a leaf that lost it to the next leaf may have lost its largest gap.
      if (this.augmented && !sameLeaf) this.refreshLeaf(leaf, true);
    }
    if (this.augmented) {
      const a = ap << STRIDE_SHIFT;
      this.raiseLeaf(ap >> LEAF_SHIFT, this.sums[a + GAP], this.sums[a + FIT]);
    }
  }

  /** Moves the `lo` of the entry at `p` down to `lo` (it must stay above the previous entry). */
  extendDown(p: number, lo: number): void {
    let base = 0;
    if (this.augmented) base = this.gapBase(p);
    this.bounds[(p << STRIDE_SHIFT) + LO] = lo;
    const leaf = p >> LEAF_SHIFT;
    if ((p & LEAF_MASK) === 0) this.fixKey(leaf);
    if (this.augmented) {
      this.setGap(p, base);
      this.refreshLeaf(leaf, true);
    }
  }

  // --- search -----------------------------------------------------------------------------

  /**
   * The highest pfn `p` with `[p, p + size - 1]` free, `p >= startPfn`, `p + size - 1 <= limit`
   * and `p` a multiple of `align` (1, or `roundUpPow2(size)` for a size-aligned request); -1 if
   * there is none. On success {@link fitAbove} is the position of the entry directly above the
   * slot. Requires `augmented`.
   *
   * O(log n): one descent to the limit and a scan of that leaf, then up the path and down again
   * into the nearest sibling subtree whose maximum admits the request. Maxima are exact for whole
   * gaps (the aligned one by the monotonicity of {@link alignedFit}), and every subtree left of
   * the limit's path lies wholly below the limit, so the descent never backtracks; only the one
   * gap straddling the limit needs clipping.
   */
  highestFit(size: number, align: number, limit: number): number {
    const field = align > 1 ? FIT : GAP;
    const slotMax = align > 1 ? this.slotFit : this.slotGap;
    // The first entry above limit + 1 owns the only gap that can straddle the limit (there is
    // none when the limit is the top pfn: then c is the anchor).
    const c = this.floorAbove(limit + 1);
    const clip = c < 0 ? this.firstPos() : this.nextPos(c);
    let at = clip < 0 ? -1 : this.fitGap(clip, size, align, limit);
    if (at >= 0 || c < 0) return at;
    // Then the highest entry at or below c whose (whole) gap admits the request.
    const leaf = c >> LEAF_SHIFT;
    at = this.fitInLeaf(leaf, (c & LEAF_MASK) + 1, size, align, limit, field);
    if (at >= 0) return at;
    let node = this.leafParent[leaf];
    let slot = this.leafSlot[leaf];
    let h = 1;
    while (node >= 0) {
      const first = node * FANOUT;
      for (let s = first + slot - 1; s >= first; s--) {
        if (slotMax[s] >= size) {
          at = this.fitDown(this.child[s], h - 1, size, align, limit, field, slotMax);
          if (at >= 0) return at;
        }
      }
      slot = this.nodeSlot[node];
      node = this.nodeParent[node];
      h++;
    }
    return -1;
  }

  /**
   * {@link floorPos} for an `x` that usually lies above every real range (a DMA mask above the
   * allocations): then the answer is the anchor or the range just below it, found in O(1).
   */
  private floorAbove(x: number): number {
    const anchor = (this.lastLeaf << LEAF_SHIFT) + this.leafCount[this.lastLeaf] - 1;
    if (x >= this.anchorLo) return anchor;
    const last = this.prevPos(anchor);
    return last >= 0 && this.loOf(last) <= x ? last : this.floorPos(x);
  }

  /** Highest fit inside the subtree `id` at height `h` (0: a leaf). */
  private fitDown(id: number, h: number, size: number, align: number, limit: number, field: number, slotMax: Float64Array): number {
    if (h === 0) return this.fitInLeaf(id, this.leafCount[id], size, align, limit, field);
    const first = id * FANOUT;
    for (let s = first + this.nodeCount[id] - 1; s >= first; s--) {
      if (slotMax[s] >= size) {
        const at = this.fitDown(this.child[s], h - 1, size, align, limit, field, slotMax);
        if (at >= 0) return at;
      }
    }
    return -1;
  }

  /** Highest fit in the gaps of the first `n` entries of `leaf`. */
  private fitInLeaf(leaf: number, n: number, size: number, align: number, limit: number, field: number): number {
    const e = this.sums;
    const first = leaf << LEAF_SHIFT;
    for (let p = first + n - 1; p >= first; p--) {
      if (e[(p << STRIDE_SHIFT) + field] >= size) {
        const at = this.fitGap(p, size, align, limit);
        if (at >= 0) return at;
      }
    }
    return -1;
  }

  /** The highest slot in the gap below entry `p`, clipped at `limit`; -1 if none. */
  private fitGap(p: number, size: number, align: number, limit: number): number {
    const i = p << STRIDE_SHIFT;
    const gap = this.sums[i + GAP];
    if (gap < size) return -1;
    const lo = this.bounds[i + LO];
    const top = lo - 1 < limit ? lo - 1 : limit;
    const base = lo - gap;
    let at = top - size + 1;
    if (at < base) return -1;
    if (align > 1) {
      at = Math.floor(at / align) * align;
      if (at < base) return -1;
    }
    this.fitAbove = p;
    return at;
  }

  // --- self-check -------------------------------------------------------------------------

  /** A description of the first broken invariant, or undefined when the tree is sound. */
  check(): string | undefined {
    let count = 0;
    let prevHi = -Infinity;
    let last = -1;
    // Leaves in list order: ordering, gaps, counts.
    let prevLeaf = -1;
    for (let leaf = this.firstLeaf; leaf >= 0; leaf = this.leafNext[leaf]) {
      if (this.leafPrev[leaf] !== prevLeaf) return `leaf ${leaf} has a bad back link`;
      const n = this.leafCount[leaf];
      if (n < 1 || n > LEAF_SIZE) return `leaf ${leaf} holds ${n} entries`;
      for (let p = leaf << LEAF_SHIFT; p < (leaf << LEAF_SHIFT) + n; p++) {
        const lo = this.loOf(p);
        const hi = this.hiOf(p);
        if (lo > hi) return `range ${lo}-${hi} is inverted`;
        if (lo <= prevHi) return `range ${lo}-${hi} overlaps or is out of order`;
        if (this.augmented) {
          const base = Math.max(prevHi + 1, this.startPfn);
          const gap = Math.max(0, lo - base);
          const have = this.sums[(p << STRIDE_SHIFT) + GAP];
          if (have !== gap) return `gap below ${lo} is ${have}, expected ${gap}`;
          const fit = alignedFit(base, lo - 1);
          const haveFit = this.sums[(p << STRIDE_SHIFT) + FIT];
          if (haveFit !== fit) return `aligned fit below ${lo} is ${haveFit}, expected ${fit}`;
        }
        prevHi = hi;
        last = p;
        count++;
      }
      prevLeaf = leaf;
    }
    if (prevLeaf !== this.lastLeaf) return 'last leaf is wrong';
    if (last < 0 || this.loOf(last) !== this.anchorLo || this.hiOf(last) !== this.anchorLo) return 'the anchor is not the last entry';
    if (count - 1 !== this.count) return `count is ${this.count}, the leaves hold ${count - 1}`;
    // Tree shape: every leaf reached from the root at the same depth, keys and summaries right.
    let leaves = 0;
    const visit = (id: number, h: number, parent: number, slot: number): { key: number; gap: number; fit: number } | string => {
      if (h === 0) {
        if (this.leafParent[id] !== parent || (parent >= 0 && this.leafSlot[id] !== slot)) return `leaf ${id} has a bad parent link`;
        leaves++;
        let gap = -1;
        let fit = -1;
        if (this.augmented) {
          for (let p = id << LEAF_SHIFT; p < (id << LEAF_SHIFT) + this.leafCount[id]; p++) {
            gap = Math.max(gap, this.sums[(p << STRIDE_SHIFT) + GAP]);
            fit = Math.max(fit, this.sums[(p << STRIDE_SHIFT) + FIT]);
          }
        }
        return { key: this.loOf(id << LEAF_SHIFT), gap, fit };
      }
      if (this.nodeParent[id] !== parent || (parent >= 0 && this.nodeSlot[id] !== slot)) return `node ${id} has a bad parent link`;
      const n = this.nodeCount[id];
      if (n < 1 || n > FANOUT) return `node ${id} has ${n} children`;
      let gap = -1;
      let fit = -1;
      for (let t = 0; t < n; t++) {
        const s = id * FANOUT + t;
        const sub = visit(this.child[s], h - 1, id, t);
        if (typeof sub === 'string') return sub;
        if (this.key[s] !== sub.key) return `key of a child of node ${id} is ${this.key[s]}, expected ${sub.key}`;
        if (this.augmented && (this.slotGap[s] !== sub.gap || this.slotFit[s] !== sub.fit)) {
          return `summary of a child of node ${id} is ${this.slotGap[s]}/${this.slotFit[s]}, expected ${sub.gap}/${sub.fit}`;
        }
        gap = Math.max(gap, sub.gap);
        fit = Math.max(fit, sub.fit);
      }
      return { key: this.key[id * FANOUT], gap, fit };
    };
    const top = visit(this.root, this.height, -1, 0);
    if (typeof top === 'string') return top;
    let listed = 0;
    for (let leaf = this.firstLeaf; leaf >= 0; leaf = this.leafNext[leaf]) listed++;
    if (listed !== leaves) return `${listed} leaves are linked but ${leaves} hang in the tree`;
    return undefined;
  }
}

function grow64(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

function grow32(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
