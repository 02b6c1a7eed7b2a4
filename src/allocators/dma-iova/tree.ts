/**
 * The ordered set of allocated and reserved pfn ranges of one domain: a B+-tree whose entries
 * also summarise the free gaps between them.
 *
 * Ranges never overlap, so one order (by `lo`) serves every query. Leaves hold up to
 * {@link LEAF_SIZE} entries in one typed array and are chained both ways; internal nodes hold up
 * to {@link FANOUT} children with each child's smallest `lo` as its key.
 *
 * An entry is addressed by its *position*, `leaf * LEAF_SIZE + index`. Positions are only valid
 * until the next insert or remove; callers that must remember a range across updates remember
 * its `lo`. An entry is four numbers side by side: `lo`, `hi`, and two facts about the free gap
 * directly below it — its length (the largest unaligned request that fits) and the largest
 * size-aligned request that fits ({@link alignedFit}), both saturated at {@link SAT}. Every
 * internal node records, per child, an upper bound on the maximum of each over the child's
 * subtree, so {@link IovaTree.highestFit} finds the highest fitting free slot below a limit in
 * O(log n) amortised.
 *
 * The bounds are lazy: a gap that grows raises them along its path, a gap that shrinks leaves
 * them alone above its leaf (an allocation usually shrinks the largest gap of its leaf, and
 * recomputing maxima up the tree for it was a third of the cost of a free+alloc pair; only the
 * leaf's own bound is set right away, see {@link IovaTree.insertBefore}). A search that descends
 * under a bound that turns out too high finds nothing there, and sets the bound to the exact
 * maximum on its way back. Bounds never fall below those of the slots beneath them, so raising
 * stops at the first that already covers a value.
 *
 * Entries are 32-bit integers while every range lies at or below {@link NARROW_MAX} (the usual
 * case: 8 TiB of 4 KiB pages), doubles from the first range above it on: half the memory and
 * integer arithmetic made a free+alloc pair about 8% faster. Only the anchor may lie higher in a
 * 32-bit tree; it is stored as {@link ANCHOR_NARROW} and read back as its true `lo`, and the hot
 * paths handle it apart so that their arithmetic stays integer. The price: in a process that
 * uses trees of both kinds the same code serves either array, and a 32-bit tree then runs a few
 * percent slower than doubles alone did (the bench's last figure). A gap of {@link SAT} or more is
 * measured from the entry below it where its length matters; requests that large treat
 * saturated values as "maybe", and {@link IovaTree.fitGap} settles it.
 *
 * The last entry is always the *anchor*, a sentinel range at `topPfn + 1`: every free gap,
 * including the one at the top of the space, is then "the gap below some entry". The anchor's
 * gap is left out of the bounds (a search looks at it first, by itself), so that they describe
 * the space between real ranges, which is what a search below a limit needs.
 */
import { roundUpPow2 } from './pfn.js';

const LEAF_SHIFT = 4;
/** Entries per leaf (a power of two: positions split into leaf and index by shifting). */
export const LEAF_SIZE = 1 << LEAF_SHIFT;
const LEAF_MASK = LEAF_SIZE - 1;
/** Children per internal node. */
export const FANOUT = 32;

/** Gaps, aligned fits and their bounds are stored as at most this ("this much or more"). */
const SAT = 0x7fff_ffff;
/** Highest pfn a range may reach while entries are 32-bit. */
const NARROW_MAX = 0x7fff_fffe;
/** The anchor's `lo` and `hi` as stored while entries are 32-bit and the anchor lies higher. */
const ANCHOR_NARROW = 0x7fff_ffff;

/** Numbers per entry, and their offsets: entry `p` starts at `p << W_SHIFT`. */
const W_SHIFT = 2;
const W = 1 << W_SHIFT;
const LO = 0;
const HI = 1;
/** Free pfns between the previous entry (or the start pfn) and `lo`. */
const GAP = 2;
/** The largest size-aligned request that fits in that gap. */
const FIT = 3;

/** The hint table of {@link IovaTree.find}: first and largest size (bits), grown with the tree. */
const HINT_MIN_BITS = 8;
const HINT_MAX_BITS = 16;
const HASH_MUL = 0x9e3779b1 | 0;

/** Below this, pfns are exact in 32-bit integer arithmetic. */
const INT_RANGE = 0x4000_0000;

