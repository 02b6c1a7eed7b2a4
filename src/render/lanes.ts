/**
 * Stacking drawn items in lanes so that none hides another: several holes over one range (a
 * peer BAR inside the peer's bridge window, two groups' MSI windows) each get their own row.
 */

/** A horizontal pixel span `[from, to)` that an item occupies, label included. */
export interface Span {
  from: number;
  to: number;
}

/**
 * Give each span a lane (0, 1, …) so that spans in one lane do not overlap: first-fit in order
 * of `from`, wider first on ties, ties beyond that in input order. Spans that only touch
 * (`a.to === b.from`) share a lane. Returns the lane of each span in input order.
 */
export function assignLanes(spans: readonly Span[], gap = 0): number[] {
  const order = spans.map((_, i) => i).sort((a, b) => spans[a].from - spans[b].from || spans[b].to - spans[a].to || a - b);
  const ends: number[] = [];
  const lanes = new Array<number>(spans.length);
  for (const i of order) {
    const s = spans[i];
    let lane = ends.findIndex((end) => end + gap <= s.from);
    if (lane < 0) {
      lane = ends.length;
      ends.push(s.to);
    } else {
      ends[lane] = s.to;
    }
    lanes[i] = lane;
  }
  return lanes;
}

/** Number of lanes used (at least 1, so an empty track still has a row). */
export function laneCount(lanes: readonly number[]): number {
  return lanes.reduce((max, l) => Math.max(max, l + 1), 1);
}
