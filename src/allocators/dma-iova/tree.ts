/**
 * The ordered set of allocated and reserved pfn ranges of one domain.
 *
 * A treap (binary search tree by `lo`, max-heap by a seeded pseudo-random priority) with parent
 * pointers, so that a node can be walked to its predecessor or successor without a search, the
 * way the Linux policy's next-fit walk needs. Removal rotates the node down and unlinks it: node
 * objects never change identity, so a cursor that points at a live node stays valid.
 *
 * When `augmented`, every node also carries the free gap directly below it and the largest such
 * gap in its subtree, which lets {@link IovaTree.highestFit} find the highest fitting free slot
 * under a limit without walking the ranges one by one.
 *
 * The tree always holds one sentinel, the *anchor*, at `topPfn + 1`: it is the last node, so
 * every free gap (including the one at the top of the space) is "the gap below some node".
 */

/** One allocated or reserved range `[lo, hi]` (inclusive pfns). */
export class IovaNode {
  lo: number;
  hi: number;
  left: IovaNode | null;
  right: IovaNode | null;
  parent: IovaNode | null;
  /** Treap heap key. */
  prio: number;
  /** Free pfns between the predecessor (or the start pfn) and `lo`; 0 when not augmented. */
  gap: number;
  /** Largest `gap` in this subtree. */
  maxGap: number;

  constructor(lo: number, hi: number, prio: number) {
    this.lo = lo;
    this.hi = hi;
    this.left = null;
    this.right = null;
    this.parent = null;
    this.prio = prio;
    this.gap = 0;
    this.maxGap = 0;
  }
}

export interface TreeOptions {
  /** Highest usable pfn; the anchor sits one above. */
  topPfn: number;
  /** Gaps are counted from here up (nothing is allocated below it). */
  startPfn: number;
  /** Maintain gap sizes for {@link IovaTree.highestFit}. */
  augmented: boolean;
  /** Seed for the treap priorities (the shape, never the contents, depends on it). */
  seed?: number;
}

export class IovaTree {
  root: IovaNode;
  readonly anchor: IovaNode;
  readonly augmented: boolean;
  readonly startPfn: number;
  /** Live nodes, anchor excluded. */
  count = 0;
  /** After a successful {@link highestFit}: the node directly above the slot found. */
  fitAbove: IovaNode;
  private rng: number;
  private readonly pool: IovaNode[] = [];

  constructor(options: TreeOptions) {
    this.augmented = options.augmented;
    this.startPfn = options.startPfn;
    this.rng = (options.seed ?? 0x9e3779b9) >>> 0 || 1;
    const top = options.topPfn + 1;
    // The anchor has the highest priority so that it stays the root: then the root is never
    // replaced and `root` needs no updates from rotations.
    this.anchor = new IovaNode(top, top, Infinity);
    if (this.augmented) {
      this.anchor.gap = Math.max(0, top - options.startPfn);
      this.anchor.maxGap = this.anchor.gap;
    }
    this.root = this.anchor;
    this.fitAbove = this.anchor;
  }

  private nextPrio(): number {
    // xorshift32: cheap, deterministic.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  private newNode(lo: number, hi: number): IovaNode {
    const n = this.pool.pop();
    if (n === undefined) return new IovaNode(lo, hi, this.nextPrio());
    n.lo = lo;
    n.hi = hi;
    n.prio = this.nextPrio();
    return n;
  }

  // --- navigation -------------------------------------------------------------------------

  /** Lowest node (the anchor if the tree is otherwise empty). */
  first(): IovaNode {
    let n = this.root;
    while (n.left !== null) n = n.left;
    return n;
  }

  /** In-order predecessor, or null for the first node. */
  prev(node: IovaNode): IovaNode | null {
    let n = node.left;
    if (n !== null) {
      while (n.right !== null) n = n.right;
      return n;
    }
    let c = node;
    let p = c.parent;
    while (p !== null && p.left === c) {
      c = p;
      p = p.parent;
    }
    return p;
  }

  /** In-order successor, or null for the anchor. */
  next(node: IovaNode): IovaNode | null {
    let n = node.right;
    if (n !== null) {
      while (n.left !== null) n = n.left;
      return n;
    }
    let c = node;
    let p = c.parent;
    while (p !== null && p.right === c) {
      c = p;
      p = p.parent;
    }
    return p;
  }

  /** The node whose range contains `pfn` (never the anchor), or null. */
  find(pfn: number): IovaNode | null {
    let n: IovaNode | null = this.root;
    while (n !== null) {
      if (pfn < n.lo) n = n.left;
      else if (pfn > n.hi) n = n.right;
      else return n === this.anchor ? null : n;
    }
    return null;
  }

