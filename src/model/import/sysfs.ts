/**
 * Reading a directory laid out like the root of a Linux host: the live `/`, or a capture of it.
 *
 * Read, where present:
 * - `sys/kernel/iommu_groups/<N>/reserved_regions` → the group's regions;
 *   `sys/kernel/iommu_groups/<N>/devices/<id>` (symlinks or plain directories) → membership
 *   (PCI functions by BDF, other devices as `platform:<name>`).
 * - `sys/bus/pci/devices/<BDF>/`:
 *   `resource` (`0x%016llx 0x%016llx 0x%016llx` = start, end, flags per line: 0-5 BARs, 6 the
 *   ROM, then 7-12 SR-IOV VF BARs when the kernel has SR-IOV support, then a bridge's four
 *   windows; all-zero lines are empty; only IORESOURCE_MEM (0x200) entries are memory,
 *   PREFETCH 0x2000, MEM_64 0x100000, DISABLED 0x10000000, UNSET 0x20000000);
 *   `iommu_group` (a symlink ending in the group number); `dma_mask_bits`; `class` (0x0604xx
 *   and 0x0609xx are PCI bridges); `secondary_bus_number`, `subordinate_bus_number`;
 *   `config` (PCIe port type from the PCI Express capability, ACS capability and control
 *   from the ACS extended capability — the full config space is readable by root only).
 * - `sys/class/iommu/`: `dmar*` → intel-vtd, with the domain width from `intel-iommu/cap`
 *   (min of the SAGAW width and MGAW, see vtd.ts; the smallest over all units); `ivhd*` →
 *   amd-vi; `smmu3.*` → arm-smmuv3.
 * - `proc/iomem`, read by the /proc/iomem importer (host-bridge and bridge windows).
 *
 * sysfs files report a size of 4096 whatever they hold, so `tar` cannot capture them directly
 * (it pads them with zeros or complains that they shrank). {@link SYSFS_CAPTURE_SCRIPT} copies
 * the files above with `cat` into a staging tree (symlinks become plain directories) and tars
 * that; this reader accepts both layouts, and strips trailing NUL padding anyway.
 */
