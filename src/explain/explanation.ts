/**
 * What an IOAS operation answers: accepted (with warnings), or rejected with the errno the kernel
 * would return, the rule that was broken, a sentence, the facts involved with their provenance,
 * and suggestions that have been checked to be accepted.
 *
 * The facts are machine-readable (`fact`, `holeKind`, `holeType`, `owners`) so that another
 * checker — the SMT solver — can compare its own blocking constraint with ours.
 */
import type { HoleKind, HoleType } from '../model/hole.js';
import type { Backing, IoasMapping } from '../model/ioas-state.js';
import { describeProvenance, type Provenance } from '../model/provenance.js';
import { describeRange, type IovaRange } from '../model/range.js';
import { type ErrnoName, errnoCode } from './errno.js';
import type { RuleId } from './rules.js';

/** What kind of fact an involved item is. */
export type FactKind = 'hole' | 'mapping' | 'allowed' | 'domain' | 'backing';

/** One fact that took part in a decision, with where it came from. */
export interface InvolvedFact {
  fact: FactKind;
  range: IovaRange;
  /** A few words: `msi region`, `outside the aperture`, `mapping guest-ram`, `allowed range`. */
  what: string;
  /** For holes: the model's hole kind and type. */
  holeKind?: HoleKind;
  holeType?: HoleType;
  /** For holes: whether the kernel itself refuses IOVAs there (false for peer-to-peer routes). */
  enforced?: boolean;
  /**
   * Attachments whose attach created the fact (devices or groups; several when they share it),
   * or `manual` for a reservation added by hand.
   */
  owners?: string[];
  source: Provenance;
}

/** One operation on an IOAS; a suggestion is a list of them, applied in order. */
export type IoasStep =
  | { op: 'map'; iova?: bigint; length: bigint; fixed: boolean; va?: bigint; backing?: Backing; file?: boolean }
  | { op: 'unmap'; iova: bigint; length: bigint }
  | { op: 'unmap-all' }
  | { op: 'attach'; device: string }
  | { op: 'detach'; device: string }
  | { op: 'allow'; ranges: IovaRange[] }
  | { op: 'iova-ranges'; capacity: number }
  | { op: 'set-large-pages'; enabled: boolean }
  | { op: 'set-dma-entry-limit'; limit: number }
  | { op: 'reserve'; start: bigint; last: bigint }
  /**
   * Not an ioctl: the firmware (or an ACPI table override) stops reporting a direct region for
   * the device, which frees it for VFIO and iommufd. Applied to a copy of the host facts.
   */
  | { op: 'drop-direct'; device: string; start: bigint; last: bigint; how: string };

/** A way to get what was asked for: every step is accepted when applied in order. */
export interface Suggestion {
  /** One sentence for people. */
  text: string;
  steps: IoasStep[];
}

/** Something accepted by the kernel that will not behave as the caller expects. */
export interface IoasWarning {
  /**
   * `p2p` / `dma-api`: DMA there reaches a peer, not memory. `deferred`: accepted now, refused
   * when pages are pinned (a device attached later). `assumption`: the answer assumed a fact it
   * was not given. `msi-unreachable`: the software MSI window lies where the device cannot write.
   */
  kind: 'p2p' | 'dma-api' | 'deferred' | 'assumption' | 'msi-unreachable';
  /** The part of the mapping concerned. */
  range: IovaRange;
  fact: InvolvedFact;
  message: string;
}

/** The operations an explanation can be about. */
export type IoasOperation = 'map' | 'copy' | 'unmap' | 'attach' | 'detach' | 'allow' | 'iova-ranges' | 'option' | 'reserve';

/** A refused operation and why. */
export interface Rejected {
  ok: false;
  /** The kernel version the answer holds for (`6.19`). */
  kernel: string;
  operation: IoasOperation;
  errno: ErrnoName;
  /** The ioctl's return value, e.g. -22. */
  code: number;
  rule: RuleId;
  message: string;
  involved: InvolvedFact[];
  /** The one fact that decided it, when a fact (not the request's own shape) did. */
  blocking?: InvolvedFact;
  /** Checked alternatives, best first. */
  suggestions: Suggestion[];
  warnings: IoasWarning[];
  /** EMSGSIZE: how many ranges there are; `ranges` holds the ones that fit the buffer. */
  count?: number;
  ranges?: IovaRange[];
  /** A failed iommufd unmap may already have removed the mappings below the one it stopped at. */
  unmapped?: IoasMapping[];
}

/** An accepted operation: `T` holds what it produced. */
export type Accepted<T> = T & { ok: true; warnings: IoasWarning[]; kernel: string };

export type IoasResult<T> = Accepted<T> | Rejected;

/**
 * `msi region 0xfee0_0000–0xfeef_ffff (1 MiB) of IOMMU group 12 (host.json; groups[0]…)`, or
 * `reserved region 0xfd_0000_0000–… (HyperTransport hole (profile amd-vi))` when the source names
 * the fact differently.
 */
export function describeFact(f: InvolvedFact): string {
  const range = describeRange(f.range);
  // A source that only repeats the fact's name ("reserved region", "mapping x") adds just its place.
  const repeats = f.source.what === f.what || (f.fact === 'hole' && f.source.what === 'reserved region');
  if (!repeats) return `${f.what} ${range} (${describeProvenance(f.source)})`;
  const place = describeProvenance({ ...f.source, what: '' }).trim();
  return place ? `${f.what} ${range} ${place}` : `${f.what} ${range}`;
}

/** `mapping guest-ram` or `mapping`. */
function mappingName(m: IoasMapping): string {
  return m.name ? `mapping ${m.name}` : 'mapping';
}

/** The memory behind a mapping or a map request (`backing` facts). */
export function backingFact(range: IovaRange, backing: Backing, source: Provenance): InvolvedFact {
  return { fact: 'backing', range: { start: range.start, last: range.last }, what: `${backing} memory`, source };
}

export function mappingFact(m: IoasMapping): InvolvedFact {
  return { fact: 'mapping', range: { start: m.start, last: m.last }, what: mappingName(m), source: m.source };
}

export function allowedFact(a: IovaRange & { source: Provenance }): InvolvedFact {
  return { fact: 'allowed', range: { start: a.start, last: a.last }, what: 'allowed range', source: a.source };
}

/** A rejection with no suggestions or warnings yet (the IOAS adds checked ones). */
export function reject(
  operation: IoasOperation,
  errno: ErrnoName,
  rule: RuleId,
  message: string,
  involved: InvolvedFact[] = [],
  blocking: InvolvedFact | undefined = involved[0],
): Rejected {
  return { ok: false, kernel: '', operation, errno, code: errnoCode(errno), rule, message, involved, ...(blocking ? { blocking } : {}), suggestions: [], warnings: [] };
}
