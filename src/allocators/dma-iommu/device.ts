/**
 * One device's view of a DMA-API domain: its DMA masks and the streaming (`map`/`unmap`) and
 * coherent (`alloc`/`free`) calls, placed the way the kernel's DMA layer places them.
 *
 * Per request: the size grows by the buffer's offset inside its granule and is rounded up to
 * whole granules; the limit is the device's mask, capped by the bus limit (when there is one)
 * and the aperture's end. A PCI device whose limit lies above 4 GiB first tries below 4 GiB
 * without flushing the caches; the first time that fails, it stops trying for good and
 * allocates against its full limit from then on (the kernel keeps this per device and prints
 * "Using N-bit DMA addresses" once it switches). `forcedac` skips the first try from the start.
 * Both tries go through the domain's fast path (the per-size caches, then the tree); the second
 * flushes the caches and retries before it gives up.
 */
import { hex, MAX_ADDRESS } from '../../model/address.js';
import { InputError, quote } from '../../model/errors.js';
import { isBdf } from '../../model/pci.js';
import type { DmaIovaDomain } from '../dma-iova/domain.js';
import { bytesToPages } from '../dma-iova/pfn.js';
import { DIRECTIONS, type MappingTable } from './mappings.js';

/** Direction of a streaming mapping, which sets the IOMMU's read/write permissions. */
export type DmaDirection = 'bidirectional' | 'to-device' | 'from-device';

const MASK32 = 0xffff_ffffn;
/** Byte counts and addresses up to here are exact in a JS number: the hot paths stay out of bigint arithmetic. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** How a device uses DMA. Only `id` is required. */
export interface DmaIommuDeviceOptions {
  /** Device id: a PCI address (`0000:43:00.0`) or any other name. */
  id: string;
  /** Whether it is a PCI device (which tries below 4 GiB first). Default: `id` is a PCI address. */
  pci?: boolean;
  /** Streaming DMA mask width in bits (1..64). Default: the host facts' width, else 64. */
  dmaMaskBits?: number;
  /** Coherent DMA mask width in bits (1..64). Default: `dmaMaskBits`. */
  coherentDmaMaskBits?: number;
  /** The last address the bus between device and IOMMU can carry (`bus_dma_limit`); none when undefined or 0. */
  busDmaLimit?: bigint;
  /** Skip the below-4-GiB first try (`iommu.forcedac=1`). Default: the domain's setting. */
  forcedac?: boolean;
}

/** Options of {@link DmaIommuDevice.map}. */
export interface DmaMapOptions {
  /**
   * Physical address of the buffer. Its offset inside a granule is kept: the IOVA returned has
   * the same offset, and the mapping grows by it. Default 0.
   */
  phys?: bigint;
  /** Default `'bidirectional'`. */
  dir?: DmaDirection;
}

/** A live mapping. */
export interface DmaIommuMapping {
  /** Id of the device that mapped it. */
  readonly device: string;
  /** The address handed out (granule-aligned start plus the buffer's offset). */
  readonly iova: bigint;
  /** Bytes asked for. */
  readonly size: bigint;
  /** The granules the mapping occupies, inclusive. */
  readonly start: bigint;
  readonly last: bigint;
  readonly dir: DmaDirection;
  /** From {@link DmaIommuDevice.alloc} (coherent) rather than {@link DmaIommuDevice.map}. */
  readonly coherent: boolean;
}

/** The parts of a domain a device works on. */
export interface DeviceBackend {
  readonly iova: DmaIovaDomain;
  readonly granule: bigint;
  readonly apertureEnd: bigint;
  readonly forcedac: boolean;
  /** Live mappings; pages are counted before the fast path's rounding (what its free path takes back). */
  readonly records: MappingTable<DmaIommuDevice>;
}

/** A device attached to a {@link DmaIommuDomain}; obtained from its `attach`. */
export class DmaIommuDevice {
  readonly id: string;
  readonly pci: boolean;
  /** Streaming DMA mask (all ones up to the mask's width). */
  readonly dmaMask: bigint;
  readonly coherentDmaMask: bigint;
  readonly busDmaLimit: bigint | undefined;
  /** Last address a streaming mapping may reach: the mask capped by the bus limit and the aperture. */
  readonly dmaLimit: bigint;
  /** The same for coherent allocations. */
  readonly coherentDmaLimit: bigint;
  private readonly backend: DeviceBackend;
  private readonly shift: bigint;
  private readonly offsetMask: bigint;
  /** The granule as a number. */
  private readonly g: number;
  private readonly limitPfn: number;
  private readonly coherentLimitPfn: number;
  private readonly limit32Pfn: number;
  private try32: boolean;
  private readonly log: string[] = [];

