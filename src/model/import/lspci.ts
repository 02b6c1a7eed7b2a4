/**
 * `lspci -vvv` (with or without `-nn`, `-s`, the domain prefix): one block per function, a
 * header at column 0 (`0000:02:08.0 PCI bridge: …`) followed by indented detail lines.
 *
 * Read from each block: the description; `IOMMU group: N`; memory BARs (`Region N: Memory
 * at …`, with `[virtual]`, `[disabled]`, `[size=…]`) and the expansion ROM; for bridges the
 * bus numbers, the memory windows (`[disabled]` ones are absent, not errors), the PCIe port
 * type (root port, switch upstream/downstream port, PCI bridge) and the ACS capability and
 * control bits. I/O-port regions and windows are not memory and are skipped silently. BAR
 * lines inside the SR-IOV capability give only the VF BARs' bases (their sizes are on the
 * VFs' own `[virtual]` BARs) and are skipped too.
 *
 * A line at column 0 inside a block that is not a new header continues the line before it
 * when that line is long enough to have been wrapped (60 columns or more): mail clients wrap
 * long lspci lines (`ACSCap: … UpstreamFwd+` / `EgressCtrl- DirectTrans+`). After a short
 * line, text at column 0 ends the block (prose written right after the output).
 * Bridges (class `PCI bridge`, or a `Bus:` line) are reported as bridges, with their own BARs;
 * other functions as devices. lspci does not show DMA masks.
 */
import { type AcsFlags, type Bar, type BridgeRole, NO_ACS } from '../host.js';
import { normaliseBdf, parseBdf } from '../pci.js';
import { rangeOfSize } from '../range.js';
import { BDF_PATTERN, busNumber, hexRange, hexValue, type LineVerdicts, provenance } from './common.js';
import type { SourceLine } from './lines.js';
import type { HostBuilder } from './merge.js';

/** One logical line: a physical line and the wrapped lines that continue it. */
interface Logical {
  text: string;
  lines: SourceLine[];
}

interface Block {
  bdf: string;
  header: Logical;
  details: Logical[];
}

const HEADER = new RegExp(`^(${BDF_PATTERN})\\s+(\\S[^:]*:.*)$`);
const OUTSIDE_FAMILY =
  /^(?:Region \d+:|Expansion ROM at|(?:Prefetchable )?[Mm]emory behind bridge:|Bus: primary=|IOMMU group:|ACSC(?:ap|tl):|Capabilities:|Kernel (?:driver in use|modules):)/;

const REGION = /^Region (\d+): Memory at (\S+) \((32-bit|64-bit|low-1M|type 3), (non-prefetchable|prefetchable)\)(.*)$/;
const ROM = /^Expansion ROM at (\S+)(.*)$/;
const BUS = /^Bus: primary=([0-9a-f]+), secondary=([0-9a-f]+), subordinate=([0-9a-f]+)/i;
const WINDOW = /^(Prefetchable memory|Memory) behind bridge:\s*(.*)$/;
const EXPRESS =
  /^Capabilities: \[[0-9a-f]+(?: v\d+)?\] Express (?:\(v\d+\) )?(Root Port|Upstream Port|Downstream Port|Endpoint|Legacy Endpoint|Root Complex Integrated Endpoint|Root Complex Event Collector|PCI-Express to PCI\/PCI-X Bridge|PCI\/PCI-X to PCI-Express Bridge)/;
const WRAP_COLUMN = 60;
const SIZE_UNITS: Record<string, bigint> = { '': 0n, K: 10n, M: 20n, G: 30n, T: 40n, P: 50n };

const ROLES: Record<string, BridgeRole> = {
  'Root Port': 'root-port',
  'Upstream Port': 'switch-upstream',
  'Downstream Port': 'switch-downstream',
  'PCI-Express to PCI/PCI-X Bridge': 'pci-bridge',
  'PCI/PCI-X to PCI-Express Bridge': 'pci-bridge',
};

/** lspci's ACS flag names and the fields they set. */
export const ACS_FLAG_NAMES: Record<string, keyof AcsFlags> = {
  SrcValid: 'sourceValidation',
  TransBlk: 'translationBlocking',
  ReqRedir: 'requestRedirect',
  CmpltRedir: 'completionRedirect',
  UpstreamFwd: 'upstreamForwarding',
  EgressCtrl: 'egressControl',
  DirectTrans: 'directTranslated',
};

