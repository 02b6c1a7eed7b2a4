/**
 * Certification of a solver answer: the independent verifier's checks plus the request-level
 * facts and relations only a placement problem has.
 */
import { hexGrouped } from '../model/address.js';
import { type LayoutPlacement, type Violation, verifyInSpace } from '../explain/verify.js';
import { describePlacement } from '../explain/words.js';
import type { Problem } from './problem.js';

/**
 * Certify a solution of a problem: everything {@link verifyInSpace} checks, plus the
 * request-level facts and relations (fixed IOVAs, above, offsets, shared windows).
 */
export function certify(problem: Problem, placed: ReadonlyMap<string, bigint>): Violation[] {
  const placements: LayoutPlacement[] = problem.requests.map((r) => {
    const iova = placed.get(r.name);
    if (iova === undefined) throw new Error(`certify: request ${r.name} has no placement`);
    return { name: r.name, iova, size: r.size, align: r.ownAlign, dmaBits: r.dmaBits, within: r.within?.ranges };
  });
  const out = verifyInSpace(problem.space, placements, problem.existing);
  const windowOf = (iova: bigint) => problem.windows.findIndex((w) => w.start <= iova && iova <= w.last);
  const tagWindows = new Map<string, { name: string; window: number }>();
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  for (const r of problem.requests) {
    const iova = placed.get(r.name) as bigint;
    const what = describePlacement(r.name, iova, r.size);
    if (r.fixed && r.fixed.iova !== iova) {
      out.push({ kind: 'fixed', placement: r.name, enforced: false, message: `${what} is not at its ${r.fixed.identity ? 'identity' : 'fixed'} IOVA ${hexGrouped(r.fixed.iova)}` });
    }
    for (const other of r.above) {
      const o = byName.get(other);
      const oIova = placed.get(other) as bigint;
      if (o && iova <= oIova + o.size - 1n) out.push({ kind: 'above', placement: r.name, other, enforced: false, message: `${what} is not above \`${other}\`` });
    }
    if (r.offsetFrom) {
      const base = placed.get(r.offsetFrom.request) as bigint;
      if (iova !== base + r.offsetFrom.offset) {
        out.push({ kind: 'offset', placement: r.name, other: r.offsetFrom.request, enforced: false, message: `${what} is not at \`${r.offsetFrom.request}\` ${r.offsetFrom.offset < 0n ? '-' : '+'} ${hexGrouped(r.offsetFrom.offset < 0n ? -r.offsetFrom.offset : r.offsetFrom.offset)}` });
      }
    }
    if (r.window) {
      const w = windowOf(iova);
      const first = tagWindows.get(r.window);
      if (!first) tagWindows.set(r.window, { name: r.name, window: w });
      else if (first.window !== w) {
        out.push({ kind: 'same-window', placement: r.name, other: first.name, enforced: false, message: `${what} is not in the same aperture window as \`${first.name}\` (window group ${r.window})` });
      }
    }
  }
  return out;
}
