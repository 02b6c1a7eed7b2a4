/**
 * The IOVA space that a set of attached devices share under one consumer policy: the usable
 * ranges, the alignment, the page sizes, and every hole that shaped them with its provenance.
 *
 * `reported` is what the kernel itself would report (IOMMU_IOAS_IOVA_RANGES, VFIO's IOVA-range
 * capability); `usable` additionally leaves out what the kernel does not know about —
 * peer-to-peer holes and, when asked for, the DMA-API-only holes.
 */
import { hex, hexGrouped, lowestSetBit, MAX_ADDRESS, maskOfBits } from './address.js';
import { InputError } from './errors.js';
import { expectHostFacts } from './guard.js';
import { compareHoles, type Hole, kernelEnforces } from './hole.js';
import type { Device, HostFacts, IommuGeometry, IommuGroup, ReservedRegion } from './host.js';
import { normaliseBdf, isBdf } from './pci.js';
import { dmaApiHoles, p2pHoles } from './p2p.js';
import { dmaApiHolesByDefault, type Policy, regionIsHole } from './policy.js';
import { defaultGeometry, type PlatformFacts, platformFacts } from './profiles.js';
import { withDefaults } from './provenance.js';
import { overlaps, sameRange, type IovaRange } from './range.js';
import { RangeSet } from './rangeset.js';
import { didYouMean } from './suggest.js';
import { PciTopology } from './topology.js';

export interface AddressSpaceOptions {
  policy?: Policy;
  /**
   * What is attached: device ids (`0000:03:00.0`, `platform:foo`) and groups (`group:12`).
   * Default: every device and every group of the host.
   */
  devices?: readonly string[];
  /** Include host-bridge windows and dma-ranges gaps; default on for dma-iommu only. */
  dmaApiHoles?: boolean;
}

/** One attached thing: a device (with its group) or a group whose devices are not listed. */
export interface Attachment {
  id: string;
  device?: Device;
  group?: IommuGroup;
  geometry: IommuGeometry;
}

/**
 * The IOVA space that a set of attached devices share under one consumer policy (`iommufd`,
 * `vfio-type1`, `dma-iommu`, …): which addresses a map may use (`usable`), what the kernel
 * itself would report (`reported`), the alignment and page sizes, and every hole with the fact
 * it came from (`holes`, each with its provenance). All addresses and sizes are bytes.
 *
 * ```ts
 * const space = AddressSpace.build(host, { policy: 'vfio-type1', devices: ['0000:43:00.0'] });
 * space.usable.containsAddress(0xfee0_0000n); // false: the MSI window
 * for (const hole of space.holes) console.log(hexGrouped(hole.start), hole.type, describeProvenance(hole.source));
 * ```
 */
export class AddressSpace {
  readonly host: HostFacts;
  readonly policy: Policy;
  readonly attachments: readonly Attachment[];
  /** Required IOVA and length alignment: iommufd's IOAS alignment, VFIO's minimum page. */
  readonly alignment: bigint;
  /** Page sizes every attached domain can map (bitmap); the smallest is `alignment` or below. */
  readonly pageSizes: bigint;
  /** Translatable windows: the intersection of the attached domains' apertures. */
  readonly windows: RangeSet;
  /** Every hole, sorted; several may cover the same addresses. */
  readonly holes: readonly Hole[];
  /** What the kernel would report as valid IOVA ranges. */
  readonly reported: RangeSet;
  /** Usable IOVA ranges: reported ranges minus the holes the kernel does not enforce. */
  readonly usable: RangeSet;
  readonly dmaApiHolesIncluded: boolean;

  private constructor(init: Omit<AddressSpace, 'holesOverlapping' | 'attachmentOf'>) {
    this.host = init.host;
    this.policy = init.policy;
    this.attachments = init.attachments;
    this.alignment = init.alignment;
    this.pageSizes = init.pageSizes;
    this.windows = init.windows;
    this.holes = init.holes;
    this.reported = init.reported;
    this.usable = init.usable;
    this.dmaApiHolesIncluded = init.dmaApiHolesIncluded;
  }

  /** A space from its parts, for spaces not built from one host (a migration pool's common space). */
  static fromParts(parts: Omit<AddressSpace, 'holesOverlapping' | 'attachmentOf'>): AddressSpace {
    return new AddressSpace(parts);
  }