/** Whether a line looks like lspci output: a device header, or an indented detail line. */
export function isLspciLine(line: SourceLine): boolean {
  if (line.role !== 'content' || line.logPrefix) return false;
  return HEADER.test(line.body) || (/^\s/.test(line.body) && OUTSIDE_FAMILY.test(line.message));
}

/** Read lspci blocks of `lines` into `builder`. */
export function importLspci(lines: readonly SourceLine[], builder: HostBuilder, file: string, verdicts: LineVerdicts): void {
  const hidden: Array<{ bdf: string; line: number; bridge: boolean }> = [];
  for (const block of splitBlocks(lines, verdicts)) {
    const read = readBlock(block, builder, file, verdicts);
    if (read.capabilitiesHidden !== undefined) hidden.push({ bdf: block.bdf, line: read.capabilitiesHidden, bridge: read.bridge });
  }
  // lspci run without root prints `Capabilities: <access denied>`: ACS and port types unseen.
  if (hidden.length > 0) {
    const bridges = hidden.filter((h) => h.bridge).length;
    builder.assume(
      provenance('lspci capabilities', file, hidden[0].line),
      `lspci ran without root: the capabilities of ${hidden.length} function${hidden.length === 1 ? '' : 's'}` +
        `${bridges > 0 ? ` (${bridges} bridge${bridges === 1 ? '' : 's'})` : ''} are hidden ("<access denied>"), so ACS ` +
        'bits and PCIe port types are unknown and peer-to-peer facts are missing; run "sudo lspci -vvv"',
    );
  }
}

function splitBlocks(lines: readonly SourceLine[], verdicts: LineVerdicts): Block[] {
  const blocks: Block[] = [];
  let block: Block | undefined;
  let last: Logical | undefined;
  for (const line of lines) {
    if (line.role === 'marker') {
      if (block) verdicts.known(line);
      last = undefined;
      continue;
    }
    if (line.role !== 'content' || line.logPrefix) {
      block = undefined;
      last = undefined;
      continue;
    }
    const header = HEADER.exec(line.body);
    if (header) {
      last = { text: header[2], lines: [line] };
      block = { bdf: header[1], header: last, details: [] };
      blocks.push(block);
    } else if (block && !/^\s/.test(line.body)) {
      if (last && wrapped(last)) {
        last.text += ` ${line.body.trim()}`;
        last.lines.push(line);
      } else {
        // Text at column 0 after a short line is not a wrap: the block has ended.
        block = undefined;
        last = undefined;
      }
    } else if (block) {
      last = { text: line.body.trim(), lines: [line] };
      block.details.push(last);
    } else if (/^\s/.test(line.body) && OUTSIDE_FAMILY.test(line.message)) {
      verdicts.problem(line, "lspci line outside any device block (the device's header line is not in the source)");
    }
  }
  return blocks;
}

/** Mail clients wrap near 72 columns: only a long line can have been wrapped. */
function wrapped(logical: Logical): boolean {
  return logical.lines[logical.lines.length - 1].body.length >= WRAP_COLUMN;
}

/** What a block showed beyond its facts. */
interface BlockRead {
  bridge: boolean;
  /** Line of `Capabilities: <access denied>` (lspci without root). */
  capabilitiesHidden?: number;
}

