/**
 * The two negotiation styles from the iommufd design discussion, and the hot-plug check.
 *
 * - advertise: the kernel reports the usable ranges and the alignment; userspace picks.
 * - request / ack-or-nack: userspace states what it needs (a window of this size anywhere,
 *   at this base, or within `[base, max]`) and gets a concrete placement or an explanation.

 * The hot-plug check, which needs the kernel's attach rules, lives with the IOAS model
 * (`src/ioas/hotplug.ts`).
 */
import { AddressSpace, type AddressSpaceOptions } from '../model/address-space.js';
import type { HostFacts } from '../model/host.js';
import type { Policy } from '../model/policy.js';
import type { Hole } from '../model/hole.js';
import type { IovaRange } from '../model/range.js';
import type { Conflict } from './explain.js';
import type { ExactOracle } from './oracle.js';
import { type Placement, type Repair, solve } from './solve.js';
import { parsePlacementSpec } from './spec.js';

export interface Advertisement {
  policy: Policy;
  alignment: bigint;
  pageSizes: bigint;
  /** What the kernel reports (IOMMU_IOAS_IOVA_RANGES). */
  reported: readonly IovaRange[];
  /** What is really usable: reported minus peer-to-peer and opted-in DMA-API-only holes. */
  usable: readonly IovaRange[];
  holes: readonly Hole[];
}

/** The advertise style: the usable ranges and the alignment of a host's IOAS. */
export function advertise(host: HostFacts, options: AddressSpaceOptions = {}): Advertisement {
  const space = AddressSpace.build(host, options);
  return { policy: space.policy, alignment: space.alignment, pageSizes: space.pageSizes, reported: space.reported.ranges, usable: space.usable.ranges, holes: space.holes };
}

/** What userspace asks for in the request / ack-or-nack style. */
export interface WindowRequest {
  name?: string;
  size: bigint;
  /** Exactly here. */
  base?: bigint;
  /** Anywhere inside (a `[base, max]` hint, or several ranges). */
  within?: IovaRange | IovaRange[];
  align?: bigint;
  dmaBits?: number;
}

export type WindowAnswer =
  | { ack: true; placement: Placement }
  | { ack: false; conflicts: Conflict[]; repairs: Repair[] }
  | { ack: false; unknown: string };

export interface NegotiationOptions extends AddressSpaceOptions {
  /** Mappings that exist already in the IOAS. */
  existing?: ReadonlyArray<IovaRange & { name?: string }>;
  exact?: ExactOracle;
}

/** The request / ack-or-nack style: a concrete placement, or why there is none and what would do. */
export async function requestWindow(host: HostFacts, want: WindowRequest, options: NegotiationOptions = {}): Promise<WindowAnswer> {
  const name = want.name ?? 'window';
  const problem = parsePlacementSpec(
    {
      host: host.name,
      policy: options.policy,
      devices: options.devices ? [...options.devices] : undefined,
      dmaApiHoles: options.dmaApiHoles,
      existing: (options.existing ?? []).map((m, i) => ({ start: m.start, last: m.last, name: m.name ?? `mapping ${i}` })),
      requests: [{ name, size: want.size, fixed: want.base, within: want.within, align: want.align, dmaBits: want.dmaBits }],
    },
    undefined,
    host,
  );
  const answer = await solve(problem, { exact: options.exact });
  if (answer.status === 'sat') return { ack: true, placement: answer.placements[0] };
  // Dropping the one request asked for is no answer to the request.
  if (answer.status === 'unsat') return { ack: false, conflicts: answer.conflicts, repairs: answer.repairs.filter((r) => !r.changes.some((c) => c.kind === 'drop')) };
  return { ack: false, unknown: answer.reason };
}