/**
 * The largest `s` such that `s` pages aligned to `roundUpPow2(s)` fit in the free pfns
 * `[base, top]` (0 when empty). Fitting is monotone in `s` (a slot for `s` also serves any
 * smaller size: its alignment divides the larger one), so one number per gap answers every
 * size-aligned request exactly.
 */
export function alignedFit(base: number, top: number): number {
  const len = top - base + 1;
  if (len <= 2) return len <= 0 ? 0 : len === 1 || base % 2 === 0 ? len : 1;
  // Try alignments from the largest a request this long could need, downwards; the first that
  // leaves more than half of itself free above its first aligned pfn gives the answer, since
  // every size it serves is larger than any size a smaller alignment serves.
  if (top < INT_RANGE) {
    // The same in integer arithmetic (the usual case: pfns below 4 GiB).
    for (let a = 1 << (32 - Math.clz32(len - 1)); ; a >>= 1) {
      const run = top - ((base + a - 1) & -a) + 1;
      if (run * 2 > a) return run < a ? run : a;
    }
  }
  for (let a = roundUpPow2(len); ; a /= 2) {
    const run = top - Math.ceil(base / a) * a + 1;
    if (run * 2 > a) return run < a ? run : a;
  }
}

export interface TreeOptions {
  /** Highest usable pfn; the anchor sits one above. */
  topPfn: number;
  /** Gaps are counted from here up (nothing is allocated below it). */
  startPfn: number;
}

export class IovaTree {
  readonly startPfn: number;
  /** `lo` (and `hi`) of the anchor. */
  readonly anchorLo: number;
  /** Live entries, anchor excluded. */
  count = 0;
  /** After a successful search: position of the entry directly above the slot found. */
  fitAbove = -1;

  /**
   * Per position: lo, hi, gap, aligned fit (see {@link W_SHIFT}). 32-bit until a range lies above
   * {@link NARROW_MAX}; replaced when it grows or widens.
   */
  private ent: Int32Array | Float64Array;
  /** The anchor's `lo` as stored in {@link ent} (and in keys). */
  private anchorStored: number;
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
  private slotGap: Int32Array;
  private slotFit: Int32Array;
  /** Results of {@link summarise} and {@link leafMax}. */
  private maxGap = -1;
  private maxFit = -1;
  /** The field (GAP or FIT) the last search went by. */
  private lastField = FIT;
  /** Result of a {@link fitInLeaf} that found nothing. */
  private scanMax = -1;
  /** Scratch for {@link fitDown}, per height (a tree of 2^53 entries is far less than 64 high). */
  private readonly rightMax = new Int32Array(64);

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
  /**
   * A leaf id per hash of a range's first pfn, set when the range is inserted or found: a guess
   * that {@link find} checks before it trusts it, so it may go stale freely. Four slots per
   * range at most; regrown (empty) as the tree grows.
   */
  private hint = new Int32Array(1 << HINT_MIN_BITS);
  /** 32 minus the table's bits: a hash's top bits index it. */
  private hintShift = 32 - HINT_MIN_BITS;

  constructor(options: TreeOptions) {
    this.startPfn = options.startPfn;
    this.anchorLo = options.topPfn + 1;
    this.anchorStored = this.anchorLo <= ANCHOR_NARROW ? this.anchorLo : ANCHOR_NARROW;
    this.ent = new Int32Array(this.leafCap * LEAF_SIZE * W);
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
    this.slotGap = new Int32Array(s);
    this.slotFit = new Int32Array(s);
    // Leaf 0 holds the anchor.
    this.leafNext[0] = -1;
    this.leafPrev[0] = -1;
    this.leafParent[0] = -1;
    this.leafCount[0] = 1;
    this.ent[LO] = this.anchorStored;
    this.ent[HI] = this.anchorStored;
    this.setGap(0, options.startPfn);
  }

  /** `lo` of the entry at `p`. */
  loOf(p: number): number {
    const v = this.ent[(p << W_SHIFT) + LO];
    return v === this.anchorStored ? this.anchorLo : v;
  }

  /** `hi` of the entry at `p`. */
  hiOf(p: number): number {
    const v = this.ent[(p << W_SHIFT) + HI];
    return v === this.anchorStored ? this.anchorLo : v;
  }

  /** `lo` of the entry at `p` as stored (what keys and the order go by). */
  private storedLo(p: number): number {
    return this.ent[(p << W_SHIFT) + LO];
  }

