/**
 * The importers on the real host captures in test/fixtures/realdata. Expected values were read
 * from the files themselves (line numbers with `grep -n`), not from the importers' output.
 */
import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../src/model/schema.js';
import { hostToJson } from '../../src/model/serialise.js';
import { importText } from '../../src/model/import/index.js';
import { assumptions, bar, bridge, device, group, hostBridge, importReal, lineWarnings, rangeList, realdataFiles, realText, regionList } from './helpers.js';

describe('every real-data file', () => {
  const files = realdataFiles();

  it('there are files to test', () => {
    expect(files.length).toBeGreaterThanOrEqual(29);
  });

  it.each(files)('%s imports, with provenance on every fact, and round-trips through JSON', (name) => {
    const host = importReal(name);
    expect(host.sources).toHaveLength(1);
    expect(host.sources[0].file).toBe(name);
    const facts = [
      ...host.reservedRegions,
      ...host.groups.flatMap((g) => [g, ...g.reservedRegions]),
      ...host.devices.flatMap((d) => [d, ...d.bars, ...d.reservedRegions]),
      ...host.pci.bridges.flatMap((b) => [b, ...b.windows, ...b.bars]),
      ...host.pci.hostBridges.flatMap((b) => [b, ...b.windows]),
      ...(host.platform ? [host.platform] : []),
      ...(host.iommu ? [host.iommu] : []),
    ];
    expect(facts.length).toBeGreaterThan(0);
    for (const fact of facts) {
      expect(fact.source.file).toBe(name);
      expect(fact.source.line).toBeGreaterThan(0);
    }
    for (const w of lineWarnings(host)) {
      expect(w.file).toBe(name);
      expect(w.line).toBeGreaterThanOrEqual(0);
    }
    expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
  });
});

