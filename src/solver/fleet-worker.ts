/**
 * A fleet worker: takes batches of hosts, verifies the layout on each, and posts a batch's
 * results in one message (which also asks for more).
 *
 * Hosts whose facts are identical apart from their name and the provenance of each fact (where
 * it was read from) get the same verdict: the verdict depends on ranges, kinds, devices and
 * groups, never on `name` or `source` (see verifyOnHost). So a verdict is kept per set of facts
 * and an accepting one is reused: the host is still parsed and validated (so a malformed name
 * or source is reported as for any host), but its address space is not built again. A host
 * that rejects is verified on its own, so that its messages cite its own files and lines; only
 * then are messages formatted.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../model/errors.js';
import { parseJsonText } from '../model/load.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange } from '../model/range.js';
import { parseHostFacts } from '../model/schema.js';
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

/** The host's facts as text without its name and without provenance (`source`, `sources`). */
function factsKey(data: unknown): string {
  return JSON.stringify(data, function (this: unknown, key, value: unknown) {
    if (key === 'source' || key === 'sources') return undefined;
    if (key === 'name' && this === data) return undefined;
    return value;
  });
}

function check(item: FleetItem): FleetHostResult {
  const file = item.name;
  try {
    let text: string;
    if (item.text !== undefined) text = item.text;
    else {
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new InputError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
      }
    }
    const data = parseJsonText(text, file);
    const host = parseHostFacts(data, file);
    const key = factsKey(data);
    if (verdicts.get(key) === true) return { file, host: host.name, ok: true, violations: [] };
    const verdict = verifyOnHost(layout, host);
    verdicts.set(key, verdict.ok);
    const violations: FleetViolation[] = verdict.violations.map((v) => ({
      kind: v.kind,
      placement: v.placement,
      enforced: v.enforced,
      message: v.message,
      reason: reasonOf(v),
      source: v.source ? describeProvenance(v.source) : undefined,
    }));
    return { file, host: verdict.host, ok: verdict.ok, violations };
  } catch (error) {
    if (error instanceof InputError) return { file, error: error.describe() };
    return { file, error: `internal error: ${(error as Error).message}` };
  }
}

port.on('message', (message: ToFleetWorker) => {
  if (message.type === 'done') {
    port.close();
    return;
  }
  port.postMessage({ type: 'results', results: message.items.map(check) } satisfies FromFleetWorker);
});
port.postMessage({ type: 'ready' } satisfies FromFleetWorker);
