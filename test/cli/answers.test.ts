/**
 * The answer side of "never a confident wrong answer": warnings travel with every answer,
 * --strict turns them into exit 5, input never gives exit 4, duplicate ids and bad numbers are
 * located exit-2 errors, and messages say what is true.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXml } from '../render/xml.js';
import { iova } from './run.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'iova-answers-'));

/** An AMD host whose reserved_regions import skipped line 3 (as an importer records it). */
const WARNED_HOST = {
  name: 'amd',
  platform: { profile: 'amd-vi', addressWidth: 48 },
  groups: [{ id: 12, devices: ['0000:41:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }] }],
  devices: [{ id: '41:00.0', group: 12 }],
  warnings: [{ file: 'reserved_regions', line: 3, message: 'line not understood', text: '0xfd00000000 0xffffffffff reservd' }],
};
/** The same host with nothing skipped and nothing assumed. */
const CLEAN_HOST = { ...WARNED_HOST, warnings: [] };
/** The same host with the address width left to the profile (an assumption). */
const ASSUMED_HOST = { ...CLEAN_HOST, platform: 'amd-vi' };

function write(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function files() {
  const dir = tmp();
  const warned = write(dir, 'warned.json', WARNED_HOST);
  const clean = write(dir, 'clean.json', CLEAN_HOST);
  const assumed = write(dir, 'assumed.json', ASSUMED_HOST);
  const spec = (host: string) => write(dir, `spec-${host}`, { host, requests: [{ name: 'ram', size: '1G' }] });
  const layout = write(dir, 'layout.json', { placements: [{ name: 'ram', iova: '0x0', size: '1G' }] });
  const fleet = join(dir, 'fleet');
  return { dir, warned, clean, assumed, spec, layout, fleet };
}

const SKIPPED = 'warning: reserved_regions:3: line not understood: "0xfd00000000 0xffffffffff reservd"';

describe('warnings travel with every answer', () => {
  const f = files();
  const cases: Array<[string, (host: string) => string[]]> = [
    ['ranges', (host) => ['ranges', host]],
    ['solve', (host) => ['solve', f.spec(host.endsWith('warned.json') ? 'warned.json' : host.endsWith('clean.json') ? 'clean.json' : 'assumed.json')]],
    ['verify', (host) => ['verify', f.layout, '--host', host]],
    ['explain map', (host) => ['explain', 'map', host, '--iova', '0x100000', '--length', '2M']],
    ['explain attach', (host) => ['explain', 'attach', host, '--device', '41:00.0']],
    ['check-attach', (host) => ['check-attach', f.layout, '--host', host, '--device', '41:00.0']],
    ['render', (host) => ['render', host, '-o', join(f.dir, `${Math.random()}.svg`)]],
    ['groups', (host) => ['groups', host]],
    ['guest-map', (host) => ['guest-map', f.layout, '--host', host]],
  ];

  it.each(cases)('%s: text on stderr with file:line, JSON with the source, --strict exits 5', async (_name, args) => {
    const text = await iova(...args(f.warned));
    expect(text.code, text.err).toBe(0);
    // verify answers per host, so its warnings name the host.
    expect(text.err.split('\n')).toContain(args(f.warned)[0] === 'verify' ? SKIPPED.replace('warning: ', 'warning: host amd: ') : SKIPPED);

    const clean = await iova(...args(f.clean), '--strict');
    expect(clean.code, clean.err).toBe(0);
    expect(clean.err).toBe('');

    const strict = await iova(...args(f.warned), '--strict');
    expect(strict.code).toBe(5);

    const assumed = await iova(...args(f.assumed));
    expect(assumed.err).toMatch(/^warning: .*assumed\.json: the IOMMU geometry comes from the amd-vi profile, which does not know the address width \(assumed 64 bits\)$/m);

    if (args(f.warned)[0] === 'render') return; // no --json
    const json = await iova(...args(f.warned), '--json');
    expect(json.err).toBe('');
    const warnings = JSON.parse(json.out).warnings as Array<Record<string, unknown>>;
    expect(warnings).toContainEqual({ file: 'reserved_regions', line: 3, message: 'line not understood', text: '0xfd00000000 0xffffffffff reservd', source: 'reserved_regions:3', ...(args(f.warned)[0] === 'verify' ? { host: 'amd' } : {}) });
  });

  it('render draws the warnings on the picture', async () => {
    const out = join(f.dir, 'warned.svg');
    expect((await iova('render', f.warned, '-o', out)).code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    parseXml(svg);
    expect(svg).toContain('class="warning"');
    expect(svg).toContain('reserved_regions:3: line not understood');
    const html = join(f.dir, 'warned.html');
    expect((await iova('render', f.warned, '-o', html)).code).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/<ul class="warnings"><li>warning: reserved_regions:3: line not understood/);
  });

  it('verify names the host of each warning, per host in JSON', async () => {
    const r = await iova('verify', f.layout, '--host', f.clean, '--host', f.warned, '--json');
    const json = JSON.parse(r.out);
    expect(json.hosts.map((h: { warnings: unknown[] }) => h.warnings.length)).toEqual([0, 1]);
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0].host).toBe('amd');
  });

  it('a host with no IOMMU facts is never a clean 64-bit answer', async () => {
    const dir = tmp();
    const bare = write(dir, 'bare.json', { name: 'bare' });
    const r = await iova('ranges', bare, '--strict');
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/warning: .*bare\.json: no IOMMU facts in the source .*answers assume the whole 64-bit space/);
  });

  it('ranges no longer points at a host file that does not exist', async () => {
    const r = await iova('ranges', f.warned);
    expect(r.out).not.toMatch(/see the host file/);
  });

  it('verify --fleet counts and shows the hosts whose verdicts rest on warnings; --strict fails on them', async () => {
    const dir = tmp();
    write(dir, 'a.json', CLEAN_HOST);
    write(dir, 'b.json', WARNED_HOST);
    const text = await iova('verify', f.layout, '--fleet', dir, '--workers', '1');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/1 host' verdicts rest on warnings/);
    expect(text.out).toContain(`warning: host amd: reserved_regions:3: line not understood`);
    const json = JSON.parse((await iova('verify', f.layout, '--fleet', dir, '--workers', '1', '--json')).out);
    expect(json.warned).toBe(1);
    expect(json.hosts[1].warnings[0].source).toBe('reserved_regions:3');
    expect((await iova('verify', f.layout, '--fleet', dir, '--workers', '1', '--strict')).code).toBe(5);
  }, 60_000);

  it('--strict keeps a rejection as exit 1', async () => {
    const dir = tmp();
    const layout = write(dir, 'l.json', { placements: [{ name: 'msi', iova: '0xfee00000', size: '4K' }] });
    expect((await iova('verify', layout, '--host', f.warned, '--strict')).code).toBe(1);
  });
});

describe('exit 4 means a bug: input never gives it', () => {
  it('a fixed request outside every range of its own within is an explained conflict (exit 1)', async () => {
    const here = tmp();
    const spec = write(here, 'fixed-within.json', {
      host: { name: 'h', platform: { profile: 'intel-vtd', addressWidth: 48 } },
      requests: [
        { name: 'a', size: '8K', fixed: '0x5000', within: { start: '0xa000', last: '0xefff' } },
        { name: 'b', size: '4K', fixed: '0x20000', within: [{ start: '0x10000', last: '0x1ffff' }, { start: '0x30000', last: '0x3ffff' }] },
      ],
    });
    const r = await iova('solve', spec, '--json');
    expect(r.code, r.err).toBe(1);
    const conflicts = JSON.parse(r.out).conflicts as Array<{ constraints: Array<{ kind: string; requests: string[] }> }>;
    // One conflict per request, each exactly its fixed address against its own within.
    expect(conflicts.map((c) => c.constraints.map((x) => `${x.kind}:${x.requests.join(',')}`).sort())).toEqual([
      ['fixed:a', 'within:a'],
      ['fixed:b', 'within:b'],
    ]);
  });

  const dir = tmp();
  const host = write(dir, 'host.json', CLEAN_HOST);

  it.each([
    ['fixed', 'solve'],
    ['identity', 'solve'],
    ['fixed', 'render'],
    ['fixed', 'check-attach'],
  ])('a %s request above its own dmaBits: %s explains the rejection, naming the DMA mask source', async (how, command) => {
    const spec = write(dir, `dma-${how}-${command}.json`, { host: 'host.json', requests: [{ name: 'a', size: '2M', [how]: '0x200000000', dmaBits: 32 }] });
    const args = command === 'check-attach' ? [spec, '--device', '41:00.0'] : command === 'render' ? [spec, '-o', join(dir, 'x.svg')] : [spec];
    const r = await iova(command, ...args);
    if (command === 'render') {
      // The picture is written and shows the conflict and where the mask comes from; exit 1 says it is unsat.
      expect(r.code, r.err).toBe(1);
      const svg = readFileSync(join(dir, 'x.svg'), 'utf8');
      expect(svg).toMatch(/unsat: 1 conflict/);
      expect(svg).toMatch(/must lie below 0x1_0000_0000 \(a 32-bit DMA mask\) \[request a \(.*dma-fixed-render\.json; requests\[0\]\)\]/);
      return;
    }
    expect(r.code, r.err).toBe(1);
    const text = `${r.out}\n${r.err}`;
    expect(text).toMatch(/above its 32-bit DMA mask/);
    expect(text).toMatch(/must lie below 0x1_0000_0000 \(a 32-bit DMA mask\) +\[request a \(.*dma-.*\.json; requests\[0\]\)\]/);
  });

  it.each([
    ['align 0', { name: 'a', iova: 4096, size: '0x1000', align: 0 }, /at placements\[0\]\.align: must be a non-zero power of two/],
    ['align 3', { name: 'a', iova: '0x1000', size: 4096, align: 3 }, /at placements\[0\]\.align: must be a non-zero power of two/],
    ['a fractional number', { name: 'a', iova: 4096.5, size: '4K' }, /at placements\[0\]\.iova: .*not a safe integer/],
    ['a number kind zod does not take', { name: 'a', iova: true, size: '4K' }, /at placements\[0\]\.iova/],
    ['a size of 0 as a JSON number beside a string IOVA', { name: 'a', iova: '0x100000', size: 0 }, /at placements\[0\]: range at 0x100000 has size 0/],
  ])('a layout with %s is a located exit 2', async (_what, placement, message) => {
    const layout = write(dir, 'bad-layout.json', { placements: [placement] });
    for (const command of [['verify', layout, '--host', host], ['render', layout, '--host', host], ['check-attach', layout, '--host', host, '--device', '41:00.0']]) {
      const r = await iova(...command);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain(`${layout}:`);
    }
  });

  it('mixed number kinds in one layout are read alike', async () => {
    const layout = write(dir, 'mixed.json', { placements: [{ name: 'a', iova: 4096, size: '0x1000', align: '4K' }, { name: 'b', iova: '0x2000', size: 4096, align: 4096 }] });
    const r = await iova('verify', layout, '--host', host, '--json');
    expect(r.code, r.err).toBe(0);
  });

  it.each([
    ['unclosed', '['.repeat(200_000)],
    ['closed', `{"name": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['as a region type', `{"reservedRegions": [{"start": 0, "size": 4096, "type": ${'['.repeat(50_000)}${']'.repeat(50_000)}}]}`],
  ])('deeply nested JSON (%s) is a located exit 2', async (_what, text) => {
    const file = write(dir, 'deep.json', text);
    for (const command of [['ranges', file], ['solve', file], ['verify', file, '--host', host], ['explain', 'map', file, '--iova', '0', '--length', '4K']]) {
      const r = await iova(...command);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+)?: `));
    }
  });

  it('verify of 600 placements that all overlap lists all n(n-1)/2 overlaps', async () => {
    const placements = Array.from({ length: 600 }, (_, i) => ({ name: `p${i}`, iova: '0x100000', size: '0x1000' }));
    const layout = write(dir, 'many.json', { placements });
    const r = await iova('verify', layout, '--host', host, '--json');
    expect(r.code, r.err).toBe(1);
    const violations = JSON.parse(r.out).hosts[0].violations as Array<{ kind: string }>;
    expect(violations.filter((v) => v.kind === 'overlap')).toHaveLength((600 * 599) / 2);
  }, 60_000);
});

