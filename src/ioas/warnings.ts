/**
 * Warnings for mappings the kernel accepts but a device's DMA will not reach: addresses a PCIe
 * switch routes to a peer before the IOMMU sees them, and host-bridge windows / dma-ranges gaps
 * that only the DMA API keeps DMA away from.
 */
import { describeProvenance } from '../model/provenance.js';
import { describeRange, intersection, type IovaRange } from '../model/range.js';
import type { IoasWarning } from '../explain/explanation.js';
import { holeFact, type OwnedHole } from './reserved.js';
import type { IoasCore } from './state.js';

/** One warning per unenforced hole that `r` touches. */
export function warningsFor(core: IoasCore, r: IovaRange): IoasWarning[] {
  return core.advisoryOverlapping(r).map((o) => warning(core, o, intersection(o.hole, r) ?? r));
}

/** Warnings for existing mappings that a newly attached device's unenforced holes touch. */
export function warningsForAttachment(core: IoasCore, id: string): IoasWarning[] {
  const out: IoasWarning[] = [];
  for (const o of core.advisory) {
    if (!o.owners.includes(id)) continue;
    for (const m of core.areasOverlapping(o.hole)) out.push(warning(core, o, intersection(o.hole, m) ?? m));
  }
  return out;
}

function warning(core: IoasCore, o: OwnedHole, range: IovaRange): IoasWarning {
  const fact = holeFact(o, core.policy);
  const s = o.hole.source;
  const who = o.owners.join(', ');
  const message =
    o.hole.kind === 'p2p'
      ? `DMA from ${who} to ${describeRange(range)} would be routed to the ${fact.what} of peer ${s.peer ?? '?'} ` +
        `and never reach the IOMMU (${s.note ?? describeProvenance(s)}); the kernel accepts the mapping, but such DMA goes to the peer`
      : `${describeRange(range)} lies in a ${fact.what} (${describeProvenance(s)}) that the DMA API keeps ${who}'s DMA away from; ` +
        'the kernel accepts the mapping, but DMA there may be decoded by a peer instead of reaching memory';
  return { kind: o.hole.kind === 'p2p' ? 'p2p' : 'dma-api', range, fact, message };
}
