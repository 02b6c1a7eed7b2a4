import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iova } from './run.js';
import { sharedDir } from '../shared.js';

const root = resolve(import.meta.dirname, '../..');
const epyc = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => join(root, 'examples/hosts/epyc', f));
const vectors = sharedDir('vectors', 'linux-iova');
const tmp = () => mkdtempSync(join(tmpdir(), 'iova-cli-'));

describe('iova ranges', () => {
  it('prints usable ranges and holes with their sources from raw captures', async () => {
    const r = await iova('ranges', ...epyc, '--name', 'x');
    expect(r.code, r.err).toBe(2); // --name belongs to import, not ranges
    expect(r.err).toMatch(/^iova ranges: Unknown option '--name'/);

    const ok = await iova('ranges', ...epyc);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/alignment 4 KiB/);
    // The HyperTransport hole of group 30, with the file and line it came from.
    expect(ok.out).toMatch(/0xfd_0000_0000 +0xff_ffff_ffff +reserved-region +reserved +reserved region of IOMMU group 30 \(.*reserved_regions\.txt:5; the HyperTransport hole of the amd-vi platform\)/);
    // A peer BAR behind the non-ACS switch is a hole the kernel does not enforce.
    expect(ok.out).toMatch(/0xb900_0000 +0xb9ff_ffff +p2p +peer-bar +BAR0 of peer 0000:44:00.0, reached from 0000:43:00.0 through port 0000:42:08.0 .*\[not enforced by the kernel\]/);
  });

  it('prints the documented JSON with 0x strings', async () => {
    const r = await iova('ranges', ...epyc, '--json', '--devices', '0000:05:00.3');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['policy', 'alignment', 'ranges', 'holes']);
    expect(json.alignment).toBe('0x1000');
    expect(json.ranges[0]).toEqual({ start: '0x0', last: '0xa8efffff', size: '0xa8f00000' });
    expect(json.holes.map((h: { type: string }) => h.type)).toEqual(['direct', 'msi', 'reserved']);
    expect(Object.keys(json.holes[0])).toEqual(['start', 'last', 'kind', 'type', 'source', 'enforced']);
  });

  it('gives the same ranges from a host file written by import', async () => {
    const dir = tmp();
    const host = join(dir, 'host.json');
    const imported = await iova('import', ...epyc, '--name', 'epyc', '-o', host);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.err).toMatch(/3 devices, 2 IOMMU groups, 4 bridges/);
    const fromFile = JSON.parse((await iova('ranges', host, '--json')).out);
    const fromSources = JSON.parse((await iova('ranges', ...epyc, '--json')).out);
    expect(fromFile.ranges).toEqual(fromSources.ranges);
    expect(fromFile.holes.length).toBe(fromSources.holes.length);
  });

  it('applies the policy: dma-iommu adds the host-bridge windows', async () => {
    const iommufd = JSON.parse((await iova('ranges', ...epyc, '--json')).out);
    const dma = JSON.parse((await iova('ranges', ...epyc, '--json', '--policy', 'dma-iommu')).out);
    expect(iommufd.holes.some((h: { type: string }) => h.type === 'host-bridge-window')).toBe(false);
    expect(dma.holes.filter((h: { type: string }) => h.type === 'host-bridge-window').map((h: { start: string }) => h.start)).toContain('0xb8000000');
  });
});

describe('bad input gets one line and exit code 2, never a stack trace', () => {
  it.each([
    [['ranges', '/nonexistent/host.json'], /^iova ranges: \/nonexistent\/host.json: cannot read: ENOENT$/],
    [['ranges', '--policy', 'linux', ...epyc], /unknown policy "linux"; expected one of iommufd, vfio-type1, dma-iommu/],
    [['ranges', ...epyc, '--devices', '0000:77:00.0'], /device 0000:77:00.0 is not in host/],
    [['solve'], /give exactly one spec file/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['schema', 'nope'], /name one format: host, ioas, spec, layout/],
  ])('%j', async (argv, message) => {
    const r = await iova(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\s+at .*\(.*:\d+:\d+\)/);
  });

  it('names the JSON path of a bad field in a spec', async () => {
    const dir = tmp();
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ host: { name: 'h' }, requests: [{ name: 'a', size: '1G', align: '3K' }] }));
    const r = await iova('solve', spec);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`iova solve: ${spec}: at requests[0].align: must be a power of two`);
  });

  it('names the line of a JSON syntax error', async () => {
    const dir = tmp();
    const file = join(dir, 'host.json');
    writeFileSync(file, '{\n  "name": "h",\n  "groups": [,]\n}\n');
    const r = await iova('ranges', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`iova ranges: ${file}:3: not valid JSON: a value expected at column 14, found ","`);
  });
});

