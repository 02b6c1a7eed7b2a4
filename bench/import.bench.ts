/**
 * Import throughput: MB/s of `importText` on inputs of the same total size made of 1 KB
 * lines and of 1 MB lines, side by side, per source kind. Long lines cost what short ones do
 * per byte when every pattern is linear; a backtracking pattern shows as a collapse of the
 * 1 MB figure. Lines are real lines of each kind (test/fixtures/import) repeated, padded after
 * their first word to the line size (so most become warnings, or the file is refused as not
 * host facts after every line was read: both are timed).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from './run.js';
import { importText } from '../src/model/import/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../test/fixtures/import');
const KINDS = ['reserved-regions', 'lspci', 'iomem', 'dmesg', 'groups'] as const;
const TOTAL = 4 << 20; // bytes per input

/** Lines of about `size` bytes: real lines, each padded after its first word. */
function input(kind: string, size: number): string {
  const lines = readFileSync(join(fixtures, `${kind}.txt`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < TOTAL; i++) {
    const line = lines[i % lines.length];
    const cut = line.indexOf(' ', line.search(/\S/)) + 1 || line.length;
    const padded = line.slice(0, cut) + ' x'.repeat(Math.max(0, (size - line.length) >> 1)) + line.slice(cut);
    out.push(padded);
    bytes += padded.length + 1;
  }
  return out.join('\n');
}

/** Import, or the refusal of text that is not host facts (it comes after every line is read). */
function attempt(text: string): void {
  try {
    importText(text, 'bench');
  } catch {
    // a refusal is a result too: it is timed like an import
  }
}

function mbPerSecond(text: string, repeat: number): number {
  attempt(text);
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) attempt(text);
  const seconds = (performance.now() - t0) / 1000 / repeat;
  return text.length / (1 << 20) / seconds;
}

export async function run(report: Report): Promise<void> {
  const round = (x: number) => Math.round(x * 100) / 100;
  for (const kind of KINDS) {
    const short = input(kind, 1 << 10);
    const long = input(kind, 1 << 20);
    const shortRate = mbPerSecond(short, 3);
    const longRate = mbPerSecond(long, 3);
    report({
      case: `import ${kind}`,
      input_mb: round(TOTAL / (1 << 20)),
      'mb_per_s_1kb_lines': round(shortRate),
      'mb_per_s_1mb_lines': round(longRate),
      ratio_1mb_to_1kb: round(longRate / shortRate),
      loadavg_1m: round(loadavg()[0]),
    });
  }
}
