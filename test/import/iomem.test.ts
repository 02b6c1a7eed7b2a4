import { describe, expect, it } from 'vitest';
import { importText } from '../../src/model/import/index.js';
import { bridge, device, hostBridge, rangeList, lineWarnings } from './helpers.js';

const IOMEM = [
  '00000000-00000fff : Reserved',
  '00001000-0009ffff : System RAM',
  'c0000000-cfffffff : PCI Bus 0000:00',
  '  c0000000-c0ffffff : PCI Bus 0000:01',
  '    c0000000-c07fffff : 0000:01:00.0',
  '      c0000000-c07fffff : nvme',
  '    c0800000-c0bfffff : PCI Bus 0000:02',
  '      c0800000-c08fffff : 0000:02:00.0',
  '  c1000000-c1003fff : 0000:00:1f.3',
  '  c2000000-c2ffffff : PCI Bus 0000:00',
  'd0000000-d0000fff : dmar0',
  'e0000000-efffffff : Reserved',
  '  e0000000-efffffff : PCI MMCONFIG 0000 [bus 00-ff]',
  '\teec00000-eecfffff : PCI Bus 0000:40',
  '4000000000-7fffffffff : PCI Bus 0000:00',
  '  4000000000-400007ffff : 0000:00:02.0',
].join('\n');

describe('/proc/iomem importer', () => {
  const host = importText(IOMEM, 'iomem');

  it('top-level PCI Bus entries (and those under non-PCI entries) are root-bus windows', () => {
    expect(rangeList(hostBridge(host, '0000:00').windows)).toEqual(['0xc0000000-0xcfffffff', '0x4000000000-0x7fffffffff']);
    expect(hostBridge(host, '0000:00').windows[0].source).toEqual({ what: 'host bridge window', file: 'iomem', line: 3, port: '0000:00' });
    expect(rangeList(hostBridge(host, '0000:40').windows)).toEqual(['0xeec00000-0xeecfffff']);
    // bus 00 up to the next root bus (40), the last one up to ff: noted as assumptions
    expect([hostBridge(host, '0000:00').busLast, hostBridge(host, '0000:40').busLast]).toEqual([0x3f, 0xff]);
    expect(hostBridge(host, '0000:00').source.note).toMatch(/assumed/);
  });

  it('nested PCI Bus entries are bridge windows with the enclosing bus as primary', () => {
    expect(bridge(host, 'bus 0000:01')).toMatchObject({ primaryBus: 0, secondaryBus: 1, subordinateBus: 1 });
    expect(bridge(host, 'bus 0000:02')).toMatchObject({ primaryBus: 1, secondaryBus: 2 });
    expect(rangeList(bridge(host, 'bus 0000:02').windows)).toEqual(['0xc0800000-0xc0bfffff']);
    expect(bridge(host, 'bus 0000:01').source.note).toMatch(/subordinate bus not in the sources/);
  });

  it('function entries are memory resources; driver names under them are ignored', () => {
    expect(device(host, '0000:01:00.0').bars).toMatchObject([{ start: 0xc0000000n, last: 0xc07fffffn, source: { line: 5 } }]);
    expect(device(host, '0000:01:00.0').bars[0].bar).toBeUndefined();
    expect(rangeList(device(host, '0000:00:1f.3').bars)).toEqual(['0xc1000000-0xc1003fff']);
    expect(rangeList(device(host, '0000:00:02.0').bars)).toEqual(['0x4000000000-0x400007ffff']);
  });

  it('a DMAR unit makes the platform intel-vtd; nothing is a warning', () => {
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', source: { line: 11 } });
    expect(lineWarnings(host)).toEqual([]);
  });

  it('zeroed addresses (read without root) are reported once', () => {
    const zeroed = importText(['00000000-00000000 : PCI Bus 0000:00', '  00000000-00000000 : 0000:00:01.0', '00000000-00000000 : System RAM'].join('\n'), 'iomem');
    expect(zeroed.pci.hostBridges).toEqual([]);
    expect(lineWarnings(zeroed)).toHaveLength(1);
    expect(lineWarnings(zeroed)[0]).toMatchObject({ line: 1 });
    expect(lineWarnings(zeroed)[0].message).toMatch(/as root/);
  });
});
