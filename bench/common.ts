// What the allocator benchmarks share: a seeded PRNG (the kernel harness has the same one in C)
// and best-of-N timing.

/** mulberry32 with its state in a typed array (no boxed numbers on the way). */
export function prng(seed: number): () => number {
  const state = new Uint32Array([seed]);
  return () => {
    state[0] += 0x6d2b79f5;
    let t = state[0];
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The best (lowest CPU time) of `runs` results. */
export function best<T extends { cpuNs: number }>(runs: number, make: () => T): T {
  let top: T | undefined;
  for (let r = 0; r < runs; r++) {
    const t = make();
    if (top === undefined || t.cpuNs < top.cpuNs) top = t;
  }
  return top as T;
}
