/**
 * Importing one text file: every importer reads every line, then each content line that no
 * importer could use becomes a warning.
 *
 * Warning rule, per line:
 * - a line some importer turned into a fact: no warning;
 * - a line that starts like one of an importer's line families but could not be read (a
 *   reserved_regions line with an unknown type, an lspci BAR without a size, a malformed
 *   `pci_bus … resource` message): a warning saying what was wrong;
 * - a line an importer recognised and deliberately ignores (a kernel log line of no interest,
 *   an lspci line about another capability, a System RAM entry of /proc/iomem): no warning;
 * - structure — blank lines, `#` headers and comments, prompts and the commands typed, path
 *   lines, `[...]` markers, code fences — no warning;
 * - anything else (prose, quoted mail text, table dumps): a warning "not recognised".
 *
 * A file that is not host facts at all is bad input, not a pile of warnings: when no line
 * gave a fact and the lines not recognised outnumber those recognised (a README, a source
 * file, the wrong log), the import is refused with an {@link InputError} at the first line
 * not recognised. An empty file, or one of only headers and prompts, is not refused (an IOMMU
 * group without reserved regions prints nothing), nor is a kernel log with nothing of
 * interest in it (its lines are recognised as log lines).
 */
import { InputError } from '../errors.js';
import { KIND_NAMES, LineVerdicts, SOURCE_KINDS, type SourceKind } from './common.js';
import { detectKinds } from './detect.js';
import { importDmesg } from './dmesg.js';
import { importGroups } from './groups.js';
import { importIomem } from './iomem.js';
import { type SourceLine, splitLines } from './lines.js';
import { importLspci } from './lspci.js';
import type { HostBuilder } from './merge.js';
import { importReservedRegions } from './reserved-regions.js';

/** Read `text` (the content of `file`) into `builder`; returns the kinds found, primary first. */
export function importTextInto(builder: HostBuilder, text: string, file: string): SourceKind[] {
  const lines = splitLines(text);
  const kinds = detectKinds(lines);
  builder.addSource(file, kinds.length > 0 ? kinds.join('+') : 'unknown');
  builder.registerLines(file, lines.map((l) => l.raw));
  const verdicts = new LineVerdicts();
  importReservedRegions(lines, builder, file, verdicts);
  importLspci(lines, builder, file, verdicts);
  importIomem(lines, builder, file, verdicts);
  importDmesg(lines, builder, file, verdicts, { kernelLog: kinds.includes('dmesg') });
  importGroups(lines, builder, file, verdicts);
  refuseIfNotHostFacts(lines, verdicts, file);
  reportUnread(lines, verdicts, builder, file, notRecognised(kinds));
  return kinds;
}

/** Warn about every content line that gave no fact and was not recognised (see the module rule). */
export function reportUnread(lines: readonly SourceLine[], verdicts: LineVerdicts, builder: HostBuilder, file: string, unknown: string): void {
  for (const line of lines) {
    if (line.role !== 'content') continue;
    const verdict = verdicts.get(line.line);
    if (verdict === undefined) builder.warn(file, line.line, unknown, line.raw);
    else if (verdict.kind === 'problem') builder.warn(file, line.line, verdict.message, line.raw);
  }
}

/** Throw when the file is not host facts at all (see the module rule). */
function refuseIfNotHostFacts(lines: readonly SourceLine[], verdicts: LineVerdicts, file: string): void {
  let recognised = 0;
  let unrecognised = 0;
  let first: SourceLine | undefined;
  for (const line of lines) {
    if (line.role !== 'content') continue;
    const verdict = verdicts.get(line.line);
    if (verdict?.kind === 'fact') return;
    if (verdict === undefined) {
      unrecognised++;
      first ??= line;
    } else recognised++;
  }
  if (first === undefined || unrecognised <= recognised) return;
  throw new InputError(
    `not host facts: ${unrecognised} of ${unrecognised + recognised} lines are not ${describeKinds([...SOURCE_KINDS])} output, and no line gave a fact (this line is the first not recognised)`,
    { file, line: first.line },
  );
}

function notRecognised(kinds: SourceKind[]): string {
  const expected = kinds.length > 0 ? kinds : [...SOURCE_KINDS];
  return `line not recognised as ${describeKinds(expected)} output; skipped`;
}

function describeKinds(kinds: SourceKind[]): string {
  const names = kinds.map((k) => KIND_NAMES[k]);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
