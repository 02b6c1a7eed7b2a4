/**
 * What the domain facade needs from a placement policy: the tree operations. The fast path
 * (magazine caches) is shared and lives in the facade.
 */
import type { IovaTree } from './tree.js';

/** An inclusive range of page-frame numbers. */
export interface PfnRange {
  readonly lo: number;
  readonly hi: number;
}

/** The Linux policy's internal cursors and failure gate (`state` in a replayed trace). */
export interface CursorState {
  /** `lo` of the node the next walk above 4 GiB starts from, or `'anchor'` (the top). */
  readonly cached: number | 'anchor';
  /** The same for walks with a limit at or below 4 GiB. */
  readonly cached32: number | 'anchor';
  /** Requests this size or larger with a limit at or below 4 GiB fail at once. */
  readonly max32: number;
}

export interface TreePolicy {
  readonly tree: IovaTree;
  /**
   * Places `size` pages wholly at or below `limit` (inclusive pfn, already clamped to the top of
   * the space), aligned to `roundUpPow2(size)` when `aligned`; returns `pfn_lo`, or -1.
   */
  alloc(size: number, limit: number, aligned: boolean): number;
  /** Frees the range containing `pfn`; false when no range contains it. */
  free(pfn: number): boolean;
  /** Keeps `[lo, hi]` (inside the space) away from allocation; see each policy for details. */
  reserve(lo: number, hi: number): PfnRange | undefined;
  /** The Linux policy's cursors, or undefined for a policy without them. */
  cursors(): CursorState | undefined;
}
