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

/**
 * The short name of a hole in IOAS sentences and fact lists (`msi region`, `peer BAR`); the long
 * noun above is for verification reports. Both live here so that a hole has one vocabulary.
 */
export function holeShortName(h: Hole): string {
  switch (h.kind) {
    case 'aperture':
      return 'outside the aperture';
    case 'reserved-region':
      return `${h.type} region`;
    case 'p2p':
      return h.type === 'peer-bar' ? 'peer BAR' : 'peer bridge window';
    case 'dma-api':
      return h.type === 'host-bridge-window' ? 'host-bridge window' : 'dma-ranges gap';
    default:
      return h.type;
  }
}

/** `the reserved range 0xfd_0000_0000–0xff_ffff_ffff (12 GiB): HyperTransport hole (profile amd-vi)` */
export function describeHole(hole: Hole): string {
  return `${describeHoleRange(hole)}: ${describeProvenance(hole.source)}`;
}

/** `the reserved range 0xfd_0000_0000–0xff_ffff_ffff (12 GiB)`, without where it came from. */
export function describeHoleRange(hole: Hole): string {
  return `the ${HOLE_NOUN[hole.type]} ${describeRange(hole)}`;
}

/** `0x0–0xffff_ffff` */
export function describeBounds(r: IovaRange): string {
  return `${hexGrouped(r.start)}–${hexGrouped(r.last)}`;
}
