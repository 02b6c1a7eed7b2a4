// Not a bench module: `npx tsx bench/ioas-baseline.ts <src-root>` times the same fixed-map workload
// as bench/ioas.bench.ts on another checkout of src/ (e.g. `git archive e5bd398 src`), so that the
// cost of the kernel-version rules is compared with the code before them in one sitting.
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';

const root = process.argv[2];
if (!root) throw new Error('usage: tsx bench/ioas-baseline.ts <path to a src/ directory>');
const ioasPath = ['ioas/index.ts', 'allocators/ioas/index.ts'].map((p) => `${root}/${p}`);
const { existsSync } = await import('node:fs');
const mod = await import(pathToFileURL(ioasPath.find((p) => existsSync(p)) as string).href);
const { parseHostFacts } = await import(pathToFileURL(`${root}/model/schema.ts`).href);
const { HOST_JSON } = await import('./ioas.bench.js');
const host = parseHostFacts(HOST_JSON);
for (const policy of ['iommufd', 'vfio-type1']) {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const ioas = mod.Ioas.create(host, { policy, suggestions: false });
    ioas.attach('0000:41:00.0');
    ioas.attach('0000:42:00.0');
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) ioas.map({ iova: 0x1_0000_0000n + BigInt(i) * 0x10000n, length: 0x1000n, va: 0x7f00_0000_0000n + BigInt(i) * 0x1000n });
    best = Math.min(best, (performance.now() - t0) / 2000);
  }
  console.log(JSON.stringify({ bench: 'ioas-baseline', root, policy, mappings: 2000, 'µs/map': Number((best * 1000).toFixed(2)), load: loadavg()[0].toFixed(2) }));
}