  /** @internal Use {@link DmaIommuDomain.attach}. */
  constructor(backend: DeviceBackend, options: DmaIommuDeviceOptions, defaultMaskBits: number) {
    if (typeof options.id !== 'string' || options.id === '') throw new InputError('a device needs a non-empty id');
    this.backend = backend;
    this.id = options.id;
    this.pci = options.pci ?? isBdf(options.id);
    const bits = maskBits(options.dmaMaskBits ?? defaultMaskBits, 'DMA mask');
    this.dmaMask = (1n << BigInt(bits)) - 1n;
    this.coherentDmaMask = (1n << BigInt(maskBits(options.coherentDmaMaskBits ?? bits, 'coherent DMA mask'))) - 1n;
    const bus = options.busDmaLimit;
    if (bus !== undefined && (typeof bus !== 'bigint' || bus < 0n || bus > MAX_ADDRESS)) {
      throw new InputError(`bus DMA limit ${quote(bus)} must be a bigint address below 2^64`);
    }
    this.busDmaLimit = bus === undefined || bus === 0n ? undefined : bus;
    this.dmaLimit = this.capLimit(this.dmaMask);
    this.coherentDmaLimit = this.capLimit(this.coherentDmaMask);
    this.shift = BigInt(backend.iova.shift);
    this.offsetMask = backend.granule - 1n;
    this.g = backend.iova.granule;
    this.limitPfn = this.pfnLimit(this.dmaLimit);
    this.coherentLimitPfn = this.pfnLimit(this.coherentDmaLimit);
    this.limit32Pfn = this.pfnLimit(MASK32);
    this.try32 = this.pci && !(options.forcedac ?? backend.forcedac);
  }

  /**
   * Whether the next request whose limit lies above 4 GiB tries below 4 GiB first. True for a
   * PCI device until the first such try fails (unless `forcedac`), false for good after that.
   */
  get tries32BitFirst(): boolean {
    return this.try32;
  }

  /** What the kernel would have logged for this device (the switch to its full DMA limit). */
  get notices(): readonly string[] {
    return this.log;
  }

  /**
   * A streaming mapping of `size` bytes (`dma_map_single`/`dma_map_page`): returns the IOVA,
   * whose offset inside its granule equals that of `options.phys`, or undefined when no IOVA
   * below the device's limit is free (the kernel's mapping error). Bad sizes, addresses and
   * directions throw {@link InputError}.
   */
  map(size: bigint, options: DmaMapOptions = {}): bigint | undefined {
    const dir = options.dir ?? 'bidirectional';
    const code = DIRECTIONS.indexOf(dir);
    if (code < 0) throw new InputError(`DMA direction ${quote(dir)} is not one of ${DIRECTIONS.join(', ')}`);
    const phys = options.phys ?? 0n;
    if (typeof phys !== 'bigint' || phys < 0n || phys > MAX_ADDRESS) throw new InputError(`physical address ${quote(phys)} must be a bigint below 2^64`);
    checkSize(size);
    if (phys <= SAFE && size <= SAFE) {
      // Both below 2^53: the buffer cannot run past 2^64, and the offset is plain arithmetic.
      const p = Number(phys);
      return this.place(size, p - Math.floor(p / this.g) * this.g, code, false, this.limitPfn);
    }
    if (phys + size - 1n > MAX_ADDRESS) throw new InputError(`buffer of ${size} bytes at ${hex(phys)} runs past the end of the 64-bit space`);
    return this.place(size, Number(phys & this.offsetMask), code, false, this.limitPfn);
  }

  /**
   * Ends a streaming mapping: `iova` and `size` as passed to and returned by {@link map}.
   * Throws {@link InputError} when they do not name a live mapping of this device.
   */
  unmap(iova: bigint, size: bigint): void {
    this.release(iova, size, false);
  }

  /**
   * A coherent allocation's IOVA (`dma_alloc_coherent`): `size` bytes rounded up to whole
   * granules, below the coherent DMA mask; undefined when nothing is free.
   */
  alloc(size: bigint): bigint | undefined {
    checkSize(size);
    return this.place(size, 0, 0, true, this.coherentLimitPfn);
  }

