/**
 * Fuzz over the command line: argument vectors built from the real commands and options, with
 * hostile values, missing values, repeats and stray words, pointed at small valid and broken
 * files. Every answer is clean: no exit 4, no raw error, usage problems as one `iova …` line.
 * `import` and `replay` are left out (their readers are fuzzed with the importers).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { iova } from '../cli/run.js';
import { expectCleanAnswer, hostileString, runs } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'iova-fuzz-args-'));
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};
const host = file('host.json', { name: 'h', platform: { profile: 'intel-vtd', addressWidth: 39 }, devices: [{ id: '00:02.0', group: 1 }], groups: [{ id: 1, devices: ['0000:00:02.0'] }] });
const spec = file('spec.json', { host: 'host.json', requests: [{ name: 'a', size: '2M' }] });
const layout = file('layout.json', { placements: [{ name: 'a', iova: '0x200000', size: '2M' }] });
const ioas = file('ioas.json', { host: 'host.json', attached: ['00:02.0'], mappings: [{ start: 0, size: '1M' }] });
const broken = file('broken.json', '{"name": ');
const FILES = [host, spec, layout, ioas, broken, join(dir, 'missing.json'), dir];

const COMMANDS = ['ranges', 'solve', 'verify', 'explain', 'check-attach', 'render', 'schema', 'help', 'nope'];
const OPTIONS = [
  '--json', '--strict', '--help', '-h', '--policy', '--devices', '--device', '--dma-api-holes', '--no-dma-api-holes', '--host', '--fleet', '--workers',
  '--timeout', '--iova', '--length', '--va', '--auto', '--fixed', '--format', '--title', '--width', '--wide', '-o', '--output', '--', '-', '--policy=',
];
const VALUES = ['iommufd', 'vfio-type1', 'dma-iommu', 'map', 'attach', 'all', '00:02.0', 'group:1', '0x200000', '2M', '0', '-1', 'svg', 'html', 'txt', 'host', 'spec', 'layout', 'ioas', '480', '100000'];

/** One argument: a command word, an option, a value, a file, or anything at all. */
const arg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...OPTIONS) },
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 3, arbitrary: fc.constantFrom(...FILES) },
  { weight: 1, arbitrary: fc.constantFrom(...COMMANDS) },
  { weight: 2, arbitrary: hostileString },
);

/** Outputs stay in the scratch directory: `-o` and `--output` are followed by a file there. */
function safeOutputs(argv: string[]): string[] {
  return argv.map((a, i) => (i > 0 && (argv[i - 1] === '-o' || argv[i - 1] === '--output') ? join(dir, `out-${i}.svg`) : a.startsWith('--output=') ? `--output=${join(dir, 'o.svg')}` : a));
}

describe('fuzz: the argument parser', () => {
  it('every command line gets a clean answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...COMMANDS), fc.array(arg, { maxLength: 7 }), async (command, rest) => {
        // Solving commands get a time limit unless the case gives one.
        const limit = ['solve', 'render', 'check-attach'].includes(command) && !rest.includes('--timeout') ? ['--timeout', '5000'] : [];
        const argv = safeOutputs([command, ...rest, ...limit]);
        const r = await iova(...argv);
        expectCleanAnswer(r);
      }),
      { numRuns: runs(40) },
    );
  }, 600_000);

  it('no command at all, or only options', async () => {
    await fc.assert(
      // Bare `iova` (its usage text) is the CLI-conventions work's to settle; here, one word or more.
      fc.asyncProperty(fc.array(fc.constantFrom(...OPTIONS, ...VALUES), { minLength: 1, maxLength: 3 }), async (argv) => {
        expectCleanAnswer(await iova(...argv));
      }),
      { numRuns: runs(20) },
    );
  }, 600_000);
});
