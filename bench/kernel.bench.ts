// Side by side with the Linux kernel's own allocator: the distribution's drivers/iommu/iova.c,
// built in userspace against the project's shim (bench/kernel/), runs the same workloads with
// the same PRNG and seeds as the project's `linux` and `default` policies, in the same run.
// Figures are per single operation (an alloc or a free is one op) in process CPU time, best of
// RUNS; the fragmented case is the first failing request in a fresh domain (no gate yet).
// When the kernel source cannot be had (no apt, no network, no C compiler), the C side is
// skipped with a note and the project's figures are still printed.
import { loadavg } from 'node:os';
import { DmaIovaDomain, type DmaIovaPolicyName } from '../src/allocators/index.js';
import { buildKernelHarness, runKernelHarness, type KernelFigure } from './kernel/build.js';
import { best, prng } from './common.js';
import type { Report } from './run.js';

const LIVE = 4096;
const LIMIT32 = 2 ** 20 - 1;
const PAIRS = Number(process.env.IOVA_BENCH_PAIRS ?? 1_000_000);
const RUNS = 3;


const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

interface Result {
  /** CPU ns per op. */
  cpuNs: number;
  wallNsPerOp: number;
  failures: number;
}

/** As `churn` in bench/kernel/harness.c: per op, 2 ops per step. */
export function churn(policy: DmaIovaPolicyName, maxSize: number, fast: boolean, pairs = PAIRS): Result {
  const d = new DmaIovaDomain({ granule: 4096, startPfn: 1, policy });
  const rand = prng(0x5eed + maxSize);
  const pfns = new Float64Array(LIVE);
  const sizes = new Int32Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    const size = 1 + Math.floor(rand() * maxSize);
    pfns[i] = (fast ? d.allocFast(size, LIMIT32) : d.alloc(size, LIMIT32, true)) ?? 0;
    sizes[i] = size;
  }
  const victims = new Int32Array(pairs);
  const newSizes = new Int32Array(pairs);
  for (let k = 0; k < pairs; k++) {
    victims[k] = Math.floor(rand() * LIVE);
    newSizes[k] = 1 + Math.floor(rand() * maxSize);
  }
  const c0 = cpuNs();
  const w0 = process.hrtime.bigint();
  const failures = fast ? stepsFast(d, pfns, sizes, victims, newSizes) : stepsTree(d, pfns, sizes, victims, newSizes);
  const cpu = cpuNs() - c0;
  const wall = Number(process.hrtime.bigint() - w0);
  const bad = d.check();
  if (bad !== undefined) throw new Error(`${policy}: allocator broken after churn: ${bad}`);
  return { cpuNs: cpu / (2 * pairs), wallNsPerOp: wall / (2 * pairs), failures };
}

/**
 * As `fragmented` in the harness: the first failing 2-page request of a fresh domain (no gate,
 * cursors where the setup left them), timed alone. The code paths were run before on a small
 * space, as the C's are compiled before it runs; and the process is given a few calls to settle
 * after the million-range setup (the first calls after it pay for the collector, whatever they do).
 */
export function fragmentedFirstFailure(policy: DmaIovaPolicyName): { ns: number; nodes: number } {
  const build = (top: number): DmaIovaDomain => {
    const d = new DmaIovaDomain({ granule: 4096, startPfn: 1, policy });
    while (d.alloc(1, top, false) !== undefined);
    for (let pfn = 1; pfn <= top; pfn += 2) d.free(pfn);
    return d;
  };
  for (let w = 0; w < 200; w++) {
    const small = build(255);
    if (small.alloc(2, 255, true) !== undefined || small.alloc(3, 255, true) !== undefined) throw new Error('fitted');
  }
  const d = build(LIMIT32);
  for (let k = 0; k < 100; k++) d.find(2 * k + 2);
  const w0 = process.hrtime.bigint();
  const at = d.alloc(2, LIMIT32, true);
  const ns = Number(process.hrtime.bigint() - w0);
  if (at !== undefined) throw new Error(`${policy}: 2 pages fitted into a 1-page-fragmented space`);
  return { ns, nodes: d.rangeCount };
}