  /** Gives back an IOVA from {@link alloc}; throws {@link InputError} when it is not one. */
  free(iova: bigint, size: bigint): void {
    this.release(iova, size, true);
  }

  private place(size: bigint, offset: number, dir: number, coherent: boolean, limitPfn: number): bigint | undefined {
    const pages = this.pagesFor(size, offset);
    const pfn = this.allocPages(pages, limitPfn);
    if (pfn === undefined) return undefined;
    this.backend.records.add(pfn, this, pages, offset, size, dir, coherent);
    const at = pfn * this.g + offset;
    return at <= Number.MAX_SAFE_INTEGER ? BigInt(at) : (BigInt(pfn) << this.shift) + BigInt(offset);
  }

  /** Granules that `size` bytes starting `offset` bytes into a granule touch. */
  private pagesFor(size: bigint, offset: number): number {
    if (size <= SAFE) {
      const bytes = Number(size) + offset;
      if (bytes <= Number.MAX_SAFE_INTEGER) return Math.ceil(bytes / this.g);
    }
    return bytesToPages(size + BigInt(offset), Number(this.shift), 'mapping size');
  }

  /** The kernel's two tries: below 4 GiB first (PCI, once), then the full limit. */
  private allocPages(pages: number, limitPfn: number): number | undefined {
    const iova = this.backend.iova;
    if (this.try32 && limitPfn > this.limit32Pfn) {
      const pfn = iova.allocFast(pages, this.limit32Pfn, false);
      if (pfn !== undefined) return pfn;
      this.try32 = false;
      this.log.push(`${this.id}: Using ${this.dmaLimit.toString(2).length}-bit DMA addresses`);
    }
    return iova.allocFast(pages, limitPfn, true);
  }

  private release(iova: bigint, size: bigint, coherent: boolean): void {
    const what = coherent ? 'free' : 'unmap';
    if (typeof iova !== 'bigint' || iova < 0n || iova > MAX_ADDRESS) throw new InputError(`${what}: IOVA ${quote(iova)} must be a bigint below 2^64`);
    checkSize(size);
    let pfn: number;
    let offset: number;
    if (iova <= SAFE) {
      const a = Number(iova);
      pfn = Math.floor(a / this.g);
      offset = a - pfn * this.g;
    } else {
      pfn = Number(iova >> this.shift);
      offset = Number(iova & this.offsetMask);
    }
    const records = this.backend.records;
    const id = records.find(pfn);
    if (id < 0 || records.offsetOf(id) !== offset) throw new InputError(`${what} of ${hex(iova)} by ${this.id}: nothing is mapped there`);
    const owner = records.ownerOf(id);
    if (owner !== this) throw new InputError(`${what} of ${hex(iova)} by ${this.id}: it was mapped by ${owner.id}`);
    if (records.coherentOf(id) !== coherent) {
      throw new InputError(`${what} of ${hex(iova)} by ${this.id}: it comes from ${coherent ? 'map (use unmap)' : 'alloc (use free)'}`);
    }
    const pages = this.pagesFor(size, offset);
    if (pages !== records.pagesOf(id)) {
      throw new InputError(`${what} of ${size} bytes at ${hex(iova)} by ${this.id}: the mapping there is ${records.sizeOf(id)} bytes`);
    }
    records.remove(id);
    this.backend.iova.freeFast(pfn, pages);
  }

  private capLimit(mask: bigint): bigint {
    let limit = mask;
    if (this.busDmaLimit !== undefined && this.busDmaLimit < limit) limit = this.busDmaLimit;
    return limit < this.backend.apertureEnd ? limit : this.backend.apertureEnd;
  }

  /** The last pfn of a limit, as the kernel computes it (`limit >> shift`), capped at the top. */
  private pfnLimit(limit: bigint): number {
    const pfn = limit >> BigInt(this.backend.iova.shift);
    const top = this.backend.iova.topPfn;
    return pfn > BigInt(top) ? top : Number(pfn);
  }
}

function maskBits(bits: number, what: string): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > 64) throw new InputError(`${what} width ${quote(bits)} must be a whole number of bits from 1 to 64`);
  return bits;
}

function checkSize(size: bigint): void {
  if (typeof size !== 'bigint' || size <= 0n || size > MAX_ADDRESS) throw new InputError(`size ${quote(size)} must be a bigint of at least 1 byte`);
}
