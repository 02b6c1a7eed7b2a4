/**
 * Pieces every text importer shares: the kinds of source, per-line verdicts, provenance
 * and number parsing.
 */
import { MAX_ADDRESS } from '../address.js';
import type { IovaRange } from '../range.js';
import type { Provenance } from '../provenance.js';
import type { SourceLine } from './lines.js';

/** The kinds of text an importer reads. */
export const SOURCE_KINDS = ['reserved-regions', 'lspci', 'iomem', 'dmesg', 'groups'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** How the kinds are named in messages. */
export const KIND_NAMES: Record<SourceKind, string> = {
  'reserved-regions': 'reserved_regions',
  lspci: 'lspci -vvv',
  iomem: '/proc/iomem',
  dmesg: 'kernel log',
  groups: 'IOMMU group listing',
};

/**
 * What an importer made of a line. `fact`: it gave a fact. `problem`: it is one of the
 * importer's line families but could not be read (becomes a warning). `known`: recognised,
 * and deliberately ignored (most of a boot log, lspci lines about other capabilities).
 */
export type Verdict = { kind: 'fact' } | { kind: 'known' } | { kind: 'problem'; message: string };

const RANK = { known: 1, problem: 2, fact: 3 } as const;

/**
 * The verdicts of all importers on one file's lines. When importers disagree the strongest
 * wins: a fact beats a problem (another importer read the line), a problem beats `known`.
 */
export class LineVerdicts {
  private readonly byLine = new Map<number, Verdict>();

  fact(line: SourceLine | number): void {
    this.set(line, { kind: 'fact' });
  }

  known(line: SourceLine | number): void {
    this.set(line, { kind: 'known' });
  }

  problem(line: SourceLine | number, message: string): void {
    this.set(line, { kind: 'problem', message });
  }

  get(line: number): Verdict | undefined {
    return this.byLine.get(line);
  }

  private set(line: SourceLine | number, verdict: Verdict): void {
    const n = typeof line === 'number' ? line : line.line;
    const current = this.byLine.get(n);
    if (current === undefined || RANK[verdict.kind] > RANK[current.kind]) this.byLine.set(n, verdict);
  }
}

/** Provenance with only the fields given (no `undefined` values, so JSON round-trips exactly). */
export function provenance(what: string, file: string | undefined, line: number | undefined, extra: Partial<Provenance> = {}): Provenance {
  const out: Provenance = { what };
  if (file !== undefined) out.file = file;
  if (line !== undefined && line > 0) out.line = line;
  for (const [key, value] of Object.entries(extra) as Array<[keyof Provenance, unknown]>) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}

const NOTE_LIMIT = 2000;
const NOTES_DROPPED = '; (further notes on this fact not kept)';

/**
 * A copy of `p` with `note` appended to its note. Leading `; `-separated parts of `note` that
 * `p`'s note already says are not repeated (the same fact read twice adds only what is new).
 */
export function withNote(p: Provenance, note: string): Provenance {
  if (p.note === undefined) return { ...p, note };
  // One fact read many times with different notes (a log repeating a firmware-bug message)
  // must not grow a note without bound, nor cost a scan of it per repeat.
  if (p.note.length >= NOTE_LIMIT) return p.note.endsWith(NOTES_DROPPED) ? p : { ...p, note: `${p.note}${NOTES_DROPPED}` };
  const parts = note.split('; ');
  while (parts.length > 0 && p.note.includes(parts[0])) parts.shift();
  return parts.length === 0 ? p : { ...p, note: `${p.note}; ${parts.join('; ')}` };
}

/** Hex digits with or without `0x`, as a bigint; undefined when not hex or above 2^64 - 1. */
export function hexValue(text: string): bigint | undefined {
  const digits = text.replace(/^0x/i, '');
  if (!/^[0-9a-f]+$/i.test(digits)) return undefined;
  // More than 16 significant digits cannot be below 2^64: refuse before converting.
  if (digits.length > 16 && digits.replace(/^0+/, '').length > 16) return undefined;
  const value = BigInt(`0x${digits}`);
  return value <= MAX_ADDRESS ? value : undefined;
}

/** `[start, last]` from two hex strings; undefined when either is not hex or start > last. */
export function hexRange(start: string, last: string): IovaRange | undefined {
  const s = hexValue(start);
  const l = hexValue(last);
  if (s === undefined || l === undefined || s > l) return undefined;
  return { start: s, last: l };
}

/** A bus number (two hex digits, 0-ff) or undefined. */
export function busNumber(text: string): number | undefined {
  if (!/^[0-9a-f]{1,2}$/i.test(text)) return undefined;
  return parseInt(text, 16);
}

/** A segment number (up to four hex digits) or undefined. */
export function segmentNumber(text: string): number | undefined {
  if (!/^[0-9a-f]{1,4}$/i.test(text)) return undefined;
  return parseInt(text, 16);
}

/** A PCI address inside a line: `0000:03:00.1` or `03:00.1` (device 00-1f). */
export const BDF_PATTERN = '(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\\.[0-7]';

const WHOLE_BDF = new RegExp(`^${BDF_PATTERN}$`);

/** Whether a whole string is a PCI address that `normaliseBdf` accepts. */
export function isPciAddress(text: string): boolean {
  return WHOLE_BDF.test(text);
}
