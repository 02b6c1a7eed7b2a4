/**
 * `DmaIommuDomain`: the DMA-API layer over a {@link DmaIovaDomain} — what the kernel's DMA layer
 * for IOMMUs does with the IOVA space of one IOMMU domain, for the devices attached to it.
 *
 * Set-up, as the kernel does it when a domain is first used for DMA: the granule is the
 * domain's smallest IOMMU page; allocation starts at pfn `max(1, aperture start >> shift)`, so
 * IOVA 0 is never handed out; the reservations (see `reservations.ts`) are made up front. Each
 * device then maps and unmaps through its own {@link DmaIommuDevice} handle, with its own masks
 * and its own below-4-GiB preference; all of them share the domain's IOVA space and caches.
 *
 * Not modelled: deferred frees (the flush queue of non-strict mode; every unmap here frees at
 * once, as in strict mode), bounce buffers, scatter-gather merging, and the backing memory of
 * coherent allocations (only their IOVAs are placed). Where several devices share the domain,
 * the kernel reserves only for the first device it sets the domain up for; here every attached
 * device's holes are reserved, which is never less safe.
 */
import { hexGrouped, isPowerOfTwo, MAX_ADDRESS } from '../../model/address.js';
import { AddressSpace } from '../../model/address-space.js';
import { InputError, quote } from '../../model/errors.js';
import type { HostFacts } from '../../model/host.js';
import { isBdf, normaliseBdf } from '../../model/pci.js';
import { type IovaRange, WHOLE_SPACE } from '../../model/range.js';
import type { RangeSet } from '../../model/rangeset.js';
import type { Layout } from '../../explain/verify.js';
import { DmaIovaDomain, type DmaIovaPolicyName } from '../dma-iova/domain.js';
import { MAX_TOP_PFN } from '../dma-iova/pfn.js';
import { type DeviceBackend, DmaIommuDevice, type DmaIommuDeviceOptions, type DmaIommuMapping } from './device.js';
import { MappingTable } from './mappings.js';
import {
  type DmaIommuReservation,
  reservationsOfLayout,
  reservationsOfSpace,
  reservationsOutside,
  type SpaceReservationOptions,
} from './reservations.js';

/** A domain described directly (no host facts). */
export interface DmaIommuDomainOptions {
  /** IOVA granule in bytes: the domain's smallest IOMMU page (a power of two up to 4 GiB). */
  granule: bigint;
  /** The range the IOMMU translates; default the whole 64-bit space. */
  aperture?: IovaRange;
  /** Ranges DMA-API allocations must leave alone, each with an optional reason. */
  reserve?: ReadonlyArray<IovaRange & { readonly reason?: string }>;
  /** If given, only these ranges may be allocated: everything else is reserved. */
  usable?: RangeSet;
  /** Placement policy of the IOVA allocator; default `'default'`. */
  policy?: DmaIovaPolicyName;
  /** The kernel's `iommu.forcedac=1`: PCI devices never try below 4 GiB first. Default false. */
  forcedac?: boolean;
}

/** A domain built from host facts. */
export interface DmaIommuHostOptions extends SpaceReservationOptions {
  /** The devices (or `group:N`) attached to the domain; default every device of the host. */
  devices?: readonly string[];
  /** Reserve host-bridge windows and dma-ranges gaps of PCI devices; default true, as the kernel does. */
  dmaApiHoles?: boolean;
  policy?: DmaIovaPolicyName;
  forcedac?: boolean;
}

/** What {@link DmaIommuDomain.fromSpace} passes to the constructor besides the options (internal). */
export interface SpaceOrigin {
  readonly space: AddressSpace;
  readonly reservations: readonly DmaIommuReservation[];
}

const DEFAULT_MASK_BITS = 64;

export class DmaIommuDomain {
  /** Bytes per IOVA page. */
  readonly granule: bigint;
  /** First pfn that may be allocated: `max(1, aperture start >> shift)`. */
  readonly startPfn: number;
  readonly aperture: IovaRange;
  readonly policy: DmaIovaPolicyName;
  readonly forcedac: boolean;
  /** Everything reserved at set-up, in the order it was reserved. */
  readonly reservations: readonly DmaIommuReservation[];
  /** The address space the domain was built from, if any. */
  readonly space: AddressSpace | undefined;
  /** The IOVA allocator underneath (for inspection: `find`, `dump`, `state`). */
  readonly iova: DmaIovaDomain;
  private readonly backend: DeviceBackend;
  private readonly devices = new Map<string, DmaIommuDevice>();

  /**
   * A domain from the IOVA space that `host`'s devices share under the `dma-iommu` policy:
   * granule, aperture and reservations as the kernel's DMA layer derives them. Devices are
   * attached with {@link attach}.
   */
  static fromHost(host: HostFacts, options: DmaIommuHostOptions = {}): DmaIommuDomain {
    const space = AddressSpace.build(host, { policy: 'dma-iommu', devices: options.devices, dmaApiHoles: options.dmaApiHoles });
    return DmaIommuDomain.fromSpace(space, options);
  }

  /** {@link fromHost} for an address space already built (its policy must be `dma-iommu`). */
  static fromSpace(space: AddressSpace, options: Omit<DmaIommuHostOptions, 'devices' | 'dmaApiHoles'> = {}): DmaIommuDomain {
    if (space.policy !== 'dma-iommu') {
      throw new InputError(`a DMA-API domain needs an address space built with policy dma-iommu, not ${space.policy} (reserved-region types count differently)`);
    }
    const windows = space.windows.ranges;
    if (windows.length === 0) throw new InputError(`the devices of host ${space.host.name} share no aperture window: there is nothing to allocate from`);
    const aperture = { start: windows[0].start, last: windows[windows.length - 1].last };
    const reservations = reservationsOfSpace(space, aperture.start, aperture.last, options);
    return new DmaIommuDomain({ granule: space.alignment, aperture, policy: options.policy, forcedac: options.forcedac }, { space, reservations });
  }

