import { describe, expect, it } from 'vitest';
import { importText } from '../../src/model/import/index.js';
import { device, group, regionList, lineWarnings } from './helpers.js';

const text = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('reserved_regions importer', () => {
  it('a bare file: regions apply to the whole host, with a note saying why', () => {
    const host = importText(text('0x00000000fee00000 0x00000000feefffff msi', '0x000000fd00000000 0x000000ffffffffff reserved'), 'rr.txt');
    expect(regionList(host.reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi', '0xfd00000000-0xffffffffff reserved']);
    expect(host.reservedRegions[0].source).toMatchObject({ what: 'msi region', file: 'rr.txt', line: 1 });
    expect(host.reservedRegions[0].source.note).toMatch(/every device/);
    expect(host.sources).toEqual([{ file: 'rr.txt', kind: 'reserved-regions' }]);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('grep . output: the group comes from each line\'s path', () => {
    const host = importText(
      text(
        '/sys/kernel/iommu_groups/19/reserved_regions:0x0000000000000000 0x0000000000ffffff direct',
        '/sys/kernel/iommu_groups/19/reserved_regions:0x00000000fee00000 0x00000000feefffff msi',
        '/sys/kernel/iommu_groups/7/reserved_regions:0x00000000fee00000 0x00000000feefffff msi',
      ),
      'grep.txt',
    );
    expect(regionList(group(host, 19).reservedRegions)).toEqual(['0x0-0xffffff direct', '0xfee00000-0xfeefffff msi']);
    expect(regionList(group(host, 7).reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi']);
    expect(group(host, 7).reservedRegions[0].source).toMatchObject({ line: 3, group: 7 });
    expect(host.reservedRegions).toEqual([]);
  });

  it('a path line followed by a relative cat keeps the group; a new command switches it', () => {
    const host = importText(
      text(
        '/sys/kernel/iommu_groups/19',
        '[root@host 19]# cat reserved_regions',
        '0x00000000bdf6e000 0x00000000bdf84fff direct',
        '# cat /sys/kernel/iommu_groups/4/reserved_regions',
        '0x00000000fee00000 0x00000000feefffff msi',
        '$ cat /sys/kernel/iommu_groups/*/reserved_regions',
        '0x0000000000000000 0x0000000000000fff reserved',
      ),
      'ctx.txt',
    );
    expect(regionList(group(host, 19).reservedRegions)).toEqual(['0xbdf6e000-0xbdf84fff direct']);
    expect(regionList(group(host, 4).reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi']);
    expect(regionList(host.reservedRegions)).toEqual(['0x0-0xfff reserved']);
    expect(host.reservedRegions[0].source.note).toMatch(/union/);
  });

  it('through a device path: the device\'s group when another line names it, else the device', () => {
    const regions = [
      'cat /sys/bus/pci/devices/0000:05:00.0/iommu_group/reserved_regions',
      '0x00000000e0000000 0x00000000f7feffff reserved',
    ];
    const alone = importText(text(...regions), 'dev.txt');
    expect(regionList(device(alone, '0000:05:00.0').reservedRegions)).toEqual(['0xe0000000-0xf7feffff reserved']);
    expect(device(alone, '0000:05:00.0').reservedRegions[0].source.note).toMatch(/iommu_group link of 0000:05:00.0/);
    expect(alone.groups).toEqual([]);

    const withGroup = importText(text(...regions, '[    1.0] pci 0000:05:00.0: Adding to iommu group 25'), 'dev.txt');
    expect(regionList(group(withGroup, 25).reservedRegions)).toEqual(['0xe0000000-0xf7feffff reserved']);
    expect(group(withGroup, 25).reservedRegions[0].source).toMatchObject({ line: 2, group: 25, device: '0000:05:00.0' });
    expect(device(withGroup, '0000:05:00.0').reservedRegions).toEqual([]);
  });

  it('msi at exactly 0x8000000-0x80fffff is the software MSI window; other msi regions stay msi', () => {
    const host = importText(
      text(
        'cat /sys/kernel/iommu_groups/0/reserved_regions',
        '0x0000000008000000 0x00000000080fffff msi',
        '0x0000000008000000 0x00000000081fffff msi',
        '0x00000000fee00000 0x00000000feefffff msi',
      ),
      'arm.txt',
    );
    expect(regionList(group(host, 0).reservedRegions)).toEqual([
      '0x8000000-0x80fffff sw-msi',
      '0x8000000-0x81fffff msi',
      '0xfee00000-0xfeefffff msi',
    ]);
    expect(group(host, 0).reservedRegions[0].source).toMatchObject({ what: 'software MSI window' });
    expect(group(host, 0).reservedRegions[0].source.note).toMatch(/sysfs prints "msi" for hardware and software MSI/);
  });

  it('a union with duplicates keeps each region once', () => {
    const host = importText(text('0x1000 0x1fff direct', '0x1000 0x1fff direct', '0x1000 0x1fff reserved'), 'dup.txt');
    expect(regionList(host.reservedRegions)).toEqual(['0x1000-0x1fff direct', '0x1000-0x1fff reserved']);
  });

  it('unreadable lines are warnings with file and line, and are skipped', () => {
    const host = importText(
      text(
        'cat /sys/kernel/iommu_groups/2/reserved_regions',
        '0x00000000fee00000 0x00000000feefffff msi',
        '0x0000000000001000 0x0000000000001fff bogus',
        '0x0000000000002000 0x0000000000001fff direct',
        '0x0000000000003000 0x',
        'the next region is the interesting one',
      ),
      'bad.txt',
    );
    expect(regionList(group(host, 2).reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi']);
    expect(lineWarnings(host).map((w) => [w.file, w.line])).toEqual([
      ['bad.txt', 3],
      ['bad.txt', 4],
      ['bad.txt', 5],
      ['bad.txt', 6],
    ]);
    expect(lineWarnings(host)[0].message).toMatch(/unknown reserved-region type "bogus"/);
    expect(lineWarnings(host)[0].text).toBe('0x0000000000001000 0x0000000000001fff bogus');
    expect(lineWarnings(host)[1].message).toMatch(/start is above end/);
    expect(lineWarnings(host)[2].message).toMatch(/not a reserved_regions line/);
    expect(lineWarnings(host)[3].message).toMatch(/not recognised as reserved_regions output/);
  });
});
