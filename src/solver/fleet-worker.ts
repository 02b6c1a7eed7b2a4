/**
 * A fleet worker: takes batches of hosts, verifies the layout on each, and posts a batch's
 * results in one message (which also asks for more).
 *
 * Hosts whose facts are identical apart from their name and the provenance of each fact (where
 * it was read from) get the same verdict: the verdict depends on ranges, kinds, devices and
 * groups, never on `name` or `source` (see verifyOnHost). So a verdict is kept per set of facts
 * and an accepting one is reused: of such a host only the name and provenance are validated
 * (the rest is the same text as a host that validated), and nothing is built. A host that
 * rejects is verified on its own, so that its messages cite its own files and lines; only then
 * are messages formatted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../model/errors.js';
import { parseJsonText, readInputText } from '../model/load.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange } from '../model/range.js';
import { parseHostFacts, zHostFacts, zProvenance } from '../model/schema.js';
import type { FleetItem } from './fleet-source.js';
import type { FleetHostResult, FleetViolation, FromFleetWorker, ToFleetWorker } from './fleet.js';
import { type Layout, type Violation, verifyOnHost } from '../explain/verify.js';
import { describePlacement } from '../explain/words.js';

const port = parentPort;
if (!port) throw new Error('fleet-worker runs in a worker thread');
const { layout } = workerData as { layout: Layout };

/** Per set of facts (see {@link factsKey}): whether the layout fits. */
const verdicts = new Map<string, boolean>();

/** What a violation is, without the host's own file names: the key hosts are grouped by. */
function reasonOf(v: Violation): string {
  const placement = layout.placements.find((p) => p.name === v.placement);
  const who = placement ? describePlacement(placement.name, placement.iova, placement.size) : `\`${v.placement}\``;
  switch (v.kind) {
    case 'hole':
      return `${who} overlaps ${v.hole ? `${v.hole.source.what} ${describeRange(v.hole)}` : 'a hole'}`;
    case 'outside-aperture':
      return `${who} is outside the IOMMU aperture${v.source ? ` (${v.source.what})` : ''}`;
    default:
      return v.message;
  }
}

/** What a host file says apart from its facts: its name and the provenance of each fact. */
interface Labels {
  name: unknown;
  sources: unknown[];
  fileSources: unknown;
}

/**
 * The host's facts as text, with its name and every provenance value (`source`, and the
 * top-level `sources` list) replaced by a placeholder, collected into `labels`. Two hosts with
 * the same key have the same facts, with names and provenance at the same places.
 */
function factsKey(data: unknown, labels: Labels): string {
  return JSON.stringify(data, function (this: unknown, key, value: unknown) {
    if (key === 'source') {
      labels.sources.push(value);
      return 1;
    }
    if (this === data && key === 'name') {
      labels.name = value;
      return 1;
    }
    if (this === data && key === 'sources') {
      labels.fileSources = value;
      return 1;
    }
    return value;
  });
}

const zSources = zHostFacts.shape.sources;

/** Whether the labels are valid where the schema puts them (what parseHostFacts would check of them). */
function labelsValid(labels: Labels): boolean {
  if (typeof labels.name !== 'string') return false;
  if (labels.fileSources !== undefined && !zSources.safeParse(labels.fileSources).success) return false;
  return labels.sources.every((s) => zProvenance.safeParse(s).success);
}

function check(item: FleetItem): FleetHostResult {
  const file = item.name;
  try {
    // A host file goes through the checked reader: a FIFO or a device in the fleet is refused.
    const text = item.text ?? readInputText(file);
    const data = parseJsonText(text, file);
    const labels: Labels = { name: undefined, sources: [], fileSources: undefined };
    const key = data !== null && typeof data === 'object' && !Array.isArray(data) ? factsKey(data, labels) : undefined;
    // The same facts as a host that accepted with no warnings, and valid labels: the same
    // verdict, without building the host again (anything else takes the full path, with its own
    // messages and warnings, which name the host and its files).
    if (key !== undefined && verdicts.get(key) === true && labelsValid(labels)) return { file, host: labels.name as string, ok: true, violations: [], warnings: [] };
    const host = parseHostFacts(data, file);
    const verdict = verifyOnHost(layout, host);
    if (key !== undefined) verdicts.set(key, verdict.ok && verdict.warnings.length === 0);
    const violations: FleetViolation[] = verdict.violations.map((v) => ({
      kind: v.kind,
      placement: v.placement,
      enforced: v.enforced,
      message: v.message,
      reason: reasonOf(v),
      source: v.source ? describeProvenance(v.source) : undefined,
    }));
    return { file, host: verdict.host, ok: verdict.ok, violations, warnings: verdict.warnings };
  } catch (error) {
    // Bad input makes the host unreadable; anything else is a bug, which the caller must see as one.
    if (error instanceof InputError) return { file, error: error.describe() };
    throw error;
  }
}

port.on('message', (message: ToFleetWorker) => {
  if (message.type === 'done') {
    port.close();
    return;
  }
  const results: FleetHostResult[] = [];
  for (const item of message.items) {
    try {
      results.push(check(item));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ type: 'internal', file: item.name, message: e.message, stack: e.stack } satisfies FromFleetWorker);
      return;
    }
  }
  port.postMessage({ type: 'results', results } satisfies FromFleetWorker);
});
port.postMessage({ type: 'ready' } satisfies FromFleetWorker);