function readBlock(block: Block, builder: HostBuilder, file: string, verdicts: LineVerdicts): BlockRead {
  let capabilitiesHidden: number | undefined;
  const bdf = normaliseBdf(block.bdf);
  const { segment } = parseBdf(bdf);
  const headerLine = block.header.lines[0].line;
  const description = block.header.text.trim();
  const className = description.split(':')[0];
  const headerSource = provenance('device', file, headerLine, { device: bdf });
  for (const l of block.header.lines) verdicts.fact(l);

  const fact = (logical: Logical) => logical.lines.forEach((l) => verdicts.fact(l));
  const problem = (logical: Logical, message: string) => {
    verdicts.problem(logical.lines[0], message);
    logical.lines.slice(1).forEach((l) => verdicts.known(l));
  };
  const at = (logical: Logical) => logical.lines[0].line;

  let isBridge = /^(?:PCI bridge|CardBus bridge)\b/i.test(className) || /\[060[47]\]/.test(className);
  let inSriov = false;
  let group: { value: number; line: number } | undefined;
  let buses: { primary: number; secondary: number; subordinate: number; line: number } | undefined;
  let role: { value: BridgeRole; line: number } | undefined;
  let acsCap: { flags: AcsFlags; line: number } | undefined;
  let acsCtl: { flags: AcsFlags; line: number } | undefined;
  const windows: Array<{ start: bigint; last: bigint; prefetchable: boolean; line: number }> = [];
  const bars: Bar[] = [];

  for (const detail of block.details) {
    detail.lines.forEach((l) => verdicts.known(l));
    const text = detail.text;
    let m: RegExpExecArray | null;
    if (text.startsWith('Capabilities:')) inSriov = /Single Root I\/O Virtualization/.test(text);
    if (text === 'Capabilities: <access denied>') capabilitiesHidden ??= at(detail);

    if (text.startsWith('IOMMU group:')) {
      if (!(m = /^IOMMU group: (\d{1,9})$/.exec(text))) problem(detail, 'IOMMU group number not understood');
      else {
        group = { value: Number(m[1]), line: at(detail) };
        fact(detail);
      }
    } else if (text.startsWith('Region ')) {
      if (/^Region \d+: I\/O ports/.test(text) || inSriov) continue;
      if (!(m = REGION.exec(text))) {
        problem(detail, 'BAR line not understood: expected "Region N: Memory at <hex> (64-bit, prefetchable) [size=…]"');
        continue;
      }
      const [, n, address, width, pref, flagText] = m;
      if (address.startsWith('<')) continue; // unassigned or ignored: nothing is decoded
      const flags = bracketFlags(flagText);
      const bar = barOf(address, flags, Number(n) <= 5 ? Number(n) : undefined, `BAR${n}`, bdf, file, at(detail));
      if (typeof bar === 'string') {
        problem(detail, bar);
        continue;
      }
      bar.prefetchable = pref === 'prefetchable';
      bar.is64 = width === '64-bit';
      bars.push(bar);
      fact(detail);
    } else if ((m = ROM.exec(text))) {
      if (m[1].startsWith('<')) continue;
      const bar = barOf(m[1], bracketFlags(m[2]), 'rom', 'expansion ROM', bdf, file, at(detail));
      if (typeof bar === 'string') problem(detail, bar);
      else {
        bars.push(bar);
        fact(detail);
      }
    } else if ((m = BUS.exec(text))) {
      const [primary, secondary, subordinate] = [m[1], m[2], m[3]].map(busNumber);
      if (primary === undefined || secondary === undefined || subordinate === undefined) {
        problem(detail, 'bus numbers not understood');
        continue;
      }
      buses = { primary, secondary, subordinate, line: at(detail) };
      isBridge = true;
      fact(detail);
    } else if ((m = WINDOW.exec(text))) {
      const value = m[2];
      if (/^\[disabled\]|^None/.test(value)) continue;
      const r = /^([0-9a-f]+)-([0-9a-f]+)/i.exec(value);
      if (!r) {
        problem(detail, 'bridge window not understood');
        continue;
      }
      const range = hexRange(r[1], r[2]);
      isBridge = true;
      if (!range) continue; // base above limit: how old lspci shows a closed window
      windows.push({ ...range, prefetchable: m[1] === 'Prefetchable memory', line: at(detail) });
      fact(detail);
    } else if ((m = EXPRESS.exec(text))) {
      const r = ROLES[m[1]];
      if (r) {
        role = { value: r, line: at(detail) };
        isBridge = true;
        fact(detail);
      }
    } else if ((m = /^ACSC(ap|tl):\s*(.*)$/.exec(text))) {
      const flags = parseAcs(m[2]);
      if (!flags) {
        problem(detail, 'ACS flags not understood');
        continue;
      }
      if (m[1] === 'ap') acsCap = { flags, line: at(detail) };
      else acsCtl = { flags, line: at(detail) };
      fact(detail);
    }
  }

  if (isBridge) {
    const bridge = builder.bridge(bdf, segment, provenance('PCI bridge', file, headerLine, { port: bdf }));
    if (buses) builder.setBridgeBuses(bridge, buses, provenance('bus numbers', file, buses.line, { port: bdf }));
    if (role) builder.setBridgeRole(bridge, role.value, provenance('PCIe port type', file, role.line, { port: bdf }));
    for (const w of windows) {
      builder.addBridgeWindow(bridge, {
        start: w.start,
        last: w.last,
        prefetchable: w.prefetchable,
        source: provenance(w.prefetchable ? 'prefetchable bridge window' : 'bridge window', file, w.line, { port: bdf }),
      });
    }
    if (acsCap || acsCtl) {
      const line = (acsCap ?? acsCtl)!.line;
      if (!acsCtl) {
        builder.warn(file, line, `ACSCtl of ${bdf} is not in the source; its ACS controls are taken as all off (the cautious reading for peer-to-peer)`, undefined, 'assumption');
      } else if (!acsCap) {
        builder.warn(file, line, `ACSCap of ${bdf} is not in the source; its capability is taken to be what ACSCtl enables`, undefined, 'assumption');
      }
      const control = acsCtl?.flags ?? { ...NO_ACS };
      const capability = acsCap?.flags ?? { ...control };
      builder.setAcs(bridge, { capability, control }, provenance('ACS', file, line, { port: bdf }));
    }
  } else {
    builder.device(bdf, headerSource);
  }
  builder.describe(bdf, description, headerSource);
  if (group) builder.setDeviceGroup(bdf, group.value, provenance('IOMMU group membership', file, group.line, { device: bdf, group: group.value }));
  for (const bar of bars) builder.addBar(bdf, bar);
  return { bridge: isBridge, ...(capabilitiesHidden !== undefined ? { capabilitiesHidden } : {}) };
}

