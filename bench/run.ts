// Runs every bench/*.bench.ts in name order (or only those named on the command line).
// Each module exports `run(report)`; figures are printed one JSON object per line so that
// they can be compared across runs. Benchmarks measure; they never assert.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Figure = Record<string, string | number | boolean>;
export type Report = (figure: Figure) => void;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: (r: Report) => Promise<void> | void };
  const bench = file.replace(/\.bench\.ts$/, '');
  await mod.run((figure) => console.log(JSON.stringify({ bench, ...figure })));
}
