/**
 * Fleet verification: one layout checked against every host file in a directory, in worker
 * threads on all cores, with progress reported as hosts finish. A host file that cannot be
 * read is reported and counted and does not stop the run. The result groups the hosts that
 * reject the layout by reason, so that "2,100 hosts have the HyperTransport hole in the way"
 * reads as one line.
 */
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../model/errors.js';
import type { Warning } from '../model/warnings.js';
import { startWorker } from './threads.js';
import type { Layout, ViolationKind } from '../explain/verify.js';

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
  /** Worker threads (default: the cores available, at most one per 50 files). */
  workers?: number;
  /** Called as hosts finish: how many are done out of how many. */
  onProgress?: (done: number, total: number) => void;
}

/** The host files of a fleet directory: every `*.json` directly in it, sorted by name. */
export function fleetFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError('is not a directory', { file: dir });
    names = readdirSync(dir);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read the fleet directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: dir });
  }
  const files = names.filter((n) => n.endsWith('.json')).sort().map((n) => join(dir, n));
  if (files.length === 0) throw new InputError('no host files (*.json) in the fleet directory', { file: dir });
  return files;
}

/** Messages between the fleet and its workers. */
export type ToFleetWorker = { type: 'batch'; files: string[] } | { type: 'done' };
export type FromFleetWorker = { type: 'ready' } | { type: 'result'; result: FleetHostResult } | { type: 'idle' };

const BATCH = 25;

/** Verify `layout` against every host file, in parallel. */
export async function verifyFleet(layout: Layout, files: readonly string[], options: FleetOptions = {}): Promise<FleetReport> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), Math.ceil(files.length / 50)));
  const queue = [...files];
  const results: FleetHostResult[] = [];
  await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<void>((resolve, reject) => {
        const worker = startWorker(import.meta.url, './fleet-worker', { workerData: { layout } });
        const feed = () => {
          const files = queue.splice(0, BATCH);
          worker.postMessage(files.length > 0 ? ({ type: 'batch', files } satisfies ToFleetWorker) : ({ type: 'done' } satisfies ToFleetWorker));
        };
        worker.on('message', (message: FromFleetWorker) => {
          if (message.type === 'result') {
            results.push(message.result);
            options.onProgress?.(results.length, files.length);
          } else feed();
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a fleet worker exited with code ${code}`))));
      }),
    ),
  );
  return summarise(results);
}

/** How many example hosts a fleet summary names per rejection reason. */
export const FLEET_EXAMPLES = 3;

/** Counts and reasons, hosts in file order. */
export function summarise(results: readonly FleetHostResult[]): FleetReport {
  const hosts = [...results].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
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