describe('duplicate ids are exit 2 naming both places', () => {
  const dir = tmp();
  const host = write(dir, 'host.json', CLEAN_HOST);

  it.each([
    ['devices', { ...CLEAN_HOST, devices: [{ id: '41:00.0', group: 12 }, { id: '0000:41:00.0' }] }, 'devices[1].id', 'devices[0].id'],
    ['groups', { ...CLEAN_HOST, groups: [...CLEAN_HOST.groups, { id: 12 }] }, 'groups[1].id', 'groups[0].id'],
    ['bridges', { ...CLEAN_HOST, pci: { bridges: [{ id: '00:01.0', secondaryBus: 1, subordinateBus: 1 }, { id: '0000:00:01.0', secondaryBus: 2, subordinateBus: 2 }] } }, 'pci.bridges[1].id', 'pci.bridges[0].id'],
    ['host bridges', { ...CLEAN_HOST, pci: { hostBridges: [{ id: '0000:00', busFirst: 0, busLast: 1 }, { id: '0000:00', busFirst: 2, busLast: 3 }] } }, 'pci.hostBridges[1].id', 'pci.hostBridges[0].id'],
  ])('%s in a host file', async (_what, facts, second, first) => {
    const file = write(dir, 'dup-host.json', facts);
    const r = await iova('ranges', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`at ${second}: `);
    expect(r.err).toContain(`is given twice (first at ${first}, ${file}:`);
    // The line named first is where the second one is in the pretty-printed file.
    const line = Number(/^iova ranges: [^:]+:(\d+):/.exec(r.err)?.[1]);
    const key = JSON.stringify((second.startsWith('pci') ? (facts as { pci: Record<string, Array<{ id: unknown }>> }).pci[second.includes('hostBridges') ? 'hostBridges' : 'bridges'] : (facts as unknown as Record<string, Array<{ id: unknown }>>)[second.split('[')[0]])[1].id);
    expect(readFileSync(file, 'utf8').split('\n')[line - 1]).toContain(`"id": ${key}`);
  });

  it('requests in a spec and placements in a layout', async () => {
    const spec = write(dir, 'dup-spec.json', { host: 'host.json', requests: [{ name: 'a', size: '4K' }, { name: 'a', size: '8K' }] });
    const s = await iova('solve', spec);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/dup-spec\.json:\d+: at requests\[1\]\.name: request name "a" is given twice \(first at requests\[0\]\.name, .*dup-spec\.json:\d+\)/);
    const layout = write(dir, 'dup-layout.json', { placements: [{ name: 'a', iova: 0, size: '4K' }, { name: 'a', iova: '0x1000', size: '4K' }] });
    const v = await iova('verify', layout, '--host', host);
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/at placements\[1\]\.name: placement name "a" is given twice \(first at placements\[0\]\.name/);
  });
});

