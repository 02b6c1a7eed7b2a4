import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { importSources } from '../../src/model/import/index.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { hostToJson } from '../../src/model/serialise.js';
import { bridge, device, group, realdataDir, realdataFiles, regionList, lineWarnings } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'iova-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, lines: string[]): string {
  const p = path.join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

describe('importSources', () => {
  it('lists each source with its detected kind, in order', () => {
    const a = file('a.txt', ['0x00000000fee00000 0x00000000feefffff msi']);
    const b = file('b.txt', ['[    0.1] DMAR: Host address width 39']);
    const host = importSources([a, b]);
    expect(host.name).toBe('a');
    expect(host.sources).toEqual([
      { file: a, kind: 'reserved-regions' },
      { file: b, kind: 'dmesg' },
    ]);
    expect(importSources([a], { name: 'server7' }).name).toBe('server7');
  });

  it('a device in two groups: the first source wins, the warning names both places', () => {
    const first = file('g1.txt', ['IOMMU Group 11 00:14.0 USB controller: x']);
    const second = file('g2.txt', ['[    0.5] pci 0000:00:14.0: Adding to iommu group 12']);
    const host = importSources([first, second]);
    expect(device(host, '0000:00:14.0').group).toBe(11);
    expect(group(host, 11).devices).toEqual(['0000:00:14.0']);
    expect(group(host, 12).devices).toEqual([]);
    expect(lineWarnings(host)).toHaveLength(1);
    expect(lineWarnings(host)[0]).toMatchObject({ file: second, line: 1, text: '[    0.5] pci 0000:00:14.0: Adding to iommu group 12' });
    expect(lineWarnings(host)[0].message).toBe(
      `conflict: device 0000:00:14.0 in IOMMU group 12 here, but group 11 in ${first}:1; keeping group 11 (the first source wins)`,
    );
  });

  it('two platforms, two address widths: the first wins, each conflict is a warning', () => {
    const intel36 = file('w36.log', ['[    0.1] DMAR: Host address width 36']);
    const intel39 = file('w39.log', ['[    0.1] DMAR: Host address width 39']);
    const amd = file('amd.log', ['[    2.6] pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40']);
    const host = importSources([intel36, intel39, amd]);
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 36, source: { file: intel36 } });
    expect(lineWarnings(host).map((w) => [w.file, w.message])).toEqual([
      [intel39, `conflict: address width 39 here, but address width 36 in ${intel36}:1; keeping address width 36 (the first source wins)`],
      [amd, `conflict: platform amd-vi here, but platform intel-vtd in ${intel36}:1; keeping platform intel-vtd (the first source wins)`],
    ]);
    // a width from a later source fills one the first did not give, without a conflict
    const bare = file('bare.log', ['[    0.1] DMAR: IOMMU enabled']);
    expect(importSources([bare, intel39]).platform).toMatchObject({ addressWidth: 39 });
    expect(lineWarnings(importSources([bare, intel39]))).toEqual([]);
  });

  it('a bridge known by BDF in one source and only by its bus in another is one bridge', () => {
    const lspci = file('lspci.txt', [
      '00:1c.0 PCI bridge: Intel Root Port',
      '\tBus: primary=00, secondary=03, subordinate=04, sec-latency=0',
      '\tMemory behind bridge: 92e00000-92ffffff [size=2M] [32-bit]',
      '\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00',
    ]);
    const iomem = file('iomem', ['90000000-c7ffbfff : PCI Bus 0000:00', '  92e00000-92ffffff : PCI Bus 0000:03', '  39fffe00000-39fffefffff : PCI Bus 0000:03']);
    const host = importSources([iomem, lspci]);
    expect(host.pci.bridges.map((b) => b.id)).toEqual(['0000:00:1c.0']);
    const port = bridge(host, '0000:00:1c.0');
    expect(port).toMatchObject({ role: 'root-port', secondaryBus: 3, subordinateBus: 4 });
    // the bridge's own window (from lspci, which also knows it is not prefetchable) and the
    // one only iomem gives, now under the bridge's BDF
    expect(port.windows.map((w) => [w.start, w.source.file, w.source.port])).toEqual([
      [0x92e00000n, lspci, '0000:00:1c.0'],
      [0x39fffe00000n, iomem, '0000:00:1c.0'],
    ]);
    expect(port.windows[0].prefetchable).toBe(false);
    expect(port.source.note).toBeUndefined(); // lspci gave the subordinate bus
  });

  it('regions and BARs from several sources are kept once', () => {
    const a = file('rr1.txt', ['cat /sys/kernel/iommu_groups/3/reserved_regions', '0x00000000fee00000 0x00000000feefffff msi']);
    const b = file('rr2.txt', ['/sys/kernel/iommu_groups/3/reserved_regions:0x00000000fee00000 0x00000000feefffff msi']);
    const l = file('l.txt', ['03:00.0 Ethernet controller: x', '\tRegion 0: Memory at 92e00000 (32-bit, non-prefetchable) [size=1M]']);
    const m = file('m.txt', ['90000000-c7ffbfff : PCI Bus 0000:00', '  92e00000-92efffff : 0000:03:00.0']);
    const host = importSources([a, b, l, m]);
    expect(regionList(group(host, 3).reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi']);
    expect(group(host, 3).reservedRegions[0].source.file).toBe(a);
    expect(device(host, '0000:03:00.0').bars).toMatchObject([{ bar: 0, start: 0x92e00000n, source: { file: l } }]);
  });

  it('conflicting BAR values across sources: the first wins, with a warning', () => {
    const a = file('bar1.txt', ['03:00.0 Ethernet controller: x', '\tRegion 0: Memory at 92e00000 (32-bit, non-prefetchable) [size=1M]']);
    const b = file('bar2.log', ['[    0.1] pci 0000:03:00.0: BAR 0: assigned [mem 0x93000000-0x930fffff]']);
    const host = importSources([a, b]);
    expect(device(host, '0000:03:00.0').bars).toMatchObject([{ bar: 0, start: 0x92e00000n }]);
    expect(lineWarnings(host).map((w) => [w.file, w.line])).toEqual([[b, 1]]);
    expect(lineWarnings(host)[0].message).toMatch(/^conflict: BAR0 of 0000:03:00.0 at 0x93000000-0x930fffff here, but 0x92e00000-0x92efffff in .*bar1.txt:2/);
  });

  it('warnings come in source order, then line order', () => {
    const a = file('wa.txt', ['0x1000 0x1fff direct', 'prose one', 'prose two']);
    const b = file('wb.txt', ['prose three']);
    const c = file('wc.txt', ['0x2000 0x2fff direct', 'prose four']);
    const host = importSources([c, a]);
    expect(host.warnings.map((w) => [path.basename(w.file), w.line])).toEqual([
      ['wc.txt', 0], // no IOMMU facts in either source: an assumption about the whole host
      ['wc.txt', 1], // the region names no group: an assumption at its line
      ['wc.txt', 2],
      ['wa.txt', 1],
      ['wa.txt', 2],
      ['wa.txt', 3],
    ]);
    // A source that is not host facts at all is refused, at its first unrecognised line.
    expect(() => importSources([b, a])).toThrow(expect.objectContaining({ file: b, line: 1 }));
  });

  it('unreadable sources are InputErrors naming the file', () => {
    const missing = path.join(dir, 'missing.txt');
    expect(() => importSources([missing])).toThrow(InputError);
    try {
      importSources([missing]);
    } catch (error) {
      expect((error as InputError).file).toBe(missing);
      expect((error as InputError).describe()).toBe(`${missing}: cannot read: ENOENT`);
    }
    const gz = path.join(dir, 'host.tar.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(() => importSources([gz])).toThrow(/gzip archive: extract it/);
    const bin = path.join(dir, 'bin');
    writeFileSync(bin, Buffer.from([0x41, 0x00, 0x42]));
    expect(() => importSources([bin])).toThrow(/not a text file/);
    expect(() => importSources([])).toThrow(/no sources/);
  });

  it('all real-data files at once: one host that round-trips, deterministically', () => {
    const paths = realdataFiles().map((f) => path.join(realdataDir, f));
    const host = importSources(paths, { name: 'everything' });
    expect(host.sources).toHaveLength(paths.length);
    expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
    expect(hostToJson(importSources(paths, { name: 'everything' }))).toBe(hostToJson(host));
    // devices sorted by id, groups by number
    const ids = host.devices.map((d) => d.id);
    expect(ids).toEqual([...ids].sort());
    const groups = host.groups.map((g) => g.id);
    expect(groups).toEqual([...groups].sort((x, y) => x - y));
  });
});