describe('iova solve, verify and check-attach on files', () => {
  const host = {
    name: 'amd',
    platform: 'amd-vi',
    groups: [{ id: 12, devices: ['0000:41:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }, { start: '0xfd00000000', last: '0xffffffffff', type: 'reserved' }] }],
    devices: [{ id: '0000:41:00.0', group: 12 }, { id: '0000:42:00.0', group: 13 }],
  };

  it('solves, writes a layout, and verifies it; unsat exits 1 with the conflict', async () => {
    const dir = tmp();
    const hostFile = join(dir, 'host.json');
    writeFileSync(hostFile, JSON.stringify(host));
    const sat = join(dir, 'sat.json');
    writeFileSync(sat, JSON.stringify({ host: 'host.json', devices: ['0000:41:00.0'], requests: [{ name: 'ram-lo', size: '3G', fixed: '0' }, { name: 'ram-hi', size: '1T', align: '1G' }] }));
    const layout = join(dir, 'layout.json');
    const solved = await iova('solve', sat, '-o', layout);
    expect(solved.code, solved.err).toBe(0);
    expect(solved.out).toMatch(/^sat: 2 placements on amd/);
    // 1 TiB does not fit between 3 GiB and the HyperTransport hole (1012 GiB there), so the
    // lowest 1 GiB-aligned slot starts right after the hole, at 1 TiB.
    expect(solved.out).toMatch(/ram-hi +0x100_0000_0000 +0x1ff_ffff_ffff +1 TiB +1×1 TiB/);
    expect(solved.out).toMatch(/ram-lo +0x0 +0xbfff_ffff +3 GiB +1×1 GiB \+ 1×2 GiB/);
    const verified = await iova('verify', layout, '--host', hostFile);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toMatch(/amd: accepts the layout/);

    const unsat = join(dir, 'unsat.json');
    writeFileSync(unsat, JSON.stringify({ host: 'host.json', requests: [{ name: 'ram-hi', size: '1T', fixed: '0x100000000' }] }));
    const r = await iova('solve', unsat, '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.status).toBe('unsat');
    expect(json.conflicts[0].message).toMatch(/`ram-hi` \(1 TiB at 0x1_0000_0000\) overlaps the reserved range 0xfd_0000_0000–0xff_ffff_ffff \(12 GiB\).*which every device in this IOAS inherits/);
    expect(json.repairs[0].description).toMatch(/^move `ram-hi` from 0x1_0000_0000 to /);
  });

  it('checks a hot-plug against a layout: the new device collides with a placement', async () => {
    const dir = tmp();
    const withRmrr = { ...host, groups: [...host.groups, { id: 13, devices: ['0000:42:00.0'], reservedRegions: [{ start: '0x80000000', last: '0x800fffff', type: 'reserved' }] }] };
    const hostFile = join(dir, 'host.json');
    writeFileSync(hostFile, JSON.stringify(withRmrr));
    const layout = join(dir, 'layout.json');
    writeFileSync(layout, JSON.stringify({ devices: ['0000:41:00.0'], placements: [{ name: 'ram-lo', iova: '0', size: '3G' }] }));
    const r = await iova('check-attach', layout, '--host', hostFile, '--device', '0000:42:00.0', '--json');
    expect(r.code, r.err).toBe(1);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ device: '0000:42:00.0', ok: false, errno: 'EADDRINUSE', code: -98 });
    expect(json.collisions).toHaveLength(1);
    expect(json.collisions[0].placement).toBe('ram-lo');
    expect(json.collisions[0].hole.start).toBe('0x80000000');
    const vfio = JSON.parse((await iova('check-attach', layout, '--host', hostFile, '--device', '0000:42:00.0', '--json', '--policy', 'vfio-type1')).out);
    expect(vfio.errno).toBe('EINVAL');
    // A non-relaxable direct region (an RMRR) keeps the device from being claimed at all (6.5+).
    writeFileSync(hostFile, JSON.stringify({ ...withRmrr, groups: withRmrr.groups.map((g) => (g.id === 13 ? { ...g, reservedRegions: [{ ...g.reservedRegions[0], type: 'direct' }] } : g)) }));
    const direct = JSON.parse((await iova('check-attach', layout, '--host', hostFile, '--device', '0000:42:00.0', '--json')).out);
    expect(direct).toMatchObject({ kernel: '6.19', errno: 'EINVAL', rule: 'require-direct' });
  });
});

describe('iova replay and iova schema', () => {
  it('replays the kernel trace and prints exactly its output', async () => {
    const r = await iova('replay', join(vectors, 'edge.trace'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(vectors, 'edge.out'), 'utf8').trimEnd());
  });

  it.each(['host', 'spec', 'layout', 'ioas'])('prints a JSON Schema for %s, the one bundled in examples/schemas', async (kind) => {
    const r = await iova('schema', kind);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toMatch(/^iova-solver /);
    expect(schema.type).toBe('object');
    // Regenerate with: iova schema <kind> -o examples/schemas/<kind>.schema.json
    expect(readFileSync(join(root, `examples/schemas/${kind}.schema.json`), 'utf8')).toBe(`${r.out}\n`);
  });
});

describe('--help', () => {
  it.each(['import', 'ranges', 'solve', 'verify', 'explain', 'replay', 'schema', 'check-attach'])('%s has help', async (name) => {
    const r = await iova(name, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: iova ${name} `));
  });

  it('lists the commands', async () => {
    const r = await iova('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Commands:\n {2}import/);
  });
});
