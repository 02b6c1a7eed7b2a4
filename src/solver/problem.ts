/**
 * A placement problem after validation: the address space the requests live in, the requests
 * with every attribute resolved to bigints, and the named constraints that an explanation can
 * point at. The solver engine, the explanation renderer and the verifier all read this.
 */
import type { AddressSpace } from '../model/address-space.js';
import type { Hole } from '../model/hole.js';
import type { Provenance } from '../model/provenance.js';
import type { IovaRange } from '../model/range.js';
import type { RangeSet } from '../model/rangeset.js';
import type { ExistingMapping } from '../explain/verify.js';

export const OBJECTIVES = ['low', 'high', 'fewest-pages', 'free-below-4g', 'compact'] as const;
/**
 * - `low` / `high`: each request as low / as high as it fits;
 * - `fewest-pages`: align each request to the largest IOMMU page its size allows, so that it
 *   maps with the fewest page-table entries;
 * - `free-below-4g`: keep the space below 4 GiB for devices that need it: place above when possible;
 * - `compact`: pack requests together from the bottom, largest alignment first.
 */
export type Objective = (typeof OBJECTIVES)[number];

export interface PlacementRequest {
  name: string;
  /** Position in the spec, for stable ordering. */
  index: number;
  size: bigint;
  /** Required alignment of the IOVA: the request's own and the IOAS alignment, whichever is larger. */
  align: bigint;
  /** The alignment the request asked for itself (1 when it did not). */
  ownAlign: bigint;
  /** Preferred alignment (from `pageSize` or the `fewest-pages` objective); soft. */
  preferAlign?: bigint;
  /** A fact: the IOVA is given (`fixed`), or must equal a physical address (`identity`). */
  fixed?: { iova: bigint; identity: boolean };
  /** Hint ranges the placement must lie in (one of them, wholly). */
  within?: RangeSet;
  /** Device DMA mask width: the placement's last byte must be below 2^dmaBits. */
  dmaBits?: number;
  /** Requests this one must lie entirely above. */
  above: string[];
  /** This request's IOVA equals another's plus an offset. */
  offsetFrom?: { request: string; offset: bigint };
  /** Requests with the same tag must lie in one aperture window. */
  window?: string;
  source: Provenance;
}

export type { ExistingMapping } from '../explain/verify.js';

/** One aperture window of the space, with where it came from. */
export interface ApertureWindow extends IovaRange {
  source: Provenance;
}

export interface Problem {
  space: AddressSpace;
  /** The attached devices as the spec named them (undefined: every device of the host). */
  devices?: string[];
  requests: PlacementRequest[];
  existing: ExistingMapping[];
  objective: Objective;
  /** Translatable windows (the attached domains' apertures, intersected). */
  windows: ApertureWindow[];
  /** Where the spec came from, for messages. */
  source: Provenance;
  /** The kernel version the spec names (for IOAS answers built on it). */
  kernel?: string;
}

/**
 * The named constraints of a problem. A conflict is a set of these that cannot hold together;
 * a minimal conflict becomes satisfiable when any one member is dropped.
 */
export type Constraint =
  /** The request lies wholly inside one aperture window. */
  | { id: string; kind: 'aperture'; request: string }
  /** The request avoids a hole. */
  | { id: string; kind: 'hole'; request: string; hole: Hole }
  /** The request avoids an existing mapping. */
  | { id: string; kind: 'existing'; request: string; mapping: ExistingMapping }
  /** The request's IOVA is a multiple of `align` (its own, or the IOAS alignment). */
  | { id: string; kind: 'align'; request: string; align: bigint; ioas: boolean }
  /** The request's size is a multiple of the IOAS alignment (iommufd and VFIO refuse others). */
  | { id: string; kind: 'size-multiple'; request: string; alignment: bigint }
  /** The request's IOVA is fixed (or identity-mapped). */
  | { id: string; kind: 'fixed'; request: string; iova: bigint; identity: boolean }
  /** The request lies inside one of its `within` ranges. */
  | { id: string; kind: 'within'; request: string }
  /** The request lies below 2^bits. */
  | { id: string; kind: 'dma-mask'; request: string; bits: number }
  /** Two requests do not overlap. */
  | { id: string; kind: 'disjoint'; request: string; other: string }
  /** The request lies above another. */
  | { id: string; kind: 'above'; request: string; other: string }
  /** The request's IOVA is another's plus an offset. */
  | { id: string; kind: 'offset'; request: string; other: string; offset: bigint }
  /** Requests with one tag share an aperture window. */
  | { id: string; kind: 'same-window'; request: string; other: string; tag: string };

export type ConstraintKind = Constraint['kind'];

/** Stable ids, so that the same problem names its constraints the same way every time. */
export const constraintId = {
  aperture: (r: string) => `aperture:${r}`,
  hole: (r: string, holeIndex: number) => `hole:${r}:${holeIndex}`,
  existing: (r: string, mappingIndex: number) => `existing:${r}:${mappingIndex}`,
  align: (r: string) => `align:${r}`,
  ioasAlign: (r: string) => `ioas-align:${r}`,
  sizeMultiple: (r: string) => `size-multiple:${r}`,
  fixed: (r: string) => `fixed:${r}`,
  within: (r: string) => `within:${r}`,
  dmaMask: (r: string) => `dma-mask:${r}`,
  disjoint: (a: string, b: string) => `disjoint:${a < b ? a : b}:${a < b ? b : a}`,
  above: (r: string, other: string) => `above:${r}:${other}`,
  offset: (r: string) => `offset:${r}`,
  sameWindow: (r: string, other: string) => `same-window:${r < other ? r : other}:${r < other ? other : r}`,
};

/** Find a request by name (the spec guarantees names are unique and references exist). */
export function requestNamed(problem: Problem, name: string): PlacementRequest {
  const r = problem.requests.find((q) => q.name === name);
  if (!r) throw new Error(`no request named ${name}`);
  return r;
}
