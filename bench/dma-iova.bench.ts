// DMA-API IOVA allocator: the four workloads the kernel's own allocator was measured on
// (userspace build, -O2, one thread, same machines): 10^6 free+alloc pairs against 4,096 live
// IOVAs under a 32-bit limit, granule 4 KiB; plus a fragmented 32-bit space. Each figure names
// the kernel's number (`linux_ref_ns`) and the target for the `default` policy; one "op" is
// one free+alloc pair. Deterministic: a seeded PRNG picks sizes and victims.
import { DmaIovaDomain, type DmaIovaPolicyName } from '../src/allocators/index.js';
import type { Report } from './run.js';

const GRANULE = 4096;
const LIMIT32 = 2 ** 20 - 1; // last pfn below 4 GiB
const LIVE = 4096;
const PAIRS = 1_000_000;
const WARMUP = 100_000;
const POLICIES: DmaIovaPolicyName[] = ['default', 'linux'];

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function newDomain(policy: DmaIovaPolicyName): DmaIovaDomain {
  return new DmaIovaDomain({ granule: GRANULE, startPfn: 1, policy });
}

interface Churn {
  nsPerOp: number;
  failures: number;
}

/**
 * Keeps LIVE ranges allocated and replaces a random one per step: free it, allocate a new one
 * of random size in [1, maxSize]. `fast` uses allocFast/freeFast, else alloc(aligned)/free.
 */
function churn(policy: DmaIovaPolicyName, maxSize: number, fast: boolean): Churn {
  const d = newDomain(policy);
  const rand = prng(0x5eed + maxSize);
  const pfns = new Float64Array(LIVE);
  const sizes = new Float64Array(LIVE);
  let failures = 0;
  const allocOne = (i: number): void => {
    const size = 1 + Math.floor(rand() * maxSize);
    const at = fast ? d.allocFast(size, LIMIT32) : d.alloc(size, LIMIT32, true);
    if (at === undefined) {
      failures++;
      sizes[i] = 0;
    } else {
      pfns[i] = at;
      sizes[i] = size;
    }
  };
  const step = (): void => {
    const i = Math.floor(rand() * LIVE);
    if (sizes[i] !== 0) {
      if (fast) d.freeFast(pfns[i], sizes[i]);
      else d.free(pfns[i]);
    }
    allocOne(i);
  };
  for (let i = 0; i < LIVE; i++) allocOne(i);
  for (let k = 0; k < WARMUP; k++) step();
  failures = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < PAIRS; k++) step();
  const ns = Number(process.hrtime.bigint() - t0);
  const bad = d.check();
  if (bad !== undefined) throw new Error(`${policy}: allocator broken after churn: ${bad}`);
  return { nsPerOp: ns / PAIRS, failures };
}

interface Fragmented {
  nodes: number;
  nsPerRequest: number;
  requests: number;
  setupMs: number;
}

/**
 * Fills the 32-bit space with 4 KiB allocations, frees every other one (leaving 1-page holes),
 * then asks for 8 KiB (2 pages, size-aligned), which cannot fit. Under `linux` a failure sets
 * the 32-bit gate, which would make the next request fail without a walk; so before each timed
 * request one page is allocated and freed again (untimed), which lifts the gate as any free
 * below 4 GiB does and leaves the space as it was.
 */
function fragmented(policy: DmaIovaPolicyName, requests: number): Fragmented {
  const t0 = performance.now();
  const d = newDomain(policy);
  const pfns: number[] = [];
  for (;;) {
    const at = d.alloc(1, LIMIT32, false);
    if (at === undefined) break;
    pfns.push(at);
  }
  for (let i = 0; i < pfns.length; i += 2) d.free(pfns[i]);
  const setupMs = performance.now() - t0;
  let ns = 0;
  for (let k = 0; k < requests; k++) {
    const hole = d.alloc(1, LIMIT32, false);
    if (hole !== undefined) d.free(hole);
    const s = process.hrtime.bigint();
    const at = d.alloc(2, LIMIT32, true);
    ns += Number(process.hrtime.bigint() - s);
    if (at !== undefined) throw new Error(`${policy}: an 8 KiB request fitted into a 4 KiB-fragmented space`);
  }
  return { nodes: d.rangeCount, nsPerRequest: ns / requests, requests, setupMs: Math.round(setupMs) };
}

export async function run(report: Report): Promise<void> {
  const churns = [
    { workload: 'i-fast-1..64', maxSize: 64, fast: true, linuxRef: 730, target: 365 },
    { workload: 'i2-fast-1..32', maxSize: 32, fast: true, linuxRef: 8.5, target: 35 },
    { workload: 'ii-tree-1..64-aligned', maxSize: 64, fast: false, linuxRef: 2000, target: 400 },
  ];
  const seen = new Map<string, number>();
  for (const c of churns) {
    for (const policy of POLICIES) {
      const r = churn(policy, c.maxSize, c.fast);
      seen.set(`${c.workload}/${policy}`, r.nsPerOp);
      report({
        workload: c.workload,
        policy,
        ns_per_op: round(r.nsPerOp),
        linux_ref_ns: c.linuxRef,
        default_target_ns: c.target,
        meets_target: policy === 'default' ? r.nsPerOp <= c.target : r.nsPerOp <= 2 * (seen.get(`${c.workload}/default`) ?? Infinity),
        target_rule: policy === 'default' ? 'default <= target' : 'linux <= 2x default',
        ops: PAIRS,
        live: LIVE,
        failures: r.failures,
      });
    }
  }
  for (const policy of POLICIES) {
    const r = fragmented(policy, policy === 'linux' ? 20 : 10_000);
    report({
      workload: 'iii-fragmented-32bit-8KiB-fails',
      policy,
      ns_per_request: round(r.nsPerRequest),
      linux_ref_ns: '5000000-11000000',
      default_target_ns: 10_000,
      meets_target: policy === 'default' ? r.nsPerRequest <= 10_000 : 'n/a (linux must walk every node)',
      nodes: r.nodes,
      requests: r.requests,
      setup_ms: r.setupMs,
    });
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
