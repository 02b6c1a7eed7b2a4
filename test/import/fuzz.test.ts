/**
 * Fuzz suite over every importer (fast-check): text of any shape — real lines of each kind,
 * mangled copies, control characters, arbitrary strings — is either imported or refused with
 * a located InputError; never a raw error. Every warning names the file and a line that exists
 * (quoting that line exactly), and the same input gives the same bytes. The sysfs reader gets
 * random trees, the number parser random text.
 *
 * Runs stay small in the suite; `npm run fuzz` raises them (FUZZ_RUNS).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ADDRESS, parseAddress } from '../../src/model/address.js';
import { InputError } from '../../src/model/errors.js';
import type { HostFacts } from '../../src/model/host.js';
import { importText, readSysfsRoot } from '../../src/model/import/index.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { hostToJson } from '../../src/model/serialise.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const fixtures = path.join(import.meta.dirname, '../fixtures/import');
const KINDS = ['reserved-regions', 'lspci', 'iomem', 'dmesg', 'groups'] as const;
const samples = Object.fromEntries(
  KINDS.map((k) => [k, readFileSync(path.join(fixtures, `${k}.txt`), 'utf8').split('\n').filter((l) => l !== '')]),
) as Record<(typeof KINDS)[number], string[]>;
const allLines = KINDS.flatMap((k) => samples[k]);

const noise = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('\t', ' ', '\0', '\x1b[31m', '\r', '[', ']', '0x', '-', ':', '+', '>', '#', '$ ', '…', 'ﬀ', '\u202e'),
);

/** A real line with a slice replaced by noise. */
const mangled = (pool: string[]) =>
  fc.tuple(fc.constantFrom(...pool), fc.nat(), fc.nat({ max: 6 }), noise).map(([line, at, cut, insert]) => {
    const i = line.length === 0 ? 0 : at % (line.length + 1);
    return line.slice(0, i) + insert + line.slice(i + cut);
  });

const structure = fc.constantFrom('', '# header', '$ cat /sys/kernel/iommu_groups/3/reserved_regions', '[...]', '```', '/sys/kernel/iommu_groups/4');

const lineOf = (pool: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 4, arbitrary: mangled(pool) }, structure, fc.string({ maxLength: 60 }));

/** Text of one kind, or of all kinds mixed, joined with LF or CRLF. */
const text = fc
  .tuple(fc.constantFrom<(typeof KINDS)[number] | 'mixed'>(...KINDS, 'mixed'), fc.boolean())
  .chain(([kind, crlf]) =>
    fc.array(lineOf(kind === 'mixed' ? allLines : samples[kind]), { maxLength: 30 }).map((lines) => ({ lines, joined: lines.join(crlf ? '\r\n' : '\n') })),
  );

/** Import, or the located refusal; anything else fails the property. */
function importOrRefuse(body: string, file: string, lineCount: number): HostFacts | undefined {
  try {
    return importText(body, file);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).file).toBe(file);
    expect((error as InputError).line).toBeGreaterThanOrEqual(1);
    expect((error as InputError).line).toBeLessThanOrEqual(lineCount);
    return undefined;
  }
}

describe('fuzz: text importers', () => {
  it('import or a located refusal; warnings name an existing line and quote it; same input, same bytes', () => {
    fc.assert(
      fc.property(text, ({ joined }) => {
        const physical = joined.replace(/\0+$/, '').split(/\r?\n/);
        if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
        const host = importOrRefuse(joined, 'fuzz.txt', Math.max(1, physical.length));
        if (!host) return;
        for (const w of host.warnings) {
          expect(w.file).toBe('fuzz.txt');
          expect(w.line).toBeGreaterThanOrEqual(0);
          expect(w.line).toBeLessThanOrEqual(physical.length);
          if (w.line > 0) expect(w.text).toBe(physical[w.line - 1]);
          expect(w.message.length).toBeGreaterThan(0);
        }
        const json = hostToJson(host);
        expect(hostToJson(importText(joined, 'fuzz.txt'))).toBe(json);
        expect(parseHostFacts(JSON.parse(json))).toEqual(host);
      }),
      { numRuns: RUNS, seed: Number(process.env.IOVA_FUZZ_SEED ?? 20261206) },
    );
  });
});

