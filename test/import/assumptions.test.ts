/**
 * Warnings are facts: every assumption an importer makes is recorded on the host facts with
 * its file and line (kind `assumption`), and the importers read the width the kernel enforces.
 * Capability registers below are from real logs (noted) or built from the VT-d field layout
 * (MGAW bits 21:16 plus one, SAGAW bits 12:8: bit 1 = 39, bit 2 = 48, bit 3 = 57 bits).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import type { HostFacts } from '../../src/model/host.js';
import { importSources, importText, readSysfsRoot } from '../../src/model/import/index.js';
import { describeVtdWidth, vtdDomainWidth } from '../../src/model/import/vtd.js';
import { assumptions, lineWarnings } from './warned.js';

const log = (...messages: string[]) => messages.map((m, i) => `[    0.${String(i + 1).padStart(6, '0')}] ${m}`).join('\n');

function only(host: HostFacts): HostFacts['warnings'][number] {
  const list = assumptions(host);
  expect(list).toHaveLength(1);
  return list[0];
}

describe('the VT-d domain width rule', () => {
  it.each([
    // Ivy Bridge (intel-gfx list): MGAW field 0x26 → 39, SAGAW 0x2 → 39 only.
    ['c0000020e60262', 39],
    // Skylake client: MGAW 39, SAGAW 0x4 (48): the domain is limited to MGAW.
    ['d2008c40660462', 39],
    // Server: MGAW field 0x2f → 48, SAGAW 0x4 → 48.
    ['8d2078c106f0466', 48],
    // Sapphire Rapids (intel-device-plugins #1836): MGAW 57, SAGAW 0xc, FL5LP set → 57.
    ['19ed008c40780c66', 57],
  ])('cap %s gives a %i-bit domain', (cap, width) => {
    const vtd = vtdDomainWidth(BigInt(`0x${cap}`))!;
    expect(describeVtdWidth('dmar0', vtd).width).toBe(width);
  });

  it('5-level second-stage support without first-stage 5-level paging: the narrower width, said so', () => {
    const vtd = vtdDomainWidth((0x38n << 16n) | (0xcn << 8n))!; // MGAW 57, SAGAW 48|57, FL5LP clear
    expect(vtd).toMatchObject({ width: 57, firstStage: 48 });
    const { width, note } = describeVtdWidth('dmar0', vtd);
    expect(width).toBe(48);
    expect(note).toMatch(/first-stage tables in scalable mode translate only 48 bits/);
  });

  it('a capability register with no supported width gives none', () => {
    expect(vtdDomainWidth(0x260000n)).toBeUndefined();
  });
});

describe('what the kernel log says about the width', () => {
  it('"iommu width (39) is not sufficient" gives a 39-bit intel-vtd platform, not a 64-bit space', () => {
    const host = importText(log('DMAR: intel_iommu_map: iommu width (39) is not sufficient for the mapped address (ffff008000)'), 'map.log');
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 39 });
    expect(host.platform!.source).toMatchObject({ file: 'map.log', line: 1, what: 'VT-d domain width the kernel enforced' });
    expect(host.warnings).toEqual([]);
  });

  it('the same message from a device (attach path) is read too', () => {
    const host = importText(log('vfio-pci 0000:00:02.0: DMAR: prepare_domain_attach_device: iommu width (39) is not sufficient for the mapped address (7fffffffff000)'), 'attach.log');
    expect(host.platform).toMatchObject({ addressWidth: 39 });
  });

  it('a cap register that encodes 39 bits yields 39, beating the DMAR host address width (36) of the same log', () => {
    const host = importText(
      log(
        'DMAR: Host address width 36',
        'DMAR: DRHD base: 0x000000fed90000 flags: 0x0',
        'DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap c0000020e60262 ecap f0101a',
        'DMAR: dmar1: reg_base_addr fed91000 ver 1:0 cap c9008020660262 ecap f0105a',
      ),
      'ivb.log',
    );
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 39 });
    expect(host.platform!.source).toMatchObject({ line: 3, what: 'VT-d domain width (capability register)' });
    expect(host.warnings).toEqual([]);
  });

  it('the DMAR host address width alone is used, with a warning that it is the physical width', () => {
    const host = importText(log('DMAR: Host address width 46', 'DMAR: IOMMU enabled'), 'haw.log');
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 46 });
    const w = only(host);
    expect(w).toMatchObject({ file: 'haw.log', line: 1, kind: 'assumption' });
    expect(w.message).toMatch(/^address width 46 taken from the DMAR table's host address width, which is the host's physical width/);
  });

  it('a cap register in a later source beats a host address width in an earlier one, without a conflict', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iova-width-'));
    const haw = path.join(dir, 'a.log');
    const cap = path.join(dir, 'b.log');
    writeFileSync(haw, log('DMAR: Host address width 46'));
    writeFileSync(cap, log('DMAR: dmar0: reg_base_addr fbffc000 ver 1:0 cap 8d2078c106f0466 ecap f020df'));
    for (const order of [[haw, cap], [cap, haw]]) {
      const host = importSources(order);
      expect(host.platform).toMatchObject({ addressWidth: 48, source: { file: cap, line: 1 } });
      expect(host.warnings).toEqual([]);
    }
  });

  it('an intel-vtd platform without any width says which width is assumed', () => {
    const host = importText(log('DMAR: IOMMU enabled'), 'on.log');
    expect(host.platform).toEqual({ profile: 'intel-vtd', source: expect.anything() });
    const w = only(host);
    expect(w).toMatchObject({ file: 'on.log', line: 1 });
    expect(w.message).toMatch(/^IOMMU address width not in the sources, so it is assumed: 48 bits \(the intel-vtd profile default\)/);
  });

  it('AMD-Vi without a width, arm SMMUv3 with its IAS', () => {
    expect(only(importText(log('AMD-Vi: Interrupt remapping enabled'), 'amd.log')).message).toMatch(/64 bits with the v1 page table/);
    const smmu = importText(log('arm-smmu-v3 arm-smmu-v3.0.auto: ias 44-bit, oas 44-bit (features 0x00001fef)'), 'smmu.log');
    expect(smmu.platform).toMatchObject({ profile: 'arm-smmuv3', addressWidth: 44 });
    expect(smmu.warnings).toEqual([]);
  });

  it('an RMRR from the log is a host-wide region, and the unknown device scope is one warning at its first line', () => {
    const host = importText(
      log(
        'DMAR: Host address width 39',
        'DMAR: RMRR base: 0x000000bdf6e000 end: 0x000000bdf7bfff',
        'DMAR: [Firmware Bug]: No firmware reserved region can cover this RMRR [0x00000000bdf6e000-0x00000000bdf7bfff], contact BIOS vendor for fixes',
      ),
      'rmrr.log',
    );
    const scopes = assumptions(host).filter((w) => w.message.startsWith('device scope'));
    expect(scopes.map((w) => w.line)).toEqual([2]);
    expect(scopes[0].message).toMatch(/^device scope of RMRR 0xbdf6e000-0xbdf7bfff unknown/);
    expect(scopes[0].text).toContain('RMRR base: 0x000000bdf6e000');
  });
});

describe('no IOMMU facts', () => {
  it('a host with none gets a whole-host warning naming the source', () => {
    const host = importText('# cat /sys/kernel/iommu_groups/7/reserved_regions\n0x00000000fee00000 0x00000000feefffff msi\n', 'rr.txt');
    const w = only(host);
    expect(w).toMatchObject({ file: 'rr.txt', line: 0, kind: 'assumption', text: '' });
    expect(w.message).toMatch(/^no IOMMU facts in the source .*whole 64-bit space with 4 KiB pages, which no real IOMMU offers/);
  });

  it('a sysfs root with PCI devices but no IOMMU units says so', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'iova-noiommu-'));
    mkdirSync(path.join(root, 'sys/bus/pci/devices/0000:00:02.0'), { recursive: true });
    writeFileSync(path.join(root, 'sys/bus/pci/devices/0000:00:02.0/class'), '0x030000\n');
    const w = only(readSysfsRoot(root));
    expect(w).toMatchObject({ file: root, line: 0 });
    expect(w.message).toMatch(/^no IOMMU facts/);
  });
});

describe('capabilities that could not be read', () => {
  it('lspci run without root: one warning at the first hidden block, counting functions and bridges', () => {
    const text = [
      '00:01.0 PCI bridge: Intel Corporation Device 1901 (rev 07) (prog-if 00 [Normal decode])',
      '\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0',
      '\tCapabilities: <access denied>',
      '',
      '01:00.0 Ethernet controller: Intel Corporation I210 Gigabit Network Connection (rev 03)',
      '\tRegion 0: Memory at f7200000 (32-bit, non-prefetchable) [size=128K]',
      '\tCapabilities: <access denied>',
      '',
    ].join('\n');
    const host = importText(text, 'user.txt');
    const w = assumptions(host).find((x) => x.message.startsWith('lspci ran without root'))!;
    expect(w).toMatchObject({ file: 'user.txt', line: 3 });
    expect(w.message).toMatch(/capabilities of 2 functions \(1 bridge\) are hidden .*ACS bits and PCIe port types are unknown and peer-to-peer facts are missing/);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('a sysfs bridge whose config space shows 64 bytes (read without root) is warned about', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'iova-cfg-'));
    const port = path.join(root, 'sys/bus/pci/devices/0000:00:01.0');
    mkdirSync(port, { recursive: true });
    writeFileSync(path.join(port, 'class'), '0x060400\n');
    writeFileSync(path.join(port, 'config'), Buffer.alloc(64));
    mkdirSync(path.join(root, 'sys/class/iommu/dmar0/intel-iommu'), { recursive: true });
    writeFileSync(path.join(root, 'sys/class/iommu/dmar0/intel-iommu/cap'), 'd2008c40660462\n');
    const host = readSysfsRoot(root);
    expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 39 });
    const w = only(host);
    expect(w.file).toBe(path.join(port, 'config'));
    expect(w.message).toMatch(/config space of 1 bridge shows no capabilities .*ACS bits .* unknown/);
  });
});

describe('scopes and bus ranges no source gives', () => {
  it('reserved regions without a group: one warning for the file, at the first such region', () => {
    const host = importText(['0x00000000fee00000 0x00000000feefffff msi', '0x000000fd00000000 0x000000ffffffffff reserved'].join('\n'), 'rr.txt');
    const w = assumptions(host).find((x) => x.line > 0)!;
    expect(w).toMatchObject({ file: 'rr.txt', line: 1 });
    expect(w.message).toMatch(/^2 reserved regions name no IOMMU group .*taken to apply to every device/);
  });

  it('a host bridge without its bus range, a bridge without its subordinate bus', () => {
    const host = importText(log('PCI host bridge to bus 0000:00', 'pci_bus 0000:03: resource 1 [mem 0xa0000000-0xa00fffff]', 'pci 0000:00:01.0: PCI bridge to [bus 03]'), 'b.log');
    const messages = assumptions(host).map((w) => [w.line, w.message]);
    expect(messages).toContainEqual([1, 'host bridge 0000:00: bus range not in the sources; assumed to reach bus ff, below the next root bus']);
    expect(host.pci.bridges.map((b) => [b.id, b.secondaryBus, b.subordinateBus])).toEqual([['0000:00:01.0', 3, 3]]);
  });
});

describe('lines that used to be skipped', () => {
  it('single-bus root bridges', () => {
    const host = importText(
      log('ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00])', 'PCI host bridge to bus 0000:00', 'pci_bus 0000:00: root bus resource [bus 00]'),
      'bus.log',
    );
    expect(host.pci.hostBridges).toMatchObject([{ id: '0000:00', busFirst: 0, busLast: 0 }]);
    expect(lineWarnings(host)).toEqual([]);
  });

  it("the group in a device's iommu_group link (ls -l, readlink)", () => {
    const text = [
      '$ ls -l /sys/bus/pci/devices/0000:01:00.0/iommu_group',
      'lrwxrwxrwx 1 root root 0 Mar  8 20:54 /sys/bus/pci/devices/0000:01:00.0/iommu_group -> ../../../../kernel/iommu_groups/14',
      '$ readlink -f /sys/bus/pci/devices/0000:02:00.0/iommu_group',
      '/sys/kernel/iommu_groups/15',
      '# readlink /sys/bus/pci/devices/0000:03:00.0/iommu_group',
      '../../../../kernel/iommu_groups/16',
    ].join('\n');
    const host = importText(text, 'links.txt');
    expect(host.devices.map((d) => [d.id, d.group])).toEqual([
      ['0000:01:00.0', 14],
      ['0000:02:00.0', 15],
      ['0000:03:00.0', 16],
    ]);
    expect(lineWarnings(host)).toEqual([]);
  });
});

describe('a file that is not host facts', () => {
  it('is refused at its first unrecognised line', () => {
    const readme = ['# iova-solver', '', 'Place I/O virtual addresses in IOMMU address spaces.', 'It reads what the host says.', '0x1000 0x1fff oops'].join('\n');
    try {
      importText(readme, 'README.md');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ file: 'README.md', line: 3 });
      expect((error as InputError).reason).toMatch(/^not host facts: 2 of 3 lines are not reserved_regions, .* output, and no line gave a fact/);
    }
  });

  it('but an empty file, a file of headers, or a kernel log with nothing of interest is not', () => {
    expect(importText('', 'empty').warnings.map((w) => w.kind)).toEqual(['assumption']);
    expect(importText('# cat /sys/kernel/iommu_groups/3/reserved_regions\n', 'header').warnings.map((w) => w.kind)).toEqual(['assumption']);
    expect(lineWarnings(importText(log('usb 1-1: new high-speed USB device', 'EXT4-fs (sda1): mounted'), 'boring.log'))).toEqual([]);
  });
});
