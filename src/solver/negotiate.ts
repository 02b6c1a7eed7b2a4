/**
 * The two negotiation styles from the iommufd design discussion, and the hot-plug check.
 *
 * - advertise: the kernel reports the usable ranges and the alignment; userspace picks.
 * - request / ack-or-nack: userspace states what it needs (a window of this size anywhere,
 *   at this base, or within `[base, max]`) and gets a concrete placement or an explanation.
 * - hot-plug: can a device not yet attached join an IOAS whose layout is fixed?
 */
import { AddressSpace, type AddressSpaceOptions } from '../model/address-space.js';
import type { Hole } from '../model/hole.js';
import { kernelEnforces } from '../model/hole.js';
import type { HostFacts } from '../model/host.js';
import type { Policy } from '../model/policy.js';
import { overlaps, type IovaRange } from '../model/range.js';
import type { Conflict } from './explain.js';
import type { ExactOracle } from './oracle.js';
import type { ExistingMapping } from './problem.js';
import { type Placement, type Repair, solve } from './solve.js';
import { parsePlacementSpec } from './spec.js';
import type { Layout } from './verify.js';
import { describeHole, describePlacement } from './words.js';
import { formatSize } from '../model/address.js';

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
  if (answer.status === 'unsat') return { ack: false, conflicts: answer.conflicts, repairs: answer.repairs };
  return { ack: false, unknown: answer.reason };
}

/** A placement of the layout that a device's holes would collide with. */
export interface AttachCollision {
  placement: string;
  hole: Hole;
  /** Whether the kernel refuses the attach for it (a peer-to-peer hole is accepted and misroutes DMA). */
  enforced: boolean;
  message: string;
}

export interface AttachCheck {
  device: string;
  ok: boolean;
  /** What the attach ioctl would fail with under the policy, when it fails. */
  errno?: 'EADDRINUSE' | 'EINVAL';
  collisions: AttachCollision[];
  /** The new domain's smallest page, when it would raise the IOAS alignment beyond what the layout satisfies. */
  alignment?: { required: bigint; misaligned: string[] };
  message: string;
}

/**
 * Hot-plug check: can `device` attach to the IOAS holding `layout` on `host`? iommufd refuses a
 * reservation that hits an existing area with EADDRINUSE (and a larger minimum page that areas
 * do not satisfy, too); VFIO type1 refuses a device whose reserved regions or aperture cut
 * existing mappings with EINVAL. Peer-to-peer collisions are not refused, but listed.
 */
export function checkAttach(layout: Layout, host: HostFacts, device: string, policy: Policy = layout.policy ?? 'iommufd'): AttachCheck {
  const space = AddressSpace.build(host, { policy, devices: [device], dmaApiHoles: layout.dmaApiHoles });
  const areas = [
    ...layout.placements.map((p) => ({ name: p.name, start: p.iova, last: p.iova + p.size - 1n, size: p.size })),
    ...(layout.existing ?? []).map((m: ExistingMapping) => ({ name: m.name, start: m.start, last: m.last, size: m.last - m.start + 1n })),
  ];
  const collisions: AttachCollision[] = [];
  for (const area of areas) {
    for (const hole of space.holes) {
      if (!overlaps(hole, area)) continue;
      collisions.push({
        placement: area.name,
        hole,
        enforced: kernelEnforces(hole.kind, policy),
        message: `${describePlacement(area.name, area.start, area.size)} overlaps ${describeHole(hole)}`,
      });
    }
  }
  const misaligned = policy === 'iommufd' ? areas.filter((a) => a.start % space.alignment !== 0n || a.size % space.alignment !== 0n).map((a) => a.name) : [];
  const refused = collisions.some((c) => c.enforced) || misaligned.length > 0;
  const errno = refused ? (policy === 'vfio-type1' ? 'EINVAL' : 'EADDRINUSE') : undefined;
  const message = refused
    ? `attaching ${device} fails with -${errno}: ${[
        ...collisions.filter((c) => c.enforced).map((c) => c.message),
        ...(misaligned.length > 0 ? [`its ${formatSize(space.alignment)} minimum page does not fit ${misaligned.map((n) => `\`${n}\``).join(', ')}`] : []),
      ].join('; ')}`
    : collisions.length > 0
      ? `${device} can attach, but its DMA to ${collisions.map((c) => `\`${c.placement}\``).join(', ')} would be routed to a peer instead of memory: ${collisions.map((c) => c.message).join('; ')}`
      : `${device} can attach: none of its holes touches the layout`;
  return {
    device,
    ok: !refused && collisions.length === 0,
    errno,
    collisions,
    alignment: misaligned.length > 0 ? { required: space.alignment, misaligned } : undefined,
    message,
  };
}