  // --- storage ----------------------------------------------------------------------------

  private newLeaf(): number {
    const id = this.freeLeaves.pop();
    if (id !== undefined) return id;
    if (this.leafUsed === this.leafCap) {
      const cap = this.leafCap * 2;
      const ent = this.ent instanceof Int32Array ? new Int32Array(cap * LEAF_SIZE * W) : new Float64Array(cap * LEAF_SIZE * W);
      ent.set(this.ent);
      this.ent = ent;
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
      this.slotGap = grow32(this.slotGap, s);
      this.slotFit = grow32(this.slotFit, s);
      this.nodeCap = cap;
    }
    return this.nodeUsed++;
  }

  // --- navigation -------------------------------------------------------------------------

  /** Position of the lowest entry. */
  firstPos(): number {
    return this.firstLeaf << LEAF_SHIFT;
  }

  /** Position of the anchor. */
  anchorPos(): number {
    return (this.lastLeaf << LEAF_SHIFT) + this.leafCount[this.lastLeaf] - 1;
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
    // Everything stored lies below the anchor's stored lo, whatever lies between it and the true one.
    if (x >= this.anchorStored) x = x >= this.anchorLo ? this.anchorStored : this.anchorStored - 1;
    let n = this.root;
    const key = this.key;
    for (let h = this.height; h > 0; h--) {
      const base = n * FANOUT;
      if (key[base] > x) return -1;
      // Branch-free halving: the comparison outcome is data, not control flow.
      let a = base;
      for (let len = this.nodeCount[n]; len > 1; ) {
        const half = len >> 1;
        a = key[a + half] <= x ? a + half : a;
        len -= half;
      }
      n = this.child[a];
    }
    const e = this.ent;
    const base = n << LEAF_SHIFT;
    if (e[base << W_SHIFT] > x) return -1;
    let a = base;
    for (let len = this.leafCount[n]; len > 1; ) {
      const half = len >> 1;
      a = e[(a + half) << W_SHIFT] <= x ? a + half : a;
      len -= half;
    }
    return a;
  }

