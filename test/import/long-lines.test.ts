/**
 * Linear time on any input: every importer is fed 1 MB lines shaped to defeat backtracking
 * regexes (long runs of spaces, tabs, NULs, brackets, flag words, digits) after a real line's
 * opening. The assertions are on the result — a located warning or a located refusal; a
 * backtracking pattern would not finish a single case within the test's time limit.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { importText, readSysfsRoot } from '../../src/model/import/index.js';

const MB = 1 << 20;
const fixtures = path.join(import.meta.dirname, '../fixtures/import');
const KINDS = ['reserved-regions', 'lspci', 'iomem', 'dmesg', 'groups'] as const;
const sample = (kind: string) => readFileSync(path.join(fixtures, `${kind}.txt`), 'utf8').split('\n').filter((l) => l.trim() !== '');

/** Runs that made patterns of this code base quadratic, and a few more of the same families. */
const FILLS = [' ', '\t', '\0', '[', 'a', '0', 'SrcValid+ ', '[x] ', ' a', '> ', '0x0 ', ':'];

/** The opening of a line: up to its second word, so the filler lands inside the pattern. */
function opening(line: string): string {
  const m = /^\s*\S+\s+\S+\s?/.exec(line);
  return m ? m[0] : line;
}

describe('1 MB lines', () => {
  for (const kind of KINDS) {
    it(`${kind}: every importer reads a 1 MB line in linear time and says where it was`, () => {
      const lines = sample(kind);
      const head = lines.slice(0, 3);
      for (const fill of FILLS) {
        const long = opening(lines[0]) + fill.repeat(Math.ceil(MB / fill.length)) + '!';
        const text = [...head, long, ...head].join('\n');
        let host;
        try {
          host = importText(text, `${kind}.txt`);
        } catch (error) {
          expect(error, JSON.stringify(fill)).toBeInstanceOf(InputError);
          expect((error as InputError).line).toBeGreaterThanOrEqual(1);
          continue;
        }
        // The long line gave no fact: it is reported at its own line, or recognised and ignored.
        const at = host.warnings.filter((w) => w.line === head.length + 1);
        for (const w of at) expect(w.text.length).toBe(long.length);
        expect(host.warnings.every((w) => w.file === `${kind}.txt` && w.line <= 2 * head.length + 1)).toBe(true);
      }
    });
  }

  it('one line of 1 MB of NUL-padded spaces before text, and trailing padding, are both handled', () => {
    const text = `0x00000000fee00000 0x00000000feefffff msi${' '.repeat(MB)}\n${'\0'.repeat(MB)}`;
    const host = importText(text, 'pad.txt');
    expect(host.reservedRegions.map((r) => r.type)).toEqual(['msi']);
  });

  it('the sysfs reader: 1 MB lines in reserved_regions, resource, cap and dma_mask_bits are located warnings', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'iova-long-'));
    const group = path.join(root, 'sys/kernel/iommu_groups/3');
    const dev = path.join(root, 'sys/bus/pci/devices/0000:01:00.0');
    const cap = path.join(root, 'sys/class/iommu/dmar0/intel-iommu');
    for (const d of [path.join(group, 'devices'), dev, cap]) mkdirSync(d, { recursive: true });
    const long = `0x1${'0'.repeat(MB)}`; // far above 2^64
    writeFileSync(path.join(group, 'reserved_regions'), `0x00000000fee00000 0x00000000feefffff msi\n${long} 0x1 direct\n`);
    writeFileSync(path.join(dev, 'resource'), `\n${long} ${long} 0x200\n`);
    writeFileSync(path.join(dev, 'dma_mask_bits'), '6'.repeat(MB));
    writeFileSync(path.join(cap, 'cap'), 'f'.repeat(MB));
    const host = readSysfsRoot(root);
    expect(host.groups.map((g) => g.reservedRegions.length)).toEqual([1]);
    const at = (file: string) => host.warnings.filter((w) => w.file === file).map((w) => w.line);
    expect(at(path.join(group, 'reserved_regions'))).toEqual([2]);
    expect(at(path.join(dev, 'resource'))).toEqual([2]);
    expect(at(path.join(dev, 'dma_mask_bits'))).toEqual([1]);
    expect(at(path.join(cap, 'cap'))).toEqual([1]);
  });
});
