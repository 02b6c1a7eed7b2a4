/**
 * The fact-based conflicts both policies check when a range is mapped or reserved: reserved
 * holes (or the outside of an aperture) and existing mappings. The policies decide the errno.
 */
import { type IovaRange } from '../model/range.js';
import type { ErrnoName } from '../explain/errno.js';
import { describeFact, type IoasOperation, mappingFact, reject, type Rejected } from '../explain/explanation.js';
import { holeFact, ownersText } from './reserved.js';
import type { IoasCore } from './state.js';

/** The subject of a message, formatted only when a message is written (accepted maps write none). */
export type Intro = string | (() => string);

export function introText(intro: Intro): string {
  return typeof intro === 'string' ? intro : intro();
}

/** `r` touches an enforced hole: `outside-aperture` when the first one is an aperture's outside. */
export function holeConflict(
  core: IoasCore,
  operation: IoasOperation,
  errno: ErrnoName,
  subject: Intro,
  r: IovaRange,
  why: { aperture: string; reserved: string },
): Rejected | undefined {
  const hits = core.reservedOverlapping(r);
  if (hits.length === 0) return undefined;
  const intro = introText(subject);
  const facts = hits.map((o) => holeFact(o, core.policy));
  const [first] = facts;
  const more = facts.length > 1 ? `, and ${facts.length - 1} more reserved range${facts.length > 2 ? 's' : ''}` : '';
  if (first.holeKind === 'aperture') {
    const message = `${intro} leaves the aperture of the IOMMU domain of ${hits[0].owners.join(', ')}: it reaches ${describeFact(first)}${more}; ${why.aperture}.`;
    return reject(operation, errno, 'outside-aperture', message, facts);
  }
  const message = `${intro} touches the ${describeFact(first)}, ${ownersText(hits[0].owners)}${more}; ${why.reserved}.`;
  return reject(operation, errno, 'reserved-overlap', message, facts);
}

/** `r` overlaps existing mappings: EEXIST under both policies. */
export function areaConflict(core: IoasCore, subject: Intro, r: IovaRange): Rejected | undefined {
  const hits = core.areasOverlapping(r);
  if (hits.length === 0) return undefined;
  const intro = introText(subject);
  const facts = hits.map(mappingFact);
  const more = facts.length > 1 ? ` (and ${facts.length - 1} more)` : '';
  return reject('map', 'EEXIST', 'area-overlap', `${intro} overlaps the existing ${describeFact(facts[0])}${more}; unmap it first or map elsewhere.`, facts);
}