describe('reserved_regions files', () => {
  it('AMD HyperTransport hole and MSI window (union over all groups → host level)', () => {
    const host = importReal('rr-amd-ht-hole-alex-williamson.txt');
    expect(regionList(host.reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi', '0xfd00000000-0xffffffffff reserved']);
    expect(host.reservedRegions[1].source.line).toBe(8);
    expect(host.reservedRegions[1].source.note).toMatch(/union/);
    expect(host.groups).toEqual([]);
  });

  it('the s390x pair and the AMD test box, both unions', () => {
    const host = importReal('rr-s390x-zpci-and-amd-testbox.txt');
    expect(regionList(host.reservedRegions)).toEqual([
      '0x0-0xffffffff reserved',
      '0xfee00000-0xfeefffff msi',
      '0x900000000-0x3ffffffffff reserved',
      '0xfd00000000-0xffffffffff reserved',
    ]);
    const s390 = host.reservedRegions.find((r) => r.start === 0x9_0000_0000n)!;
    expect(s390.source.line).toBe(9);
  });

  it('DL388 Gen8: the RMRRs in group 19, with 00:1f.0 in that group', () => {
    const host = importReal('rr-intel-hp-dl388g8-x79-rmrr.txt');
    const g19 = group(host, 19);
    expect(regionList(g19.reservedRegions)).toEqual([
      '0x0-0xffffff direct',
      '0xbdf6e000-0xbdf84fff direct',
      '0xfee00000-0xfeefffff msi',
    ]);
    expect(g19.reservedRegions[0].source).toMatchObject({ line: 19, group: 19 });
    expect(g19.devices).toEqual(['0000:00:1f.0']);
    expect(device(host, '0000:00:1f.0').description).toMatch(/^ISA bridge: Intel Corporation C600\/X79/);
    expect(host.reservedRegions).toEqual([]);
    expect(host.platform?.profile).toBe('intel-vtd');
  });

  it('SolidRun: four direct-relaxable regions and the software MSI window in group 0', () => {
    const host = importReal('rr-arm-solidrun-fslmc-iort-rmr.txt');
    expect(regionList(group(host, 0).reservedRegions)).toEqual([
      '0x1000000-0x10ffffff direct-relaxable',
      '0x8000000-0x80fffff sw-msi',
      '0x80c000000-0x81bffffff direct-relaxable',
      '0x1c00000000-0x1c001fffff direct-relaxable',
      '0x2080000000-0x209fffffff direct-relaxable',
    ]);
    const swMsi = group(host, 0).reservedRegions[1];
    expect(swMsi.source.line).toBe(3);
    expect(swMsi.source.note).toMatch(/software/);
  });

  it('HiSilicon estuary: the IORT RMR direct regions, read through mail quoting', () => {
    const host = importReal('rr-arm64-hisilicon-estuary-iort-rmr-megaraid.txt');
    expect(regionList(group(host, 0).reservedRegions)).toEqual([
      '0x8000000-0x80fffff sw-msi',
      '0x27b00000-0x286fffff direct',
      '0xe6400000-0xe64fffff direct',
    ]);
    expect(group(host, 0).reservedRegions[2].source.line).toBe(46);
  });

  it('Huawei: reserved PCI windows of 0000:05:00.0, whose group (25) the ls listing gives', () => {
    const host = importReal('rr-arm64-huawei-centos7-smmu-pci-windows.txt');
    const g25 = group(host, 25);
    expect(regionList(g25.reservedRegions)).toEqual([
      '0x8000000-0x80fffff sw-msi',
      '0xe0000000-0xf7feffff reserved',
      '0x80000000000-0x82fffffffff reserved',
    ]);
    expect(g25.reservedRegions[1].source).toMatchObject({ line: 19, device: '0000:05:00.0', group: 25 });
    expect(g25.devices).toEqual(['0000:05:00.0']);
    expect(group(host, 31).devices).toEqual(['0000:06:00.0']);
    expect(lineWarnings(host)).toEqual([]);
  });
});

describe('lspci files', () => {
  const n1sdp = importReal('lspci-arm64-n1sdp-plx8749-switch-acs.txt');

  it('N1SDP: root port, switch upstream port and downstream ports with bus numbers', () => {
    expect(bridge(n1sdp, '0000:00:00.0')).toMatchObject({ role: 'root-port', primaryBus: 0x00, secondaryBus: 0x01, subordinateBus: 0x19 });
    expect(bridge(n1sdp, '0000:01:00.0')).toMatchObject({ role: 'switch-upstream', primaryBus: 0x01, secondaryBus: 0x02, subordinateBus: 0x08 });
    const downstream = { '0000:02:08.0': 3, '0000:02:10.0': 4, '0000:02:11.0': 5, '0000:02:12.0': 6, '0000:02:13.0': 7, '0000:02:14.0': 8 };
    for (const [id, secondary] of Object.entries(downstream)) {
      expect(bridge(n1sdp, id)).toMatchObject({ role: 'switch-downstream', primaryBus: 2, secondaryBus: secondary, subordinateBus: secondary });
    }
  });

  it('N1SDP: windows of 02:11.0 and of the root port', () => {
    const port = bridge(n1sdp, '0000:02:11.0');
    expect(port.windows.map((w) => [`0x${w.start.toString(16)}-0x${w.last.toString(16)}`, w.prefetchable])).toEqual([
      ['0x71400000-0x715fffff', false],
      ['0x900200000-0x9003fffff', true],
    ]);
    expect(port.windows[0].source).toMatchObject({ line: 102, port: '0000:02:11.0' });
    expect(rangeList(bridge(n1sdp, '0000:00:00.0').windows)).toEqual(['0x71200000-0x71bfffff', '0x900000000-0x9006fffff']);
    expect(bridge(n1sdp, '0000:02:10.0').windows).toEqual([]);
  });

  it('N1SDP: ACS control on the downstream ports: ReqRedir+ UpstreamFwd+ EgressCtrl-', () => {
    for (const id of ['0000:02:08.0', '0000:02:10.0', '0000:02:11.0', '0000:02:12.0', '0000:02:13.0', '0000:02:14.0']) {
      const acs = bridge(n1sdp, id).acs!;
      expect(acs.control).toMatchObject({ sourceValidation: true, translationBlocking: false, requestRedirect: true, upstreamForwarding: true, egressControl: false });
      expect(acs.capability).toMatchObject({ egressControl: true, directTranslated: true });
    }
    expect(bridge(n1sdp, '0000:00:00.0').acs).toBeUndefined();
  });

  it('N1SDP: the SATA controller BAR5 (512 bytes) and ROM, and the upstream port BAR0 (256K)', () => {
    const sata = device(n1sdp, '0000:06:00.0');
    expect(bar(sata, 5)).toMatchObject({ start: 0x71610000n, last: 0x71610000n + 512n - 1n, prefetchable: false, is64: false });
    expect(bar(sata, 'rom')).toMatchObject({ start: 0x71600000n, last: 0x7160ffffn, disabled: true });
    expect(sata.bars).toHaveLength(2); // the I/O-port regions are not memory
    const upstream = bridge(n1sdp, '0000:01:00.0');
    expect(bar(upstream, 0)).toMatchObject({ start: 0x71b00000n, last: 0x71b00000n + 256n * 1024n - 1n });
    expect(n1sdp.devices.some((d) => d.id === '0000:01:00.0')).toBe(false);
    expect(bar(device(n1sdp, '0000:01:00.1'), 0)).toMatchObject({ start: 0x71b40000n, disabled: true });
  });

  it('Ryzen X370: ACS controls all off; 00:07.1 lacks ReqRedir; mail-wrapped lines are joined', () => {
    const host = importReal('lspci-amd-ryzen1600x-x370-acs-disabled.txt');
    for (const id of ['0000:00:01.3', '0000:00:03.1', '0000:00:07.1', '0000:00:08.1']) {
      expect(Object.values(bridge(host, id).acs!.control).every((bit) => bit === false)).toBe(true);
    }
    expect(bridge(host, '0000:00:07.1').acs!.capability).toMatchObject({ sourceValidation: true, translationBlocking: true, requestRedirect: false });
    // "EgressCtrl- DirectTrans+" is on the wrapped continuation line of 00:01.3's ACSCap.
    expect(bridge(host, '0000:00:01.3').acs!.capability).toMatchObject({ requestRedirect: true, egressControl: false, directTranslated: true });
    expect(bridge(host, '0000:00:01.3')).toMatchObject({ role: 'root-port', secondaryBus: 0x01, subordinateBus: 0x0a });
    // "[32-bit]" wrapped onto its own line after the prefetchable window of 00:03.1.
    expect(bridge(host, '0000:00:03.1').windows.find((w) => w.prefetchable)).toMatchObject({ start: 0xe0000000n, last: 0xf01fffffn });
    // 00:08.1's ACSCtl is cut from the excerpt: reported.
    expect(lineWarnings(host)).toEqual([]);
    expect(assumptions(host).map((w) => [w.line, w.message.slice(0, 30)])).toContainEqual([87, 'ACSCtl of 0000:00:08.1 is not ']);
  });

  it('GB10: IOMMU group 20, BAR0 at 0x24000000 (64M) on segment 000f', () => {
    const host = importReal('lspci-arm64-nvidia-gb10-segment000f.txt');
    const gpu = device(host, '000f:01:00.0');
    expect(gpu.group).toBe(20);
    expect(bar(gpu, 0)).toMatchObject({ start: 0x24000000n, last: 0x24000000n + (64n << 20n) - 1n, prefetchable: true, is64: true });
    expect(group(host, 20).devices).toEqual(['000f:01:00.0']);
  });

  it('Mellanox VF: the [virtual] BAR at 0x8fffe100000 (1M) in group 425', () => {
    const host = importReal('lspci-mellanox-vf-virtual-bar-cloud-hypervisor-5749.txt');
    const vf = device(host, '0000:75:00.2');
    expect(vf.group).toBe(425);
    expect(bar(vf, 0)).toMatchObject({ start: 0x8fffe100000n, last: 0x8fffe100000n + (1n << 20n) - 1n, virtual: true, prefetchable: true });
  });

  it('H100: the 128G BAR2 of 3b:00.0; BARs before the first header are reported, not attributed', () => {
    const host = importReal('lspci-nvidia-h100-server-128g-bars.txt');
    const gpu = device(host, '0000:3b:00.0');
    expect(bar(gpu, 2)).toMatchObject({ start: 0x84000000000n, last: 0x84000000000n + (128n << 30n) - 1n });
    expect(bar(gpu, 0)).toMatchObject({ start: 0x88042000000n });
    const early = lineWarnings(host).find((w) => w.line === 1)!;
    expect(early.message).toMatch(/outside any device block/);
    expect(early.text).toContain('8a000000000');
    expect(device(host, '0000:3c:00.0').bars).toEqual([]);
  });

  it('Tesla K40c: BAR1 256M above 2^41', () => {
    const host = importReal('lspci-nvidia-tesla-k40c-bars.txt');
    expect(bar(device(host, '0000:82:00.0'), 1)).toMatchObject({ start: 0x37fc0000000n, last: 0x37fcfffffffn });
    expect(bar(device(host, '0000:82:00.0'), 0)).toMatchObject({ start: 0xfa000000n, last: 0xfaffffffn, prefetchable: false });
  });
});

describe('kernel logs', () => {
  it('Ivy Bridge: DMAR host address width 36 and its two RMRRs', () => {
    const host = importReal('dmesg-intel-ivybridge-z77-dmar-width36.txt');
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 36 });
    expect(host.platform!.source.line).toBe(33);
    expect(regionList(host.reservedRegions)).toEqual(['0xd9fa8000-0xd9fc4fff direct', '0xdb800000-0xdf9fffff direct']);
    expect(host.reservedRegions[0].source.note).toMatch(/device scope/);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('Sapphire Rapids: the units translate 57 bits; the DMAR host address width 52 is the physical width', () => {
    // cap 19ed008c40780c66: MGAW = bits 21:16 (0x38) + 1 = 57; SAGAW = bits 12:8 = 0xc (48 and
    // 57 bits); FL5LP (bit 60) set, so first-stage tables reach 57 bits too.
    const host = importReal('dmesg-intel-spr-dmar-width52-dsa.txt');
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 57 });
    expect(host.platform!.source).toMatchObject({ what: 'VT-d domain width (capability register)', line: 8 });
    expect(assumptions(host).map((w) => w.message)).not.toContainEqual(expect.stringMatching(/host address width/));
  });

  it('HP P80: three RMRRs, the firmware-bug lines noted on them, none duplicated', () => {
    const host = importReal('dmesg-intel-hp-p80-bad-rmrr.txt');
    expect(regionList(host.reservedRegions)).toEqual([
      '0xe8000-0xe8fff direct',
      '0xaddee000-0xaddeefff direct',
      '0xc0000000-0xdfffffff direct',
    ]);
    const [legacy, plain, big] = host.reservedRegions;
    expect(legacy.source.note).toMatch(/firmware bug: .*bad RMRR \[0x00000000000e8000-0x00000000000e8fff\]/);
    expect(legacy.source.note).toMatch(/BIOS vendor: HP; Ver: P80/); // the continuation line
    expect(big.source.line).toBe(5);
    expect(big.source.note).toMatch(/firmware bug/);
    expect(plain.source.note).not.toMatch(/firmware bug/);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('radeontop: the dGPU bridge chain 00:03.1 → 2d:00.0 → 2e:00.0', () => {
    const host = importReal('dmesg-amd-dgpu-switch-bridge-windows-radeontop.txt');
    expect(bridge(host, '0000:00:03.1')).toMatchObject({ primaryBus: 0x00, secondaryBus: 0x2d, subordinateBus: 0x2f });
    expect(bridge(host, '0000:2d:00.0')).toMatchObject({ primaryBus: 0x2d, secondaryBus: 0x2e, subordinateBus: 0x2f });
    expect(bridge(host, '0000:2e:00.0')).toMatchObject({ primaryBus: 0x2e, secondaryBus: 0x2f, subordinateBus: 0x2f });
    for (const id of ['0000:00:03.1', '0000:2d:00.0', '0000:2e:00.0']) {
      const pref = bridge(host, id).windows.filter((w) => w.prefetchable);
      expect(rangeList(pref)).toEqual(['0x7fe0000000-0x7ff01fffff']);
    }
    // 00:01.2 has windows but no "PCI bridge to [bus …]" in the excerpt: reported.
    expect(lineWarnings(host).map((w) => w.line)).toEqual([2]);
  });

  it('Surface Book 2: root bus windows and bus range', () => {
    const host = importReal('dmesg-intel-surface-book2-root-bus-resources.txt');
    const root = hostBridge(host, '0000:00');
    expect([root.busFirst, root.busLast]).toEqual([0x00, 0xfe]);
    expect(rangeList(root.windows)).toContain('0x8f800000-0xdfffffff');
    expect(rangeList(root.windows)).toContain('0xfd000000-0xfe7fffff');
    expect(root.windows).toHaveLength(15);
    expect(root.windows.every((w) => w.offset === 0n)).toBe(true);
  });

  it('Ryzen AI 370: the 64-bit root window and the windows of bus 01', () => {
    const host = importReal('dmesg-amd-ryzen-ai370-pci-bus-resources.txt');
    expect(rangeList(hostBridge(host, '0000:00').windows)).toContain('0x880000000-0x7fffffffff');
    const bus01 = bridge(host, 'bus 0000:01');
    expect(bus01.secondaryBus).toBe(1);
    expect(bus01.windows.map((w) => [`0x${w.start.toString(16)}-0x${w.last.toString(16)}`, w.prefetchable])).toEqual([
      ['0xc4000000-0xdbffffff', false],
      ['0x5800000000-0x77ffffffff', true],
    ]);
  });

  it('CIX: ACPI root bridges with bus ranges and their windows', () => {
    const host = importReal('dmesg-arm64-cix-ms-r1-acpi-root-bridges.txt');
    const pci3 = hostBridge(host, '0000:30');
    expect([pci3.busFirst, pci3.busLast]).toEqual([0x30, 0x4f]);
    expect(rangeList(pci3.windows)).toEqual(['0x38000000-0x3fffffff', '0xc00000000-0xfffffffff']);
    expect(rangeList(hostBridge(host, '0000:60').windows)).toEqual(['0x40000000-0x4fffffff', '0x1000000000-0x13ffffffff']);
    expect(rangeList(bridge(host, 'bus 0000:61').windows)).toEqual(['0x40000000-0x400fffff', '0x1000000000-0x10000fffff']);
  });

  it('Threadripper: root window to 0x443fffffff, nested GPU-style windows', () => {
    const host = importReal('dmesg-amd-threadripper-pci-bus-resources-qubes.txt');
    expect(rangeList(hostBridge(host, '0000:00').windows)).toEqual(['0xb8000000-0xd9ffffff', '0x880000000-0x443fffffff']);
    expect(rangeList(bridge(host, 'bus 0000:0a').windows.filter((w) => w.prefetchable))).toEqual(['0xc0000000-0xd01fffff']);
  });

  it('EPYC: assigned bridge windows kept, sizing-phase and empty ranges skipped', () => {
    const host = importReal('dmesg-amd-epyc-bridge-windows-amdsev.txt');
    const port = bridge(host, '0000:80:01.1');
    expect(port).toMatchObject({ secondaryBus: 0x84, subordinateBus: 0x84 });
    expect(rangeList(port.windows)).toEqual(['0xab300000-0xab4fffff', '0x20bc0200000-0x20bc03fffff']);
    expect(port.windows[1].prefetchable).toBe(true);
    expect(rangeList(bridge(host, 'bus 0000:c5').windows)).toEqual(['0x10a0200000-0x10a02fffff']);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('EPYC and multi-segment logs: AMD-Vi', () => {
    expect(importReal('dmesg-amd-epyc-4iommu-amdvi.txt').platform?.profile).toBe('amd-vi');
    expect(importReal('dmesg-amd-multisegment-amdvi-velinux.txt').platform?.profile).toBe('amd-vi');
    expect(group(importReal('dmesg-amd-epyc-4iommu-amdvi.txt'), 72).devices).toEqual(['0000:02:00.2']);
  });

  it('Qubes: a BAR from "reg 0x10" and the bridge above it', () => {
    const host = importReal('dmesg-amd-qubes-xen-default-domain-bridge-window.txt');
    expect(bar(device(host, '0000:0a:00.4'), 0)).toMatchObject({ start: 0xfc800000n, last: 0xfc807fffn });
    expect(bridge(host, '0000:00:08.1')).toMatchObject({ secondaryBus: 0x0a });
    expect(rangeList(bridge(host, '0000:00:08.1').windows)).toEqual(['0xfc600000-0xfc8fffff']);
  });

  it('powernv: the TCE window 0..0x7fffffff with 4K pages; the DMA bypass noted', () => {
    const host = importReal('dmesg-ppc64-powernv-tce-windows.txt');
    expect(host.iommu).toMatchObject({ apertures: [{ start: 0n, last: 0x7fffffffn }], pageSizes: 0x1000n });
    expect(host.iommu!.source.note).toMatch(/bypass/);
    expect(host.iommu!.source.note).toMatch(/PE# 001 \(0003:01\).*PE# 008 \(0003:10\)/);
    expect(bar(device(host, '0004:01:00.0'), 0)).toMatchObject({ start: 0x260000000000n, last: 0x26000000ffffn, is64: true });
    expect(bar(device(host, '0004:01:00.2'), 'rom')).toMatchObject({ start: 0x3fe900100000n, last: 0x3fe90017ffffn });
  });
});

describe('/proc/iomem', () => {
  const host = importReal('iomem-intel-2socket-server-hpsa-dmar.txt');

  it('top-level PCI Bus entries are host-bridge windows', () => {
    expect(rangeList(hostBridge(host, '0000:00').windows)).toEqual(['0xa0000-0xbffff', '0x90000000-0xc7ffbfff', '0x38000000000-0x39fffffffff']);
    expect(rangeList(hostBridge(host, '0000:80').windows)).toEqual(['0xc8000000-0xfbffbfff', '0x3a000000000-0x3bfffffffff']);
  });

  it('nested PCI Bus entries are windows of the bridges to buses 01, 02, 03', () => {
    expect(bridge(host, 'bus 0000:01')).toMatchObject({ primaryBus: 0, secondaryBus: 1 });
    expect(rangeList(bridge(host, 'bus 0000:01').windows)).toEqual(['0x90000000-0x92afffff']);
    expect(rangeList(bridge(host, 'bus 0000:02').windows)).toEqual(['0x92b00000-0x92dfffff', '0x39fffe00000-0x39fffefffff']);
    expect(rangeList(bridge(host, 'bus 0000:03').windows)).toEqual(['0x92e00000-0x92ffffff']);
  });

  it("devices' memory resources, without BAR numbers", () => {
    const hpsa = device(host, '0000:03:00.0');
    expect(rangeList(hpsa.bars)).toEqual(['0x92e00000-0x92efffff', '0x92f00000-0x92f003ff', '0x92f80000-0x92ffffff']);
    expect(hpsa.bars.every((b) => b.bar === undefined)).toBe(true);
    expect(rangeList(device(host, '0000:80:05.4').bars)).toEqual(['0xc8000000-0xc8000fff']);
  });

  it('the DMAR units make it intel-vtd; every line is read', () => {
    expect(host.platform?.profile).toBe('intel-vtd');
    expect(lineWarnings(host)).toEqual([]);
  });

  it('a line of prose before the listing is reported with its line', () => {
    const text = `Booted with part of RAM set aside as persistent memory:\n${realText('iomem-intel-2socket-server-hpsa-dmar.txt')}`;
    const withProse = importText(text, 'iomem');
    expect(lineWarnings(withProse).map((w) => w.line)).toEqual([1]);
    expect(withProse.platform?.profile).toBe('intel-vtd');
    expect(rangeList(hostBridge(withProse, '0000:80').windows)).toEqual(rangeList(hostBridge(host, '0000:80').windows));
  });
});

describe('IOMMU group listings', () => {
  it('systemd #33412: 00:14.0 and 00:14.3 share group 11', () => {
    const host = importReal('groups-amd-desktop-systemd-33412.txt');
    expect(group(host, 11).devices).toEqual(['0000:00:14.0', '0000:00:14.3']);
    expect(group(host, 12).devices).toEqual(['0000:00:18.0', '0000:00:18.1']);
    expect(host.groups).toHaveLength(13);
    expect(device(host, '0000:00:14.3').group).toBe(11);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('kata: the GPU root port in group 1, 00:14.0/00:14.2 together in group 3', () => {
    const host = importReal('groups-intel-kata-passthrough-default-domain.txt');
    expect(group(host, 1).devices).toEqual(['0000:00:01.0']);
    expect(group(host, 3).devices).toEqual(['0000:00:14.0', '0000:00:14.2']);
    expect(host.platform?.profile).toBe('intel-vtd');
  });

  it('X58: each root port in its own group, with lspci descriptions', () => {
    const host = importReal('groups-intel-x58-iommu-group-listing.txt');
    expect(host.groups.map((g) => [g.id, g.devices])).toEqual([
      [0, ['0000:00:00.0']],
      [1, ['0000:00:01.0']],
      [2, ['0000:00:03.0']],
      [3, ['0000:00:04.0']],
      [4, ['0000:00:05.0']],
      [5, ['0000:00:06.0']],
      [6, ['0000:00:07.0']],
      [7, ['0000:00:09.0']],
    ]);
    expect(device(host, '0000:00:09.0').description).toBe(
      'PCI bridge [0604]: Intel Corporation 7500/5520/5500/X58 I/O Hub PCI Express Root Port 9 [8086:3410] (rev 13)',
    );
  });
});

describe('warnings on real data', () => {
  it('prose is reported with its line; prompts, headers and markers are not', () => {
    // The capture as a mail carries it: a `#` header, separators and prose (our own words,
    // quoted and plain) around the machine output (fixture lines 1-8 become lines 6-13).
    const text = [
      '# kind: reserved_regions',
      '--- quoted report ---',
      '> Guests larger than the space below the hole fail to start:',
      '>',
      '--- reply ---',
      realText('rr-amd-ht-hole-alex-williamson.txt').trimEnd(),
      'The hole is the same on every AMD host we have tried.',
    ].join('\n');
    const host = importText(text, 'mail.txt');
    const lines = lineWarnings(host).map((w) => w.line);
    expect(lines).toContain(3); // quoted prose
    expect(lines).toContain(14); // plain prose
    expect(lines).not.toContain(11); // $ grep -h . /sys/kernel/iommu_groups/*/reserved_regions
    expect(lines).not.toContain(2); // --- quoted report ---
    expect(lines).not.toContain(5); // --- reply ---
    expect(lines).not.toContain(1); // the # header
    expect(lineWarnings(host).find((w) => w.line === 14)!.text).toBe('The hole is the same on every AMD host we have tried.');
    expect(regionList(host.reservedRegions)).toEqual(['0xfee00000-0xfeefffff msi', '0xfd00000000-0xffffffffff reserved']);
    expect(host.reservedRegions[1].source.line).toBe(13);
  });

  it('kernel log lines of no interest are not reported', () => {
    for (const name of realdataFiles().filter((f) => f.startsWith('dmesg-') && !f.includes('radeontop') && !f.includes('cix'))) {
      expect(lineWarnings(importReal(name)), name).toEqual([]);
    }
  });
});
