/**
 * Phrases shared by explanations and verification reports: how to name a placement, a hole, a
 * window, so that every message speaks the same way.
 */
import { formatSize, hexGrouped } from '../model/address.js';
import type { Hole } from '../model/hole.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange, type IovaRange } from '../model/range.js';

/** `` `ram-hi` (1 TiB at 0x1_0000_0000) `` */
export function describePlacement(name: string, iova: bigint, size: bigint): string {
  return `\`${name}\` (${formatSize(size)} at ${hexGrouped(iova)})`;
}

/** `` `ram-hi` (1 TiB) `` for a request not yet placed. */
export function describeRequest(name: string, size: bigint): string {
  return `\`${name}\` (${formatSize(size)})`;
}

const HOLE_NOUN: Record<Hole['type'], string> = {
  direct: 'direct-mapped (identity) region',
  'direct-relaxable': 'relaxable direct-mapped region',
  reserved: 'reserved range',
  msi: 'MSI doorbell range',
  'sw-msi': 'software MSI window',
  'outside-aperture': 'range outside the IOMMU aperture',
  'peer-bar': 'peer BAR',
  'peer-window': 'peer bridge window',
  'host-bridge-window': 'host-bridge window',
  'dma-ranges-gap': 'gap between dma-ranges',
  'dma-mask': 'range above the DMA mask',
  'iova-zero': 'first IOVA page',
};

/** `the reserved range 0xfd_0000_0000–0xff_ffff_ffff (12 GiB): HyperTransport hole (profile amd-vi)` */
export function describeHole(hole: Hole): string {
  return `the ${HOLE_NOUN[hole.type]} ${describeRange(hole)}: ${describeProvenance(hole.source)}`;
}

/** `0x0–0xffff_ffff` */
export function describeBounds(r: IovaRange): string {
  return `${hexGrouped(r.start)}–${hexGrouped(r.last)}`;
}
