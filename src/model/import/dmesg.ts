/**
 * Kernel log (`dmesg`, `journalctl -k`, syslog), with or without timestamps or syslog prefixes.
 *
 * Message families read:
 * - Intel VT-d (see vtd.ts for the width rule): `DMAR: dmarN: … cap <hex> ecap <hex>` → the
 *   unit's domain width from its capability register; `… iommu width (N) is not sufficient
 *   for the mapped address` → the width the kernel enforced on a map or attach. The smallest
 *   of these is the platform's width. `DMAR: Host address width N` (the host's physical
 *   width) is used only when neither is in the log, and then with a warning. Any other
 *   `DMAR:` or `DMAR-IR:` line → platform intel-vtd.
 * - `DMAR: RMRR base: 0x… end: 0x…` → a `direct` region. The log does not give the RMRR's
 *   device scope, so it goes to the host (every device), with a warning saying so.
 *   `DMAR: [Firmware Bug]: … RMRR [a-b] …` lines are noted on that RMRR (creating it when the
 *   base/end line is not in the excerpt), never duplicated.
 * - `AMD-Vi:` anywhere in a message → platform amd-vi; `arm-smmu-v3 …: ias N-bit` → platform
 *   arm-smmuv3 with that input address width.
 * - `pci_bus SSSS:BB: root bus resource [mem a-b window]`, and `resource N [mem a-b window]`
 *   (the `window` flag marks a root bus) → host-bridge windows, with the offset when the line
 *   gives `(bus address [...])`; `[bus xx-yy]` → the host bridge's bus range.
 *   `pci_bus SSSS:BB: resource N [mem a-b (64bit pref)]` without `window` → a window of the
 *   bridge leading to bus BB. I/O resources are not memory and are skipped.
 * - `pci BDF: PCI bridge to [bus xx(-yy)]` → bridge bus numbers; `bridge window [mem a-b …]`
 *   → bridge windows (the sizing-phase lines with `add_size` or `to [bus …]`, failed
 *   assignments and empty/inverted ranges are skipped).
 * - `pci BDF: BAR n: assigned [mem …]` (and the newer `BAR n [mem …]`), `reg 0x10: [mem …]`
 *   (register 0x10 + 4n is BAR n; 0x30, or 0x38 on a bridge, is the ROM) → BARs. BAR numbers
 *   6 is the ROM, 7-12 SR-IOV VF BARs, 13-16 a bridge's windows. A later assignment of the same
 *   BAR in the same log replaces the earlier one.
 * - `ACPI: PCI Root Bridge [X] (domain SSSS [bus xx-yy])`, `PCI host bridge to bus SSSS:BB`
 *   → host bridges.
 * - powerpc `pci SSSS:BB : [PE# n] Setting up window#0 0..7fffffff pg=1000` → the host's IOMMU
 *   geometry: the TCE window as aperture, its page size. `Enabling 64-bit DMA bypass` is
 *   noted on that geometry but not modelled: bypass is untranslated DMA, not an IOVA window.
 * - `Adding to iommu group` is read by the group importer.
 *
 * Warning rule: a log line (one with a timestamp or syslog prefix, or, in a file that is a
 * kernel log, one shaped like `subsystem: message`) that belongs to none of these families is
 * recognised and ignored — most of a boot log is irrelevant here. Only a line that starts like
 * one of the families above but cannot be read is a warning. Indented lines right after a
 * log line continue it (the `BIOS vendor:` line after a firmware-bug message).
 */
import { isPowerOfTwo } from '../address.js';
import type { PlatformSpec, ProfileName } from '../host.js';
import { formatBus, normaliseBdf, parseBdf } from '../pci.js';
import { formatRange, type IovaRange } from '../range.js';
import { BDF_PATTERN, busNumber, hexRange, hexValue, type LineVerdicts, provenance, segmentNumber } from './common.js';
import type { SourceLine } from './lines.js';
import { type HostBuilder } from './merge.js';
import { describeVtdWidth, recordVtdWidth, vtdDomainWidth, type WidthReading } from './vtd.js';

/** A log message and the lines that continue it. */
interface Message {
  text: string;
  lines: SourceLine[];
}

