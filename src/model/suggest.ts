/**
 * "Did you mean …?": the closest known name to a mistyped one, by edit distance. One suggester
 * for commands, options, policies, request names and device ids.
 */

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1 (a swap is the commonest typo: `sovle`).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

/**
 * The candidate closest to `word` (case-insensitive), when it is close enough to be a typo: at
 * most a third of the word's length apart (at least 1, at most 3 edits), or a unique candidate
 * the word is a prefix of. Ties go to the earlier candidate, so answers are deterministic.
 */
export function closest(word: string, candidates: Iterable<string>, maxDistance?: number): string | undefined {
  const w = word.toLowerCase();
  const list = [...candidates];
  const limit = maxDistance ?? Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of list) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit && bestDistance < w.length) return best;
  const prefixed = list.filter((c) => w.length >= 2 && c.toLowerCase().startsWith(w));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * `; did you mean "x"?` for a close candidate, else the empty string: append it to a message.
 * `maxDistance` tightens the default for names where a near miss is usually another real name
 * (PCI addresses: one digit).
 */
export function didYouMean(word: string, candidates: Iterable<string>, maxDistance?: number): string {
  const hit = closest(word, candidates, maxDistance);
  return hit === undefined ? '' : `; did you mean "${hit}"?`;
}
