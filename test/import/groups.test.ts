import { describe, expect, it } from 'vitest';
import { importText } from '../../src/model/import/index.js';
import { device, group, lineWarnings } from './helpers.js';

describe('IOMMU group importer', () => {
  it('the listing script: one line per device, with its description', () => {
    const host = importText(
      [
        'IOMMU Group 0 00:00.0 Host bridge [0600]: Intel Corporation 5520 I/O Hub to ESI Port [8086:3406] (rev 13)',
        'IOMMU Group 1 00:01.0 PCI bridge [0604]: Intel Corporation Root Port 1 [8086:3408] (rev 13)',
        'IOMMU Group 1 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP104 [10de:1b80]',
        'IOMMU Group 13 0001:02:00.1 Audio device [0403]: NVIDIA Corporation GP104 Audio [10de:10f0]',
      ].join('\n'),
      'groups.txt',
    );
    expect(host.groups.map((g) => [g.id, g.devices])).toEqual([
      [0, ['0000:00:00.0']],
      [1, ['0000:00:01.0', '0000:01:00.0']],
      [13, ['0001:02:00.1']],
    ]);
    expect(device(host, '0000:01:00.0')).toMatchObject({ group: 1, description: 'VGA compatible controller [0300]: NVIDIA Corporation GP104 [10de:1b80]' });
    expect(device(host, '0000:01:00.0').source).toEqual({ what: 'device', file: 'groups.txt', line: 3, device: '0000:01:00.0' });
    expect(host.sources[0].kind).toBe('groups');
  });

  it('the two-level variant', () => {
    const host = importText(['IOMMU Group 7:', '\t00:1c.0 PCI bridge: Intel Root Port', '\t00:1c.4 PCI bridge: Intel Root Port', 'IOMMU Group 8:', '\t03:00.0 USB controller: x'].join('\n'), 'g2');
    expect(group(host, 7).devices).toEqual(['0000:00:1c.0', '0000:00:1c.4']);
    expect(group(host, 8).devices).toEqual(['0000:03:00.0']);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('find output and ls of a group\'s devices directory', () => {
    const host = importText(
      [
        '[root@h iommu_groups]# find ./ -name "*06*"',
        './31/devices/0000:06:00.0',
        '$ find /sys/kernel/iommu_groups/ -type l',
        '/sys/kernel/iommu_groups/5/devices/0000:00:03.1',
        '[root@h iommu_groups]# ls /sys/kernel/iommu_groups/25/devices/',
        '0000:05:00.0  0000:05:00.1',
        '$ ls -l /sys/kernel/iommu_groups/26/devices',
        'total 0',
        'lrwxrwxrwx 1 root root 0 Mar  8 20:54 0000:07:00.0 -> ../../../../devices/pci0000:00/0000:00:01.0/0000:07:00.0',
      ].join('\n'),
      'ls.txt',
    );
    expect(group(host, 31).devices).toEqual(['0000:06:00.0']);
    expect(group(host, 5).devices).toEqual(['0000:00:03.1']);
    expect(group(host, 25).devices).toEqual(['0000:05:00.0', '0000:05:00.1']);
    expect(group(host, 26).devices).toEqual(['0000:07:00.0']);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('a malformed listing line is a warning', () => {
    const host = importText(['IOMMU Group 3 00:1f.0 ISA bridge', 'IOMMU Group three 00:1f.2 SATA'].join('\n'), 'bad.txt');
    expect(group(host, 3).devices).toEqual(['0000:00:1f.0']);
    expect(lineWarnings(host).map((w) => [w.line, w.message])).toEqual([
      [2, 'IOMMU group listing line not understood: expected "IOMMU Group <N> <BDF> <description>"'],
    ]);
  });
});
