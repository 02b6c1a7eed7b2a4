/**
 * Colours and names for what the picture draws. Holes are coloured by category: their kind, and
 * for reserved regions their type, since an MSI window and an RMRR call for different fixes.
 * Red is kept for conflicts only.
 */
import type { Hole } from '../model/hole.js';

export const HOLE_CATEGORIES = [
  'aperture',
  'direct',
  'direct-relaxable',
  'reserved',
  'msi',
  'sw-msi',
  'p2p',
  'dma-api',
  'dma-mask',
  'iova-zero',
] as const;
/** A hole's colour class: the hole kind, with reserved regions split by region type. */
export type HoleCategory = (typeof HOLE_CATEGORIES)[number];

/** The category a hole is drawn in. */
export function holeCategory(hole: Pick<Hole, 'kind' | 'type'>): HoleCategory {
  if (hole.kind !== 'reserved-region') return hole.kind;
  switch (hole.type) {
    case 'direct':
    case 'direct-relaxable':
    case 'reserved':
    case 'msi':
    case 'sw-msi':
      return hole.type;
    default:
      return 'reserved';
  }
}

interface Swatch {
  fill: string;
  /** Text colour on top of the fill. */
  ink: string;
  label: string;
}

export const HOLE_SWATCHES: Readonly<Record<HoleCategory, Swatch>> = {
  aperture: { fill: '#9aa0a6', ink: '#000000', label: 'outside the aperture' },
  direct: { fill: '#e8710a', ink: '#000000', label: 'reserved region: direct (RMRR / IVMD)' },
  'direct-relaxable': { fill: '#fbbc04', ink: '#000000', label: 'reserved region: direct-relaxable' },
  reserved: { fill: '#8e44ad', ink: '#ffffff', label: 'reserved region: reserved' },
  msi: { fill: '#1a73e8', ink: '#ffffff', label: 'reserved region: msi' },
  'sw-msi': { fill: '#7fb3f5', ink: '#000000', label: 'reserved region: sw-msi' },
  p2p: { fill: '#12a4a4', ink: '#000000', label: 'peer-to-peer (peer BAR or bridge window)' },
  'dma-api': { fill: '#a58e27', ink: '#000000', label: 'DMA-API only (host-bridge window, dma-ranges gap)' },
  'dma-mask': { fill: '#546e7a', ink: '#ffffff', label: 'above a DMA mask' },
  'iova-zero': { fill: '#37474f', ink: '#ffffff', label: 'IOVA page 0' },
};

/** Colours of everything else. */
export const COLOURS = {
  background: '#ffffff',
  text: '#202124',
  muted: '#5f6368',
  grid: '#e8eaed',
  stripe: '#f6f7f9',
  window: '#d7f0dd',
  windowStroke: '#34a853',
  usable: '#34a853',
  placement: '#1e3a8a',
  placementInk: '#ffffff',
  existing: '#64748b',
  conflict: '#d93025',
  conflictFill: '#fce8e6',
} as const;