  /**
   * The space of `host` for the devices and groups in `options.devices` (default: all of them)
   * under `options.policy` (default `iommufd`). Throws {@link InputError} for a device or group
   * the host does not have.
   */
  static build(host: HostFacts, options: AddressSpaceOptions = {}): AddressSpace {
    expectHostFacts(host);
    const policy = options.policy ?? 'iommufd';
    const withDmaApi = options.dmaApiHoles ?? dmaApiHolesByDefault(policy);
    const platform = host.platform ? platformFacts(host.platform) : undefined;
    const attachments = resolveAttachments(host, options.devices, platform);
    const topology = new PciTopology(host);

    const holes: Hole[] = [];
    const geometries = [...new Set(attachments.map((a) => a.geometry))];
    let windows = RangeSet.FULL;
    for (const g of geometries) {
      const apertures = RangeSet.of(g.apertures);
      windows = windows.intersect(apertures);
      // The hole is the aperture's complement; its provenance names the aperture itself.
      const named = `aperture ${g.apertures.map((a) => `${hexGrouped(a.start)}–${hexGrouped(a.last)}`).join(', ')}`;
      const source = withDefaults(g.source, { what: 'aperture' });
      source.note = source.note ? `${source.note}; ${named}` : named;
      for (const r of apertures.complement().ranges) holes.push({ ...r, kind: 'aperture', type: 'outside-aperture', source });
    }

    for (const region of attachedRegions(host, attachments, platform)) {
      if (regionIsHole(policy, region.type)) holes.push({ start: region.start, last: region.last, kind: 'reserved-region', type: region.type, source: region.source });
    }

    for (const a of attachments) {
      if (!a.device) continue;
      holes.push(...p2pHoles(host, a.device.id, topology));
      if (withDmaApi) holes.push(...dmaApiHoles(host, a.device.id, topology));
    }

    const smallestPages = geometries.map((g) => lowestSetBit(g.pageSizes));
    const alignment = smallestPages.reduce((a, b) => (b > a ? b : a), 1n);
    const common = geometries.reduce((bits, g) => bits & g.pageSizes, geometries.length > 0 ? MAX_ADDRESS : 1n);
    const pageSizes = common !== 0n ? common : alignment;

    if (policy === 'dma-iommu') holes.push(...dmaIommuHoles(attachments, windows, alignment));

    const sorted = dedupeHoles(holes).sort(compareHoles);
    const enforced = RangeSet.of(sorted.filter((h) => kernelEnforces(h.kind, policy)));
    const all = RangeSet.of(sorted);
    return new AddressSpace({
      host,
      policy,
      attachments,
      alignment,
      pageSizes,
      windows,
      holes: sorted,
      reported: enforced.complement(),
      usable: all.complement(),
      dmaApiHolesIncluded: withDmaApi,
    });
  }

  /** The holes that overlap `r`, in order. */
  holesOverlapping(r: IovaRange): Hole[] {
    return this.holes.filter((h) => overlaps(h, r));
  }

  /** The attachment a device or group id names, if attached. */
  attachmentOf(id: string): Attachment | undefined {
    const key = isBdf(id) ? normaliseBdf(id) : id;
    return this.attachments.find((a) => a.id === key);
  }
}

/** The geometry of the host's domains: the host's own, the platform's, or the default. */
export function hostGeometry(host: HostFacts, platform = host.platform ? platformFacts(host.platform) : undefined): IommuGeometry {
  return host.iommu ?? platform?.geometry ?? defaultGeometry();
}

function resolveAttachments(host: HostFacts, wanted: readonly string[] | undefined, platform?: PlatformFacts): Attachment[] {
  const fallback = hostGeometry(host, platform);
  const geometryOf = (d?: Device): IommuGeometry => d?.iommu ?? fallback;
  const groups = new Map(host.groups.map((g) => [g.id, g]));
  const devices = new Map(host.devices.map((d) => [d.id, d]));
  const groupOf = (d: Device): IommuGroup | undefined => (d.group !== undefined ? groups.get(d.group) : undefined) ?? host.groups.find((g) => g.devices.includes(d.id));
  const byDevice = (d: Device): Attachment => ({ id: d.id, device: d, group: groupOf(d), geometry: geometryOf(d) });
  const byGroup = (g: IommuGroup): Attachment => ({ id: `group:${g.id}`, group: g, geometry: fallback });

  if (wanted === undefined) {
    const out = host.devices.map(byDevice);
    const covered = new Set(out.map((a) => a.group));
    for (const g of host.groups) if (!covered.has(g)) out.push(byGroup(g));
    if (out.length === 0) {
      // No device or group is listed: stand for one device of the host, so that its geometry
      // and host-wide regions still apply.
      out.push({ id: 'host', geometry: fallback });
    }
    return out;
  }
  return wanted.map((id) => {
    const group = groupIdOf(id);
    if (group !== undefined) {
      const g = groups.get(group);
      if (!g) throw new InputError(`IOMMU group ${group} is not in host ${host.name} (known: ${[...groups.keys()].join(', ') || 'none'})${didYouMean(id, [...groups.keys()].map((k) => `group:${k}`), 1)}`);
      return byGroup(g);
    }
    const key = isBdf(id) ? normaliseBdf(id) : id;
    const d = devices.get(key);
    if (!d) throw new InputError(`device ${id} is not in host ${host.name} (known: ${[...devices.keys()].join(', ') || 'none'})${didYouMean(key, devices.keys(), 1)}`);
    return byDevice(d);
  });
}

