/**
 * `iova doctor`: is this host fit for device assignment, at the IOVA level?
 *
 * Reads a Linux root (the live `/` or a captured tree), extra captures (dmesg, lspci, …) and
 * host files, and answers with findings: a verdict (ok / warning / problem), the evidence that
 * decided it (file:line as read), and what to do. A check whose input is not among the sources
 * is a warning that says which file was missing — never an "ok" from missing facts.
 *
 * Kernel behaviour each check relies on is cited beside it (Linux 6.12 unless stated).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readInputText } from '../model/load.js';
import { stripNulPadding } from '../model/import/lines.js';
import { join } from 'node:path';
import { formatSize, hexGrouped } from '../model/address.js';
import { InputError } from '../model/errors.js';
import type { HostFacts, PciBridge, ReservedRegion } from '../model/host.js';
import { emptyHost } from '../model/host.js';
import { hexValue } from '../model/import/common.js';
import { importSources } from '../model/import/index.js';
import { splitLines } from '../model/import/lines.js';
import { loadHostFile } from '../model/load.js';
import { isBdf, parseBdf } from '../model/pci.js';
import { AMD_HT_HOLE, platformFacts } from '../model/profiles.js';
import { describePlace, describeProvenance, type Provenance } from '../model/provenance.js';
import { overlaps, sizeOf } from '../model/range.js';
import { PciTopology } from '../model/topology.js';

export const VERDICTS = ['ok', 'warning', 'problem'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What a finding rests on: a line of a file (line 0: the file as a whole, or its absence). */
export interface Evidence {
  file: string;
  line: number;
  /** The line as read (empty for a whole file or a missing one). */
  text: string;
  /** Why this line matters, when the text alone does not say. */
  note?: string;
}

export interface Finding {
  /** Which check: `iommu`, `interrupt-remapping`, `iommufd`, `vfio`, `direct-region`, … */
  check: string;
  verdict: Verdict;
  summary: string;
  evidence: Evidence[];
  /** What to do about it (absent when nothing needs doing). */
  action?: string;
}

export interface DoctorReport {
  host: string;
  /** The root directory read, when one was given. */
  root?: string;
  findings: Finding[];
}

/** What to examine: a Linux root and/or captures and host files. */
export interface DoctorInput {
  /** A directory laid out like `/` (the live root, or a capture of one). */
  root?: string;
  /** Text captures (dmesg, lspci -vvv, reserved_regions, /proc/iomem) and host JSON files. */
  files?: string[];
  name?: string;
}

/** Every check the doctor runs, in report order. */
export const DOCTOR_CHECKS = [
  'iommu',
  'interrupt-remapping',
  'iommufd',
  'vfio',
  'direct-region',
  'shared-group',
  'domain-width',
  'msi-window',
  'ht-hole',
  'dma-entry-limit',
  'hugepages',
  'import-warnings',
] as const;

/** `vfio_iommu_type1.c`: `static unsigned int dma_entry_limit __read_mostly = U16_MAX;` */
export const DEFAULT_DMA_ENTRY_LIMIT = 65535;

/** Examine a host; throws {@link InputError} only for sources that cannot be read at all. */
export function diagnose(input: DoctorInput): DoctorReport {
  const files = input.files ?? [];
  const jsonFiles = files.filter((f) => /\.json$/i.test(f));
  const captures = files.filter((f) => !/\.json$/i.test(f));
  if (input.root !== undefined && !isDirectory(input.root)) throw new InputError('not a directory', { file: input.root });
  const host = loadFacts(input, jsonFiles, captures);
  const root = input.root !== undefined ? new Root(input.root) : undefined;
  const log = captures.flatMap((file) => readLines(file) ?? []);
  const cmdline = root?.lines('proc/cmdline');

  const findings: Finding[] = [];
  const iommu = checkIommu(root, host, cmdline, log);
  findings.push(iommu.finding);
  if (iommu.active !== false) findings.push(checkInterruptRemapping(root, cmdline, log, host));
  findings.push(...checkUserspaceInterfaces(root));
  if (iommu.active !== false) {
    findings.push(...checkDirectRegions(host));
    findings.push(...checkSharedGroups(host));
    findings.push(...checkDomainWidth(root, host, log));
    findings.push(...checkRegionWindows(host));
  }
  findings.push(checkDmaEntryLimit(root));
  findings.push(checkHugepages(root));
  if (host.warnings.length > 0) {
    findings.push({
      check: 'import-warnings',
      verdict: 'warning',
      summary: `${host.warnings.length} line${host.warnings.length === 1 ? '' : 's'} of the sources could not be read; the findings above do not use them`,
      evidence: host.warnings.map((w) => ({ file: w.file, line: w.line, text: w.text, note: w.message })),
      action: 'Check those lines: a truncated or wrapped capture hides facts (groups, regions, ACS bits).',
    });
  }
  return { host: host.name, ...(input.root !== undefined ? { root: input.root } : {}), findings: findings.map(dedupeEvidence) };
}

