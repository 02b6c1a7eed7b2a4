/**
 * `/proc/iomem`: the CPU physical address map, nested by indentation.
 *
 * - `PCI Bus SSSS:BB` with no enclosing `PCI Bus` entry: a window of the host bridge whose
 *   root bus that is.
 * - `PCI Bus SSSS:BB` inside another bus's entry: a window of the bridge leading to bus BB
 *   (id `bus SSSS:BB`, merged into the bridge's BDF when another source gives it); the
 *   enclosing bus is the bridge's primary bus.
 * - `SSSS:BB:DD.F`: a memory resource of that function (a BAR whose number iomem does not give).
 * - `dmar<N>` / `amd_iommu`: the registers of an Intel VT-d / AMD-Vi IOMMU → the platform.
 * - Everything else (System RAM, Reserved, ACPI tables, dmar0, PCI MMCONFIG, driver names
 *   nested under a device) is read and ignored.
 *
 * Non-root readers see every address as zero; that is reported once and the zero entries
 * are skipped.
 */
import { formatBus, normaliseBdf } from '../pci.js';
import { BDF_PATTERN, busNumber, hexRange, type LineVerdicts, provenance, segmentNumber } from './common.js';
import type { SourceLine } from './lines.js';
import type { HostBuilder } from './merge.js';

const ENTRY = /^(\s*)([0-9a-f]+)-([0-9a-f]+) : (.*)$/i;
const PCI_BUS = /^PCI Bus ([0-9a-f]{4}):([0-9a-f]{2})$/i;
const FUNCTION = new RegExp(`^(${BDF_PATTERN})$`);

interface Open {
  indent: number;
  bus?: { segment: number; bus: number };
}

/** Whether a line looks like a /proc/iomem entry. */
export function isIomemLine(line: SourceLine): boolean {
  return line.role === 'content' && !line.logPrefix && ENTRY.test(line.body);
}

/** Read /proc/iomem lines of `lines` into `builder`. */
export function importIomem(lines: readonly SourceLine[], builder: HostBuilder, file: string, verdicts: LineVerdicts): void {
  const stack: Open[] = [];
  let zeroReported = false;
  for (const line of lines) {
    const m = isIomemLine(line) ? ENTRY.exec(line.body) : null;
    if (!m) continue;
    const [, indentText, startText, lastText, name] = m;
    const indent = indentText.replace(/\t/g, '        ').length;
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    const enclosingBus = [...stack].reverse().find((o) => o.bus)?.bus;
    const open: Open = { indent };
    stack.push(open);

    const range = hexRange(startText, lastText);
    if (!range) {
      verdicts.problem(line, `/proc/iomem entry ${startText}-${lastText}: start is above end (or not a 64-bit address)`);
      continue;
    }
    const bus = PCI_BUS.exec(name.trim());
    const fn = FUNCTION.exec(name.trim());
    if ((bus || fn) && range.start === 0n && range.last === 0n) {
      if (!zeroReported) {
        verdicts.problem(line, '/proc/iomem addresses read as zero: the kernel hides them from non-root readers; capture the file as root');
        zeroReported = true;
      } else verdicts.known(line);
      continue;
    }
    if (bus) {
      const segment = segmentNumber(bus[1])!;
      const number = busNumber(bus[2])!;
      open.bus = { segment, bus: number };
      if (!enclosingBus) {
        const hostBridge = builder.hostBridge(segment, number, provenance('host bridge', file, line.line));
        builder.addHostBridgeWindow(hostBridge, {
          ...range,
          offset: 0n,
          source: provenance('host bridge window', file, line.line, { port: formatBus(segment, number) }),
        });
      } else if (enclosingBus.segment !== segment || enclosingBus.bus !== number) {
        const source = provenance('bridge window', file, line.line);
        const bridge = builder.busBridge(segment, number, source);
        if (enclosingBus.segment === segment) bridge.primaryBus ??= enclosingBus.bus;
        builder.addBridgeWindow(bridge, { ...range, source: { ...source, port: bridge.id } });
      }
      verdicts.fact(line);
    } else if (fn) {
      const id = normaliseBdf(fn[1]);
      builder.addBar(id, {
        ...range,
        source: provenance('memory resource', file, line.line, { device: id, note: '/proc/iomem does not give the BAR number' }),
      });
      verdicts.fact(line);
    } else if (/^dmar\d+$/.test(name.trim()) || name.trim() === 'amd_iommu') {
      // The IOMMU's own registers: they say which kind of IOMMU the host has.
      const profile = name.trim() === 'amd_iommu' ? 'amd-vi' : 'intel-vtd';
      builder.setPlatform({ profile, source: provenance('IOMMU registers', file, line.line, { note: `/proc/iomem entry ${name.trim()}` }) });
      verdicts.fact(line);
    } else {
      verdicts.known(line);
    }
  }
}
