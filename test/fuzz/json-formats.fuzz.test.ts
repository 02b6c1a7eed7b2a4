/**
 * Fuzz over every JSON format (host facts, placement spec, layout, IOAS state) through the
 * commands that read them: valid documents mutated one value at a time, arbitrary JSON, and
 * text that is barely JSON. Every answer is clean (no exit 4, no raw error, a located exit 2)
 * and the same on a second run. `npm run fuzz` raises the run count (FUZZ_RUNS).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { iova } from '../cli/run.js';
import { expectCleanAnswer, hostileJson, mutated, runs } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'iova-fuzz-'));

const HOST = {
  name: 'amd',
  platform: { profile: 'amd-vi', addressWidth: 48 },
  groups: [{ id: 12, devices: ['0000:41:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }] }],
  devices: [
    { id: '41:00.0', group: 12, dmaMaskBits: 40, bars: [{ start: '0xb0000000', size: '16M', bar: 0 }] },
    { id: '42:00.0', group: 13, reservedRegions: [{ start: '0x1000', size: 4096, type: 'direct' }] },
  ],
  reservedRegions: [{ start: '0xfd00000000', last: '0xffffffffff', type: 'reserved' }],
  pci: {
    hostBridges: [{ id: '0000:40', busFirst: 64, busLast: 127, windows: [{ start: '0xb0000000', last: '0xbfffffff' }] }],
    bridges: [{ id: '40:01.1', role: 'root-port', secondaryBus: 65, subordinateBus: 65, windows: [{ start: '0xb0000000', size: '32M' }] }],
  },
  warnings: [{ file: 'rr', line: 2, message: 'line not understood', text: 'x' }],
};
const SPEC = {
  host: HOST,
  policy: 'iommufd',
  existing: [{ start: '0x0', size: '64K', name: 'low' }],
  requests: [
    { name: 'ram', size: '2M', align: '2M', dmaBits: 40, within: { start: 0, last: '0xffffffffff' } },
    { name: 'fixed', size: '4K', fixed: '0x10000000' },
    { name: 'hi', size: '1M', above: 'ram', pageSize: 'largest' },
    { name: 'rel', size: '4K', offsetFrom: { request: 'ram', offset: '0x200000' } },
  ],
  objective: 'low',
};
const LAYOUT = {
  policy: 'iommufd',
  devices: ['41:00.0'],
  existing: [{ start: '0x0', size: '64K' }],
  placements: [
    { name: 'ram', iova: '0x100000', size: '2M', align: 4096, dmaBits: 40, within: [{ start: 0, size: '1G' }] },
    { name: 'dev', iova: 0x300000, last: '0x3fffff' },
  ],
};
const IOAS = {
  host: HOST,
  policy: 'iommufd',
  attached: ['41:00.0'],
  allowed: [{ start: 0, last: '0xffffffff' }],
  mappings: [{ start: '0x100000', size: '2M', name: 'ram', va: '0x7f0000200000' }],
};

const hostFile = join(dir, 'host.json');
writeFileSync(hostFile, JSON.stringify(HOST));

let n = 0;
/** Write `doc` (a value, or raw text) to a fresh file. */
function save(doc: unknown): string {
  const file = join(dir, `case-${n++}.json`);
  writeFileSync(file, typeof doc === 'string' && doc.startsWith('\u0000raw:') ? doc.slice(5) : JSON.stringify(doc, null, 1));
  return file;
}

/** A document: a mutation of the valid one, any JSON, or text cut short / spliced. */
function documents(valid: unknown): fc.Arbitrary<unknown> {
  const text = JSON.stringify(valid, null, 1);
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: hostileJson },
    { weight: 1, arbitrary: fc.nat({ max: text.length }).map((cut) => `\u0000raw:${text.slice(0, cut)}`) },
    { weight: 1, arbitrary: fc.tuple(fc.nat({ max: text.length }), fc.string({ maxLength: 4 })).map(([at, s]) => `\u0000raw:${text.slice(0, at)}${s}${text.slice(at)}`) },
  );
}

/** Each command twice on the same file: a clean answer, and the same answer both times. */
async function check(commands: (file: string) => string[][], doc: unknown): Promise<void> {
  const file = save(doc);
  for (const argv of commands(file)) {
    const first = await iova(...argv);
    expectCleanAnswer(first, file);
    const second = await iova(...argv);
    if (JSON.stringify(second) !== JSON.stringify(first)) throw new Error(`not deterministic: iova ${argv.join(' ')}`);
  }
}

describe('fuzz: JSON formats never crash and answer the same twice', () => {
  it('host facts (ranges, text and JSON; render)', async () => {
    await fc.assert(
      fc.asyncProperty(documents(HOST), (doc) => check((f) => [['ranges', f, '--json'], ['ranges', f, '--policy', 'dma-iommu'], ['render', f]], doc)),
      { numRuns: runs(20) },
    );
  }, 600_000);

  it('placement specs (solve)', async () => {
    await fc.assert(
      fc.asyncProperty(documents(SPEC), (doc) => check((f) => [['solve', f, '--json', '--timeout', '5000']], doc)),
      { numRuns: runs(15) },
    );
  }, 600_000);

  it('layouts (verify, check-attach)', async () => {
    await fc.assert(
      fc.asyncProperty(documents(LAYOUT), (doc) =>
        check((f) => [['verify', f, '--host', hostFile], ['check-attach', f, '--host', hostFile, '--device', '42:00.0', '--json']], doc),
      ),
      { numRuns: runs(20) },
    );
  }, 600_000);

  it('IOAS states (explain map and attach)', async () => {
    await fc.assert(
      fc.asyncProperty(documents(IOAS), (doc) =>
        check((f) => [['explain', 'map', f, '--iova', '0x400000', '--length', '2M', '--json'], ['explain', 'attach', f, '--device', '42:00.0']], doc),
      ),
      { numRuns: runs(20) },
    );
  }, 600_000);

  it('a host facts file given where a spec or layout names it', async () => {
    await fc.assert(
      fc.asyncProperty(documents(HOST), async (doc) => {
        const host = save(doc);
        const spec = save({ host, requests: [{ name: 'a', size: '4K' }] });
        const r = await iova('verify', save(LAYOUT), '--host', host, '--json');
        expectCleanAnswer(r, host);
        expectCleanAnswer(await iova('solve', spec, '--timeout', '5000'));
      }),
      { numRuns: runs(10) },
    );
  }, 600_000);
});