  /** The first node with `hi >= pfn` (the anchor when nothing else qualifies). */
  ceilingByHi(pfn: number): IovaNode {
    let n: IovaNode | null = this.root;
    let best = this.anchor;
    while (n !== null) {
      if (n.hi >= pfn) {
        best = n;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    return best;
  }

  /** Calls `visit` for every node except the anchor, in address order. */
  forEach(visit: (node: IovaNode) => void): void {
    for (let n: IovaNode | null = this.first(); n !== null && n !== this.anchor; n = this.next(n)) visit(n);
  }

  // --- gap bookkeeping --------------------------------------------------------------------

  /** Lowest free pfn of the gap below `n` (meaningful when augmented). */
  private gapBase(n: IovaNode): number {
    // With a non-empty gap its base is lo - gap; an empty gap means the predecessor touches
    // `lo` or the start pfn lies at or above it, and either way nothing below `lo` is free.
    return n.gap > 0 ? n.lo - n.gap : Math.max(n.lo, this.startPfn);
  }

  private pull(n: IovaNode): void {
    let m = n.gap;
    const l = n.left;
    const r = n.right;
    if (l !== null && l.maxGap > m) m = l.maxGap;
    if (r !== null && r.maxGap > m) m = r.maxGap;
    n.maxGap = m;
  }

  private pullToRoot(from: IovaNode | null): void {
    for (let n = from; n !== null; n = n.parent) this.pull(n);
  }

  // --- rotations (root never moves: the anchor has infinite priority) -----------------------

  private rotateUp(n: IovaNode): void {
    const p = n.parent as IovaNode;
    const g = p.parent as IovaNode;
    if (p.left === n) {
      const b = n.right;
      p.left = b;
      if (b !== null) b.parent = p;
      n.right = p;
    } else {
      const b = n.left;
      p.right = b;
      if (b !== null) b.parent = p;
      n.left = p;
    }
    p.parent = n;
    n.parent = g;
    if (g.left === p) g.left = n;
    else g.right = n;
    if (this.augmented) {
      this.pull(p);
      this.pull(n);
    }
  }

  // --- updates ----------------------------------------------------------------------------

  /**
   * Inserts `[lo, hi]` as the in-order predecessor of `above`. The caller guarantees that the
   * range lies strictly between `above`'s predecessor and `above`.
   */
  insertBelow(above: IovaNode, lo: number, hi: number): IovaNode {
    const n = this.newNode(lo, hi);
    let p = above.left;
    if (p === null) {
      above.left = n;
      n.parent = above;
    } else {
      while (p.right !== null) p = p.right;
      p.right = n;
      n.parent = p;
    }
    if (this.augmented) {
      const base = this.gapBase(above);
      n.gap = lo > base ? lo - base : 0;
      const newBase = hi + 1 > base ? hi + 1 : base;
      above.gap = above.lo > newBase ? above.lo - newBase : 0;
      n.maxGap = n.gap;
      // `above` is an ancestor of `n` here, so one upward pass refreshes both.
      this.pullToRoot(n.parent);
    }
    while (n.prio > (n.parent as IovaNode).prio) this.rotateUp(n);
    this.count++;
    return n;
  }

  /** Inserts `[lo, hi]`, which must not overlap any node. */
  insert(lo: number, hi: number): IovaNode {
    // The node above the new range is the first with lo > hi.
    let n: IovaNode | null = this.root;
    let above = this.anchor;
    while (n !== null) {
      if (n.lo > hi) {
        above = n;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    return this.insertBelow(above, lo, hi);
  }

  /** Removes `node` (never the anchor). */
  remove(node: IovaNode): void {
    let above: IovaNode | null = null;
    if (this.augmented) {
      above = this.next(node) as IovaNode;
      const base = this.gapBase(node);
      above.gap = above.lo > base ? above.lo - base : 0;
    }
    // Rotate down until at most one child remains, then splice out.
    for (;;) {
      const l = node.left;
      const r = node.right;
      if (l === null || r === null) break;
      this.rotateUp(l.prio > r.prio ? l : r);
    }
    const child = node.left ?? node.right;
    const p = node.parent as IovaNode;
    if (p.left === node) p.left = child;
    else p.right = child;
    if (child !== null) child.parent = p;
    node.left = node.right = node.parent = null;
    if (this.augmented) {
      this.pullToRoot(p);
      this.pullToRoot(above);
    }
    this.count--;
    this.pool.push(node);
  }

  /** Moves `node.lo` down to `lo` (the caller guarantees it stays above the predecessor). */
  extendDown(node: IovaNode, lo: number): void {
    if (this.augmented) {
      const base = this.gapBase(node);
      node.gap = lo > base ? lo - base : 0;
      node.lo = lo;
      this.pullToRoot(node);
    } else {
      node.lo = lo;
    }
  }

  // --- search -----------------------------------------------------------------------------

  /**
   * The highest pfn `p` with `[p, p + size - 1]` free, `p >= startPfn`, `p + size - 1 <= limit`
   * and `p` a multiple of `align` (a power of two; 1 for none); -1 if there is none. On success
   * {@link fitAbove} is the node directly above the slot. Requires `augmented`.
   *
   * Cost: subtrees whose largest gap is below `size` are skipped, so the search descends one
   * path plus the path to the limit, O(log n), when `align` is 1 or when every gap of at least
   * `size` pages also holds an aligned slot. A gap of `size + align - 1` or more always does;
   * each gap of length in `[size, size + align - 1)` that turns out to hold no aligned slot adds
   * one more O(log n) descent, so the bound is O((1 + k) log n) for k such near misses above
   * the answer.
   */
  highestFit(size: number, align: number, limit: number): number {
    return this.fitIn(this.root, size, align, limit);
  }

  private fitIn(node: IovaNode | null, size: number, align: number, limit: number): number {
    while (node !== null && node.maxGap >= size) {
      if (node.lo - 1 > limit) {
        // Everything right of here is above the limit; only this node's gap can reach below
        // it, clipped. Then continue left.
        const at = this.fitGap(node, size, align, limit);
        if (at >= 0) return at;
        node = node.left;
        continue;
      }
      const r = node.right;
      if (r !== null && r.maxGap >= size) {
        const at = this.fitIn(r, size, align, limit);
        if (at >= 0) return at;
      }
      const at = this.fitGap(node, size, align, limit);
      if (at >= 0) return at;
      node = node.left;
    }
    return -1;
  }

  private fitGap(node: IovaNode, size: number, align: number, limit: number): number {
    const gap = node.gap;
    if (gap < size) return -1;
    const top = node.lo - 1 < limit ? node.lo - 1 : limit;
    const base = node.lo - gap;
    let at = top - size + 1;
    if (at < base) return -1;
    if (align > 1) {
      at -= at % align;
      if (at < base) return -1;
    }
    this.fitAbove = node;
    return at;
  }

  // --- self-check -------------------------------------------------------------------------

  /** A description of the first broken invariant, or undefined when the tree is sound. */
  check(): string | undefined {
    if (this.root !== this.anchor || this.anchor.parent !== null) return 'anchor is not the root';
    let count = 0;
    let prevHi = -Infinity;
    let bad: string | undefined;
    const visit = (n: IovaNode): number => {
      // Returns the subtree's max gap; checks order, heap, parent links and gaps on the way.
      let m = 0;
      if (n.left !== null) {
        if (n.left.parent !== n) bad ??= `bad parent link below ${n.lo}`;
        if (n.left.prio > n.prio) bad ??= `heap order broken at ${n.lo}`;
        m = Math.max(m, visit(n.left));
      }
      if (n.lo > n.hi) bad ??= `node ${n.lo}-${n.hi} is inverted`;
      if (n.lo <= prevHi) bad ??= `node ${n.lo}-${n.hi} overlaps or is out of order`;
      if (this.augmented) {
        const base = Math.max(prevHi + 1, this.startPfn);
        const gap = Math.max(0, n.lo - base);
        if (n.gap !== gap) bad ??= `gap below ${n.lo} is ${n.gap}, expected ${gap}`;
      }
      prevHi = n.hi;
      if (n !== this.anchor) count++;
      m = Math.max(m, n.gap);
      if (n.right !== null) {
        if (n.right.parent !== n) bad ??= `bad parent link below ${n.lo}`;
        if (n.right.prio > n.prio) bad ??= `heap order broken at ${n.lo}`;
        m = Math.max(m, visit(n.right));
      }
      if (this.augmented && n.maxGap !== m) bad ??= `max gap at ${n.lo} is ${n.maxGap}, expected ${m}`;
      return m;
    };
    visit(this.root);
    if (bad === undefined && this.next(this.anchor) !== null) bad = 'anchor is not the last node';
    if (bad === undefined && count !== this.count) bad = `count is ${this.count}, tree holds ${count}`;
    return bad;
  }
}
