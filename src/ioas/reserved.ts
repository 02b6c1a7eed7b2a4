/**
 * Holes with owners: which attachments (or a hand-made reservation) put each hole into the
 * IOAS. The same hole brought by two devices (a shared group's MSI window, a platform region)
 * is one entry with two owners, so that detaching one of them does not free it.
 */
import { compareHoles, type Hole, kernelEnforces } from '../model/hole.js';
import type { Attachment, IoasPolicy } from './attachment.js';
import type { InvolvedFact } from '../explain/explanation.js';
import { holeShortName } from '../explain/words.js';

/** The owner of reservations added by hand (the iommufd self-test's ADD_RESERVED). */
export const MANUAL_OWNER = 'manual';

export interface OwnedHole {
  hole: Hole;
  owners: string[];
}

/** The holes of the attachments that `select` keeps, merged by identity, in hole order. */
export function ownedHoles(attachments: readonly Attachment[], manual: readonly Hole[], select: (h: Hole) => boolean): OwnedHole[] {
  const byKey = new Map<string, OwnedHole>();
  const add = (hole: Hole, owner: string) => {
    const key = `${hole.start}:${hole.last}:${hole.kind}:${hole.type}:${JSON.stringify(hole.source)}`;
    const entry = byKey.get(key);
    if (!entry) byKey.set(key, { hole, owners: [owner] });
    else if (!entry.owners.includes(owner)) entry.owners.push(owner);
  };
  for (const a of attachments) for (const h of a.space.holes) if (select(h)) add(h, a.id);
  for (const h of manual) add(h, MANUAL_OWNER);
  return [...byKey.values()].sort((a, b) => compareHoles(a.hole, b.hole));
}

/** Holes the kernel refuses under the policy: outside an aperture, reserved regions. */
export function isEnforced(policy: IoasPolicy): (h: Hole) => boolean {
  return (h) => kernelEnforces(h.kind, policy);
}

export function holeFact(o: OwnedHole, policy: IoasPolicy): InvolvedFact {
  const h = o.hole;
  return {
    fact: 'hole',
    range: { start: h.start, last: h.last },
    what: holeShortName(h),
    holeKind: h.kind,
    holeType: h.type,
    enforced: kernelEnforces(h.kind, policy),
    owners: [...o.owners],
    source: h.source,
  };
}

/** `attached with 0000:41:00.0` / `added by hand`, for the owner part of a sentence. */
export function ownersText(owners: readonly string[]): string {
  if (owners.length === 1 && owners[0] === MANUAL_OWNER) return 'added by hand';
  return `brought by ${owners.join(', ')}`;
}
