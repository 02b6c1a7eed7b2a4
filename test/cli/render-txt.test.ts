/** `iova render --format txt`: the address map as text for a bug report. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iova } from './run.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'iova-txt-'));
const epyc = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => join('examples/hosts/epyc', f));

describe('render --format txt', () => {
  it('lists windows, holes with kind and source, and placements in address order, within 100 columns', async () => {
    const r = await iova('render', 'examples/specs/q35-guest.json', '--format', 'txt');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe('Placement of examples/specs/q35-guest.json on host epyc');
    expect(r.out).toContain('Answer: sat: 3 placements');
    // The HyperTransport hole, from line 5 of the reserved_regions capture (by hand: 0xfd00000000-0xffffffffff).
    expect(r.out).toMatch(/\n {2}0xfd_0000_0000 +0xff_ffff_ffff +12 GiB +hole reserved-region reserved\n {8}reserved region of IOMMU group 30 \(examples\/hosts\/epyc\/reserved_regions\.txt:5;/);
    // A peer BAR the kernel does not enforce, with its provenance under it.
    expect(r.out).toMatch(/\n {2}0xb900_0000 +0xb9ff_ffff +16 MiB +hole p2p peer-bar\n {8}BAR0 of peer 0000:44:00\.0/);
    expect(r.out).toMatch(/\[not enforced by the kernel\]/);
    expect(r.out).toMatch(/\n {2}0x0 +0x7fff_ffff +2 GiB +placement ram-below-4g\n/);
    // Address order: each entry's start is not below the previous one's.
    const starts = lines.filter((l) => /^[ !] 0x/.test(l)).map((l) => BigInt(l.slice(2).split(/ +/)[0].replace(/_/g, '')));
    expect(starts.length).toBeGreaterThan(10);
    for (let i = 1; i < starts.length; i++) expect(starts[i] >= starts[i - 1]).toBe(true);
    // Deterministic.
    expect((await iova('render', 'examples/specs/q35-guest.json', '--format', 'txt')).out).toBe(r.out);
  });

  it('marks what a conflict names and lists the conflicts; -o map.txt picks the format', async () => {
    const dir = tmp();
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ host: join(process.cwd(), 'examples/hosts/epyc.json'), policy: 'vfio-type1', devices: ['0000:43:00.0'], requests: [{ name: 'ram-hi', size: '1022G', fixed: '0x100000000' }] }));
    const out = join(dir, 'map.txt');
    const r = await iova('render', spec, '-o', out);
    expect(r.code, r.err).toBe(1); // the map is written; the spec is unsat
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('Answer: unsat');
    // The fixed request overlaps the HyperTransport hole: both are marked.
    expect(text).toMatch(/\n! 0xfd_0000_0000 +0xff_ffff_ffff +12 GiB +hole reserved-region reserved\n/);
    expect(text).toMatch(/\n! 0x1_0000_0000 +0x100_7fff_ffff +1022 GiB +wanted \(not placed\) ram-hi\n/);
    expect(text).toMatch(/\nConflicts and violations \(1\):\n {2}Conflict 1: /);
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
  });

  it('escapes control characters from the input', async () => {
    const dir = tmp();
    const host = join(dir, 'h.json');
    writeFileSync(host, JSON.stringify({ name: 'evil\u001b[2J', platform: 'amd-vi', reservedRegions: [{ start: '0x1000', last: '0x1fff', type: 'reserved', source: { what: 'region \u001b]0;pwned\u0007 \u202e' } }] }));
    const r = await iova('render', host, '--format', 'txt');
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    expect(r.out).toContain('evil\\x1b[2J');
    expect(r.out).toContain('region \\x1b]0;pwned\\x07 \\u{202e}');
  });

  it('draws a host from captures too', async () => {
    const r = await iova('render', ...epyc, '--format', 'txt', '--devices', '0000:05:00.3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\n {2}0xa8f0_0000 +0xa8ff_ffff +1 MiB +hole reserved-region direct\n/);
  });
});
