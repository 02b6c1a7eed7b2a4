import { describe, expect, it } from 'vitest';
import { importText } from '../../src/model/import/index.js';
import { parseResource } from '../../src/model/import/dmesg.js';
import { bar, bridge, device, group, hostBridge, rangeList, regionList, lineWarnings } from './helpers.js';

const log = (...lines: string[]) => lines.map((l, i) => `[    1.${String(i).padStart(6, '0')}] ${l}`).join('\n');

describe('kernel log importer', () => {
  it('DMAR: host address width, RMRRs at host level', () => {
    const host = importText(
      log('DMAR: Host address width 46', 'DMAR: DRHD base: 0x000000fbffc000 flags: 0x0', 'DMAR: RMRR base: 0x000000bdf6e000 end: 0x000000bdf84fff'),
      'dmar.log',
    );
    expect(host.platform).toEqual({ profile: 'intel-vtd', addressWidth: 46, source: { what: 'DMAR host address width', file: 'dmar.log', line: 1 } });
    expect(regionList(host.reservedRegions)).toEqual(['0xbdf6e000-0xbdf84fff direct']);
    expect(host.reservedRegions[0].source).toMatchObject({ what: 'RMRR', line: 3 });
    expect(host.reservedRegions[0].source.note).toMatch(/device scope/);
  });

  it('a firmware-bug line notes the RMRR (before or after its base/end line) without duplicating it', () => {
    const host = importText(
      [
        'Mar 08 20:54:07 h kernel: DMAR: [Firmware Bug]: Your BIOS is broken; bad RMRR [0x00000000000e8000-0x00000000000e8fff]',
        '                                  BIOS vendor: HP; Ver: P80; Product Version:',
        'Mar 08 20:54:07 h kernel: DMAR: RMRR base: 0x000000000e8000 end: 0x000000000e8fff',
      ].join('\n'),
      'p80.log',
    );
    expect(regionList(host.reservedRegions)).toEqual(['0xe8000-0xe8fff direct']);
    expect(host.reservedRegions[0].source.line).toBe(1);
    expect(host.reservedRegions[0].source.note).toMatch(/firmware bug: Your BIOS is broken; bad RMRR .* BIOS vendor: HP; Ver: P80/);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('AMD-Vi and arm-smmu-v3 give the platform', () => {
    expect(importText(log('pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40'), 'a').platform?.profile).toBe('amd-vi');
    expect(importText(log('arm-smmu-v3 arm-smmu-v3.0.auto: ias 48-bit, oas 48-bit (features 0x00001fef)'), 'a').platform).toMatchObject({
      profile: 'arm-smmuv3',
      addressWidth: 48,
    });
  });

  it('root bus resources: windows (with a bus-address offset), bus range; I/O skipped', () => {
    const host = importText(
      log(
        'PCI host bridge to bus 0000:00',
        'pci_bus 0000:00: root bus resource [io  0x0000-0x0cf7 window]',
        'pci_bus 0000:00: root bus resource [mem 0x8f800000-0xdfffffff window]',
        'pci_bus 0000:00: root bus resource [mem 0x3f000000000-0x3f0ffffffff window] (bus address [0x80000000-0x10ffffffff])',
        'pci_bus 0000:00: root bus resource [bus 00-fe]',
        'pci_bus 0001:00: resource 4 [mem 0x40000000-0x4fffffff window]',
      ),
      'root.log',
    );
    const root = hostBridge(host, '0000:00');
    expect([root.busFirst, root.busLast]).toEqual([0, 0xfe]);
    expect(root.windows.map((w) => [`0x${w.start.toString(16)}`, `0x${w.offset.toString(16)}`])).toEqual([
      ['0x8f800000', '0x0'],
      ['0x3f000000000', '0x3ef80000000'],
    ]);
    expect(rangeList(hostBridge(host, '0001:00').windows)).toEqual(['0x40000000-0x4fffffff']);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('non-root bus resources are windows of the bridge to that bus, merged with the bridge named elsewhere', () => {
    const host = importText(
      log(
        'pci_bus 0000:01: resource 1 [mem 0xc4000000-0xdbffffff]',
        'pci_bus 0000:01: resource 2 [mem 0x5800000000-0x77ffffffff 64bit pref]',
        'pci 0000:00:01.1: PCI bridge to [bus 01-03]',
        'pci_bus 0000:07: resource 1 [mem 0xdd100000-0xdd1fffff]',
      ),
      'bus.log',
    );
    const port = bridge(host, '0000:00:01.1');
    expect(port).toMatchObject({ primaryBus: 0, secondaryBus: 1, subordinateBus: 3 });
    expect(port.windows.map((w) => [w.start, w.prefetchable, w.source.port])).toEqual([
      [0xc4000000n, false, '0000:00:01.1'],
      [0x5800000000n, true, '0000:00:01.1'],
    ]);
    expect(host.pci.bridges.map((b) => b.id)).toEqual(['0000:00:01.1', 'bus 0000:07']);
  });

  it('bridge windows: assigned ones kept; sizing lines, empty ranges, I/O skipped; BAR 13+ are windows', () => {
    const host = importText(
      log(
        'pci 0000:80:01.1: bridge window [io  0x1000-0x0fff] to [bus 84] add_size 1000',
        'pci 0000:80:01.1: bridge window [mem 0x00100000-0x000fffff 64bit pref] to [bus 84] add_size 200000 add_align 100000',
        'pci 0000:80:01.1: BAR 14: assigned [mem 0xab300000-0xab4fffff]',
        'pci 0000:80:01.1: BAR 15: assigned [mem 0x20bc0200000-0x20bc03fffff 64bit pref]',
        'pci 0000:80:01.1: PCI bridge to [bus 84]',
        'pci 0000:80:01.1:   bridge window [io  0x7000-0x7fff]',
        'pci 0000:80:01.1:   bridge window [mem 0xab300000-0xab4fffff]',
        'pci 0000:80:01.1:   bridge window [mem 0x20bc0200000-0x20bc03fffff 64bit pref]',
        'pci 0000:80:03.1: bridge window [mem 0x100000-0x1fffff]: can\'t assign; no space',
      ),
      'win.log',
    );
    const port = bridge(host, '0000:80:01.1');
    expect(rangeList(port.windows)).toEqual(['0xab300000-0xab4fffff', '0x20bc0200000-0x20bc03fffff']);
    expect(port.windows.map((w) => w.prefetchable)).toEqual([false, true]);
    expect(port.windows[0].source.line).toBe(3);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('BARs from "reg 0x…" and "BAR n: assigned"; a later assignment replaces the probe value', () => {
    const host = importText(
      log(
        'pci 0000:0a:00.0: reg 0x10: [mem 0xfc800000-0xfc807fff]',
        'pci 0000:0a:00.0: reg 0x18: [mem 0x00000000-0x0fffffff 64bit pref]',
        'pci 0000:0a:00.0: reg 0x30: [mem 0xfffe0000-0xffffffff pref]',
        'pci 0000:0a:00.0: reg 0x14: [io  0xe000-0xe0ff]',
        'pci 0000:0a:00.0: BAR 2: assigned [mem 0x7fe0000000-0x7fefffffff 64bit pref]',
        'pci 0000:0a:00.0: BAR 6: assigned [mem 0xfc900000-0xfc91ffff pref]',
        'pci 0000:0a:00.1: BAR 4 [mem 0xfcb00000-0xfcb03fff 64bit]',
        'pci 0000:0a:00.1: BAR 7: assigned [mem 0x90000000-0x903fffff 64bit pref]',
      ),
      'bars.log',
    );
    const gpu = device(host, '0000:0a:00.0');
    expect(rangeList(gpu.bars.filter((b) => b.bar === 0))).toEqual(['0xfc800000-0xfc807fff']);
    expect(bar(gpu, 2)).toMatchObject({ start: 0x7fe0000000n, last: 0x7fefffffffn, prefetchable: true, is64: true });
    expect(bar(gpu, 2).source.note).toMatch(/replaces 0x0-0xfffffff from line 2/);
    expect(bar(gpu, 'rom')).toMatchObject({ start: 0xfc900000n });
    expect(gpu.bars).toHaveLength(3);
    const fn1 = device(host, '0000:0a:00.1');
    expect(bar(fn1, 4)).toMatchObject({ start: 0xfcb00000n, is64: true, prefetchable: false });
    const vfBar = fn1.bars.find((b) => b.bar === undefined)!;
    expect(vfBar.source.what).toBe('SR-IOV VF BAR 0');
    expect(lineWarnings(host)).toEqual([]);
  });

  it('ACPI root bridges, powerpc TCE windows', () => {
    const host = importText(
      log(
        'ACPI: PCI Root Bridge [PCI3] (domain 0000 [bus 30-4f])',
        'pci 0003:01     : [PE# 001] Setting up window#0 0..7fffffff pg=1000',
        'pci 0003:01     : [PE# 001] Enabling 64-bit DMA bypass',
      ),
      'misc.log',
    );
    expect(hostBridge(host, '0000:30')).toMatchObject({ busFirst: 0x30, busLast: 0x4f });
    expect(host.iommu).toMatchObject({ apertures: [{ start: 0n, last: 0x7fffffffn }], pageSizes: 0x1000n, source: { line: 2, port: '0003:01' } });
    expect(host.iommu!.source.note).toMatch(/bypass .*not modelled/);
  });

  it('group assignments (read by the group importer) work with and without prefixes', () => {
    const host = importText(['pci 0000:00:14.0: Adding to iommu group 11', 'iommu: Adding device 0000:00:14.3 to group 11'].join('\n'), 'g.log');
    expect(group(host, 11).devices).toEqual(['0000:00:14.0', '0000:00:14.3']);
  });

  it('warning rule: unreadable family lines warn, other log lines do not', () => {
    const host = importText(
      log(
        'SCSI subsystem initialized',
        'pci 0000:00:01.0: enabling Extended Tags',
        'pci_bus 0000:00: root bus resource [mem 0xzz-0x1 window]',
        'DMAR: RMRR base: 0x000000bdf6e000 end: garbage',
        'DMAR: Host address width many',
        'pci 0000:00:01.0: PCI bridge to [bus zz]',
        'pci 0003:01     : [PE# 001] Setting up window#0 0..7fffffff pg=3000',
      ),
      'bad.log',
    );
    expect(lineWarnings(host).map((w) => [w.file, w.line])).toEqual([
      ['bad.log', 3],
      ['bad.log', 4],
      ['bad.log', 5],
      ['bad.log', 6],
      ['bad.log', 7],
    ]);
    expect(lineWarnings(host)[0].message).toBe('bus resource not understood');
    expect(lineWarnings(host)[1].text).toContain('DMAR: RMRR base: 0x000000bdf6e000 end: garbage');
  });

  it('without timestamps: subsystem lines count as log in a kernel log, prose does not', () => {
    const host = importText(['DMAR: Host address width 39', 'iommu: Default domain type: Translated', 'this is not a log line'].join('\n'), 't.log');
    expect(host.platform?.addressWidth).toBe(39);
    expect(lineWarnings(host).map((w) => w.line)).toEqual([3]);
  });

  it('parseResource reads the kernel\'s resource notation', () => {
    expect(parseResource('mem 0x7fe0000000-0x7ff01fffff 64bit pref')).toEqual({
      type: 'mem',
      range: { start: 0x7fe0000000n, last: 0x7ff01fffffn },
      flags: ['64bit', 'pref'],
    });
    expect(parseResource('bus 00-fe')).toEqual({ type: 'bus', range: { start: 0n, last: 0xfen }, flags: [] });
    expect(parseResource('mem 0x00100000-0x000fffff 64bit pref')).toEqual({ type: 'mem', flags: ['64bit', 'pref'] });
    expect(parseResource('bus 2f')).toEqual({ type: 'bus', range: { start: 0x2fn, last: 0x2fn }, flags: [] });
    expect(parseResource('mem size 0x00200000 64bit pref')).toEqual({ type: 'mem', flags: ['64bit', 'pref'] });
    expect(parseResource('mem 0xzz-0x1')).toBeUndefined();
  });
});