/**
 * Reserved regions of everything attached: each group's and device's own, the host-wide ones,
 * and the platform profile's — a profile region is skipped when the facts already have the
 * same range with the same type (real data over defaults), and those facts are named after it
 * ("HyperTransport hole"), since sysfs only says "reserved".
 */
function attachedRegions(host: HostFacts, attachments: readonly Attachment[], platform?: PlatformFacts): ReservedRegion[] {
  if (attachments.length === 0) return [];
  const out: ReservedRegion[] = [];
  const seenGroups = new Set<IommuGroup>();
  for (const a of attachments) {
    if (a.group && !seenGroups.has(a.group)) {
      seenGroups.add(a.group);
      for (const r of a.group.reservedRegions) out.push({ ...r, source: withDefaults(r.source, { group: a.group.id }) });
    }
    if (a.device) for (const r of a.device.reservedRegions) out.push({ ...r, source: withDefaults(r.source, { device: a.device.id }) });
  }
  for (const r of host.reservedRegions) out.push(r);
  const known = [...out, ...host.groups.flatMap((g) => g.reservedRegions), ...host.devices.flatMap((d) => d.reservedRegions)];
  const profile = platform?.reservedRegions ?? [];
  for (const r of profile) {
    if (!known.some((k) => k.type === r.type && sameRange(k, r))) out.push(r);
  }
  return out.map((r) => {
    const twin = profile.find((p) => p !== r && p.type === r.type && sameRange(p, r));
    if (!twin || r.source.note) return r;
    return { ...r, source: { ...r.source, note: `the ${twin.source.what} of the ${twin.source.profile} platform` } };
  });
}

/** dma-iommu's own limits: the smallest DMA mask of the attached devices, and IOVA page 0. */
function dmaIommuHoles(attachments: readonly Attachment[], windows: RangeSet, granule: bigint): Hole[] {
  const holes: Hole[] = [];
  const masked = attachments.filter((a) => a.device?.dmaMaskBits !== undefined && a.device.dmaMaskBits < 64);
  masked.sort((a, b) => (a.device?.dmaMaskBits ?? 64) - (b.device?.dmaMaskBits ?? 64));
  const narrowest = masked[0]?.device;
  if (narrowest?.dmaMaskBits !== undefined) {
    const limit = maskOfBits(narrowest.dmaMaskBits);
    holes.push({
      start: limit + 1n,
      last: MAX_ADDRESS,
      kind: 'dma-mask',
      type: 'dma-mask',
      source: { what: `${narrowest.dmaMaskBits}-bit DMA mask`, device: narrowest.id, note: `above ${hex(limit)}` },
    });
  }
  if (windows.containsAddress(0n)) {
    holes.push({
      start: 0n,
      last: granule - 1n,
      kind: 'iova-zero',
      type: 'iova-zero',
      source: { what: 'IOVA page 0', note: 'dma-iommu starts allocating at page frame 1' },
    });
  }
  return holes;
}

/** The same range, kind, type and provenance listed twice (e.g. via two devices) is one hole. */
function dedupeHoles(holes: Hole[]): Hole[] {
  const seen = new Set<string>();
  return holes.filter((h) => {
    const key = `${h.start}:${h.last}:${h.kind}:${h.type}:${JSON.stringify(h.source)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The IOMMU group an attachment id `group:N` names, or undefined for a device id or `host`. */
export function groupIdOf(id: string): number | undefined {
  const m = /^group:(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}
