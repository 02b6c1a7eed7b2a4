/**
 * Hot-plug check: can a device that is not attached yet join an IOAS whose layout is fixed?
 *
 * The layout is replayed into an {@link Ioas} (its devices attached, its placements mapped at
 * their IOVAs), then the device is attached there: the errno, rule, explanation and checked
 * suggestions are the IOAS model's own. Every collision of the device's holes with the layout
 * is listed as well — the kernel stops at the first one, a person fixing the layout wants all.
 */
import { AddressSpace } from '../model/address-space.js';
import { InputError } from '../model/errors.js';
import { type Hole, kernelEnforces } from '../model/hole.js';
import type { HostFacts } from '../model/host.js';
import { normaliseBdf, isBdf } from '../model/pci.js';
import type { Policy } from '../model/policy.js';
import { overlaps } from '../model/range.js';
import type { Layout } from '../explain/verify.js';
import { describeHole, describePlacement } from '../explain/words.js';
import { defaultAttachmentIds, isIoasPolicy } from './attachment.js';
import type { ErrnoName } from '../explain/errno.js';
import type { IoasWarning, Rejected, Suggestion } from '../explain/explanation.js';
import { summary } from '../explain/render.js';
import { Ioas } from './ioas.js';

/** A placement of the layout that one of the device's holes overlaps. */
export interface HotplugCollision {
  placement: string;
  hole: Hole;
  /** Whether the kernel refuses the attach for it (a peer-to-peer hole is accepted, and misroutes DMA). */
  enforced: boolean;
  message: string;
}

export interface HotplugCheck {
  device: string;
  /** The kernel version the answer holds for. */
  kernel: string;
  /** True when the device attaches and none of its holes touches the layout. */
  ok: boolean;
  /** The attach ioctl's errno under the policy, when the kernel refuses. */
  errno?: ErrnoName;
  code?: number;
  rule?: string;
  message: string;
  collisions: HotplugCollision[];
  /** Accepted, but DMA to these parts of the layout would go to a peer. */
  warnings: IoasWarning[];
  /** Checked ways to make the attach succeed (from the IOAS model). */
  suggestions: Suggestion[];
}

export function checkHotplug(layout: Layout, host: HostFacts, device: string, policy: Policy = layout.policy ?? 'iommufd', options: { kernel?: string } = {}): HotplugCheck {
  if (!isIoasPolicy(policy)) throw new InputError(`a hot-plug check needs a user-managed IOAS (iommufd or vfio-type1), not ${policy}`);
  const id = isBdf(device) ? normaliseBdf(device) : device;
  const kernel = options.kernel ?? layout.kernel;
  const ioas = Ioas.create(host, { policy, suggestions: true, ...(kernel !== undefined ? { kernel } : {}) });
  const present = (layout.devices ?? defaultAttachmentIds(host)).filter((d) => (isBdf(d) ? normaliseBdf(d) : d) !== id);
  for (const d of present) {
    const r = ioas.attach(d);
    if (!r.ok) throw new InputError(`the layout's device ${d} does not attach on host ${host.name}: ${summary(r)}`);
  }
  const areas = [
    ...layout.placements.map((p) => ({ name: p.name, start: p.iova, size: p.size })),
    ...(layout.existing ?? []).map((m) => ({ name: m.name, start: m.start, size: m.last - m.start + 1n })),
  ];
  for (const a of areas) {
    const r = ioas.map({ iova: a.start, length: a.size, fixed: true, name: a.name });
    if (!r.ok) throw new InputError(`the layout does not fit host ${host.name} as it is: \`${a.name}\`: ${summary(r)}; run iova verify first`);
  }

  const space = AddressSpace.build(host, { policy, devices: [id], dmaApiHoles: layout.dmaApiHoles });
  const collisions: HotplugCollision[] = [];
  for (const a of areas) {
    const range = { start: a.start, last: a.start + a.size - 1n };
    for (const hole of space.holes) {
      if (!overlaps(hole, range)) continue;
      collisions.push({ placement: a.name, hole, enforced: kernelEnforces(hole.kind, policy), message: `${describePlacement(a.name, a.start, a.size)} overlaps ${describeHole(hole)}` });
    }
  }

  const attached = ioas.attach(id);
  if (!attached.ok) {
    const refused = attached as Rejected;
    return {
      device: id,
      kernel: ioas.kernel,
      ok: false,
      errno: refused.errno,
      code: refused.code,
      rule: refused.rule,
      message: `attaching ${id} fails with -${refused.errno}: ${refused.message}`,
      collisions,
      warnings: refused.warnings,
      suggestions: refused.suggestions,
    };
  }
  const misrouted = collisions.filter((c) => !c.enforced);
  return {
    device: id,
    kernel: ioas.kernel,
    ok: misrouted.length === 0,
    message:
      misrouted.length === 0
        ? `${id} can attach: none of its holes touches the layout`
        : `${id} attaches, but its DMA to ${[...new Set(misrouted.map((c) => `\`${c.placement}\``))].join(', ')} would reach a peer instead of memory`,
    collisions,
    warnings: attached.warnings,
    suggestions: [],
  };
}