/**
 * `[virtual] [disabled] [size=64M]` → the bracketed words. A scan, not `/\[([^\]]*)\]/g`: on a
 * long run of `[` without `]` that regex rescans the rest of the line from every `[`.
 */
function bracketFlags(text: string): string[] {
  const out: string[] = [];
  let open = text.indexOf('[');
  while (open >= 0) {
    const close = text.indexOf(']', open + 1);
    if (close < 0) break;
    const inner = text.slice(open + 1, close);
    const nested = inner.lastIndexOf('[');
    out.push(nested >= 0 ? inner.slice(nested + 1) : inner);
    open = text.indexOf('[', close + 1);
  }
  return out;
}

/** A BAR from lspci's hex address and flags, or a message saying what is wrong. */
function barOf(
  address: string,
  flags: string[],
  bar: number | 'rom' | undefined,
  what: string,
  device: string,
  file: string,
  line: number,
): Bar | string {
  const start = hexValue(address);
  if (start === undefined) return `${what} address "${address}" is not hex`;
  const sizeFlag = flags.find((f) => f.startsWith('size='));
  const size = sizeFlag ? /^size=(\d+)([KMGTP]?)$/.exec(sizeFlag) : null;
  if (!size) return `${what} at ${address} has no [size=…]: lspci needs -v to show sizes`;
  let range;
  try {
    range = rangeOfSize(start, BigInt(size[1]) << SIZE_UNITS[size[2]]);
  } catch (error) {
    return (error as Error).message;
  }
  const out: Bar = { ...range, source: provenance(what, file, line, { device }) };
  if (bar !== undefined) out.bar = bar;
  if (flags.includes('virtual')) out.virtual = true;
  if (flags.includes('disabled')) out.disabled = true;
  return out;
}

/**
 * `SrcValid+ TransBlk- …` → flags; undefined when none of the names is there. Words are split
 * first and each is matched whole: `/(\w+)([+-])/g` over the line rescans a long word from
 * each of its letters.
 */
function parseAcs(text: string): AcsFlags | undefined {
  const flags: AcsFlags = { ...NO_ACS };
  let seen = 0;
  for (const word of text.split(/[\s,]+/)) {
    const sign = word[word.length - 1];
    if (sign !== '+' && sign !== '-') continue;
    const field = Object.hasOwn(ACS_FLAG_NAMES, word.slice(0, -1)) ? ACS_FLAG_NAMES[word.slice(0, -1)] : undefined;
    if (!field) continue;
    flags[field] = sign === '+';
    seen++;
  }
  return seen > 0 ? flags : undefined;
}
