/**
 * The one place IOAS answers become text or JSON: a rejection, acceptance or warning is a value
 * (rule, errno, facts with provenance, suggestion steps) until it is shown here. The CLI, the
 * hot-plug check and error messages all print through these functions.
 */
import { formatSize, hex } from '../model/address.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange, type IovaRange, sizeOf } from '../model/range.js';
import type { InvolvedFact, IoasResult, IoasStep, IoasWarning, Rejected, Suggestion } from './explanation.js';

/** `0x1000–0x1fff (4 KiB)` for `length` bytes at `start`. */
function spanText(start: bigint, length: bigint): string {
  const r: IovaRange = { start, last: start + length - 1n };
  return describeRange(r);
}

/** One line for a step, for suggestion texts. */
export function describeStep(s: IoasStep): string {
  switch (s.op) {
    case 'map':
      return `${s.file ? `map-file${s.backing ? ` (${s.backing})` : ''}` : 'map'} ${s.fixed && s.iova !== undefined ? spanText(s.iova, s.length) : `${formatSize(s.length)} at an IOVA the kernel picks`}`;
    case 'unmap':
      return `unmap ${spanText(s.iova, s.length)}`;
    case 'unmap-all':
      return 'unmap everything';
    case 'attach':
      return `attach ${s.device}`;
    case 'detach':
      return `detach ${s.device}`;
    case 'allow':
      return s.ranges.length === 0 ? 'clear the allowed ranges' : `set the allowed ranges to ${s.ranges.map(describeRange).join(', ')}`;
    case 'iova-ranges':
      return `ask again with room for ${s.capacity} ranges`;
    case 'set-large-pages':
      return `turn large pages ${s.enabled ? 'on' : 'off'}`;
    case 'set-dma-entry-limit':
      return `raise dma_entry_limit to ${s.limit}`;
    case 'reserve':
      return `reserve ${describeRange({ start: s.start, last: s.last })}`;
    case 'drop-direct':
      return `have the firmware stop reporting the direct region ${describeRange({ start: s.start, last: s.last })} for ${s.device} (${s.how})`;
  }
}


/** `-EINVAL reserved-overlap: The fixed map … .` — one line for an error message built on a rejection. */
export function summary(r: Rejected): string {
  return `-${r.errno} ${r.rule}: ${r.message}`;
}

/** What an accepted map or attach produced (the fields the renderers read). */
export interface MapAnswer {
  iova: bigint;
  last: bigint;
  length: bigint;
  alignment: bigint;
  automatic: boolean;
}
export interface AttachAnswer {
  device: string;
  newDomain: boolean;
  alignment: bigint;
  reserved: readonly unknown[];
}

/** The `--json` form. */
export function explainJson(result: IoasResult<MapAnswer | AttachAnswer>) {
  const warnings = result.warnings.map(warningJson);
  if (result.ok) {
    const placed = 'iova' in result ? { iova: result.iova, last: result.last, length: result.length, alignment: result.alignment } : { device: result.device, newDomain: result.newDomain, alignment: result.alignment };
    return { accepted: true, kernel: result.kernel, errno: null, code: 0, rule: null, message: acceptedMessage(result), involved: [], blocking: null, suggestion: null, alternatives: [], warnings, ...placed };
  }
  const [suggestion, ...alternatives] = result.suggestions.map(suggestionJson);
  return {
    accepted: false,
    kernel: result.kernel,
    operation: result.operation,
    errno: result.errno,
    code: result.code,
    rule: result.rule,
    message: result.message,
    involved: result.involved.map(factJson),
    blocking: result.blocking ? factJson(result.blocking) : null,
    suggestion: suggestion ?? null,
    alternatives,
    warnings,
  };
}

function factJson(f: InvolvedFact) {
  return {
    start: hex(f.range.start),
    last: hex(f.range.last),
    size: hex(sizeOf(f.range)),
    fact: f.fact,
    what: f.what,
    ...(f.holeKind ? { kind: f.holeKind, type: f.holeType, enforced: f.enforced } : {}),
    ...(f.owners ? { owners: f.owners } : {}),
    source: describeProvenance(f.source),
    provenance: f.source,
  };
}

function suggestionJson(s: Suggestion) {
  return { text: s.text, steps: s.steps };
}

function warningJson(w: IoasWarning) {
  return { kind: w.kind, start: hex(w.range.start), last: hex(w.range.last), message: w.message, fact: factJson(w.fact) };
}

function acceptedMessage(result: MapAnswer | AttachAnswer): string {
  if ('iova' in result) {
    return `The ${result.automatic ? 'automatic' : 'fixed'} map is accepted at ${describeRange({ start: result.iova, last: result.last })}.`;
  }
  return `Attaching ${result.device} is accepted${result.newDomain ? ' with a new IOMMU domain' : ''}; it reserves ${result.reserved.length} range${result.reserved.length === 1 ? '' : 's'}.`;
}

/** Lays out rows under a header (the CLI passes its terminal table). */
export type Tabulate = (header: readonly string[], rows: ReadonlyArray<readonly string[]>) => string;

/** The human form; the first line names the policy and the kernel version the answer is for. */
export function explainText(result: IoasResult<MapAnswer | AttachAnswer>, subject: string, policy: string, tabulate: Tabulate): string {
  const lines: string[] = [];
  const context = `(${policy}, Linux ${result.kernel})`;
  if (result.ok) {
    lines.push(`ACCEPTED  ${subject} ${context}`, `  ${acceptedMessage(result)}`);
  } else {
    lines.push(`REJECTED (-${result.errno})  ${subject} ${context}`, `  rule: ${result.rule}`, `  ${result.message}`);
    if (result.involved.length > 0) {
      lines.push('', 'Involved:');
      lines.push(
        tabulate(
          ['range', 'fact', 'source', 'brought by'],
          result.involved.map((f) => [describeRange(f.range), f.what, describeProvenance(f.source), (f.owners ?? []).join(', ')]),
        ),
      );
    }
    const [best, ...others] = result.suggestions;
    lines.push('', best ? `Suggestion: ${best.text}` : 'Suggestion: none found that the kernel would accept');
    if (best) lines.push(...best.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`));
    if (others.length > 0) lines.push('Alternatives:', ...others.map((s) => `  - ${s.text}`));
  }
  if (result.warnings.length > 0) lines.push('', 'Warnings:', ...result.warnings.map((w) => `  - ${w.message}`));
  return lines.join('\n');
}