// The timed loops, one per path, so that each has its own call sites (as a DMA layer's would).
function stepsFast(d: DmaIovaDomain, pfns: Float64Array, sizes: Int32Array, victims: Int32Array, newSizes: Int32Array): number {
  let failures = 0;
  for (let k = 0; k < victims.length; k++) {
    const i = victims[k];
    if (pfns[i] !== 0) d.freeFast(pfns[i], sizes[i]);
    const at = d.allocFast(newSizes[k], LIMIT32) ?? 0;
    if (at === 0) failures++;
    pfns[i] = at;
    sizes[i] = newSizes[k];
  }
  return failures;
}

function stepsTree(d: DmaIovaDomain, pfns: Float64Array, sizes: Int32Array, victims: Int32Array, newSizes: Int32Array): number {
  let failures = 0;
  for (let k = 0; k < victims.length; k++) {
    const i = victims[k];
    if (pfns[i] !== 0) d.free(pfns[i]);
    const at = d.alloc(newSizes[k], LIMIT32, true) ?? 0;
    if (at === 0) failures++;
    pfns[i] = at;
    sizes[i] = newSizes[k];
  }
  return failures;
}


const round = (x: number): number => Math.round(x * 100) / 100;

export async function run(report: Report): Promise<void> {
  const built = await buildKernelHarness((line) => report({ workload: 'kernel-build', note: line }));
  const kernel: Map<string, KernelFigure> = built.ok ? runKernelHarness(built.path, PAIRS, RUNS) : new Map();
  const workloads = [
    { workload: 'fast-1..64', maxSize: 64, fast: true, target: undefined },
    { workload: 'all-cached-1..32', maxSize: 32, fast: true, target: 1.0 },
    { workload: 'tree-1..64-aligned', maxSize: 64, fast: false, target: 0.2 },
  ];
  for (const w of workloads) {
    const c = kernel.get(w.workload);
    for (const policy of ['linux', 'default'] as const) {
      const r = best(RUNS, () => churn(policy, w.maxSize, w.fast));
      const cNs = c === undefined ? undefined : Number(c.ns_per_op);
      const ratio = cNs ? r.cpuNs / cNs : undefined;
      report({
        workload: w.workload,
        policy,
        ns_per_op: round(r.cpuNs),
        wall_ns_per_op: round(r.wallNsPerOp),
        ...(c ? { kernel_c_ns_per_op: cNs as number, ratio_to_c: round(ratio as number) } : { kernel_c: built.ok ? 'missing' : 'skipped' }),
        ...(w.target !== undefined && ratio !== undefined ? { target_ratio: w.target, meets_target: ratio <= w.target } : {}),
        ops: 2 * PAIRS,
        failures: r.failures,
        loadavg_1m: round(loadavg()[0]),
      });
    }
  }
  const c = kernel.get('fragmented-4GiB-first-failing-request');
  for (const policy of ['linux', 'default'] as const) {
    // Median of three fresh domains (one call each).
    const runs = [0, 1, 2].map(() => fragmentedFirstFailure(policy)).sort((x, y) => x.ns - y.ns);
    const r = runs[1];
    const ratio = c?.wall_ns_per_request ? r.ns / (c.wall_ns_per_request as number) : undefined;
    report({
      workload: 'fragmented-4GiB-first-failing-request',
      policy,
      ns_per_request: Math.round(r.ns),
      nodes: r.nodes,
      ...(c ? { kernel_c_ns_per_request: c.wall_ns_per_request, kernel_nodes: c.nodes as number, ratio_to_c: ratio as number } : {}),
      ...(ratio !== undefined ? { target_ratio: 0.001, meets_target: ratio <= 0.001 } : {}),
      ns_each_domain: runs.map((x) => x.ns).join(' '),
      note: 'the first failing request of a fresh domain (no gate, no cached failure), one call, wall time, median of 3 domains; the C likewise (its best of 3)',
      loadavg_1m: round(loadavg()[0]),
    });
  }
}
