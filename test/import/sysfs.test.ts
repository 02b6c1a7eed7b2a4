import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import type { HostFacts } from '../../src/model/host.js';
import { importSources, parseConfigSpace, readSysfsRoot, SYSFS_CAPTURE_SCRIPT } from '../../src/model/import/index.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { hostToJson } from '../../src/model/serialise.js';
import { bar, bridge, device, group, hostBridge, rangeList, regionList, lineWarnings } from './helpers.js';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'iova-sysfs-'));
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function write(file: string, content: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** `0x%016llx 0x%016llx 0x%016llx` lines; unlisted entries are empty. */
function resourceFile(count: number, entries: Record<number, [bigint, bigint, bigint]>): string {
  const hex = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;
  return Array.from({ length: count }, (_, i) => {
    const [s, e, f] = entries[i] ?? [0n, 0n, 0n];
    return `${hex(s)} ${hex(e)} ${hex(f)}\n`;
  }).join('');
}

/** A config space: a bridge header, a PCIe capability of the given port type, an ACS capability. */
function bridgeConfig(portType: number, acsCap: number, acsCtl: number): Uint8Array {
  const c = new Uint8Array(4096);
  c[0x0e] = 0x01; // header type 1
  c[0x06] = 0x10; // status: capability list
  c[0x34] = 0x40;
  c[0x40] = 0x10; // PCI Express
  c[0x41] = 0x00;
  c[0x42] = (portType << 4) | 2;
  const header = 0x0d | (1 << 16); // ACS, version 1, no next
  c.set([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, header >>> 24], 0x100);
  c.set([acsCap & 0xff, acsCap >> 8, acsCtl & 0xff, acsCtl >> 8], 0x104);
  return c;
}

const MEM = 0x200n;
const PREF = 0x2000n;
const MEM64 = 0x100000n;

/** A small host: a root port 00:01.0 (group 2) above an endpoint 01:00.0 (group 3), one DMAR unit pair. */
function fakeTree(root: string, options: { symlinks: boolean }): void {
  const sys = path.join(root, 'sys');
  const port = path.join(sys, 'devices/pci0000:00/0000:00:01.0');
  const nic = path.join(port, '0000:01:00.0');
  write(path.join(port, 'class'), '0x060400\n');
  write(path.join(port, 'secondary_bus_number'), '1\n');
  write(path.join(port, 'subordinate_bus_number'), '1\n');
  write(path.join(port, 'dma_mask_bits'), '32\n');
  write(
    path.join(port, 'resource'),
    resourceFile(17, {
      13: [0xe000n, 0xefffn, 0x100n], // I/O window
      14: [0xfc500000n, 0xfcafffffn, MEM],
      15: [0x7fe0000000n, 0x7ff01fffffn, MEM | PREF | MEM64],
    }),
  );
  write(path.join(port, 'config'), bridgeConfig(4, 0x5f, 0x1d));
  write(path.join(nic, 'class'), '0x020000\n');
  write(path.join(nic, 'dma_mask_bits'), '64\n');
  write(
    path.join(nic, 'resource'),
    resourceFile(13, {
      0: [0x7fe0000000n, 0x7fe00fffffn, MEM | PREF | MEM64 | 0xcn],
      2: [0xfc500000n, 0xfc503fffn, MEM],
      4: [0xe000n, 0xe01fn, 0x101n],
      6: [0xfc580000n, 0xfc5fffffn, MEM | 0x4000n],
      7: [0x7fe0100000n, 0x7fe01fffffn, MEM | PREF | MEM64],
    }),
  );
  const groups = path.join(sys, 'kernel/iommu_groups');
  write(path.join(groups, '2/reserved_regions'), '0x00000000fee00000 0x00000000feefffff msi\n');
  write(path.join(groups, '3/reserved_regions'), '0x00000000bdf6e000 0x00000000bdf84fff direct\n0x00000000fee00000 0x00000000feefffff msi\n');
  mkdirSync(path.join(groups, '2/devices'), { recursive: true });
  mkdirSync(path.join(groups, '3/devices'), { recursive: true });
  const dmar = (name: string, cap: string) => write(path.join(sys, 'devices/virtual/iommu', name, 'intel-iommu/cap'), `${cap}\n`);
  // MGAW is cap bits 21:16, plus one: 0x2f → 48 bits; 0x26 → 39 bits.
  dmar('dmar0', 'd2008c402f0462');
  dmar('dmar1', 'd2008c40260462');
  mkdirSync(path.join(sys, 'bus/pci/devices'), { recursive: true });
  mkdirSync(path.join(sys, 'class/iommu'), { recursive: true });
  if (options.symlinks) {
    symlinkSync('../../../devices/pci0000:00/0000:00:01.0', path.join(sys, 'bus/pci/devices/0000:00:01.0'));
    symlinkSync('../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0', path.join(sys, 'bus/pci/devices/0000:01:00.0'));
    symlinkSync('../../../../devices/pci0000:00/0000:00:01.0', path.join(groups, '2/devices/0000:00:01.0'));
    symlinkSync('../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0', path.join(groups, '3/devices/0000:01:00.0'));
    symlinkSync('../../../kernel/iommu_groups/2', path.join(port, 'iommu_group'));
    symlinkSync('../../../../kernel/iommu_groups/3', path.join(nic, 'iommu_group'));
    symlinkSync('../../devices/virtual/iommu/dmar0', path.join(sys, 'class/iommu/dmar0'));
    symlinkSync('../../devices/virtual/iommu/dmar1', path.join(sys, 'class/iommu/dmar1'));
  }
  write(path.join(root, 'proc/iomem'), 'c0000000-fcffffff : PCI Bus 0000:00\n  fc500000-fcafffff : PCI Bus 0000:01\n');
}

function expectFakeFacts(host: HostFacts): void {
  expect(host.platform).toMatchObject({ profile: 'intel-vtd', addressWidth: 39 });
  expect(host.platform!.source.note).toMatch(/smallest of 2 readings \(others: 48 bits\)/);
  expect(regionList(group(host, 3).reservedRegions)).toEqual(['0xbdf6e000-0xbdf84fff direct', '0xfee00000-0xfeefffff msi']);
  expect(group(host, 3).reservedRegions[0].source).toMatchObject({ line: 1, group: 3 });
  expect(group(host, 3).devices).toEqual(['0000:01:00.0']);
  expect(group(host, 2).devices).toEqual(['0000:00:01.0']);

  const port = bridge(host, '0000:00:01.0');
  expect(port).toMatchObject({ role: 'root-port', primaryBus: 0, secondaryBus: 1, subordinateBus: 1 });
  expect(port.windows.map((w) => [`0x${w.start.toString(16)}-0x${w.last.toString(16)}`, w.prefetchable])).toEqual([
    ['0xfc500000-0xfcafffff', false],
    ['0x7fe0000000-0x7ff01fffff', true],
  ]);
  expect(port.acs!.capability).toEqual({
    sourceValidation: true,
    translationBlocking: true,
    requestRedirect: true,
    completionRedirect: true,
    upstreamForwarding: true,
    egressControl: false,
    directTranslated: true,
  });
  expect(port.acs!.control).toMatchObject({ sourceValidation: true, translationBlocking: false, requestRedirect: true, upstreamForwarding: true });
  // the port's device entry exists for its group; a port's DMA mask is not recorded
  expect(device(host, '0000:00:01.0')).toMatchObject({ group: 2, bars: [] });
  expect(device(host, '0000:00:01.0').dmaMaskBits).toBeUndefined();

  const nic = device(host, '0000:01:00.0');
  expect(nic).toMatchObject({ group: 3, dmaMaskBits: 64 });
  expect(bar(nic, 0)).toMatchObject({ start: 0x7fe0000000n, last: 0x7fe00fffffn, prefetchable: true, is64: true });
  expect(bar(nic, 0).source).toMatchObject({ what: 'BAR0', line: 1, device: '0000:01:00.0' });
  expect(bar(nic, 2)).toMatchObject({ start: 0xfc500000n, prefetchable: false, is64: false });
  expect(bar(nic, 'rom')).toMatchObject({ start: 0xfc580000n, last: 0xfc5fffffn });
  const vf = nic.bars.find((b) => b.bar === undefined)!;
  expect(vf).toMatchObject({ start: 0x7fe0100000n, source: { what: 'SR-IOV VF BAR 0', line: 8 } });
  expect(nic.bars).toHaveLength(4); // the I/O BAR is not memory

  expect(rangeList(hostBridge(host, '0000:00').windows)).toEqual(['0xc0000000-0xfcffffff']);
  // iomem's "PCI Bus 0000:01" is the port's window: merged into the bridge with that secondary bus
  expect(host.pci.bridges.map((b) => b.id)).toEqual(['0000:00:01.0']);
  expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
}

describe('sysfs reader', () => {
  it('reads a tree with real symlinks', () => {
    const root = tempDir();
    fakeTree(root, { symlinks: true });
    const host = readSysfsRoot(root);
    expectFakeFacts(host);
    expect(host.sources).toEqual([
      { file: root, kind: 'sysfs' },
      { file: path.join(root, 'proc/iomem'), kind: 'iomem' },
    ]);
    expect(group(host, 3).reservedRegions[0].source.file).toBe(path.join(root, 'sys/kernel/iommu_groups/3/reserved_regions'));
    expect(lineWarnings(host)).toEqual([]);
  });

  it('the capture script archives a tree that reads back the same (symlinks become copies)', () => {
    const root = tempDir();
    fakeTree(root, { symlinks: true });
    const work = tempDir();
    const archive = path.join(work, 'host.tar.gz');
    execFileSync('sh', ['-c', SYSFS_CAPTURE_SCRIPT, 'capture', root, archive], { cwd: work, stdio: 'pipe' });
    const extracted = path.join(work, 'host');
    mkdirSync(extracted);
    execFileSync('tar', ['-xzf', archive, '-C', extracted]);
    const listing = execFileSync('find', [extracted, '-type', 'l']).toString();
    expect(listing).toBe(''); // no symlinks left
    const host = readSysfsRoot(extracted);
    expectFakeFacts(host);
    expect(lineWarnings(host)).toEqual([]);
  });

  it('accepts plain directories (no symlinks) and tar-style NUL padding', () => {
    const root = tempDir();
    fakeTree(root, { symlinks: false });
    // what the tree looks like after `cp -rL`: devices under bus/pci/devices and group devices as directories
    const sys = path.join(root, 'sys');
    execFileSync('cp', ['-r', path.join(sys, 'devices/pci0000:00/0000:00:01.0'), path.join(sys, 'bus/pci/devices/0000:00:01.0')]);
    execFileSync('cp', ['-r', path.join(sys, 'devices/pci0000:00/0000:00:01.0/0000:01:00.0'), path.join(sys, 'bus/pci/devices/0000:01:00.0')]);
    mkdirSync(path.join(sys, 'kernel/iommu_groups/2/devices/0000:00:01.0'));
    mkdirSync(path.join(sys, 'kernel/iommu_groups/3/devices/0000:01:00.0'));
    execFileSync('cp', ['-r', path.join(sys, 'devices/virtual/iommu/dmar0'), path.join(sys, 'class/iommu/dmar0')]);
    execFileSync('cp', ['-r', path.join(sys, 'devices/virtual/iommu/dmar1'), path.join(sys, 'class/iommu/dmar1')]);
    const padded = path.join(sys, 'kernel/iommu_groups/3/reserved_regions');
    write(padded, `0x00000000bdf6e000 0x00000000bdf84fff direct\n0x00000000fee00000 0x00000000feefffff msi\n${'\0'.repeat(200)}`);
    expectFakeFacts(readSysfsRoot(root));
  });

  it('accepts the sysfs directory itself', () => {
    const root = tempDir();
    fakeTree(root, { symlinks: true });
    const host = readSysfsRoot(path.join(root, 'sys'));
    expect(group(host, 3).devices).toEqual(['0000:01:00.0']);
    expect(host.pci.hostBridges).toEqual([]); // proc/ is not beside /sys
  });

  it('platform devices in groups, a group with no regions, unreadable lines', () => {
    const root = tempDir();
    const groups = path.join(root, 'sys/kernel/iommu_groups');
    write(path.join(groups, '0/reserved_regions'), '0x0000000008000000 0x00000000080fffff msi\nnot a region\n');
    mkdirSync(path.join(groups, '0/devices/fsl-mc-dprc.1'), { recursive: true });
    mkdirSync(path.join(groups, '1/devices/0000:00:00.0'), { recursive: true });
    const host = readSysfsRoot(root, { name: 'board' });
    expect(host.name).toBe('board');
    expect(group(host, 0).devices).toEqual(['platform:fsl-mc-dprc.1']);
    expect(regionList(group(host, 0).reservedRegions)).toEqual(['0x8000000-0x80fffff sw-msi']);
    expect(group(host, 1).reservedRegions).toEqual([]);
    expect(lineWarnings(host)).toEqual([
      { file: path.join(groups, '0/reserved_regions'), line: 2, message: 'not a reserved_regions line: expected "0x<start> 0x<end> <type>"', text: 'not a region' },
    ]);
    expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
  });

  it('an empty iommu_groups directory is a warning; a directory with no sysfs data is an InputError', () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'sys/kernel/iommu_groups'), { recursive: true });
    const host = readSysfsRoot(root);
    expect(lineWarnings(host).map((w) => w.message)).toEqual(['no IOMMU groups: the kernel has no IOMMU enabled (or this is not a host with one)']);
    const empty = tempDir();
    expect(() => readSysfsRoot(empty)).toThrow(InputError);
    expect(() => readSysfsRoot(empty)).toThrow(/no sysfs data here/);
    expect(() => importSources([empty])).toThrow(/no sysfs data here/);
  });

  it('reads the live root of this machine, or says clearly why not', () => {
    try {
      const host = importSources(['/']);
      expect(host.sources[0]).toEqual({ file: '/', kind: 'sysfs' });
      expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).describe()).toMatch(/^\/: no sysfs data here/);
    }
  });

  it('parseConfigSpace: port types, ACS, short (non-root) reads', () => {
    expect(parseConfigSpace(bridgeConfig(6, 0x7f, 0x00))).toMatchObject({ bridge: true, role: 'switch-downstream', acs: { capability: { directTranslated: true } } });
    expect(parseConfigSpace(bridgeConfig(5, 0, 0)).role).toBe('switch-upstream');
    expect(parseConfigSpace(new Uint8Array(64))).toEqual({ bridge: false });
    expect(parseConfigSpace(new Uint8Array(10))).toEqual({ bridge: false });
  });
});
