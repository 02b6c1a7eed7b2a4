/**
 * One thing attached to an IOAS — a device, a group without listed devices, or the host itself
 * when it lists neither — with the holes the model derives for it alone, and the IOMMU domain
 * it lands in.
 *
 * The holes come from `AddressSpace.build` for that one attachment, so the per-device facts
 * (group regions, device regions, host-wide and platform regions, geometry, peer-to-peer and
 * DMA-API holes) are derived in exactly one place.
 */
import { AddressSpace } from '../model/address-space.js';
import { hex } from '../model/address.js';
import { InputError } from '../model/errors.js';
import type { HostFacts, IommuGeometry } from '../model/host.js';

/** The consumers an IOAS can model. */
export const IOAS_POLICIES = ['iommufd', 'vfio-type1'] as const;
export type IoasPolicy = (typeof IOAS_POLICIES)[number];

export function isIoasPolicy(text: string): text is IoasPolicy {
  return (IOAS_POLICIES as readonly string[]).includes(text);
}

/** The id that names the host itself when it lists no devices or groups. */
export const HOST_ATTACHMENT = 'host';

export interface Attachment {
  /** Canonical id: `0000:41:00.0`, `platform:foo`, `group:12` or `host`. */
  id: string;
  /** The attachment alone under the policy, DMA-API holes included (they only warn). */
  space: AddressSpace;
  geometry: IommuGeometry;
  /** Attachments with the same key share one IOMMU domain (same aperture and page sizes). */
  domain: string;
}

/** Resolve an id to an attachment; unknown ids are an {@link InputError}. */
export function resolveAttachment(host: HostFacts, policy: IoasPolicy, id: string): Attachment {
  const space =
    id === HOST_ATTACHMENT
      ? AddressSpace.build(host, { policy, dmaApiHoles: true })
      : AddressSpace.build(host, { policy, devices: [id], dmaApiHoles: true });
  const [only, ...more] = space.attachments;
  if (!only || more.length > 0 || (id === HOST_ATTACHMENT && only.id !== HOST_ATTACHMENT)) {
    throw new InputError(`"${HOST_ATTACHMENT}" names the host itself only when it lists no devices or groups; name a device or group:N of host ${host.name}`);
  }
  return { id: only.id, space, geometry: only.geometry, domain: domainKey(only.geometry) };
}

/** What `--device` defaults to: every device of the host, groups without devices, or the host. */
export function defaultAttachmentIds(host: HostFacts): string[] {
  return AddressSpace.build(host).attachments.map((a) => a.id);
}

/** Domains are told apart by what the IOAS sees of them: apertures and page sizes. */
function domainKey(g: IommuGeometry): string {
  return `${g.apertures.map((r) => `${hex(r.start)}-${hex(r.last)}`).join(',')}/${hex(g.pageSizes)}`;
}
