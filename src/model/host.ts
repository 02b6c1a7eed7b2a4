/**
 * Host facts: everything about one machine that shapes its IOVA spaces — IOMMU geometry,
 * IOMMU groups and their reserved regions, devices with their BARs and DMA masks, the PCI
 * topology (host bridges, root ports, switches with their ACS bits) — each with provenance.
 *
 * These are the normalised in-memory types. `schema.ts` parses the JSON form into them, and
 * `serialise.ts` writes them back.
 */
import type { IovaRange } from './range.js';
import type { Provenance } from './provenance.js';

/** The kernel's reserved-region types (`enum iommu_resv_type`). */
export const RESERVED_REGION_TYPES = ['direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi'] as const;
export type ReservedRegionType = (typeof RESERVED_REGION_TYPES)[number];

export interface ReservedRegion extends IovaRange {
  type: ReservedRegionType;
  source: Provenance;
}

/** What an IOMMU domain can translate: its aperture windows and page sizes. */
export interface IommuGeometry {
  /** Translatable IOVA windows (usually one, `[0, 2^width - 1]`; sPAPR has two). */
  apertures: IovaRange[];
  /** Bitmap of supported page sizes, as the kernel's `pgsize_bitmap` (bit n set → 2^n bytes). */
  pageSizes: bigint;
  /** Input address width in bits, when known (DMAR "Host address width", SMMU IAS). */
  addressWidth?: number;
  source: Provenance;
}

export const PROFILE_NAMES = ['intel-vtd', 'amd-vi', 'arm-smmuv3', 'spapr', 'virtio-iommu'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** A platform profile and its parameters; see `profiles.ts` for what each yields. */
export interface PlatformSpec {
  profile: ProfileName;
  /** intel-vtd: 36/39/46/48/52/57; amd-vi, arm-smmuv3: input address bits. */
  addressWidth?: number;
  /** amd-vi: which page-table format the domain uses (page sizes differ). */
  pageTable?: 'v1' | 'v2';
  /** spapr: the 64-bit window's base and size; the 32-bit window's size. */
  window32Size?: bigint;
  window64Start?: bigint;
  window64Size?: bigint;
  /** spapr, virtio-iommu: page sizes offered (bitmap). */
  pageSizes?: bigint;
  /** virtio-iommu: input range. */
  inputRange?: IovaRange;
  /** virtio-iommu: whether the x86 MSI window is reported as a reserved region. */
  msiWindow?: 'x86' | 'none';
  source: Provenance;
}

export interface Bar extends IovaRange {
  /** BAR number 0-5, `rom` for the expansion ROM, undefined when the source does not say. */
  bar?: number | 'rom';
  prefetchable?: boolean;
  is64?: boolean;
  /** SR-IOV VF BARs shown as `[virtual]` by lspci. */
  virtual?: boolean;
  disabled?: boolean;
  source: Provenance;
}

export interface Device {
  /** Canonical PCI address `0000:03:00.0`, or `platform:<name>` for non-PCI devices. */
  id: string;
  /** IOMMU group number. */
  group?: number;
  /** DMA mask width in bits (e.g. 32, 48, 64). */
  dmaMaskBits?: number;
  /** Regions reported for this device alone (in addition to its group's). */
  reservedRegions: ReservedRegion[];
  bars: Bar[];
  /** The IOMMU geometry of this device's domain, where it differs from the host's. */
  iommu?: IommuGeometry;
  /** Free text from the source (lspci's description), for display only. */
  description?: string;
  source: Provenance;
}

export interface IommuGroup {
  id: number;
  reservedRegions: ReservedRegion[];
  /** Device ids known to be in the group. */
  devices: string[];
  source: Provenance;
}

/** ACS capability or control bits of a port (lspci `ACSCap:` / `ACSCtl:`). */
export interface AcsFlags {
  sourceValidation: boolean;
  translationBlocking: boolean;
  requestRedirect: boolean;
  completionRedirect: boolean;
  upstreamForwarding: boolean;
  egressControl: boolean;
  directTranslated: boolean;
}

export const BRIDGE_ROLES = ['root-port', 'switch-upstream', 'switch-downstream', 'pci-bridge', 'unknown'] as const;
export type BridgeRole = (typeof BRIDGE_ROLES)[number];

export interface BridgeWindow extends IovaRange {
  prefetchable?: boolean;
  source: Provenance;
}

export interface PciBridge {
  /** Canonical BDF of the bridge, or `bus 0000:61` when only the bus it leads to is known. */
  id: string;
  role: BridgeRole;
  segment: number;
  primaryBus?: number;
  secondaryBus: number;
  subordinateBus: number;
  /** Memory windows forwarded downstream (non-prefetchable and prefetchable). */
  windows: BridgeWindow[];
  /** The bridge's own BARs (a switch upstream port often has one). */
  bars: Bar[];
  /** Absent when the port has no ACS capability (or the source does not show it). */
  acs?: { capability: AcsFlags; control: AcsFlags };
  source: Provenance;
}

export interface HostBridgeWindow extends IovaRange {
  /** CPU address minus bus address; windows are reserved at bus address (start - offset). */
  offset: bigint;
  source: Provenance;
}

export interface HostBridge {
  /** `0000:00`: segment and first bus of the root bus. */
  id: string;
  segment: number;
  busFirst: number;
  busLast: number;
  /** Memory windows of the root bus, at CPU addresses. */
  windows: HostBridgeWindow[];
  /** Inbound DMA windows (bus addresses); DMA outside them cannot reach memory. */
  dmaRanges: Array<IovaRange & { source: Provenance }>;
  source: Provenance;
}

/**
 * What a warning on host facts is about: a line that was not read (`skipped-line`), a value
 * the importer or loader assumed because no source gave it (`assumption`), two sources that
 * disagree (`conflict`), or a file that could not be read (`unreadable`).
 */
export const IMPORT_WARNING_KINDS = ['skipped-line', 'assumption', 'conflict', 'unreadable'] as const;
export type ImportWarningKind = (typeof IMPORT_WARNING_KINDS)[number];

/**
 * A line an importer could not read, or an assumption it made: kept, with where it was, never
 * silently dropped. `line` 0 means the whole file (or an assumption not tied to one line).
 */
export interface ImportWarning {
  file: string;
  line: number;
  message: string;
  text: string;
  kind?: ImportWarningKind;
}

export interface HostFacts {
  name: string;
  platform?: PlatformSpec;
  /** The host's IOMMU geometry; when absent it comes from the platform profile. */
  iommu?: IommuGeometry;
  /** Regions that apply to every device of the host (e.g. RMRRs read without device scope). */
  reservedRegions: ReservedRegion[];
  groups: IommuGroup[];
  devices: Device[];
  pci: { hostBridges: HostBridge[]; bridges: PciBridge[] };
  /** Files the facts were imported from. */
  sources: Array<{ file: string; kind: string }>;
  warnings: ImportWarning[];
}

export const NO_ACS: AcsFlags = Object.freeze({
  sourceValidation: false,
  translationBlocking: false,
  requestRedirect: false,
  completionRedirect: false,
  upstreamForwarding: false,
  egressControl: false,
  directTranslated: false,
});

/** An empty host to build on (importers start from this). */
export function emptyHost(name: string): HostFacts {
  return { name, reservedRegions: [], groups: [], devices: [], pci: { hostBridges: [], bridges: [] }, sources: [], warnings: [] };
}