  /**
   * A domain that leaves a solver layout's placements and existing mappings alone: what a VMM
   * with a fixed layout keeps away from kernel-managed IOVAs.
   */
  static forLayout(layout: Layout, options: DmaIommuDomainOptions): DmaIommuDomain {
    return new DmaIommuDomain({ ...options, reserve: [...(options.reserve ?? []), ...reservationsOfLayout(layout)] });
  }

  /**
   * A domain described directly. Throws {@link InputError} for a granule that is not a power of
   * two up to 4 GiB (or too small for the aperture's pfns to be exact) and for a bad aperture.
   */
  constructor(options: DmaIommuDomainOptions, origin?: SpaceOrigin) {
    const granule = options.granule;
    if (typeof granule !== 'bigint' || !isPowerOfTwo(granule) || granule > 1n << 32n) {
      throw new InputError(`granule ${quote(granule)} must be a power of two from 1 byte to 4 GiB`);
    }
    const aperture = options.aperture ?? WHOLE_SPACE;
    if (aperture.start < 0n || aperture.last > MAX_ADDRESS || aperture.start > aperture.last) {
      throw new InputError(`aperture ${hexGrouped(aperture.start)}–${hexGrouped(aperture.last)} is not a range of the 64-bit space`);
    }
    const shift = BigInt(granule.toString(2).length - 1);
    const firstPfn = aperture.start >> shift;
    // Granules below 2 KiB cannot number the whole 64-bit space exactly: stop at the aperture.
    const lastPfn = aperture.last >> shift;
    const topPfn = granule >= 2048n ? undefined : Number(lastPfn < BigInt(MAX_TOP_PFN) ? lastPfn : BigInt(MAX_TOP_PFN));
    if (firstPfn > BigInt(MAX_TOP_PFN)) throw new InputError(`aperture start ${hexGrouped(aperture.start)} is too far up for granule ${granule}`);
    this.granule = granule;
    this.aperture = aperture;
    this.startPfn = firstPfn > 1n ? Number(firstPfn) : 1;
    this.policy = options.policy ?? 'default';
    this.forcedac = options.forcedac ?? false;
    this.space = origin?.space;
    this.iova = new DmaIovaDomain({ granule: Number(granule), startPfn: this.startPfn, policy: this.policy, topPfn });
    this.backend = { iova: this.iova, granule, apertureEnd: aperture.last, forcedac: this.forcedac, records: new MappingTable<DmaIommuDevice>() };
    this.reservations = origin?.reservations ?? [
      ...(options.reserve ?? []).map((r) => ({ start: r.start, last: r.last, reason: r.reason ?? 'reserved by the caller' })),
      ...(options.usable ? reservationsOutside(options.usable) : []),
    ];
    const topAddr = ((BigInt(this.iova.topPfn) + 1n) << shift) - 1n;
    for (const r of this.reservations) {
      if (r.start > r.last) throw new InputError(`reservation ${hexGrouped(r.start)}–${hexGrouped(r.last)} (${r.reason}) ends before it starts`);
      if (r.start > topAddr) continue;
      this.iova.reserveBytes({ start: r.start, last: r.last < topAddr ? r.last : topAddr });
    }
  }

  /**
   * Attaches a device: by id (a device or `group:N` of the host the domain was built from, with
   * its DMA mask from the host facts, else 64 bits) or with explicit options. Throws
   * {@link InputError} for a device the domain's address space does not include, or one
   * attached already.
   */
  attach(device: string | DmaIommuDeviceOptions): DmaIommuDevice {
    const options = typeof device === 'string' ? { id: device } : device;
    if (typeof options.id !== 'string' || options.id.trim() === '') throw new InputError(`a device needs a non-empty id, not ${quote(options.id)}`);
    const id = isBdf(options.id) ? normaliseBdf(options.id) : options.id;
    let maskBits = DEFAULT_MASK_BITS;
    if (this.space) {
      const attachment = this.space.attachmentOf(id);
      if (!attachment) {
        const known = this.space.attachments.map((a) => a.id).join(', ');
        throw new InputError(`device ${quote(id)} is not part of this domain (built for ${known || 'no device'})`);
      }
      maskBits = attachment.device?.dmaMaskBits ?? DEFAULT_MASK_BITS;
    }
    if (this.devices.has(id)) throw new InputError(`device ${id} is attached already`);
    const handle = new DmaIommuDevice(this.backend, { ...options, id }, maskBits);
    this.devices.set(id, handle);
    return handle;
  }

  /** The handle of an attached device. */
  device(id: string): DmaIommuDevice | undefined {
    return this.devices.get(isBdf(id) ? normaliseBdf(id) : id);
  }

  /** Number of live mappings and allocations. */
  get mappedCount(): number {
    return this.backend.records.count;
  }

  /** Every live mapping and coherent allocation, in address order. */
  mappings(): DmaIommuMapping[] {
    const shift = BigInt(this.iova.shift);
    const records = this.backend.records;
    const out: DmaIommuMapping[] = [];
    records.forEach((pfn, id) => {
      const start = BigInt(pfn) << shift;
      out.push({
        device: records.ownerOf(id).id,
        iova: start + BigInt(records.offsetOf(id)),
        size: records.sizeOf(id),
        start,
        last: start + (BigInt(records.pagesOf(id)) << shift) - 1n,
        dir: records.dirOf(id),
        coherent: records.coherentOf(id),
      });
    });
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }
}