  /** Position of the entry containing `pfn` (never the anchor), or -1. */
  find(pfn: number): number {
    // Ranges are usually freed by their first pfn, which the hint table maps to a leaf.
    const h = Math.imul(pfn | 0, HASH_MUL) >>> this.hintShift;
    const leaf = this.hint[h];
    const n = this.leafCount[leaf];
    const e = this.ent;
    const first = (leaf << LEAF_SHIFT) << W_SHIFT;
    let p: number;
    if (n > 0 && e[first + LO] <= pfn && pfn <= e[first + ((n - 1) << W_SHIFT) + HI]) {
      // The leaf holds pfn's floor (the hint may be stale, but a live leaf covering pfn is right).
      p = leaf << LEAF_SHIFT;
      for (let len = n; len > 1; ) {
        const half = len >> 1;
        p = e[(p + half) << W_SHIFT] <= pfn ? p + half : p;
        len -= half;
      }
    } else {
      p = this.floorPos(pfn);
      if (p < 0) return -1;
      this.hint[h] = p >> LEAF_SHIFT;
    }
    return this.ent[(p << W_SHIFT) + HI] >= pfn && pfn < this.anchorStored ? p : -1;
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

  /** Lowest free pfn of the gap below entry `p`. */
  private gapBase(p: number): number {
    // With a non-empty gap its base is lo - gap; an empty gap means the previous entry touches
    // `lo` or the start pfn lies at or above it, and either way nothing below `lo` is free.
    const i = p << W_SHIFT;
    const g = this.ent[i + GAP];
    const lo = this.ent[i + LO];
    // A saturated gap, and the anchor's (whose stored lo may not be its own), are measured from below.
    if (g === SAT || lo === this.anchorStored) return this.baseAbove(p);
    if (g > 0) return lo - g;
    return lo > this.startPfn ? lo : this.startPfn;
  }

  /** The same from the entry below: right above it (the start pfn for the first), or the start pfn. */
  private baseAbove(p: number): number {
    const q = this.prevPos(p);
    // The anchor is never below anything: its stored hi is not read here.
    const b = q < 0 ? this.startPfn : this.ent[(q << W_SHIFT) + HI] + 1;
    return b > this.startPfn ? b : this.startPfn;
  }

  /** Sets the gap below entry `p` to run from `base` (clipped to empty) up to `lo - 1`. */
  private setGap(p: number, base: number): void {
    const e = this.ent;
    const i = p << W_SHIFT;
    const lo = e[i + LO];
    // The anchor's own lo in doubles, apart, so that the usual case stays integer arithmetic.
    if (lo === this.anchorStored) return this.setAnchorGap(i, base);
    if (lo > base) {
      const g = lo - base;
      const f = alignedFit(base, lo - 1);
      e[i + GAP] = g < SAT ? g : SAT;
      e[i + FIT] = f < SAT ? f : SAT;
    } else {
      e[i + GAP] = 0;
      e[i + FIT] = 0;
    }
  }

  /** {@link setGap} for the anchor (at index `i`), whose true lo may need doubles. */
  private setAnchorGap(i: number, base: number): void {
    const e = this.ent;
    const top = this.anchorLo - 1;
    const g = top - base + 1;
    const f = g > 0 ? alignedFit(base, top) : 0;
    e[i + GAP] = g <= 0 ? 0 : g < SAT ? g : SAT;
    e[i + FIT] = f < SAT ? f : SAT;
  }

  /** Sets {@link maxGap} / {@link maxFit} to the maxima over `leaf`'s entries (the anchor's gap excluded). */
  private leafMax(leaf: number): void {
    const e = this.ent;
    let mg = -1;
    let mf = -1;
    let n = this.leafCount[leaf];
    if (leaf === this.lastLeaf) n--;
    const first = (leaf << LEAF_SHIFT) << W_SHIFT;
    const end = first + (n << W_SHIFT);
    for (let i = first; i < end; i += W) {
      const g = e[i + GAP];
      const f = e[i + FIT];
      if (g > mg) mg = g;
      if (f > mf) mf = f;
    }
    this.maxGap = mg;
    this.maxFit = mf;
  }

  /** The largest `field` (GAP or FIT) over `leaf`'s entries, the anchor's excluded. */
  private leafFieldMax(leaf: number, field: number): number {
    const e = this.ent;
    const n = this.leafCount[leaf] - (leaf === this.lastLeaf ? 1 : 0);
    const first = ((leaf << LEAF_SHIFT) << W_SHIFT) + field;
    let m = -1;
    for (let i = first + ((n - 1) << W_SHIFT); i >= first; i -= W) if (e[i] > m) m = e[i];
    return m;
  }

  /** Sets the bounds of `leaf` to its exact maxima and raises those above to cover them. */
  private boundLeaf(leaf: number): void {
    const parent = this.leafParent[leaf];
    if (parent < 0) return;
    this.leafMax(leaf);
    const s = parent * FANOUT + this.leafSlot[leaf];
    this.slotGap[s] = this.maxGap;
    this.slotFit[s] = this.maxFit;
    this.raiseAbove(parent, this.maxGap, this.maxFit);
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

  /** Raises the bounds above entry `p` to cover its own gap and fit. */
  private raise(p: number): void {
    const i = p << W_SHIFT;
    const g = this.ent[i + GAP];
    const f = this.ent[i + FIT];
    const leaf = p >> LEAF_SHIFT;
    const node = this.leafParent[leaf];
    if (node < 0) return;
    const s = node * FANOUT + this.leafSlot[leaf];
    const sg = this.slotGap;
    const sf = this.slotFit;
    if (sg[s] >= g && sf[s] >= f) return;
    if (sg[s] < g) sg[s] = g;
    if (sf[s] < f) sf[s] = f;
    this.raiseAbove(node, g, f);
  }

  /** Raises the bounds of internal node `node` and its ancestors to cover `g` and `f`. */
  private raiseAbove(node: number, g: number, f: number): void {
    const sg = this.slotGap;
    const sf = this.slotFit;
    for (let parent = this.nodeParent[node]; parent >= 0; parent = this.nodeParent[node]) {
      const s = parent * FANOUT + this.nodeSlot[node];
      if (sg[s] >= g && sf[s] >= f) return;
      if (sg[s] < g) sg[s] = g;
      if (sf[s] < f) sf[s] = f;
      node = parent;
    }
  }

  /** Sets the key of `leaf` (its first `lo`) in its ancestors. */
  private fixKey(leaf: number): void {
    const k = this.storedLo(leaf << LEAF_SHIFT);
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
    const from = ((leaf << LEAF_SHIFT) + at) << W_SHIFT;
    const end = ((leaf << LEAF_SHIFT) + count) << W_SHIFT;
    this.ent.copyWithin((nl << LEAF_SHIFT) << W_SHIFT, from, end);
    this.leafCount[nl] = count - at;
    this.leafCount[leaf] = at;
    const next = this.leafNext[leaf];
    this.leafNext[nl] = next;
    this.leafPrev[nl] = leaf;
    if (next >= 0) this.leafPrev[next] = nl;
    else this.lastLeaf = nl;
    this.leafNext[leaf] = nl;
    this.addChild(this.leafParent[leaf], leaf, nl, this.storedLo(nl << LEAF_SHIFT), true);
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
      this.key[base] = leaves ? this.storedLo(after << LEAF_SHIFT) : this.key[after * FANOUT];
      this.key[base + 1] = k;
      this.setParent(after, r, 0, leaves);
      this.setParent(newChild, r, 1, leaves);
      this.root = r;
      this.height++;
      this.storeBound(base, after, leaves);
      this.storeBound(base + 1, newChild, leaves);
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
    if (parent >= 0) this.storeBound(parent * FANOUT + this.nodeSlot[node], node, false);
  }

  /** Sets slot `s`'s bounds to the maxima of its child `id` (a leaf or an internal node). */
  private storeBound(s: number, id: number, leaf: boolean): void {
    if (leaf) this.leafMax(id);
    else this.summarise(id);
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
        // The bounds above still hold: they only ever need to cover what is left.
        if (slot === 0) this.fixNodeKey(node);
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

  // --- updates ----------------------------------------------------------------------------

  /**
   * Inserts `[lo, hi]` directly before the entry at position `above`; the caller guarantees it
   * lies strictly between that entry's predecessor and the entry. Returns the new position.
   */
  insertBefore(above: number, lo: number, hi: number): number {
    if (hi > NARROW_MAX && this.ent instanceof Int32Array) this.widen();
    let leaf = above >> LEAF_SHIFT;
    let idx = above & LEAF_MASK;
    const ai = above << W_SHIFT;
    const base = this.gapBase(above);
    const belowAnchor = this.ent[ai + LO] === this.anchorStored;
    const field = this.lastField;
    const old = this.ent[ai + field];
    // After a split, the leaf that was not inserted into (-1: no split).
    let other = -1;
    const count = this.leafCount[leaf];
    if (count === LEAF_SIZE) {
      if (idx === 0) {
        // Inserting at the front (the common top-down case): the whole leaf moves right and
        // the new entry starts a fresh leaf, so descending fills pack leaves completely.
        other = this.splitLeaf(leaf, 0);
      } else {
        const half = LEAF_SIZE >> 1;
        other = this.splitLeaf(leaf, half);
        if (idx >= half) {
          const t = leaf;
          leaf = other;
          other = t;
          idx -= half;
        }
      }
    }
    const p = (leaf << LEAF_SHIFT) + idx;
    const e = this.ent;
    const i = p << W_SHIFT;
    // Shift the entries from idx up by one, from the top down.
    for (let j = ((leaf << LEAF_SHIFT) + this.leafCount[leaf]) << W_SHIFT; j > i; j -= W) {
      e[j] = e[j - W];
      e[j + 1] = e[j - W + 1];
      e[j + 2] = e[j - W + 2];
      e[j + 3] = e[j - W + 3];
    }
    e[i + LO] = lo;
    e[i + HI] = hi;
    if (++this.count > this.hint.length >> 2 && this.hintShift > 32 - HINT_MAX_BITS) {
      this.hintShift -= 2;
      this.hint = new Int32Array(this.hint.length * 4);
    }
    this.hint[Math.imul(lo | 0, HASH_MUL) >>> this.hintShift] = leaf;
    this.leafCount[leaf]++;
    if (idx === 0) this.fixKey(leaf);
    this.setGap(p, base);
    this.setGap(this.nextPos(p), hi + 1 > base ? hi + 1 : base);
    // Both new gaps lie inside the old one, so the bounds above still cover them, except where
    // a split made new slots, or the old gap was the anchor's (which no bound covers).
    if (other >= 0) {
      this.boundLeaf(leaf);
      this.boundLeaf(other);
    } else if (belowAnchor) {
      this.raise(p);
    } else {
      // Searches take the highest gap that fits, so the one just split was often its leaf's
      // largest: tightening the leaf's bound now, with the leaf in cache, costs less than the
      // next search finding it too high (measured; doing the same one level up did not pay).
      // Only for the kind of fit the searches look at.
      const parent = this.leafParent[leaf];
      if (parent >= 0) {
        const bounds = field === FIT ? this.slotFit : this.slotGap;
        const sl = parent * FANOUT + this.leafSlot[leaf];
        if (bounds[sl] <= old) bounds[sl] = this.leafFieldMax(leaf, field);
      }
    }
    return p;
  }

  /** Makes entries doubles, for a range above {@link NARROW_MAX}; the anchor gets its true `lo`. */
  private widen(): void {
    const ent = new Float64Array(this.ent.length);
    ent.set(this.ent);
    const a = this.anchorPos();
    ent[(a << W_SHIFT) + LO] = this.anchorLo;
    ent[(a << W_SHIFT) + HI] = this.anchorLo;
    this.ent = ent;
    this.anchorStored = this.anchorLo;
    if ((a & LEAF_MASK) === 0) this.fixKey(this.lastLeaf);
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
    this.setGap(ap, this.gapBase(p));
    const e = this.ent;
    const end = ((leaf << LEAF_SHIFT) + this.leafCount[leaf] - 1) << W_SHIFT;
    for (let j = p << W_SHIFT; j < end; j += W) {
      e[j] = e[j + W];
      e[j + 1] = e[j + W + 1];
      e[j + 2] = e[j + W + 2];
      e[j + 3] = e[j + W + 3];
    }
    this.count--;
    const sameLeaf = ap >> LEAF_SHIFT === leaf;
    if (sameLeaf) ap--;
    const intoAnchor = this.ent[(ap << W_SHIFT) + LO] === this.anchorStored;
    if (--this.leafCount[leaf] === 0) this.dropLeaf(leaf);
    else if ((p & LEAF_MASK) === 0) this.fixKey(leaf);
    // The removed gap is now part of the (larger) gap above it, which the bounds must cover.
    if (!intoAnchor) this.raise(ap);
  }

  /** Moves the `lo` of the entry at `p` down to `lo` (it must stay above the previous entry). */
  extendDown(p: number, lo: number): void {
    const base = this.gapBase(p);
    this.ent[(p << W_SHIFT) + LO] = lo;
    const leaf = p >> LEAF_SHIFT;
    if ((p & LEAF_MASK) === 0) this.fixKey(leaf);
    // The gap only shrinks: the bounds still hold.
    this.setGap(p, base);
  }

  // --- search -----------------------------------------------------------------------------

  /**
   * The highest pfn `p` with `[p, p + size - 1]` free, `p >= startPfn`, `p + size - 1 <= limit`
   * and `p` a multiple of `align` (1, or `roundUpPow2(size)` for a size-aligned request); -1 if
   * there is none. On success {@link fitAbove} is the position of the entry directly above the
   * slot.
   *
   * O(log n): the one gap that can straddle the limit is clipped and tried by itself; below it,
   * {@link fitAtOrBelow}.
   */
  highestFit(size: number, align: number, limit: number): number {
    this.lastField = align > 1 ? FIT : GAP;
    // The first entry above limit + 1 owns the only gap that can straddle the limit (there is
    // none when the limit is the top pfn: then c is the anchor).
    const c = this.floorAbove(limit + 1);
    const clip = c < 0 ? this.firstPos() : this.nextPos(c);
    if (clip >= 0) {
      const at = this.fitGap(clip, size, align, limit);
      if (at >= 0 || c < 0) return at;
    }
    return this.fitAtOrBelow(c, size, align, limit);
  }

  /**
   * The highest slot as in {@link highestFit} in the gaps of the entries at or below position
   * `p` (the gap below `p` included), each clipped at `limit`: what a top-down walk starting at
   * `p` finds first. -1 if there is none.
   *
   * A whole gap at or below `p` lies at or below the limit, so it fits exactly when its gap or
   * aligned fit admits the size (the latter by the monotonicity of {@link alignedFit}); every
   * subtree left of `p`'s path lies wholly below it.
   */
  fitAtOrBelow(p: number, size: number, align: number, limit: number): number {
    if (this.ent[(p << W_SHIFT) + LO] === this.anchorStored) {
      // The anchor's gap is not in the bounds: try it by itself.
      const at = this.fitGap(p, size, align, limit);
      if (at >= 0) return at;
      p = this.prevPos(p);
      if (p < 0) return -1;
    }
    const field = align > 1 ? FIT : GAP;
    this.lastField = field;
    const slotMax = align > 1 ? this.slotFit : this.slotGap;
    // What a saturated gap or bound must reach to be worth a look.
    const need = size < SAT ? size : SAT;
    const leaf = p >> LEAF_SHIFT;
    let node = this.leafParent[leaf];
    let slot = this.leafSlot[leaf];
    // Whether the subtree at (node, slot) lies wholly at or below p: then its bound speaks for
    // it. True when p is the leaf's last entry (not counting the anchor, which the bounds leave
    // out), and stays true while the path is its parent's last child.
    const n = this.leafCount[leaf] - (leaf === this.lastLeaf ? 1 : 0);
    let whole = (p & LEAF_MASK) === n - 1;
    if (node < 0 || (!whole && slotMax[node * FANOUT + slot] >= need)) {
      const at = this.fitInLeaf(leaf, (p & LEAF_MASK) + 1, size, need, align, limit, field);
      if (at >= 0 || node < 0) return at;
    }
    for (let h = 1; node >= 0; h++) {
      if (whole && slot === this.nodeCount[node] - 1 && this.nodeParent[node] >= 0) {
        // The whole node lies at or below p: look at it through its own bound, one level up
        // (in the usual case, a limit above every range, this makes the search top-down).
        slot = this.nodeSlot[node];
        node = this.nodeParent[node];
        continue;
      }
      const first = node * FANOUT;
      for (let s = first + (whole ? slot : slot - 1); s >= first; s--) {
        if (slotMax[s] >= need) {
          const at = this.fitDown(s, h - 1, size, need, align, limit, field, slotMax);
          if (at >= 0) return at;
        }
      }
      whole = false;
      slot = this.nodeSlot[node];
      node = this.nodeParent[node];
    }
    return -1;
  }

  /**
   * {@link floorPos} for an `x` that usually lies above every real range (a DMA mask above the
   * allocations): then the answer is the anchor or the range just below it, found in O(1).
   */
  private floorAbove(x: number): number {
    const anchor = this.anchorPos();
    if (x >= this.anchorLo) return anchor;
    const last = this.prevPos(anchor);
    return last >= 0 && this.storedLo(last) <= x ? last : this.floorPos(x);
  }

  /**
   * Highest fit inside the subtree under slot `top`, whose child has height `h` (0: a leaf) and
   * whose bound admits the request; -1 when the bound was too high. Depth-first from the right
   * through the slots whose bounds admit it; a subtree found to hold no fit gets its exact
   * maximum as its bound, which then no longer admits the request.
   */
  private fitDown(top: number, h: number, size: number, need: number, align: number, limit: number, field: number, slotMax: Int32Array): number {
    // Per height on the current path: the largest bound right of the slot taken in that node.
    const right = this.rightMax;
    let s = top;
    for (;;) {
      let id = this.child[s];
      let m = -1;
      for (; h > 0; h--) {
        const first = id * FANOUT;
        let t = first + this.nodeCount[id] - 1;
        m = -1;
        for (; t >= first; t--) {
          const v = slotMax[t];
          if (v >= need) break;
          if (v > m) m = v;
        }
        if (t < first) break;
        right[h] = m;
        s = t;
        id = this.child[t];
      }
      // Here `id` (under slot `s`, at height `h`) holds no fit: its bound becomes exact. Only the
      // bound being searched by is tightened: the other may stay high for longer.
      if (h === 0) {
        // The anchor's gap is not part of the bounds that led here.
        const at = this.fitInLeaf(id, this.leafCount[id] - (id === this.lastLeaf ? 1 : 0), size, need, align, limit, field);
        if (at >= 0) return at;
        m = this.scanMax;
      }
      slotMax[s] = m;
      // Back up to the next admitting slot on the left, leaving exhausted nodes.
      for (;;) {
        if (s === top) return -1;
        const first = s & -FANOUT;
        if (right[h + 1] > m) m = right[h + 1];
        let t = s - 1;
        for (; t >= first; t--) {
          const v = slotMax[t];
          if (v >= need) break;
          if (v > m) m = v;
        }
        if (t >= first) {
          right[h + 1] = m;
          s = t;
          break;
        }
        const node = first / FANOUT;
        s = this.nodeParent[node] * FANOUT + this.nodeSlot[node];
        h++;
        slotMax[s] = m;
      }
    }
  }

  /**
   * Highest fit in the gaps of the first `n` entries of `leaf`. When there is none,
   * {@link scanMax} is the largest `field` among them.
   */
  private fitInLeaf(leaf: number, n: number, size: number, need: number, align: number, limit: number, field: number): number {
    const e = this.ent;
    const first = leaf << LEAF_SHIFT;
    let m = -1;
    for (let p = first + n - 1; p >= first; p--) {
      const v = e[(p << W_SHIFT) + field];
      if (v >= need) {
        const at = this.fitGap(p, size, align, limit);
        if (at >= 0) return at;
      }
      if (v > m) m = v;
    }
    this.scanMax = m;
    return -1;
  }

  /** The highest slot in the gap below entry `p`, clipped at `limit`; -1 if none. */
  private fitGap(p: number, size: number, align: number, limit: number): number {
    const i = p << W_SHIFT;
    const lo = this.ent[i + LO];
    if (lo === this.anchorStored) return this.fitBelowAnchor(p, size, align, limit);
    const gap = this.ent[i + GAP];
    if (gap < size && gap !== SAT) return -1;
    const top = lo - 1 < limit ? lo - 1 : limit;
    const base = gap !== SAT ? lo - gap : this.baseAbove(p);
    let at = top - size + 1;
    if (at < base) return -1;
    if (align > 1) {
      // Exact: align is a power of two, so the reciprocal is too.
      at = at < INT_RANGE ? at & -align : Math.floor(at * (1 / align)) * align;
      if (at < base) return -1;
    }
    this.fitAbove = p;
    return at;
  }

  /** {@link fitGap} for the anchor's gap, apart: the anchor's true lo may need doubles. */
  private fitBelowAnchor(p: number, size: number, align: number, limit: number): number {
    const top = this.anchorLo - 1 < limit ? this.anchorLo - 1 : limit;
    const base = this.baseAbove(p);
    let at = top - size + 1;
    if (at < base) return -1;
    if (align > 1) {
      at = Math.floor(at * (1 / align)) * align;
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
        if (this.ent instanceof Int32Array && lo < this.anchorLo && hi > NARROW_MAX) return `range ${lo}-${hi} is too high for 32-bit entries`;
        if (lo > hi) return `range ${lo}-${hi} is inverted`;
        if (lo <= prevHi) return `range ${lo}-${hi} overlaps or is out of order`;
        const base = Math.max(prevHi + 1, this.startPfn);
        const gap = Math.min(Math.max(0, lo - base), SAT);
        const have = this.ent[(p << W_SHIFT) + GAP];
        if (have !== gap) return `gap below ${lo} is ${have}, expected ${gap}`;
        const fit = Math.min(alignedFit(base, lo - 1), SAT);
        const haveFit = this.ent[(p << W_SHIFT) + FIT];
        if (haveFit !== fit) return `aligned fit below ${lo} is ${haveFit}, expected ${fit}`;
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
        // The anchor's gap is left out of the bounds.
        const n = this.leafCount[id] - (id === this.lastLeaf ? 1 : 0);
        for (let p = id << LEAF_SHIFT; p < (id << LEAF_SHIFT) + n; p++) {
          gap = Math.max(gap, this.ent[(p << W_SHIFT) + GAP]);
          fit = Math.max(fit, this.ent[(p << W_SHIFT) + FIT]);
        }
        return { key: this.storedLo(id << LEAF_SHIFT), gap, fit };
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
        if (this.slotGap[s] < sub.gap || this.slotFit[s] < sub.fit) {
          return `bounds of a child of node ${id} are ${this.slotGap[s]}/${this.slotFit[s]}, below its maxima ${sub.gap}/${sub.fit}`;
        }
        if (h > 1) {
          // Raising stops at the first bound that covers a value: bounds must not grow downwards.
          this.summarise(this.child[s]);
          if (this.slotGap[s] < this.maxGap || this.slotFit[s] < this.maxFit) return `bounds of a child of node ${id} are below its own children's`;
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