import { type Dirent, existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import { type AcsFlags, type BridgeRole, type HostFacts } from '../host.js';
import { normaliseBdf, parseBdf } from '../pci.js';
import { hexValue, isPciAddress, LineVerdicts, provenance } from './common.js';
import { readInputBytes } from '../load.js';
import { splitLines, stripNulPadding } from './lines.js';
import { ACS_FLAG_NAMES } from './lspci.js';
import { type BridgeRecord, HostBuilder } from './merge.js';
import { importReservedRegions } from './reserved-regions.js';
import { importTextInto, reportUnread } from './text.js';
import { describeVtdWidth, recordVtdWidth, vtdDomainWidth, type WidthReading } from './vtd.js';

/**
 * A shell script that captures what this reader needs from a host into a `.tar.gz`.
 * Usage: `sh capture.sh [root=/] [output=./iova-host.tar.gz]`, as root for the full picture
 * (/proc/iomem addresses and the PCI config space are hidden from other users). Then
 * `mkdir host && tar -xzf iova-host.tar.gz -C host && iova import host -o host.json`.
 */
export const SYSFS_CAPTURE_SCRIPT = `#!/bin/sh
# Capture the files iova-solver reads from a Linux host. sysfs files claim a size of 4096,
# so they are copied with cat into a staging tree first and that tree is archived.
set -eu
dest=\${2:-$PWD/iova-host.tar.gz}
cd "\${1:-/}"
out=$(mktemp -d)
for f in sys/kernel/iommu_groups/*/reserved_regions \\
  sys/bus/pci/devices/*/resource sys/bus/pci/devices/*/class sys/bus/pci/devices/*/dma_mask_bits \\
  sys/bus/pci/devices/*/secondary_bus_number sys/bus/pci/devices/*/subordinate_bus_number \\
  sys/bus/pci/devices/*/config sys/class/iommu/*/intel-iommu/cap proc/iomem; do
  if [ -r "$f" ]; then
    mkdir -p "$out/\${f%/*}"
    cat "$f" > "$out/$f" 2>/dev/null || rm -f "$out/$f"
  fi
done
for d in sys/kernel/iommu_groups/*/devices/* sys/class/iommu/*; do
  if [ -e "$d" ]; then mkdir -p "$out/$d"; fi
done
tar -C "$out" -czf "$dest" .
rm -rf "$out"
echo "wrote $dest"
`;

const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;
const IORESOURCE_DISABLED = 0x10000000n;
const IORESOURCE_UNSET = 0x20000000n;

/** Options of {@link readSysfsRoot}. */
export interface SysfsOptions {
  /** Host name in the result (default: the directory's name, or `host`). */
  name?: string;
}

/**
 * Read a Linux root (or a capture of one) into host facts. Throws {@link InputError} when the
 * directory holds neither `sys/kernel/iommu_groups` nor `sys/bus/pci/devices`.
 */
export function readSysfsRoot(root: string, options: SysfsOptions = {}): HostFacts {
  const builder = new HostBuilder(options.name ?? (basename(root) || 'host'));
  readSysfsInto(builder, root);
  return builder.finish();
}

/** Read a Linux root into `builder` (see {@link readSysfsRoot}). */
export function readSysfsInto(builder: HostBuilder, root: string): void {
  const sys = findSys(root);
  builder.addSource(root, 'sysfs');
  const reader = new SysfsReader(builder, root, sys);
  reader.readGroups();
  reader.readPciDevices();
  reader.readIommus();
  // Given /sys itself there is no proc/ beside it.
  const iomem = join(root, 'proc/iomem');
  if (sys.prefix === 'sys' && existsSync(iomem)) {
    const text = reader.read(iomem);
    if (text !== undefined) importTextInto(builder, text, iomem);
  }
}

interface SysDir {
  /** `sys` under a root, or `` when the user named the sysfs directory itself. */
  prefix: string;
}

function findSys(root: string): SysDir {
  const hasSysfs = (dir: string) => existsSync(join(dir, 'kernel/iommu_groups')) || existsSync(join(dir, 'bus/pci/devices'));
  if (!existsSync(root)) throw new InputError('cannot read: no such directory', { file: root });
  if (hasSysfs(join(root, 'sys'))) return { prefix: 'sys' };
  if (hasSysfs(root)) return { prefix: '' };
  throw new InputError(
    'no sysfs data here: expected sys/kernel/iommu_groups or sys/bus/pci/devices under this directory (on a host without PCI or an IOMMU there is nothing to read; to capture a host, see the capture script in the documentation)',
    { file: root },
  );
}

class SysfsReader {
  constructor(
    private readonly builder: HostBuilder,
    private readonly root: string,
    private readonly sys: SysDir,
  ) {}

  /** Path of a sysfs file as the user would name it (under the root they gave). */
  private path(...parts: string[]): string {
    return join(this.root, this.sys.prefix, ...parts);
  }

  /** A file's text without NUL padding; undefined when absent, a warning when unreadable. */
  read(file: string): string | undefined {
    const bytes = this.readBytes(file);
    return bytes === undefined ? undefined : stripNulPadding(bytes.toString('utf8'));
  }

  /**
   * A file's bytes through the checked reader (FIFOs, devices and oversized files refused);
   * undefined when absent, a warning when unreadable.
   */
  private readBytes(file: string): Buffer | undefined {
    try {
      lstatSync(file);
    } catch {
      return undefined; // absent: the kernel or the capture does not have it
    }
    try {
      return readInputBytes(file);
    } catch (error) {
      this.builder.warn(file, 0, error instanceof InputError ? error.reason : (error as Error).message, '', 'unreadable');
      return undefined;
    }
  }

  private list(dir: string): Dirent[] {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  }

  readGroups(): void {
    const dir = this.path('kernel/iommu_groups');
    if (!existsSync(dir)) return;
    const groups = this.list(dir)
      .map((e) => e.name)
      .filter((n) => /^\d{1,9}$/.test(n))
      .sort((a, b) => Number(a) - Number(b));
    if (groups.length === 0) {
      this.builder.warn(dir, 0, 'no IOMMU groups: the kernel has no IOMMU enabled (or this is not a host with one)', '');
      return;
    }
    for (const name of groups) {
      const group = Number(name);
      this.builder.group(group, provenance('IOMMU group', join(dir, name), undefined, { group }));
      const file = join(dir, name, 'reserved_regions');
      const text = this.read(file);
      if (text !== undefined) {
        const lines = splitLines(text);
        this.builder.registerLines(file, lines.map((l) => l.raw));
        const verdicts = new LineVerdicts();
        importReservedRegions(lines, this.builder, file, verdicts, { group });
        reportUnread(lines, verdicts, this.builder, file, 'not a reserved_regions line: expected "0x<start> 0x<end> <type>"');
      }
      for (const entry of this.list(join(dir, name, 'devices'))) {
        const id = isPciAddress(entry.name) ? normaliseBdf(entry.name) : `platform:${entry.name}`;
        this.builder.setDeviceGroup(id, group, provenance('IOMMU group membership', join(dir, name, 'devices', entry.name), undefined, { group, device: id }));
      }
    }
  }

  /** `config` files of bridges that showed no capabilities (read without root). */
  private readonly hiddenConfig: string[] = [];

  readPciDevices(): void {
    const dir = this.path('bus/pci/devices');
    const names = this.list(dir)
      .map((e) => e.name)
      .filter(isPciAddress)
      .sort();
    for (const name of names) this.readPciDevice(normaliseBdf(name), join(dir, name));
    if (this.hiddenConfig.length > 0) {
      const n = this.hiddenConfig.length;
      this.builder.assume(
        provenance('PCI config space', this.hiddenConfig[0], undefined),
        `the config space of ${n} bridge${n === 1 ? '' : 's'} shows no capabilities (read without root: the kernel shows 64 bytes), ` +
          'so their ACS bits and PCIe port types are unknown and peer-to-peer facts are missing; capture as root',
      );
    }
  }

  private readPciDevice(bdf: string, dir: string): void {
    const { segment, bus } = parseBdf(bdf);
    const classFile = join(dir, 'class');
    const classValue = hexValue(this.read(classFile)?.trim() ?? '');
    const isBridge = classValue !== undefined && [0x0604n, 0x0609n].includes(classValue >> 8n);
    this.builder.device(bdf, provenance('device', dir, undefined, { device: bdf }));

    const groupLink = join(dir, 'iommu_group');
    try {
      if (lstatSync(groupLink).isSymbolicLink()) {
        const target = basename(readlinkSync(groupLink));
        if (/^\d{1,9}$/.test(target)) {
          const group = Number(target);
          this.builder.setDeviceGroup(bdf, group, provenance('IOMMU group membership', groupLink, undefined, { device: bdf, group }));
        }
      }
    } catch {
      // No link: the device is in no group, or the capture replaced the link (membership
      // then comes from the group's devices directory).
    }

    const configFile = join(dir, 'config');
    const config = this.readConfig(configFile);
    const bridgeLike = isBridge || config?.bridge === true;
    // Without root the kernel shows the first 64 bytes of config space only: no capabilities.
    if (bridgeLike && config && config.length < 256) this.hiddenConfig.push(configFile);
    // A bridge's DMA mask is the port driver's, not a constraint on anyone's IOVAs.
    const maskFile = join(dir, 'dma_mask_bits');
    const mask = bridgeLike ? undefined : this.read(maskFile)?.trim();
    if (mask !== undefined) {
      const bits = Number(mask);
      if (/^\d+$/.test(mask) && bits >= 1 && bits <= 64) {
        this.builder.setDmaMask(bdf, bits, provenance('DMA mask', maskFile, 1, { device: bdf }));
      } else if (mask !== '0') this.builder.warn(maskFile, 1, `DMA mask "${mask}" is not a number of bits`, mask);
    }

    let bridge: BridgeRecord | undefined;
    if (bridgeLike) {
      bridge = this.builder.bridge(bdf, segment, provenance('PCI bridge', dir, undefined, { port: bdf }));
      const sec = this.read(join(dir, 'secondary_bus_number'))?.trim();
      const sub = this.read(join(dir, 'subordinate_bus_number'))?.trim();
      if (sec !== undefined && sub !== undefined && isBus(sec) && isBus(sub)) {
        this.builder.setBridgeBuses(
          bridge,
          { primary: bus, secondary: Number(sec), subordinate: Number(sub) },
          provenance('bus numbers', join(dir, 'secondary_bus_number'), 1, { port: bdf }),
        );
      } else if (sec !== undefined || sub !== undefined) {
        this.builder.warn(join(dir, 'secondary_bus_number'), 1, `bus numbers "${sec}"/"${sub}" of ${bdf} are not 0-255`, sec ?? '');
      }
      if (config?.role) this.builder.setBridgeRole(bridge, config.role, provenance('PCIe port type', join(dir, 'config'), undefined, { port: bdf }));
      if (config?.acs) this.builder.setAcs(bridge, config.acs, provenance('ACS', join(dir, 'config'), undefined, { port: bdf }));
    }

    const resourceFile = join(dir, 'resource');
    const text = this.read(resourceFile);
    if (text === undefined) return;
    // Entries are numbered by position among non-blank lines; warnings name the file's own line.
    const physical = text.split('\n');
    const lines = physical.map((t, i) => ({ text: t, lineNo: i + 1 })).filter((l) => l.text.trim() !== '');
    this.builder.registerLines(resourceFile, physical);
    const withSriov = lines.length === 13 || lines.length >= 17;
    const bridgeFirst = withSriov ? 13 : 7;
    lines.forEach(({ text: lineText, lineNo }, index) => {
      const m = /^(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)$/i.exec(lineText.trim());
      if (!m) {
        this.builder.warn(resourceFile, lineNo, 'not a resource line: expected "0x<start> 0x<end> 0x<flags>"');
        return;
      }
      const [start, end, flags] = [m[1], m[2], m[3]].map((v) => hexValue(v));
      if (start === undefined || end === undefined || flags === undefined) {
        this.builder.warn(resourceFile, lineNo, 'resource values do not fit in 64 bits');
        return;
      }
      // Empty, unassigned, not memory (I/O ports), or closed (end below start): nothing decoded.
      if ((flags & IORESOURCE_MEM) === 0n || (flags & IORESOURCE_UNSET) !== 0n || end < start || (start === 0n && end === 0n)) return;
      const prefetchable = (flags & IORESOURCE_PREFETCH) !== 0n;
      const range = { start, last: end };
      if (index >= bridgeFirst && index < bridgeFirst + 4) {
        if (!bridge) return; // window slots of a non-bridge are always empty
        this.builder.addBridgeWindow(bridge, {
          ...range,
          prefetchable,
          source: provenance(prefetchable ? 'prefetchable bridge window' : 'bridge window', resourceFile, lineNo, { port: bdf }),
        });
        return;
      }
      const sriov = withSriov && index >= 7 && index <= 12;
      const what = index === 6 ? 'expansion ROM' : sriov ? `SR-IOV VF BAR ${index - 7}` : `BAR${index}`;
      this.builder.addBar(bdf, {
        ...range,
        ...(index <= 5 ? { bar: index } : index === 6 ? { bar: 'rom' as const } : {}),
        prefetchable,
        is64: (flags & IORESOURCE_MEM_64) !== 0n,
        ...((flags & IORESOURCE_DISABLED) !== 0n ? { disabled: true } : {}),
        source: provenance(what, resourceFile, lineNo, { device: bdf, ...(sriov ? { note: 'the VF BARs of all VFs together' } : {}) }),
      });
    });
  }

  /** PCIe port type and ACS bits from a `config` file (what a non-root read shows: often nothing). */
  private readConfig(
    file: string,
  ): { bridge: boolean; role?: BridgeRole; acs?: { capability: AcsFlags; control: AcsFlags }; length: number } | undefined {
    const bytes = this.readBytes(file);
    return bytes === undefined ? undefined : { ...parseConfigSpace(bytes), length: bytes.length };
  }

  readIommus(): void {
    const dir = this.path('class/iommu');
    const entries = this.list(dir)
      .map((e) => e.name)
      .sort();
    const widths: WidthReading[] = [];
    for (const name of entries) {
      const at = join(dir, name);
      if (/^dmar\d+$/.test(name)) {
        const capFile = join(at, 'intel-iommu/cap');
        const cap = this.read(capFile)?.trim();
        const value = cap !== undefined ? hexValue(cap) : undefined;
        const vtd = value !== undefined ? vtdDomainWidth(value) : undefined;
        if (vtd) widths.push({ ...describeVtdWidth(name, vtd), line: 1, what: 'VT-d domain width (capability register)', file: capFile });
        else if (value !== undefined) this.builder.warn(capFile, 1, `capability register of ${name} supports no address width (SAGAW is 0)`);
        else if (cap !== undefined) this.builder.warn(capFile, 1, `capability register "${cap.slice(0, 40)}" is not hex`, cap);
        this.builder.setPlatform({ profile: 'intel-vtd', source: provenance('DMAR unit', at, undefined) });
      } else if (/^ivhd\d+$/.test(name)) {
        this.builder.setPlatform({ profile: 'amd-vi', source: provenance('AMD-Vi unit', at, undefined) });
      } else if (/^smmu3\./.test(name)) {
        this.builder.setPlatform({ profile: 'arm-smmuv3', source: provenance('SMMUv3 unit', at, undefined) });
      }
    }
    recordVtdWidth(this.builder, '', widths);
  }
}

/** A bus number as sysfs prints it: decimal, 0-255. */
function isBus(text: string): boolean {
  return /^\d{1,3}$/.test(text) && Number(text) <= 255;
}

const PORT_TYPES: Record<number, BridgeRole> = { 4: 'root-port', 5: 'switch-upstream', 6: 'switch-downstream', 7: 'pci-bridge', 8: 'pci-bridge' };
const ACS_BITS: Array<keyof AcsFlags> = Object.values(ACS_FLAG_NAMES);

/**
 * What the PCI config space says about bridging: header type 1, the PCIe port type
 * (capability 0x10, flags bits 7:4) and the ACS extended capability (id 0x0d: capability
 * register at +4, control at +6, bits SV TB RR CR UF EC DT from bit 0).
 */
export function parseConfigSpace(bytes: Uint8Array): { bridge: boolean; role?: BridgeRole; acs?: { capability: AcsFlags; control: AcsFlags } } {
  if (bytes.length < 64) return { bridge: false };
  const u8 = (at: number) => bytes[at];
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const u32 = (at: number) => (u16(at) | (u16(at + 2) << 16)) >>> 0;
  const out: { bridge: boolean; role?: BridgeRole; acs?: { capability: AcsFlags; control: AcsFlags } } = {
    bridge: (u8(0x0e) & 0x7f) === 1,
  };
  if (u16(0x06) & 0x10) {
    let at = u8(0x34) & 0xfc;
    for (let hops = 0; at >= 0x40 && at + 4 <= bytes.length && hops < 48; hops++) {
      if (u8(at) === 0x10) {
        const role = PORT_TYPES[(u16(at + 2) >> 4) & 0xf];
        if (role) out.role = role;
        break;
      }
      at = u8(at + 1) & 0xfc;
    }
  }
  let ext = 0x100;
  for (let hops = 0; ext >= 0x100 && ext + 8 <= bytes.length && hops < 512; hops++) {
    const header = u32(ext);
    if (header === 0 || header === 0xffffffff) break;
    if ((header & 0xffff) === 0x0d) {
      const flags = (register: number): AcsFlags =>
        Object.fromEntries(ACS_BITS.map((name, bit) => [name, (register & (1 << bit)) !== 0])) as unknown as AcsFlags;
      out.acs = { capability: flags(u16(ext + 4)), control: flags(u16(ext + 6)) };
      break;
    }
    ext = header >>> 20;
  }
  return out;
}