describe('fuzz: sysfs reader', () => {
  const hexish = fc.oneof(fc.bigInt({ min: 0n, max: MAX_ADDRESS }).map((v) => `0x${v.toString(16).padStart(16, '0')}`), fc.string({ maxLength: 20 }));
  const resourceLine = fc.tuple(hexish, hexish, hexish).map((parts) => parts.join(' '));
  const device = fc.record({
    bdf: fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 31 }), fc.nat({ max: 7 })).map(([b, d, f]) => `0000:0${b}:${d.toString(16).padStart(2, '0')}.${f}`),
    cls: fc.constantFrom('0x060400', '0x020000', '0x030000', 'junk'),
    resource: fc.array(resourceLine, { maxLength: 18 }),
    mask: fc.constantFrom('64', '32', '0', 'x', ''),
    config: fc.uint8Array({ maxLength: 300 }),
  });
  const tree = fc.record({
    groups: fc.array(fc.tuple(fc.nat({ max: 40 }), fc.array(lineOf(samples['reserved-regions']), { maxLength: 5 })), { maxLength: 4 }),
    devices: fc.array(device, { maxLength: 4 }),
    caps: fc.array(fc.oneof(fc.bigInt({ min: 0n, max: MAX_ADDRESS }).map((v) => v.toString(16)), fc.string({ maxLength: 10 })), { maxLength: 3 }),
  });

  it('random trees: facts or located warnings, never a raw error, same result twice', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const root = mkdtempSync(path.join(tmpdir(), 'iova-fuzz-'));
        try {
          const sys = path.join(root, 'sys');
          mkdirSync(path.join(sys, 'kernel/iommu_groups'), { recursive: true });
          for (const [id, lines] of t.groups) {
            mkdirSync(path.join(sys, `kernel/iommu_groups/${id}/devices`), { recursive: true });
            writeFileSync(path.join(sys, `kernel/iommu_groups/${id}/reserved_regions`), lines.join('\n'));
          }
          for (const d of t.devices) {
            const dir = path.join(sys, 'bus/pci/devices', d.bdf);
            mkdirSync(dir, { recursive: true });
            writeFileSync(path.join(dir, 'class'), d.cls);
            writeFileSync(path.join(dir, 'resource'), d.resource.join('\n'));
            writeFileSync(path.join(dir, 'dma_mask_bits'), d.mask);
            writeFileSync(path.join(dir, 'config'), d.config);
          }
          t.caps.forEach((cap, i) => {
            mkdirSync(path.join(sys, `class/iommu/dmar${i}/intel-iommu`), { recursive: true });
            writeFileSync(path.join(sys, `class/iommu/dmar${i}/intel-iommu/cap`), cap);
          });
          let host: HostFacts;
          try {
            host = readSysfsRoot(root);
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
            expect((error as InputError).file).toBeDefined();
            return;
          }
          for (const w of host.warnings) {
            expect(w.file.startsWith(root)).toBe(true);
            expect(w.line).toBeGreaterThanOrEqual(0);
          }
          expect(hostToJson(readSysfsRoot(root))).toBe(hostToJson(host));
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: Math.max(8, Math.floor(RUNS / 20)), seed: 20261207 },
    );
  });
});

describe('fuzz: the number parser', () => {
  it('any text: a 64-bit value or an InputError quoting it', () => {
    const input = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.tuple(fc.bigInt({ min: 0n, max: 1n << 70n }), fc.constantFrom('', 'K', 'M', 'G', 'T', 'P', 'E', 'KiB', 'GiB', 'GB', 'kB', 'B', ' MiB')).map(([n, u]) => `${n}${u}`),
      fc.bigInt({ min: 0n, max: 1n << 70n }).map((n) => `0x${n.toString(16)}`),
    );
    fc.assert(
      fc.property(input, (text) => {
        let value: bigint;
        try {
          value = parseAddress(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          return;
        }
        expect(value >= 0n && value <= MAX_ADDRESS).toBe(true);
        // A binary suffix multiplies by its power of 1024; a decimal SI suffix never parses.
        const m = /^(\d+)\s*([KMGTPE])(?:iB)?$/.exec(text.trim());
        if (m) expect(value).toBe(BigInt(m[1]) << (10n * BigInt('KMGTPE'.indexOf(m[2]) + 1)));
        expect(/^\d+\s*[kmgtpe]b$/i.test(text.trim())).toBe(false);
      }),
      { numRuns: RUNS * 4, seed: 20261208 },
    );
  });
});
