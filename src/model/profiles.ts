/**
 * Platform profiles: what an IOMMU of a given kind offers when the host facts do not say —
 * aperture windows, page sizes, and the reserved regions every device on such a platform has.
 * Each fact names the profile in its provenance.
 *
 * Values follow the Linux drivers and QEMU's defaults (see SEMANTICS.md):
 * - intel-vtd: aperture `[0, 2^width - 1]` (DMAR "Host address width" 36/39/46/48/52/57),
 *   4K|2M|1G pages, the MSI window `0xfee00000-0xfeefffff`.
 * - amd-vi: v1 page table: aperture up to 2^64 - 1 (fewer bits when the hardware limits the
 *   levels), every power-of-two page size from 4K to 2^51 except 512G; v2: 47-bit aperture
 *   (the lower half of a 48-bit sign-extended space), 4K|2M|1G. The MSI window and the
 *   HyperTransport hole `0xfd_0000_0000-0xff_ffff_ffff` (RESERVED).
 * - arm-smmuv3: aperture `[0, 2^ias - 1]` (48 by default), 4K|2M|1G with a 4K granule, and the
 *   software-managed MSI window `0x0800_0000` of 1 MiB.
 * - spapr: QEMU's sPAPR PHB: the 32-bit window `0..1 GiB` and the 64-bit window at 2^59, 4K|64K
 *   pages unless told otherwise.
 * - virtio-iommu: the device's input range (whole space by default), page-size mask (4K and
 *   up by default) and, on x86 machines, the MSI window it reports as reserved.
 */
import { maskOfBits } from './address.js';
import type { IommuGeometry, PlatformSpec, ReservedRegion } from './host.js';
import { InputError } from './errors.js';
import type { Provenance } from './provenance.js';
import { type IovaRange, rangeOfSize, WHOLE_SPACE } from './range.js';

const K4 = 1n << 12n;
const K64 = 1n << 16n;
const M2 = 1n << 21n;
const G1 = 1n << 30n;

/** The page sizes of an amd-vi v1 table: 4K up to 2^51, without 512G. */
const AMD_V1_PAGE_SIZES = (maskOfBits(52) & ~maskOfBits(12)) ^ (1n << 39n);

export const INTEL_VTD_WIDTHS = [36, 39, 46, 48, 52, 57] as const;
export const X86_MSI_WINDOW: IovaRange = { start: 0xfee0_0000n, last: 0xfeef_ffffn };
export const AMD_HT_HOLE: IovaRange = { start: 0xfd_0000_0000n, last: 0xff_ffff_ffffn };
export const ARM_SW_MSI_WINDOW: IovaRange = { start: 0x0800_0000n, last: 0x080f_ffffn };
export const SPAPR_WINDOW64_START = 1n << 59n;
export const SPAPR_WINDOW32_SIZE = 1n << 30n;

/** What a profile contributes to a host. */
export interface PlatformFacts {
  geometry: IommuGeometry;
  reservedRegions: ReservedRegion[];
}

/** The geometry and platform-wide reserved regions of a platform profile. */
export function platformFacts(spec: PlatformSpec): PlatformFacts {
  const from = (what: string, note?: string): Provenance => ({
    ...spec.source,
    what,
    profile: spec.profile,
    ...(note ? { note } : {}),
  });
  const region = (r: IovaRange, type: ReservedRegion['type'], what: string): ReservedRegion => ({ ...r, type, source: from(what) });
  const upTo = (width: number): IovaRange => ({ start: 0n, last: maskOfBits(width) });

  switch (spec.profile) {
    case 'intel-vtd': {
      const width = spec.addressWidth ?? 48;
      if (!(INTEL_VTD_WIDTHS as readonly number[]).includes(width)) {
        throw new InputError(`intel-vtd address width ${width} is not one of ${INTEL_VTD_WIDTHS.join(', ')}`);
      }
      return {
        geometry: { apertures: [upTo(width)], pageSizes: K4 | M2 | G1, addressWidth: width, source: from(`${width}-bit aperture`) },
        reservedRegions: [region(X86_MSI_WINDOW, 'msi', 'MSI window')],
      };
    }
    case 'amd-vi': {
      const table = spec.pageTable ?? 'v1';
      const width = spec.addressWidth ?? (table === 'v1' ? 64 : 47);
      return {
        geometry: {
          apertures: [upTo(width)],
          pageSizes: table === 'v1' ? AMD_V1_PAGE_SIZES : K4 | M2 | G1,
          addressWidth: width,
          source: from(`${width}-bit aperture (${table} page table)`),
        },
        reservedRegions: [region(X86_MSI_WINDOW, 'msi', 'MSI window'), region(AMD_HT_HOLE, 'reserved', 'HyperTransport hole')],
      };
    }
    case 'arm-smmuv3': {
      const width = spec.addressWidth ?? 48;
      return {
        geometry: { apertures: [upTo(width)], pageSizes: K4 | M2 | G1, addressWidth: width, source: from(`${width}-bit aperture (IAS)`) },
        reservedRegions: [region(ARM_SW_MSI_WINDOW, 'sw-msi', 'software MSI window')],
      };
    }
    case 'spapr': {
      const start64 = spec.window64Start ?? SPAPR_WINDOW64_START;
      // QEMU sizes the 64-bit window when the guest asks (DDW); without a size, take the
      // largest window its base's alignment allows.
      const size64 = spec.window64Size ?? (start64 === 0n ? 1n << 63n : start64 & -start64);
      return {
        geometry: {
          apertures: [rangeOfSize(0n, spec.window32Size ?? SPAPR_WINDOW32_SIZE), rangeOfSize(start64, size64)],
          pageSizes: spec.pageSizes ?? K4 | K64,
          source: from('32-bit and 64-bit DMA windows'),
        },
        reservedRegions: [],
      };
    }
    case 'virtio-iommu': {
      const input = spec.inputRange ?? WHOLE_SPACE;
      const msi = spec.msiWindow ?? 'x86';
      return {
        geometry: { apertures: [input], pageSizes: spec.pageSizes ?? maskOfBits(64) & ~(K4 - 1n), source: from('input range') },
        reservedRegions: msi === 'x86' ? [region(X86_MSI_WINDOW, 'msi', 'MSI window')] : [],
      };
    }
  }
}

/** The geometry used when neither host facts nor a profile give one: the whole space, 4K pages. */
export function defaultGeometry(): IommuGeometry {
  return {
    apertures: [WHOLE_SPACE],
    pageSizes: K4,
    source: { what: 'default geometry', note: 'no IOMMU facts or platform given: whole 64-bit space, 4 KiB pages' },
  };
}
