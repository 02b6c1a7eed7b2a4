/**
 * Fleet verification: one layout checked against every host of a fleet (a directory, a tar or
 * an ndjson stream, see fleet-source), in worker threads on all cores, with progress reported
 * as hosts finish. A host that cannot be read (bad input) is reported and counted and does not
 * stop the run; any other error while checking a host is a bug: the run stops and rejects with
 * an error naming that host's file (the command's exit 4). The result groups the hosts that reject the layout by reason, so that "2,100 hosts have
 * the HyperTransport hole in the way" reads as one line. With a shard, only the hosts of that
 * shard are checked; `mergeFleetReports` combines the shards into what one run would report.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { z } from 'zod';
import { InputError } from '../model/errors.js';
import type { Warning } from '../model/warnings.js';
import { toJson } from '../model/serialise.js';
import { validate } from '../model/validate.js';
import { compareHostNames, type FleetItem, type Shard, shardOf } from './fleet-source.js';
import { startWorker } from './threads.js';
import { type Layout, VIOLATION_KINDS, type ViolationKind } from '../explain/verify.js';

export { fleetFiles, fleetItems } from './fleet-source.js';

/** A violation as it crosses the thread boundary: plain text and the fields that group it. */
export interface FleetViolation {
  kind: ViolationKind;
  placement: string;
  enforced: boolean;
  message: string;
  /** The violation without anything host-specific (file names, paths): what groups hosts. */
  reason: string;
  source?: string;
}

export type FleetHostResult =
  | { file: string; host: string; ok: boolean; violations: FleetViolation[]; warnings: Warning[] }
  | { file: string; error: string };

export interface FleetReport {
  ok: boolean;
  total: number;
  accepted: number;
  rejected: number;
  unreadable: number;
  /** Hosts whose verdict rests on warnings (facts skipped or assumed). */
  warned: number;
  /** Per host file, in file-name order. */
  hosts: FleetHostResult[];
  /** Reasons for rejection, most common first, with how many hosts each stops. */
  reasons: Array<{ reason: string; hosts: number; examples: string[] }>;
}

export interface FleetOptions {
  /** Worker threads (default: the cores available, at most one per 50 hosts). */
  workers?: number;
  /** Called as hosts finish: how many are done, and out of how many when that is known. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Check only the hosts of this shard (split by name, see {@link shardOf}). */
  shard?: Shard;
}

/** Messages between the fleet and its workers. */
export type ToFleetWorker = { type: 'batch'; items: FleetItem[] } | { type: 'done' };
export type FromFleetWorker =
  | { type: 'ready' }
  | { type: 'results'; results: FleetHostResult[] }
  /** Verifying `file` failed with an error that is not bad input: a bug in us. */
  | { type: 'internal'; file: string; message: string; stack?: string };

const BATCH = 100;

type Hosts = readonly string[] | readonly FleetItem[] | AsyncIterable<FleetItem>;

/**
 * Verify `layout` against every host of `hosts` (host file paths, or items from
 * {@link fleetItems}), in parallel. Each worker verifies each distinct set of host facts once
 * (see fleet-worker), and messages are only formatted for hosts that reject.
 */