describe('messages that say what is true', () => {
  const dir = tmp();
  const intel = write(dir, 'intel.json', { name: 'intel', platform: { profile: 'intel-vtd', addressWidth: 39 }, devices: [{ id: '00:02.0', group: 1 }], groups: [{ id: 1, devices: ['0000:00:02.0'] }] });

  it('the outside-aperture message names the aperture, not its complement', async () => {
    const r = await iova('explain', 'map', intel, '--iova', '0x8000000000', '--length', '2M');
    expect(r.code).toBe(1);
    // 39 bits: the aperture is 0 to 2^39 - 1; the complement starts at 2^39.
    expect(r.out).toContain('aperture 0x0–0x7f_ffff_ffff');
    expect(r.out).toContain('the range 0x80_0000_0000–0xffff_ffff_ffff_ffff (≈16.00 EiB) outside the aperture');
    expect(r.out).not.toMatch(/outside the aperture 0x80_0000_0000/);
    const layout = write(dir, 'hi.json', { placements: [{ name: 'hi', iova: '0x8000000000', size: '2M' }] });
    const c = await iova('check-attach', layout, '--host', intel, '--device', '00:02.0');
    expect(c.out).toContain('overlaps the range 0x80_0000_0000–0xffff_ffff_ffff_ffff (≈16.00 EiB) outside the IOMMU aperture');
  });

  it('a map or request past 2^64 is refused as an overflow with its true length', async () => {
    const host = write(dir, 'h.json', CLEAN_HOST);
    const r = await iova('explain', 'map', host, '--iova', '0xffffffffffffffff', '--length', '2M');
    expect(r.code).toBe(1);
    // 2^64 - 1 + 2 MiB - 1 = 2^64 + 0x1f_fffe.
    expect(r.out).toContain('The fixed map of 2 MiB at 0xffff_ffff_ffff_ffff (it would end at 2^64 + 0x1f_fffe, an overflow)');
    expect(r.out).not.toMatch(/\(1 byte\)/);
    const spec = write(dir, 'wrap.json', { host: 'h.json', requests: [{ name: 'a', size: '2M', fixed: '0xffffffffffffffff' }] });
    const s = await iova('solve', spec);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/at requests\[0\]\.fixed: 2 MiB at 0xffff_ffff_ffff_ffff overflows: it would end at 2\^64 \+ 0x1f_fffe/);
  });
});
