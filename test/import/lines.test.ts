import { describe, expect, it } from 'vitest';
import { splitLines } from '../../src/model/import/lines.js';

const one = (text: string) => splitLines(text)[0];

describe('splitLines', () => {
  it('numbers lines from 1 and keeps the raw text', () => {
    const lines = splitLines('a\r\nb\n\nc\n');
    expect(lines.map((l) => [l.line, l.raw])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, ''],
      [4, 'c'],
    ]);
    expect(lines[2].role).toBe('blank');
  });

  it('removes mail quoting but not lspci ">TAbort-" or a wrapped ">start_dma"', () => {
    expect(one('> > 0x0 0x1 msi').body).toBe('0x0 0x1 msi');
    expect(one('>>\t\tACSCap: x').body).toBe('\t\tACSCap: x');
    expect(one('>TAbort- <TAbort-').body).toBe('>TAbort- <TAbort-');
    expect(one('>start_dma + MEMORY_SIZE)').body).toBe('>start_dma + MEMORY_SIZE)');
    expect(one('>').role).toBe('blank');
  });

  it('removes dmesg timestamps and syslog prefixes into message', () => {
    const stamped = one('[    0.018084] DMAR: Host address width 36');
    expect(stamped).toMatchObject({ message: 'DMAR: Host address width 36', logPrefix: true, role: 'content' });
    const syslog = one('Mar 08 20:54:07 sicmundus kernel: DMAR: RMRR base: 0x1 end: 0x2');
    expect(syslog).toMatchObject({ message: 'DMAR: RMRR base: 0x1 end: 0x2', logPrefix: true });
    expect(one('June 19 18:06:35 ####-desktop kernel: pci 0000:00:01.0: Adding to iommu group 0').message).toBe(
      'pci 0000:00:01.0: Adding to iommu group 0',
    );
    expect(one('2024-03-08T20:54:07+0100 host kernel: pci_bus 0000:00: x').message).toBe('pci_bus 0000:00: x');
    expect(one('> [   12.6] megaraid_sas 0000:03:00.0: x').logPrefix).toBe(true);
    expect(one('plain text').logPrefix).toBe(false);
  });

  it('tells headers, comments, markers, fences and prompts from content', () => {
    const lines = splitLines(
      [
        '# source: somewhere',
        '# kind: lspci',
        'text',
        '# reserved_regions',
        '# cat /sys/kernel/iommu_groups/3/reserved_regions',
        '[...]',
        '--- turn 27 ---',
        '```shell',
        '[root@centos7 iommu]# cat /sys/bus/pci/devices/0000:05:00.0/iommu_group/reserved_regions',
        'root@208:~$ dmesg | grep -i iommu',
        '> estuary:/$ cat /sys/kernel/iommu_groups/0/reserved_regions',
        'sh-5.1# dmesg | grep -i dmar',
        '$ grep -h . /sys/kernel/iommu_groups/*/reserved_regions | sort -u',
        'cat /sys/kernel/iommu_groups/0/reserved_regions',
        'sudo lspci -s 0000:75:00.2 -vvv -nn',
        '/sys/kernel/iommu_groups/19',
        'find the culprit in this log', // prose starting with a command word
      ].join('\n'),
    );
    expect(lines.map((l) => l.role)).toEqual([
      'header',
      'header',
      'content',
      'comment',
      'prompt',
      'marker',
      'marker',
      'fence',
      'prompt',
      'prompt',
      'prompt',
      'prompt',
      'prompt',
      'prompt',
      'prompt',
      'path',
      'content',
    ]);
    expect(lines[4].command).toBe('cat /sys/kernel/iommu_groups/3/reserved_regions');
    expect(lines[8].command).toBe('cat /sys/bus/pci/devices/0000:05:00.0/iommu_group/reserved_regions');
    expect(lines[15].command).toBe('/sys/kernel/iommu_groups/19');
  });

  it('drops NUL padding at the end of a file', () => {
    expect(splitLines('0x1 0x2 msi\n\0\0\0').map((l) => l.raw)).toEqual(['0x1 0x2 msi']);
  });
});