export async function verifyFleet(layout: Layout, hosts: Hosts, options: FleetOptions = {}): Promise<FleetReport> {
  const shard = options.shard;
  const mine = (item: FleetItem) => shard === undefined || shardOf(item.key, shard.count) === shard.index;
  // A list is filtered up front: its size bounds the workers and shows in the progress.
  const known = Array.isArray(hosts) ? (hosts as ReadonlyArray<string | FleetItem>).map((h) => (typeof h === 'string' ? { name: h, key: basename(h) } : h)).filter(mine) : undefined;
  const total = known?.length;
  const source: AsyncIterator<FleetItem> | Iterator<FleetItem> = known ? known[Symbol.iterator]() : (hosts as AsyncIterable<FleetItem>)[Symbol.asyncIterator]();
  const want = options.workers ?? availableParallelism();
  const workers = Math.max(1, Math.min(want, total === undefined ? want : Math.ceil(total / 50)));
  const results: FleetHostResult[] = [];
  let failure: unknown;
  /** The next batch of this shard's items; empty when the source is done. */
  const take = async (): Promise<FleetItem[]> => {
    const batch: FleetItem[] = [];
    while (batch.length < BATCH && failure === undefined) {
      const next = await source.next();
      if (next.done) break;
      if (known || mine(next.value)) batch.push(next.value);
    }
    return batch;
  };
  await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<void>((resolve, reject) => {
        const worker = startWorker(import.meta.url, './fleet-worker', { workerData: { layout } });
        const feed = () => {
          take().then(
            (batch) => worker.postMessage(batch.length > 0 ? ({ type: 'batch', items: batch } satisfies ToFleetWorker) : ({ type: 'done' } satisfies ToFleetWorker)),
            (error: unknown) => {
              failure ??= error;
              worker.postMessage({ type: 'done' } satisfies ToFleetWorker);
            },
          );
        };
        worker.on('message', (message: FromFleetWorker) => {
          if (message.type === 'internal') {
            // Not an unreadable host: the run stops and the caller gets an internal error naming the host.
            const error = new Error(`while verifying ${message.file}: ${message.message}`);
            if (message.stack) error.stack = `${error.message}\n(in a fleet worker) ${message.stack}`;
            failure ??= error;
            worker.postMessage({ type: 'done' } satisfies ToFleetWorker);
            return;
          }
          if (message.type === 'results') {
            for (const r of message.results) results.push(r);
            options.onProgress?.(results.length, total);
          }
          feed();
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a fleet worker exited with code ${code}`))));
      }),
    ),
  );
  if (failure !== undefined) throw failure;
  return summarise(results);
}

/** How many example hosts a fleet summary names per rejection reason. */
export const FLEET_EXAMPLES = 3;

/** Counts and reasons, hosts in name order (see {@link compareHostNames}). */
export function summarise(results: readonly FleetHostResult[]): FleetReport {
  const hosts = [...results].sort((a, b) => compareHostNames(a.file, b.file));
  const counts = new Map<string, number>();
  const examples = new Map<string, string[]>();
  let accepted = 0;
  let rejected = 0;
  let unreadable = 0;
  let warned = 0;
  for (const h of hosts) {
    if (!('error' in h) && h.warnings.length > 0) warned++;
    if ('error' in h) unreadable++;
    else if (h.ok) accepted++;
    else {
      rejected++;
      for (const reason of new Set(h.violations.map((v) => v.reason))) {
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
        // The first few hosts (in file order) that have this reason, to name in a summary.
        const named = examples.get(reason) ?? [];
        if (named.length < FLEET_EXAMPLES) examples.set(reason, [...named, h.host]);
      }
    }
  }
  const reasons = [...counts].map(([reason, n]) => ({ reason, hosts: n, examples: examples.get(reason) ?? [] })).sort((a, b) => b.hosts - a.hosts || (a.reason < b.reason ? -1 : 1));
  return { ok: rejected === 0 && unreadable === 0, total: hosts.length, accepted, rejected, unreadable, warned, hosts, reasons };
}

/** What `verify --fleet --shard I/N` writes: the shard's report, which shard, and which layout. */
export interface FleetShardReport extends FleetReport {
  shard: Shard;
  /** sha256 of the layout as checked (after `--devices`): shards of different layouts do not merge. */
  layout: string;
}

/** The layout's digest, as a shard report records it. */
export function layoutDigest(layout: Layout): string {
  return createHash('sha256').update(toJson(layout, 0)).digest('hex');
}

const zViolation = z.object({
  kind: z.enum(VIOLATION_KINDS),
  placement: z.string(),
  enforced: z.boolean(),
  message: z.string(),
  reason: z.string(),
  source: z.string().optional(),
});
const zShardWarning = z.object({ file: z.string(), line: z.number().int(), message: z.string(), text: z.string().default(''), kind: z.enum(['skipped-line', 'assumption', 'conflict', 'unreadable']).optional(), host: z.string().optional() });
const zShardReport = z.object({
  shard: z.object({ index: z.number().int().nonnegative(), count: z.number().int().positive() }),
  layout: z.string(),
  hosts: z.array(z.union([z.object({ file: z.string(), host: z.string(), ok: z.boolean(), violations: z.array(zViolation), warnings: z.array(zShardWarning).default([]) }), z.object({ file: z.string(), error: z.string() })])),
});

/**
 * One report from the shard reports of a fleet (each `{file, data}` as read): the same counts,
 * reasons and host order as one run over the whole fleet. Refuses shards of different layouts
 * or shard counts, and a missing or repeated shard.
 */
export function mergeFleetReports(parts: ReadonlyArray<{ file: string; data: unknown }>): FleetReport {
  if (parts.length === 0) throw new InputError('no shard results to merge');
  const shards = parts.map((p) => ({ file: p.file, report: validate(zShardReport, p.data, p.file) }));
  const first = shards[0];
  const seen = new Map<number, string>();
  for (const { file, report } of shards) {
    if (report.layout !== first.report.layout) throw new InputError(`checked another layout than ${first.file} (layout digest ${report.layout.slice(0, 12)}… vs ${first.report.layout.slice(0, 12)}…)`, { file, path: '$.layout' });
    if (report.shard.count !== first.report.shard.count) throw new InputError(`is shard ${report.shard.index}/${report.shard.count}, but ${first.file} is one of ${first.report.shard.count}`, { file, path: '$.shard.count' });
    const other = seen.get(report.shard.index);
    if (other !== undefined) throw new InputError(`shard ${report.shard.index}/${report.shard.count} is given twice (also ${other})`, { file, path: '$.shard.index' });
    if (report.shard.index >= report.shard.count) throw new InputError(`shard index ${report.shard.index} is not below the count ${report.shard.count}`, { file, path: '$.shard.index' });
    seen.set(report.shard.index, file);
  }
  const count = first.report.shard.count;
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new InputError(`shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: give every shard's results`);
  return summarise(shards.flatMap((s) => s.report.hosts as FleetHostResult[]));
}
