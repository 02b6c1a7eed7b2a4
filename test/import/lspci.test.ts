import { describe, expect, it } from 'vitest';
import { importText } from '../../src/model/import/index.js';
import { bar, bridge, device, rangeList, lineWarnings } from './helpers.js';

const SWITCH_PORT = [
  '0000:02:08.0 PCI bridge: PLX Technology, Inc. Device 8749 (rev ca) (prog-if 00 [Normal decode])',
  '\tBus: primary=02, secondary=03, subordinate=05, sec-latency=0',
  '\tI/O behind bridge: 00001000-00001fff',
  '\tMemory behind bridge: 71200000-713fffff',
  '\tPrefetchable memory behind bridge: 0000000900000000-00000009001fffff',
  '\tCapabilities: [68] Express (v2) Downstream Port (Slot+), MSI 00',
  '\tCapabilities: [f24 v1] Access Control Services',
  '\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl+ DirectTrans+',
  '\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-',
  '',
].join('\n');

describe('lspci importer', () => {
  it('a switch port: bus numbers, windows, role, ACS', () => {
    const host = importText(SWITCH_PORT, 'port.txt');
    const port = bridge(host, '0000:02:08.0');
    expect(port).toMatchObject({ role: 'switch-downstream', segment: 0, primaryBus: 2, secondaryBus: 3, subordinateBus: 5 });
    expect(port.windows).toMatchObject([
      { start: 0x71200000n, last: 0x713fffffn, prefetchable: false, source: { what: 'bridge window', line: 4, port: '0000:02:08.0' } },
      { start: 0x900000000n, last: 0x9001fffffn, prefetchable: true, source: { line: 5 } },
    ]);
    expect(port.acs).toEqual({
      capability: {
        sourceValidation: true,
        translationBlocking: true,
        requestRedirect: true,
        completionRedirect: true,
        upstreamForwarding: true,
        egressControl: true,
        directTranslated: true,
      },
      control: {
        sourceValidation: true,
        translationBlocking: false,
        requestRedirect: true,
        completionRedirect: true,
        upstreamForwarding: true,
        egressControl: false,
        directTranslated: false,
      },
    });
    expect(host.devices).toEqual([]); // a bridge with no group is not a device entry
    expect(lineWarnings(host)).toEqual([]);
  });

  it('an endpoint without domain, with -nn: BARs (virtual, disabled, ROM), group, description; I/O ports skipped', () => {
    const host = importText(
      [
        '75:00.2 Ethernet controller [0200]: Mellanox Technologies ConnectX Family mlx5Gen Virtual Function [15b3:101e]',
        '\tIOMMU group: 425',
        '\tRegion 0: Memory at 8fffe100000 (64-bit, prefetchable) [virtual] [size=1M]',
        '\tRegion 1: I/O ports at 3020 [size=4]',
        '\tRegion 2: Memory at fe000000 (32-bit, non-prefetchable) [disabled] [size=16K]',
        '\tRegion 3: Memory at <unassigned> (64-bit, prefetchable)',
        '\tExpansion ROM at fea00000 [disabled] [size=64K]',
        '\tCapabilities: [60] Express (v2) Endpoint, MSI 00',
      ].join('\n'),
      'vf.txt',
    );
    const vf = device(host, '0000:75:00.2');
    expect(vf.group).toBe(425);
    expect(vf.description).toBe('Ethernet controller [0200]: Mellanox Technologies ConnectX Family mlx5Gen Virtual Function [15b3:101e]');
    expect(vf.bars).toHaveLength(3);
    expect(bar(vf, 0)).toMatchObject({ start: 0x8fffe100000n, last: 0x8fffe1fffffn, virtual: true, prefetchable: true, is64: true });
    expect(bar(vf, 0).source).toEqual({ what: 'BAR0', file: 'vf.txt', line: 3, device: '0000:75:00.2' });
    expect(bar(vf, 2)).toMatchObject({ start: 0xfe000000n, last: 0xfe003fffn, disabled: true, prefetchable: false, is64: false });
    expect(bar(vf, 'rom')).toMatchObject({ start: 0xfea00000n, last: 0xfea0ffffn, disabled: true });
    expect(lineWarnings(host)).toEqual([]);
  });

  it('joins mail-wrapped lines: header, ACS flags, window size', () => {
    const host = importText(
      [
        '00:01.3 PCI bridge [0604]: Advanced Micro Devices, Inc. [AMD] Family 17h',
        '(Models 00h-0fh) PCIe GPP Bridge [1022:1453] (prog-if 00 [Normal',
        'decode])',
        '     Bus: primary=00, secondary=01, subordinate=0a, sec-latency=0',
        '     Prefetchable memory behind bridge: e0000000-f01fffff [size=258M]',
        '[32-bit]',
        '[...]',
        '     Capabilities: [58] Express (v2) Root Port (Slot+), MSI 00',
        '     Capabilities: [2a0 v1] Access Control Services',
        '         ACSCap: SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+',
        'EgressCtrl- DirectTrans+',
        '         ACSCtl: SrcValid- TransBlk- ReqRedir- CmpltRedir- UpstreamFwd-',
        'EgressCtrl- DirectTrans-',
      ].join('\n'),
      'wrapped.txt',
    );
    const port = bridge(host, '0000:00:01.3');
    expect(port).toMatchObject({ role: 'root-port', secondaryBus: 1, subordinateBus: 0x0a });
    expect(rangeList(port.windows)).toEqual(['0xe0000000-0xf01fffff']);
    expect(port.acs!.capability.directTranslated).toBe(true);
    expect(port.acs!.capability.egressControl).toBe(false);
    expect(port.acs!.control.directTranslated).toBe(false);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('text at column 0 after a short line is not a wrap: the block ends and the text is reported', () => {
    const host = importText(['00:1f.0 ISA bridge: Intel LPC', 'This is all I could find.'].join('\n'), 'short.txt');
    expect(device(host, '0000:00:1f.0').description).toBe('ISA bridge: Intel LPC');
    expect(lineWarnings(host).map((w) => w.line)).toEqual([2]);
  });

  it('disabled and closed windows are absent, not errors', () => {
    const host = importText(
      [
        '00:08.1 PCI bridge: AMD Internal PCIe GPP Bridge',
        '\tBus: primary=00, secondary=0d, subordinate=0d, sec-latency=0',
        '\tMemory behind bridge: fce00000-fcefffff [size=1M] [32-bit]',
        '\tPrefetchable memory behind bridge: [disabled] [64-bit]',
        '\tPrefetchable memory behind bridge: fff00000-000fffff',
      ].join('\n'),
      'closed.txt',
    );
    expect(rangeList(bridge(host, '0000:00:08.1').windows)).toEqual(['0xfce00000-0xfcefffff']);
    expect(bridge(host, '0000:00:08.1').role).toBe('unknown');
    expect(lineWarnings(host)).toEqual([]);
  });

  it('a bridge in an IOMMU group also has a device entry, its BARs stay on the bridge', () => {
    const host = importText(
      [
        '0000:01:00.0 PCI bridge: PLX Technology, Inc. Device 8749',
        '\tIOMMU group: 3',
        '\tRegion 0: Memory at 71b00000 (32-bit, non-prefetchable) [size=256K]',
        '\tBus: primary=01, secondary=02, subordinate=08, sec-latency=0',
        '\tCapabilities: [68] Express (v2) Upstream Port, MSI 00',
      ].join('\n'),
      'up.txt',
    );
    expect(rangeList(bridge(host, '0000:01:00.0').bars)).toEqual(['0x71b00000-0x71b3ffff']);
    expect(device(host, '0000:01:00.0')).toMatchObject({ group: 3, bars: [] });
  });

  it('unreadable lspci lines are warnings; lines of other capabilities are not', () => {
    const host = importText(
      [
        '3b:00.0 3D controller: NVIDIA Corporation GA103 (rev a1)',
        '\tRegion 0: Memory at 88042000000 (64-bit, prefetchable)',
        '\tRegion 1: Memory at zzz (64-bit, prefetchable) [size=16M]',
        '\tRegion 2: something odd',
        '\tACSCap: nothing here',
        '\tCapabilities: [40] Power Management version 3',
        '\t\tFlags: PMEClk- DSI- D1- D2- AuxCurrent=0mA PME(D0-,D1-,D2-,D3hot-,D3cold-)',
        '\tKernel driver in use: nvidia',
      ].join('\n'),
      'odd.txt',
    );
    expect(lineWarnings(host).map((w) => [w.line, w.message])).toEqual([
      [2, 'BAR0 at 88042000000 has no [size=…]: lspci needs -v to show sizes'],
      [3, 'BAR1 address "zzz" is not hex'],
      [4, 'BAR line not understood: expected "Region N: Memory at <hex> (64-bit, prefetchable) [size=…]"'],
      [5, 'ACS flags not understood'],
    ]);
    expect(device(host, '0000:3b:00.0').bars).toEqual([]);
  });

  it('detail lines before any device header are reported', () => {
    const host = importText('        Region 2: Memory at 8a000000000 (64-bit, prefetchable) [size=128G]\n', 'cut.txt');
    expect(lineWarnings(host)).toHaveLength(1);
    expect(lineWarnings(host)[0]).toMatchObject({ file: 'cut.txt', line: 1 });
    expect(lineWarnings(host)[0].message).toMatch(/outside any device block/);
  });

  it('SR-IOV capability regions (VF BAR bases without sizes) are skipped', () => {
    const host = importText(
      [
        '0000:3b:00.0 Ethernet controller: Some PF',
        '\tRegion 0: Memory at 90000000 (64-bit, prefetchable) [size=32M]',
        '\tCapabilities: [180 v1] Single Root I/O Virtualization (SR-IOV)',
        '\t\tRegion 0: Memory at 0000000092000000 (64-bit, prefetchable)',
        '\tCapabilities: [1b0 v1] Access Control Services',
      ].join('\n'),
      'pf.txt',
    );
    expect(rangeList(device(host, '0000:3b:00.0').bars)).toEqual(['0x90000000-0x91ffffff']);
    expect(lineWarnings(host)).toEqual([]);
  });
});