/** One piece of evidence per file line (a fact's provenance often repeats a log line already quoted). */
function dedupeEvidence(f: Finding): Finding {
  const seen = new Set<string>();
  const kept = f.evidence.filter((e) => {
    const key = e.line > 0 ? `${e.file}:${e.line}` : `${e.file}:0:${e.note ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { ...f, evidence: kept };
}

/** How many findings have each verdict. */
export function countVerdicts(report: DoctorReport): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { ok: 0, warning: 0, problem: 0 };
  for (const f of report.findings) counts[f.verdict]++;
  return counts;
}

// ─── inputs ──────────────────────────────────────────────────────────────────────────────

interface Line {
  file: string;
  line: number;
  text: string;
}

class Root {
  constructor(readonly dir: string) {}

  path(rel: string): string {
    return join(this.dir, rel);
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  lines(rel: string): Line[] | undefined {
    return readLines(this.path(rel));
  }

  list(rel: string): string[] {
    try {
      return readdirSync(this.path(rel)).sort();
    } catch {
      return [];
    }
  }
}

function readLines(file: string): Line[] | undefined {
  // Absent is an answer (the kernel does not have it); anything else goes through the checked
  // reader, so a FIFO or a device in a captured tree is refused, not read forever.
  if (!existsSync(file)) return undefined;
  const text = stripNulPadding(readInputText(file));
  return splitLines(text).map((l) => ({ file, line: l.line, text: l.message }));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Host facts from the root's sysfs, the captures and host files (none: an empty host). */
function loadFacts(input: DoctorInput, jsonFiles: string[], captures: string[]): HostFacts {
  const name = input.name ?? (input.root === '/' ? 'this host' : undefined);
  if (jsonFiles.length > 1) throw new InputError('give at most one host file to the doctor', { file: jsonFiles[1] });
  if (jsonFiles.length === 1) {
    if (input.root !== undefined || captures.length > 0) throw new InputError('a host file is already imported: give it alone, or the root and captures it came from', { file: jsonFiles[0] });
    return loadHostFile(jsonFiles[0]);
  }
  const sources = [...(input.root !== undefined && hasSysfs(input.root) ? [input.root] : []), ...captures];
  if (sources.length === 0) return emptyHost(name ?? 'host');
  return importSources(sources, name !== undefined ? { name } : {});
}

function hasSysfs(root: string): boolean {
  return ['sys/kernel/iommu_groups', 'sys/bus/pci/devices'].some((d) => existsSync(join(root, d)));
}

/** The kernel command line's parameters, each with the line it is on. */
function cmdlineParams(cmdline: Line[] | undefined): Array<{ key: string; value: string; at: Line }> {
  const out: Array<{ key: string; value: string; at: Line }> = [];
  for (const at of cmdline ?? []) {
    for (const word of at.text.split(/\s+/)) {
      if (word === '--') return out; // what follows is for init, not the kernel
      const eq = word.indexOf('=');
      if (word !== '') out.push({ key: eq < 0 ? word : word.slice(0, eq), value: eq < 0 ? '' : word.slice(eq + 1), at });
    }
  }
  return out;
}

const evidence = (at: Line, note?: string): Evidence => ({ file: at.file, line: at.line, text: at.text, ...(note ? { note } : {}) });
const absent = (file: string, note: string): Evidence => ({ file, line: 0, text: '', note });
const fromProvenance = (p: Provenance): Evidence => ({ file: p.file ?? p.path ?? '(host facts)', line: p.line ?? 0, text: '', note: describeProvenance(p) });

// ─── checks ──────────────────────────────────────────────────────────────────────────────

/**
 * IOMMU on, off or passthrough. An active IOMMU registers units under /sys/class/iommu
 * (`iommu_device_sysfs_add`) and puts devices in groups; `intel_iommu=off`, `amd_iommu=off`
 * and `iommu=off` keep it off; `iommu=pt` / `iommu.passthrough=1` make the *default* domains
 * identity (`iommu_def_domain_type = IOMMU_DOMAIN_IDENTITY`), which leaves VFIO and iommufd
 * free to attach their own translated domains.
 */
function checkIommu(root: Root | undefined, host: HostFacts, cmdline: Line[] | undefined, log: Line[]): { finding: Finding; active: boolean | undefined } {
  const params = cmdlineParams(cmdline);
  const off = params.find(
    (p) => (p.key === 'intel_iommu' && p.value.split(',').includes('off')) || (p.key === 'amd_iommu' && p.value.split(',').includes('off')) || (p.key === 'iommu' && p.value === 'off'),
  );
  const pt = params.find((p) => (p.key === 'iommu' && p.value.split(',').includes('pt')) || (p.key === 'iommu.passthrough' && /^(1|y|on)$/i.test(p.value)));
  const ptLog = log.find((l) => /iommu: Default domain type: Passthrough/i.test(l.text));
  const units = root ? root.list('sys/class/iommu') : [];
  const groups = root ? root.list('sys/kernel/iommu_groups') : [];
  const unitEvidence: Evidence[] = root ? [{ file: root.path('sys/class/iommu'), line: 0, text: '', note: units.length > 0 ? `IOMMU units: ${units.join(', ')}` : 'no IOMMU units registered' }] : [];
  const enabledLog = log.filter((l) => /DMAR: IOMMU enabled|AMD-Vi: (Found IOMMU|Interrupt remapping enabled|IOMMU performance)|arm-smmu-v3 .*(probing|ias)|iommu: Default domain type/i.test(l.text));

  if (off) {
    return {
      active: false,
      finding: {
        check: 'iommu',
        verdict: 'problem',
        summary: `The IOMMU is turned off on the kernel command line (${off.key}=${off.value}): no device can be assigned through VFIO or iommufd`,
        evidence: [evidence(off.at), ...unitEvidence],
        action: `Remove ${off.key}=${off.value} from the kernel command line (GRUB_CMDLINE_LINUX) and reboot.`,
      },
    };
  }
  const known = root !== undefined || host.platform !== undefined || host.groups.length > 0 || enabledLog.length > 0;
  if (!known) {
    return {
      active: undefined,
      finding: {
        check: 'iommu',
        verdict: 'warning',
        summary: 'Whether an IOMMU is active is not determined: the sources include no sysfs tree, no IOMMU groups and no IOMMU lines of a kernel log',
        evidence: [],
        action: 'Run the doctor on the host itself (iova doctor), on a captured root, or add a dmesg capture.',
      },
    };
  }
  const active = units.length > 0 || groups.length > 0 || host.groups.length > 0 || host.platform !== undefined || enabledLog.length > 0;
  if (!active) {
    return {
      active: false,
      finding: {
        check: 'iommu',
        verdict: 'problem',
        summary:
          'No IOMMU is active on this host: no IOMMU units and no IOMMU groups. Devices cannot be assigned to guests or userspace drivers through VFIO or iommufd, and there is no IOVA space to plan',
        evidence: [...unitEvidence, ...(root ? [{ file: root.path('sys/kernel/iommu_groups'), line: 0, text: '', note: 'no IOMMU groups' }] : [])],
        action:
          'Enable VT-d (Intel) or AMD-Vi / IOMMU (AMD) in the firmware setup; on Intel boot with intel_iommu=on when the kernel is not built with CONFIG_INTEL_IOMMU_DEFAULT_ON; in a virtual machine, give it a virtual IOMMU (QEMU: -device intel-iommu or virtio-iommu).',
      },
    };
  }
  const facts: Evidence[] = [...unitEvidence, ...enabledLog.slice(0, 3).map((l) => evidence(l))];
  if (host.platform && !root) facts.push(fromProvenance(host.platform.source));
  const count = units.length > 0 ? `${units.length} unit${units.length === 1 ? '' : 's'}` : host.platform ? host.platform.profile : 'IOMMU groups present';
  if (pt || ptLog) {
    return {
      active: true,
      finding: {
        check: 'iommu',
        verdict: 'ok',
        summary: `The IOMMU is on (${count}); host devices use identity (passthrough) default domains, and VFIO and iommufd still give assigned devices their own translated domains`,
        evidence: [...(pt ? [evidence(pt.at)] : []), ...(ptLog ? [evidence(ptLog)] : []), ...facts],
      },
    };
  }
  return { active: true, finding: { check: 'iommu', verdict: 'ok', summary: `The IOMMU is on and translating (${count})`, evidence: facts } };
}

/**
 * Interrupt remapping: VFIO type1 refuses a group whose MSIs are not isolated unless
 * `allow_unsafe_interrupts` is set (`vfio_iommu_type1_attach_group`: -EPERM, "No interrupt
 * remapping support"); iommufd does the same (`iommufd_group_setup_msi` /
 * `iommufd_hwpt_*`, unless its own `allow_unsafe_interrupts`).
 */
function checkInterruptRemapping(root: Root | undefined, cmdline: Line[] | undefined, log: Line[], host: HostFacts): Finding {
  const params = cmdlineParams(cmdline);
  const offParam = params.find((p) => (p.key === 'intremap' && p.value === 'off'));
  const on = log.find((l) => /Enabled IRQ remapping|Interrupt remapping enabled|IRQ remapping enabled/i.test(l.text));
  const offLog = log.find((l) => /IRQ remapping (was )?disabled|Not enabling interrupt remapping|Failed to enable irq remapping|irq remapping .*disabled/i.test(l.text));
  const unsafe = root?.lines('sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts')?.find((l) => /^[Y1]/.test(l.text.trim()));
  const arm = host.platform?.profile === 'arm-smmuv3';
  const action = 'Enable interrupt remapping (firmware: "Interrupt Remapping" / x2APIC; do not boot with intremap=off); allow_unsafe_interrupts=1 works around it only for trusted devices.';
  if (offParam || offLog) {
    return {
      check: 'interrupt-remapping',
      verdict: 'problem',
      summary: 'Interrupt remapping is off: VFIO and iommufd refuse to assign devices (-EPERM) unless allow_unsafe_interrupts is set, which lets a device forge interrupts',
      evidence: [...(offParam ? [evidence(offParam.at)] : []), ...(offLog ? [evidence(offLog)] : []), ...(unsafe ? [evidence(unsafe, 'allow_unsafe_interrupts is set')] : [])],
      action,
    };
  }
  if (unsafe) {
    return {
      check: 'interrupt-remapping',
      verdict: 'warning',
      summary: 'vfio_iommu_type1 allows unsafe interrupts: devices are assigned even without interrupt isolation',
      evidence: [evidence(unsafe), ...(on ? [evidence(on)] : [])],
      action: 'Set allow_unsafe_interrupts=0 where interrupt remapping works.',
    };
  }
  if (on) return { check: 'interrupt-remapping', verdict: 'ok', summary: 'Interrupt remapping is enabled', evidence: [evidence(on)] };
  return {
    check: 'interrupt-remapping',
    verdict: 'warning',
    summary: arm
      ? 'Interrupt isolation is not determined: on arm64 it comes from the GIC ITS, which the sources do not show'
      : 'Interrupt remapping is not determined: no kernel log line about it in the sources',
    evidence: log.length === 0 ? [absent('dmesg', 'no kernel log among the sources')] : [],
    action: 'Add a dmesg capture (dmesg > dmesg.txt; iova doctor / dmesg.txt) to check it.',
  };
}

/** /dev/iommu (iommufd, Linux 6.2+) and /dev/vfio/vfio (the VFIO container). */
function checkUserspaceInterfaces(root: Root | undefined): Finding[] {
  if (!root) {
    return [
      {
        check: 'iommufd',
        verdict: 'warning',
        summary: 'Whether /dev/iommu and /dev/vfio/vfio exist is not determined: no root directory among the sources',
        evidence: [],
        action: 'Run the doctor on the host itself or on a captured root.',
      },
    ];
  }
  const iommufd = root.exists('dev/iommu');
  const vfio = root.exists('dev/vfio/vfio');
  const neither = !iommufd && !vfio;
  return [
    {
      check: 'iommufd',
      verdict: iommufd ? 'ok' : neither ? 'problem' : 'warning',
      summary: iommufd ? 'iommufd is available (/dev/iommu)' : 'iommufd is not available (no /dev/iommu): the kernel is older than 6.2, built without CONFIG_IOMMUFD, or the module is not loaded',
      evidence: [{ file: root.path('dev/iommu'), line: 0, text: '', note: iommufd ? 'present' : 'absent' }],
      ...(iommufd ? {} : { action: 'modprobe iommufd (CONFIG_IOMMUFD); VMMs fall back to the VFIO container where it exists.' }),
    },
    {
      check: 'vfio',
      verdict: vfio ? 'ok' : neither ? 'problem' : 'warning',
      summary: vfio ? 'VFIO is available (/dev/vfio/vfio)' : 'The VFIO container is not available (no /dev/vfio/vfio): vfio is not loaded',
      evidence: [{ file: root.path('dev/vfio/vfio'), line: 0, text: '', note: vfio ? 'present' : 'absent' }],
      ...(vfio ? {} : { action: 'modprobe vfio-pci (and vfio_iommu_type1), then bind the devices to vfio-pci.' }),
    },
  ];
}

/** Every reserved region of the host with the devices it applies to (group members, or one device). */
function regionsWithOwners(host: HostFacts): Array<{ region: ReservedRegion; devices: string[]; group?: number }> {
  const out: Array<{ region: ReservedRegion; devices: string[]; group?: number }> = [];
  for (const g of host.groups) for (const region of g.reservedRegions) out.push({ region, devices: g.devices, group: g.id });
  for (const d of host.devices) for (const region of d.reservedRegions) out.push({ region, devices: [d.id], ...(d.group !== undefined ? { group: d.group } : {}) });
  for (const region of host.reservedRegions) out.push({ region, devices: [] });
  return out;
}

/**
 * A non-relaxable direct region (an RMRR outside USB and graphics, an IVRS unity map) makes
 * the device refuse any domain without that 1:1 mapping: `__iommu_device_set_domain` fails
 * with -EINVAL for `dev->iommu->require_direct` when VFIO or iommufd claim the group
 * (Linux 6.5+; older kernels refused in `device_rmrr_is_relaxable` / VFIO's attach).
 */
function checkDirectRegions(host: HostFacts): Finding[] {
  const out: Finding[] = [];
  for (const { region, devices, group } of regionsWithOwners(host)) {
    if (region.type !== 'direct') continue;
    if (devices.length === 0) {
      out.push({
        check: 'direct-region',
        verdict: 'warning',
        summary: `Firmware requires a 1:1 mapping of ${hexGrouped(region.start)}–${hexGrouped(region.last)} (${formatSize(sizeOf(region))}) for a device the sources do not name: that device cannot be assigned unless the kernel treats the region as relaxable (USB and graphics RMRRs)`,
        evidence: [fromProvenance(region.source)],
        action: 'Add sys/kernel/iommu_groups/*/reserved_regions to the sources to see which group it belongs to.',
      });
      continue;
    }
    const who = devices.join(', ');
    out.push({
      check: 'direct-region',
      verdict: 'problem',
      summary: `${who}${group !== undefined ? ` (group ${group})` : ''} cannot be assigned: firmware requires a 1:1 mapping of ${hexGrouped(region.start)}–${hexGrouped(region.last)} (${formatSize(sizeOf(region))}), and the kernel refuses to move the device into a VFIO or iommufd domain without it (-EINVAL)`,
      evidence: [fromProvenance(region.source)],
      action: 'Leave this device with the host, or ask the platform vendor for firmware without the RMRR / unity map (some BIOSes have a setting for it).',
    });
  }
  return out;
}

/**
 * ACS flags the kernel requires on every bridge above a device to isolate it (`REQ_ACS_FLAGS`
 * in drivers/iommu/iommu.c: SV, RR, CR, UF). `pci_acs_enabled` checks them on root and
 * downstream ports only: a (single-function) switch upstream port passes, a conventional PCI
 * bridge never does (its devices alias one requester id).
 */
function missingAcs(port: PciBridge, role: string): string[] {
  if (role === 'switch-upstream') return [];
  if (role === 'pci-bridge') return ['ACS (a conventional PCI bridge: its devices share one requester id)'];
  if (!port.acs) return ['ACS capability'];
  const c = port.acs.control;
  const missing: string[] = [];
  if (!c.sourceValidation) missing.push('SrcValid');
  if (!c.requestRedirect) missing.push('ReqRedir');
  if (!c.completionRedirect) missing.push('CmpltRedir');
  if (!c.upstreamForwarding) missing.push('UpstreamFwd');
  return missing;
}

/**
 * Groups with more than one device: `pci_device_group` merges a device with every device it
 * can reach without the IOMMU — functions of one multi-function device without ACS, devices
 * behind a bridge whose path to the root lacks `REQ_ACS_FLAGS` (`pci_acs_path_enabled`).
 */
function checkSharedGroups(host: HostFacts): Finding[] {
  const topology = new PciTopology(host);
  const out: Finding[] = [];
  for (const g of host.groups) {
    if (g.devices.length < 2) continue;
    const pci = g.devices.filter(isBdf);
    const slots = new Set(pci.map((d) => d.replace(/\.[0-7]$/, '')));
    const reasons: string[] = [];
    const ev: Evidence[] = [fromProvenance(g.source)];
    if (slots.size === 1 && pci.length === g.devices.length) {
      reasons.push(`they are functions of one multi-function device (${[...slots][0]}) that does not isolate its functions with ACS`);
    } else {
      const ports = new Map<PciBridge, string[]>();
      for (const d of pci) {
        for (const port of topology.pathToRoot(d)) {
          const missing = missingAcs(port, topology.role(port));
          if (missing.length > 0) ports.set(port, missing);
        }
      }
      for (const [port, missing] of ports) {
        reasons.push(`port ${port.id} (${topology.role(port)}) lacks ${missing.join(', ')}`);
        ev.push(fromProvenance(port.source));
      }
      const parent = pci.map((d) => parseBdf(d)).find((b, i, all) => all.some((o, j) => j !== i && o.bus === b.bus && o.device !== b.device));
      if (reasons.length === 0 && parent) reasons.push(`devices on bus ${parent.bus.toString(16).padStart(2, '0')} share it without ACS in the sources`);
    }
    out.push({
      check: 'shared-group',
      verdict: 'warning',
      summary: `IOMMU group ${g.id} holds ${g.devices.length} devices (${g.devices.join(', ')}): they can only be assigned together, to one guest. ${
        reasons.length > 0 ? `Why: ${reasons.join('; ')}` : 'Why is not in the sources (no ACS bits of the ports above them): add lspci -vvv'
      }`,
      evidence: ev,
      action: 'Assign the whole group, move the card to a slot whose root port has ACS, or enable ACS in the firmware; the pcie_acs_override patch only hides the risk.',
    });
  }
  return out;
}

/**
 * Address width per IOMMU unit. Intel: MGAW = cap bits 21:16 plus one (`cap_mgaw` in
 * include/linux/intel-iommu.h); a domain spans the smallest width of the units it is
 * attached through. Others: the width the host facts say, from their source.
 */
function checkDomainWidth(root: Root | undefined, host: HostFacts, log: Line[]): Finding[] {
  const widthVerdict = (bits: number): Verdict => (bits < 39 ? 'warning' : 'ok');
  const describe = (bits: number) => `${bits}-bit (IOVAs below ${formatSize(1n << BigInt(bits))})`;
  const limitAction = (bits: number) => `Guest RAM and windows must end below ${formatSize(1n << BigInt(bits))}: plan with iova solve on this host.`;
  const out: Finding[] = [];
  const caps: Array<{ unit: string; cap: Line; value: bigint }> = [];
  for (const unit of root?.list('sys/class/iommu') ?? []) {
    const cap = root?.lines(`sys/class/iommu/${unit}/intel-iommu/cap`)?.[0];
    const value = cap ? hexValue(cap.text.trim()) : undefined;
    if (cap && value !== undefined) caps.push({ unit, cap, value });
  }
  // `IOMMU 0: reg_base_addr fed90000 ver 1:0 cap c0000020e60262 ecap f0101a` (intel-iommu's alloc_iommu)
  if (caps.length === 0) {
    for (const cap of log) {
      const m = /\bIOMMU (\d+): reg_base_addr ([0-9a-f]+) ver \S+ cap ([0-9a-f]+)\b/i.exec(cap.text);
      if (m) caps.push({ unit: `dmar${m[1]} (at 0x${m[2]})`, cap, value: BigInt(`0x${m[3]}`) });
    }
  }
  for (const { unit, cap, value } of caps) {
    const bits = Number((value >> 16n) & 0x3fn) + 1;
    out.push({
      check: 'domain-width',
      verdict: widthVerdict(bits),
      summary: `IOMMU unit ${unit}: ${describe(bits)}`,
      evidence: [evidence(cap, `MGAW (capability bits 21:16) + 1 = ${bits}`)],
      ...(bits < 39 ? { action: limitAction(bits) } : {}),
    });
  }
  if (out.length > 0) return out;
  const geometry = host.iommu ?? (host.platform ? platformFacts(host.platform).geometry : undefined);
  if (!geometry) {
    return [{ check: 'domain-width', verdict: 'warning', summary: 'The IOMMU address width is not determined from these sources', evidence: [], action: 'Add a dmesg capture or run on the host.' }];
  }
  const bits = geometry.addressWidth;
  const top = geometry.apertures.reduce((m, a) => (a.last > m ? a.last : m), 0n);
  const assumed = geometry.source.profile !== undefined && geometry.source.file === undefined;
  return [
    {
      check: 'domain-width',
      verdict: assumed ? 'warning' : bits !== undefined ? widthVerdict(bits) : 'ok',
      summary: `Domain aperture ends at ${hexGrouped(top)}${bits !== undefined ? `: ${describe(bits)}` : ''}${assumed ? ' — assumed from the platform profile, not read from the host' : ''}`,
      evidence: [fromProvenance(geometry.source)],
      ...(assumed ? { action: 'Add the sysfs tree or dmesg of the host to read its real width.' } : bits !== undefined && bits < 39 ? { action: limitAction(bits) } : {}),
    },
  ];
}

/** MSI windows and the HyperTransport hole, as the host's reserved regions report them. */
function checkRegionWindows(host: HostFacts): Finding[] {
  const regions = regionsWithOwners(host).map((r) => r.region);
  const unique = (list: ReservedRegion[]) => {
    const seen = new Map<string, ReservedRegion[]>();
    for (const r of list) {
      const key = `${r.start}-${r.last}`;
      seen.set(key, [...(seen.get(key) ?? []), r]);
    }
    return [...seen.values()];
  };
  const out: Finding[] = [];
  const msi = unique(regions.filter((r) => r.type === 'msi' || r.type === 'sw-msi'));
  if (msi.length === 0) {
    out.push({
      check: 'msi-window',
      verdict: 'warning',
      summary: 'No MSI window among the reserved regions of the sources: where MSIs land is not determined',
      evidence: [],
      action: 'Add sys/kernel/iommu_groups/*/reserved_regions (or a grep of them) to the sources.',
    });
  }
  for (const same of msi) {
    const r = same[0];
    out.push({
      check: 'msi-window',
      verdict: 'ok',
      summary: `${r.type === 'sw-msi' ? 'Software MSI window' : 'MSI window'} ${hexGrouped(r.start)}–${hexGrouped(r.last)} (${formatSize(sizeOf(r))}): no DMA mapping may go there, so guest RAM and BARs must avoid it`,
      evidence: same.slice(0, 3).map((x) => fromProvenance(x.source)),
      action: same.length > 3 ? `(reported by ${same.length} groups; 3 shown)` : undefined,
    });
  }
  const ht = unique(regions.filter((r) => r.type === 'reserved' && overlaps(r, AMD_HT_HOLE)));
  for (const same of ht) {
    const r = same[0];
    out.push({
      check: 'ht-hole',
      verdict: 'ok',
      summary: `HyperTransport hole ${hexGrouped(r.start)}–${hexGrouped(r.last)} (${formatSize(sizeOf(r))}) is reserved: guests with more RAM than fits below it (about 1010 GiB with a 2 GiB 32-bit hole) must have their RAM split around it`,
      evidence: same.slice(0, 3).map((x) => fromProvenance(x.source)),
      action: 'Plan large guests with a split request (iova solve, "split") and give the guest the resulting E820 map (iova guest-map).',
    });
  }
  if (ht.length === 0 && host.platform?.profile === 'amd-vi') {
    out.push({
      check: 'ht-hole',
      verdict: 'warning',
      summary: `An AMD host whose reserved regions do not show the HyperTransport hole ${hexGrouped(AMD_HT_HOLE.start)}–${hexGrouped(AMD_HT_HOLE.last)}: DMA there fails although mappings are accepted`,
      evidence: [fromProvenance(host.platform.source)],
      action: 'Keep guest RAM and BARs out of it anyway (newer kernels report it as a reserved region).',
    });
  }
  return out.map((f) => (f.action === undefined ? (({ action: _, ...rest }) => rest)(f) : f));
}

/** `dma_entry_limit`: VFIO type1 refuses more mappings than this with -ENOSPC (`vfio_dma_do_map`). */
function checkDmaEntryLimit(root: Root | undefined): Finding {
  const rel = 'sys/module/vfio_iommu_type1/parameters/dma_entry_limit';
  if (!root) {
    return { check: 'dma-entry-limit', verdict: 'warning', summary: 'dma_entry_limit is not determined: no root directory among the sources', evidence: [], action: 'Run the doctor on the host itself or on a captured root.' };
  }
  const line = root.lines(rel)?.find((l) => l.text.trim() !== '');
  if (!line) {
    const iommufd = root.exists('dev/iommu');
    return {
      check: 'dma-entry-limit',
      verdict: iommufd ? 'ok' : 'warning',
      summary: iommufd
        ? `vfio_iommu_type1 is not loaded, so its dma_entry_limit does not apply; iommufd has no such limit`
        : `dma_entry_limit is not determined: vfio_iommu_type1 is not loaded (its default is ${DEFAULT_DMA_ENTRY_LIMIT} mappings per container)`,
      evidence: [absent(root.path(rel), 'absent')],
      ...(iommufd ? {} : { action: 'modprobe vfio_iommu_type1, or use iommufd.' }),
    };
  }
  const value = Number(line.text.trim());
  if (!Number.isSafeInteger(value)) {
    return { check: 'dma-entry-limit', verdict: 'warning', summary: `dma_entry_limit "${line.text.trim()}" is not a number`, evidence: [evidence(line)] };
  }
  const low = value < DEFAULT_DMA_ENTRY_LIMIT;
  return {
    check: 'dma-entry-limit',
    verdict: low ? 'warning' : 'ok',
    summary: `VFIO type1 accepts at most ${value} mappings per container${low ? ` (below the default ${DEFAULT_DMA_ENTRY_LIMIT}): userspace drivers that map many small buffers get -ENOSPC` : ''}`,
    evidence: [evidence(line)],
    ...(low ? { action: `Raise it: modprobe vfio_iommu_type1 dma_entry_limit=${DEFAULT_DMA_ENTRY_LIMIT} (or more).` } : {}),
  };
}

/** Huge pages for guest RAM that VFIO pins: fewer pins and larger IOMMU pages. */
function checkHugepages(root: Root | undefined): Finding {
  if (!root) {
    return { check: 'hugepages', verdict: 'warning', summary: 'Huge page reservations are not determined: no root directory among the sources', evidence: [], action: 'Run the doctor on the host itself or on a captured root.' };
  }
  const pools: Array<{ size: bigint; total: number; free: number; ev: Evidence[] }> = [];
  for (const dir of root.list('sys/kernel/mm/hugepages')) {
    const m = /^hugepages-(\d+)kB$/.exec(dir);
    if (!m) continue;
    const nr = root.lines(`sys/kernel/mm/hugepages/${dir}/nr_hugepages`)?.[0];
    const free = root.lines(`sys/kernel/mm/hugepages/${dir}/free_hugepages`)?.[0];
    if (!nr) continue;
    pools.push({ size: BigInt(m[1]) * 1024n, total: Number(nr.text.trim()) || 0, free: Number(free?.text.trim() ?? nr.text.trim()) || 0, ev: [nr, ...(free ? [free] : [])].map((l) => evidence(l)) });
  }
  if (pools.length === 0) {
    const meminfo = root.lines('proc/meminfo');
    const get = (key: string) => meminfo?.find((l) => l.text.startsWith(`${key}:`));
    const total = get('HugePages_Total');
    const free = get('HugePages_Free');
    const size = get('Hugepagesize');
    if (total && size) {
      const kib = /(\d+)\s*kB/.exec(size.text);
      pools.push({ size: BigInt(kib?.[1] ?? '0') * 1024n, total: Number(/(\d+)/.exec(total.text)?.[1] ?? 0), free: Number(/(\d+)/.exec(free?.text ?? total.text)?.[1] ?? 0), ev: [total, ...(free ? [free] : []), size].map((l) => evidence(l)) });
    }
  }
  if (pools.length === 0) {
    return { check: 'hugepages', verdict: 'warning', summary: 'Huge page reservations are not determined: neither sys/kernel/mm/hugepages nor /proc/meminfo is readable', evidence: [absent(root.path('proc/meminfo'), 'absent')] };
  }
  const freeBytes = pools.reduce((s, p) => s + p.size * BigInt(p.free), 0n);
  const describe = pools.map((p) => `${p.free} of ${p.total} × ${formatSize(p.size)} free`).join(', ');
  if (freeBytes === 0n) {
    return {
      check: 'hugepages',
      verdict: 'warning',
      summary: `No free huge pages (${describe}): guest RAM that VFIO pins will be backed by 4 KiB pages — slower to pin, and mapped with more, smaller IOMMU pages`,
      evidence: pools.flatMap((p) => p.ev),
      action: 'Reserve huge pages for guests: hugepagesz=1G hugepages=N on the kernel command line, or echo N > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages.',
    };
  }
  return { check: 'hugepages', verdict: 'ok', summary: `${formatSize(freeBytes)} of huge pages free for pinned guest RAM (${describe})`, evidence: pools.flatMap((p) => p.ev) };
}

/** `file:line` of a piece of evidence (`file` alone for line 0). */
export function describeEvidence(e: Evidence): string {
  return describePlace({ what: '', file: e.file, ...(e.line > 0 ? { line: e.line } : {}) }) ?? e.file;
}
