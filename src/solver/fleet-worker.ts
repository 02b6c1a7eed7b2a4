/**
 * A fleet worker: takes batches of host files, verifies the layout on each, posts one result
 * per host, and asks for more when a batch is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../model/errors.js';
import { loadHostFile } from '../model/load.js';
import { describeProvenance } from '../model/provenance.js';
import { describeRange } from '../model/range.js';
import type { FleetHostResult, FleetViolation, FromFleetWorker, ToFleetWorker } from './fleet.js';
import { type Layout, type Violation, verifyOnHost } from '../explain/verify.js';
import { describePlacement } from '../explain/words.js';

const port = parentPort;
if (!port) throw new Error('fleet-worker runs in a worker thread');
const { layout } = workerData as { layout: Layout };

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

function check(file: string): FleetHostResult {
  try {
    const verdict = verifyOnHost(layout, loadHostFile(file));
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
    if (error instanceof InputError) return { file, error: error.describe() };
    return { file, error: `internal error: ${(error as Error).message}` };
  }
}

port.on('message', (message: ToFleetWorker) => {
  if (message.type === 'done') {
    port.close();
    return;
  }
  for (const file of message.files) port.postMessage({ type: 'result', result: check(file) } satisfies FromFleetWorker);
  port.postMessage({ type: 'idle' } satisfies FromFleetWorker);
});
port.postMessage({ type: 'ready' } satisfies FromFleetWorker);