/** Options of {@link importDmesg}. */
export interface DmesgOptions {
  /** The file is a kernel log: un-prefixed `subsystem: message` lines are log lines too. */
  kernelLog?: boolean;
}

const BDF = BDF_PATTERN;
const BUS = '([0-9a-f]{4}):([0-9a-f]{2})';
const KERNELISH = new RegExp(`^[A-Za-z][\\w.-]*(?::[\\w.-]+)*(?: (?:${BDF}|[0-9a-f]{4}:[0-9a-f]{2}))?: \\S`);

const RMRR_NOTE = 'the kernel log does not give the RMRR\'s device scope, so it is taken to apply to every device';
const BYPASS_NOTE =
  'devices can also reach memory untranslated through the bypass window, which is not an IOVA window and is not modelled';

const IOMMU_WIDTH = /iommu width \((\d{1,3})\) is not sufficient/;

const FAMILY =
  /iommu width \(\d+\) is not sufficient|^(?:DMAR(?:-IR)?:|pci_bus \S+: |pci \S+\s*: (?:PCI bridge to|bridge window|BAR \d|reg 0x|ROM \[|\[PE#)|ACPI: PCI Root Bridge|PCI host bridge to bus|arm-smmu-v3[\s.])|(?:^|\s)AMD-Vi:/;

/** Whether a line is one of the kernel-log message families this importer reads. */
export function isDmesgFactLine(line: SourceLine): boolean {
  return line.role === 'content' && FAMILY.test(line.message);
}

/** A `[mem 0x…-0x… flags]` resource as the kernel prints it. */
interface Resource {
  type: string;
  range?: IovaRange;
  flags: string[];
}

/**
 * Parse the inside of `[…]` as the kernel prints a resource: `mem 0xa-0xb flags`, `bus 00-fe`,
 * `bus 2f` (one value when start and end are equal), or `mem size 0x200000 flags` (not yet
 * placed). `range` is absent for sizes, empty and inverted ranges.
 */
export function parseResource(text: string): Resource | undefined {
  const m = /^(mem|io|bus|\?\?\?)\s+(size\s+)?(?:0x)?([0-9a-f]+)(?:-(?:0x)?([0-9a-f]+))?((?:\s+[\w-]+)*)\s*$/i.exec(text.trim());
  if (!m) return undefined;
  const [, type, size, start, end = start, flagText] = m;
  const flags = flagText.trim() === '' ? [] : flagText.trim().split(/\s+/);
  if (hexValue(start) === undefined || hexValue(end) === undefined) return undefined;
  const range = size ? undefined : hexRange(start, end);
  return { type, flags, ...(range ? { range } : {}) };
}

/** Read kernel log lines of `lines` into `builder`. */
export function importDmesg(
  lines: readonly SourceLine[],
  builder: HostBuilder,
  file: string,
  verdicts: LineVerdicts,
  options: DmesgOptions = {},
): void {
  const tce = new Map<string, TceWindow>();
  const bypass = new Set<string>();
  const ctx: Context = { builder, file, widths: [], rmrrs: new Set() };
  for (const message of joinMessages(lines)) {
    const first = message.lines[0];
    const isLog = first.logPrefix || (options.kernelLog === true && KERNELISH.test(message.text));
    const verdict = readMessage(message, ctx, tce, bypass);
    const mark = (fn: (l: SourceLine) => void) => message.lines.forEach(fn);
    if (verdict === 'fact') mark((l) => verdicts.fact(l));
    else if (typeof verdict === 'object') {
      verdicts.problem(first, verdict.problem);
      message.lines.slice(1).forEach((l) => verdicts.known(l));
    } else if (verdict === 'known' || isLog) mark((l) => verdicts.known(l));
  }
  // The capability registers or the kernel's own width beat the DMAR table's host width.
  if (!recordVtdWidth(builder, file, ctx.widths) && ctx.hostAddressWidth) {
    const { width, line } = ctx.hostAddressWidth;
    builder.setPlatform(
      { profile: 'intel-vtd', addressWidth: width, source: provenance('DMAR host address width', file, line) },
      { weakWidth: true },
    );
  }
  // PEs with the same window give one geometry, noting which PEs have it.
  const windows = new Map<string, { first: TceWindow; pes: string[]; bypass: boolean }>();
  for (const [pe, window] of tce) {
    const key = `${window.start}-${window.last}-${window.page}-${window.number}`;
    const entry = windows.get(key) ?? { first: window, pes: [], bypass: true };
    entry.pes.push(pe);
    entry.bypass &&= bypass.has(pe);
    windows.set(key, entry);
  }
  for (const { first, pes, bypass: all } of windows.values()) {
    const notes = [`TCE window#${first.number} of ${pes.join(', ')}`];
    const bypassing = pes.filter((pe) => bypass.has(pe));
    if (all) notes.push(`they also enable 64-bit DMA bypass: ${BYPASS_NOTE}`);
    else if (bypassing.length > 0) notes.push(`${bypassing.join(', ')} also enable 64-bit DMA bypass: ${BYPASS_NOTE}`);
    builder.setIommu({
      apertures: [{ start: first.start, last: first.last }],
      pageSizes: first.page,
      source: provenance('TCE DMA window', file, first.line, { port: first.bus, note: notes.join('; ') }),
    });
  }
}

/** Log lines with the indented lines that continue them. */
function joinMessages(lines: readonly SourceLine[]): Message[] {
  const out: Message[] = [];
  let previous: Message | undefined;
  for (const line of lines) {
    if (line.role !== 'content') {
      previous = undefined;
      continue;
    }
    if (!line.logPrefix && previous && previous.lines[0].logPrefix && /^\s{2,}\S/.test(line.body)) {
      previous.text += ` ${line.message}`;
      previous.lines.push(line);
      continue;
    }
    previous = { text: line.message, lines: [line] };
    out.push(previous);
  }
  return out;
}

/** A powerpc TCE window as the log shows it. */
interface TceWindow {
  start: bigint;
  last: bigint;
  page: bigint;
  number: number;
  bus: string;
  line: number;
}

type MessageVerdict = 'fact' | 'known' | 'none' | { problem: string };

interface Context {
  builder: HostBuilder;
  file: string;
  /** VT-d domain widths read (capability registers, map failures); the least is kept. */
  widths: WidthReading[];
  /** The DMAR table's host address width, kept in case nothing better is in the log. */
  hostAddressWidth?: { width: number; line: number };
  /** RMRRs already warned about. */
  rmrrs: Set<string>;
}

function readMessage(
  message: Message,
  ctx: Context,
  tce: Map<string, TceWindow>,
  bypass: Set<string>,
): MessageVerdict {
  const { builder, file } = ctx;
  const text = message.text;
  const line = message.lines[0].line;
  const at = (what: string, extra = {}) => provenance(what, file, line, extra);
  let m: RegExpExecArray | null;

  const platform = (profile: ProfileName, what: string, addressWidth?: number): void => {
    const spec: PlatformSpec = { profile, source: at(what) };
    if (addressWidth !== undefined) spec.addressWidth = addressWidth;
    builder.setPlatform(spec);
  };

  // --- Intel VT-d -------------------------------------------------------------------------
  if ((m = IOMMU_WIDTH.exec(text))) {
    const width = Number(m[1]);
    if (!validWidth(width)) return { problem: 'iommu width not understood (expected 1 to 64 bits)' };
    platform('intel-vtd', 'DMAR message');
    ctx.widths.push({ width, line, what: 'VT-d domain width the kernel enforced', note: 'intel_iommu_map() refused an address above it' });
    return 'fact';
  }
  if (/^DMAR(?:-IR)?:/.test(text)) {
    if (/^DMAR: Host address width/.test(text)) {
      m = /^DMAR: Host address width (\d{1,2})$/.exec(text);
      if (!m || !validWidth(Number(m[1]))) return { problem: 'DMAR host address width not understood (expected 1 to 64 bits)' };
      platform('intel-vtd', 'DMAR table');
      ctx.hostAddressWidth ??= { width: Number(m[1]), line };
      return 'fact';
    }
    if ((m = /^DMAR: (dmar\d+): reg_base_addr \S+ ver \S+ cap ([0-9a-f]{1,16}) ecap [0-9a-f]+$/i.exec(text))) {
      const vtd = vtdDomainWidth(hexValue(m[2])!);
      if (!vtd) return { problem: `capability register of ${m[1]} supports no address width (SAGAW is 0)` };
      const { width, note } = describeVtdWidth(m[1], vtd);
      platform('intel-vtd', 'DMAR unit');
      ctx.widths.push({ width, line, what: 'VT-d domain width (capability register)', note });
      return 'fact';
    }
    if (/^DMAR: dmar\d+: reg_base_addr/.test(text)) return { problem: 'DMAR unit line not understood: expected "… cap <hex> ecap <hex>"' };
    if (/^DMAR: RMRR base/.test(text)) {
      m = /^DMAR: RMRR base: (0x[0-9a-f]+) end: (0x[0-9a-f]+)$/i.exec(text);
      const range = m ? hexRange(m[1], m[2]) : undefined;
      if (!range) return { problem: 'RMRR not understood: expected "DMAR: RMRR base: 0x… end: 0x…"' };
      platform('intel-vtd', 'DMAR table');
      builder.addHostRegion({ ...range, type: 'direct', source: at('RMRR', { note: RMRR_NOTE }) });
      rmrrScopeUnknown(ctx, range, line);
      return 'fact';
    }
    if ((m = /^DMAR: \[Firmware Bug\]: (.*RMRR \[(0x[0-9a-f]+)-(0x[0-9a-f]+)\].*)$/i.exec(text))) {
      const range = hexRange(m[2], m[3]);
      if (!range) return { problem: 'RMRR range in the firmware-bug message not understood' };
      platform('intel-vtd', 'DMAR table');
      builder.addHostRegion({ ...range, type: 'direct', source: at('RMRR', { note: `${RMRR_NOTE}; firmware bug: ${m[1]}` }) });
      rmrrScopeUnknown(ctx, range, line);
      return 'fact';
    }
    platform('intel-vtd', 'DMAR message');
    return 'fact';
  }

  // --- AMD-Vi and arm SMMUv3 --------------------------------------------------------------------
  if (/(?:^|\s)AMD-Vi:/.test(text)) {
    platform('amd-vi', 'AMD-Vi message');
    return 'fact';
  }
  if (/^arm-smmu-v3[\s.]/.test(text)) {
    m = /: ias (\d{1,2})-bit/.exec(text);
    const ias = m && validWidth(Number(m[1])) ? Number(m[1]) : undefined;
    platform('arm-smmuv3', ias !== undefined ? 'SMMUv3 input address size' : 'SMMUv3 message', ias);
    return 'fact';
  }

  // --- root buses and bus resources -----------------------------------------------------------
  if ((m = new RegExp(`^pci_bus ${BUS}: (root bus resource|resource \\d+) (.*)$`, 'i').exec(text))) {
    return readBusResource(m[1], m[2], m[3].startsWith('root'), m[4], ctx, line);
  }
  if (/^pci_bus \S+: (?:root bus )?resource/.test(text)) return { problem: 'bus resource not understood' };

  // A root bridge with one bus prints `[bus 00]`, with several `[bus 00-7e]`.
  if ((m = /^ACPI: PCI Root Bridge \[(\w+)\] \(domain ([0-9a-f]{4}) \[bus ([0-9a-f]{2})(?:-([0-9a-f]{2}))?\]\)/i.exec(text))) {
    const segment = segmentNumber(m[2])!;
    const first = busNumber(m[3])!;
    const last = m[4] !== undefined ? busNumber(m[4])! : first;
    if (last < first) return { problem: 'ACPI root bridge bus range ends below its start' };
    const hb = builder.hostBridge(segment, first, at('host bridge', { note: `ACPI root bridge ${m[1]}` }));
    builder.setHostBridgeBusLast(hb, last, at('host bridge bus range', { port: formatBus(segment, first) }));
    return 'fact';
  }
  if (/^ACPI: PCI Root Bridge/.test(text)) return { problem: 'ACPI root bridge not understood' };
  if ((m = new RegExp(`^PCI host bridge to bus ${BUS}$`, 'i').exec(text))) {
    builder.hostBridge(segmentNumber(m[1])!, busNumber(m[2])!, at('host bridge'));
    return 'fact';
  }

  // --- powerpc TCE windows ------------------------------------------------------------------------
  if ((m = new RegExp(`^pci ${BUS}\\s*: \\[PE# ([0-9a-f]+)\\] (.*)$`, 'i').exec(text))) {
    const bus = formatBus(segmentNumber(m[1])!, busNumber(m[2])!);
    const key = `PE# ${m[3]} (${bus})`;
    const rest = m[4];
    if (/^Setting up window/.test(rest)) {
      const w = /^Setting up window#(\d+) ([0-9a-f]+)\.\.([0-9a-f]+) pg=([0-9a-f]+)$/i.exec(rest);
      const range = w ? hexRange(w[2], w[3]) : undefined;
      const page = w ? hexValue(w[4]) : undefined;
      if (!w || !range || page === undefined || !isPowerOfTwo(page)) return { problem: 'TCE window not understood' };
      if (!tce.has(key)) tce.set(key, { ...range, page, number: Number(w[1]), bus, line });
      return 'fact';
    }
    if (/^Enabling 64-bit DMA bypass/.test(rest)) {
      bypass.add(key);
      return 'fact';
    }
    return 'known';
  }

  // --- per-function resources ------------------------------------------------------------------------
  if (!(m = new RegExp(`^pci (${BDF}): +(.*)$`).exec(text))) return 'none';
  const bdf = normaliseBdf(m[1]);
  const rest = m[2];
  const segment = parseBdf(bdf).segment;

  if (/^PCI bridge to/.test(rest)) {
    const b = /^PCI bridge to \[bus ([0-9a-f]{2})(?:-([0-9a-f]{2}))?\]/i.exec(rest);
    if (!b) return { problem: 'bridge bus range not understood' };
    const secondary = busNumber(b[1])!;
    const subordinate = b[2] !== undefined ? busNumber(b[2])! : secondary;
    const bridge = builder.bridge(bdf, segment, at('PCI bridge', { port: bdf }));
    builder.setBridgeBuses(bridge, { primary: parseBdf(bdf).bus, secondary, subordinate }, at('bus numbers', { port: bdf }));
    return 'fact';
  }

  if (/^bridge window \[/.test(rest)) {
    if (/ to \[bus|add_size|add_align|can't assign|failed to assign|no space|disabled/.test(rest)) return 'known';
    const w = /^bridge window \[([^\]]*)\]/.exec(rest);
    const res = w ? parseResource(w[1]) : undefined;
    if (!res) return { problem: 'bridge window not understood' };
    if (res.type !== 'mem' || !res.range) return 'known';
    const prefetchable = res.flags.includes('pref');
    const bridge = builder.bridge(bdf, segment, at('PCI bridge', { port: bdf }));
    builder.addBridgeWindow(bridge, {
      ...res.range,
      prefetchable,
      source: at(prefetchable ? 'prefetchable bridge window' : 'bridge window', { port: bdf }),
    });
    return 'fact';
  }

  let index: number | 'rom' | undefined;
  let bracket: string | undefined;
  let what = '';
  if ((m = /^BAR (\d+): assigned \[([^\]]*)\]/.exec(rest) ?? /^BAR (\d+) \[([^\]]*)\](?:: assigned)?$/.exec(rest))) {
    index = Number(m[1]);
    bracket = m[2];
  } else if ((m = /^ROM \[([^\]]*)\](?:: assigned)?$/.exec(rest))) {
    index = 'rom';
    bracket = m[1];
  } else if ((m = /^reg 0x([0-9a-f]+): \[([^\]]*)\]/i.exec(rest))) {
    const reg = parseInt(m[1], 16);
    bracket = m[2];
    if (reg >= 0x10 && reg <= 0x24 && reg % 4 === 0) index = (reg - 0x10) / 4;
    else if (reg === 0x30 || reg === 0x38) index = 'rom';
    else what = `SR-IOV VF BAR (config register 0x${m[1]})`;
  } else if (/^(?:BAR \d|reg 0x)/.test(rest)) {
    if (/no space|failed|can't/.test(rest)) return 'known';
    return { problem: 'BAR not understood' };
  } else {
    return 'none';
  }
  const res = parseResource(bracket);
  if (!res) return { problem: 'BAR resource not understood' };
  if (res.type !== 'mem' || !res.range) return 'known';
  const prefetchable = res.flags.includes('pref');
  const is64 = res.flags.includes('64bit');
  if (typeof index === 'number' && index > 16) return { problem: `resource ${index} is not a BAR, ROM, SR-IOV BAR or bridge window` };
  if (typeof index === 'number' && index >= 13) {
    const bridge = builder.bridge(bdf, segment, at('PCI bridge', { port: bdf }));
    builder.addBridgeWindow(bridge, {
      ...res.range,
      prefetchable,
      source: at(prefetchable ? 'prefetchable bridge window' : 'bridge window', { port: bdf, note: `resource ${index}` }),
    });
    return 'fact';
  }
  let bar: number | 'rom' | undefined = index;
  let note: string | undefined;
  if (typeof index === 'number' && index === 6) bar = 'rom';
  else if (typeof index === 'number' && index > 6) {
    bar = undefined;
    what = `SR-IOV VF BAR ${index - 7}`;
    note = `resource ${index}: the VF BARs of all VFs together`;
  } else if (what) {
    note = 'the VF BARs of all VFs together';
  }
  if (!what) what = bar === 'rom' ? 'expansion ROM' : `BAR${bar}`;
  builder.addBar(
    bdf,
    {
      ...res.range,
      ...(bar !== undefined ? { bar } : {}),
      prefetchable,
      is64,
      source: at(what, { device: bdf, note }),
    },
    { chronological: true },
  );
  return 'fact';
}

/** Warn once per RMRR (at its first line) that its device scope is unknown. */
function rmrrScopeUnknown(ctx: Context, range: IovaRange, line: number): void {
  const key = formatRange(range);
  if (ctx.rmrrs.has(key)) return;
  ctx.rmrrs.add(key);
  ctx.builder.assume(provenance('RMRR', ctx.file, line), `device scope of RMRR ${key} unknown: ${RMRR_NOTE}`);
}

function validWidth(bits: number): boolean {
  return bits >= 1 && bits <= 64;
}

function readBusResource(
  segmentText: string,
  busText: string,
  root: boolean,
  rest: string,
  ctx: Context,
  line: number,
): MessageVerdict {
  const { builder, file } = ctx;
  const b = /^\[([^\]]*)\](.*)$/.exec(rest);
  const res = b ? parseResource(b[1]) : undefined;
  if (!b || !res) return { problem: 'bus resource not understood' };
  const segment = segmentNumber(segmentText)!;
  const bus = busNumber(busText)!;
  const id = formatBus(segment, bus);
  const at = (what: string, extra = {}) => provenance(what, file, line, extra);
  if (res.type === 'bus') {
    if (!root || !res.range) return 'known';
    if (res.range.last > 0xffn) return { problem: 'bus range beyond bus ff' };
    const hb = builder.hostBridge(segment, bus, at('host bridge'));
    builder.setHostBridgeBusLast(hb, Number(res.range.last), at('host bridge bus range', { port: id }));
    return 'fact';
  }
  if (res.type !== 'mem' || !res.range || res.flags.includes('disabled')) return 'known';
  if (root || res.flags.includes('window')) {
    let offset = 0n;
    const busAddress = /\(bus address \[(0x[0-9a-f]+)-(0x[0-9a-f]+)\]\)/i.exec(b[2]);
    if (busAddress) {
      const busStart = hexValue(busAddress[1]);
      if (busStart === undefined || busStart > res.range.start) {
        return { problem: 'bus address of the window not understood (or above its CPU address, which cannot be recorded)' };
      }
      offset = res.range.start - busStart;
    }
    const hb = builder.hostBridge(segment, bus, at('host bridge'));
    builder.addHostBridgeWindow(hb, { ...res.range, offset, source: at('host bridge window', { port: id }) });
    return 'fact';
  }
  const prefetchable = res.flags.includes('pref');
  const bridge = builder.busBridge(segment, bus, at('bridge window'));
  builder.addBridgeWindow(bridge, {
    ...res.range,
    prefetchable,
    source: at(prefetchable ? 'prefetchable bridge window' : 'bridge window', { port: bridge.id }),
  });
  return 'fact';
}
