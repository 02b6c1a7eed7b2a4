/**
 * `iova doctor` on root trees built here, on the EPYC captures of examples/hosts, and on a
 * trimmed real kernel log (test/fixtures/doctor). Expectations come from the inputs: the
 * VT-d capability field (MGAW, bits 21:16, plus one), the kernel command line, the ACS bits lspci
 * prints, and the line each fact is on.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { diagnose, type Finding } from '../../src/doctor/index.js';
import { iova } from '../cli/run.js';

const repo = resolve(import.meta.dirname, '../..');
const ivyLog = join(repo, 'test/fixtures/doctor/dmesg-intel-ivybridge-z77.txt');
const epyc = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => join(repo, 'examples/hosts/epyc', f));

/** A root directory with the given files (content) and empty directories (null). */
function tree(files: Record<string, string | null>): string {
  const root = mkdtempSync(join(tmpdir(), 'iova-doctor-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}

/** This build machine, reduced: no IOMMU units, no groups, no /dev/iommu or /dev/vfio. */
const NO_IOMMU = {
  'proc/cmdline': 'console=ttyS0 quiet reboot=k panic=1\n',
  'proc/meminfo': 'MemTotal:        8000000 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n',
  'sys/class/iommu': null,
  'sys/kernel/iommu_groups': null,
  'sys/bus/pci/devices': null,
};

/** An Intel host: two DMAR units (capability registers from the Z77 log), groups, VFIO, iommufd. */
function intelHost(extra: Record<string, string | null> = {}): Record<string, string | null> {
  return {
    'proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt\n',
    'sys/class/iommu/dmar0/intel-iommu/cap': 'c0000020e60262\n',
    'sys/class/iommu/dmar1/intel-iommu/cap': 'c9008020660262\n',
    'sys/kernel/iommu_groups/1/reserved_regions': '0x00000000fee00000 0x00000000feefffff msi\n',
    'sys/kernel/iommu_groups/1/devices/0000:00:1f.0': null,
    'sys/kernel/iommu_groups/1/devices/0000:00:1f.3': null,
    'sys/kernel/iommu_groups/2/reserved_regions': '0x00000000fee00000 0x00000000feefffff msi\n',
    'sys/kernel/iommu_groups/2/devices/0000:01:00.0': null,
    'sys/bus/pci/devices': null,
    'dev/iommu': '',
    'dev/vfio/vfio': '',
    'sys/module/vfio_iommu_type1/parameters/dma_entry_limit': '65535\n',
    'sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages': '16\n',
    'sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages': '8\n',
    'sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '0\n',
    'sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages': '0\n',
    ...extra,
  };
}

const find = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);
const one = (findings: Finding[], check: string) => {
  const list = find(findings, check);
  expect(list, check).toHaveLength(1);
  return list[0];
};
/** 1-based number of the first line of `file` that contains `text`. */
const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

describe('iova doctor on a machine without an IOMMU (like this build machine)', () => {
  it('says plainly that there is no IOMMU, and exits 1', async () => {
    const root = tree(NO_IOMMU);
    const r = await iova('doctor', root);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/^PROBLEM +iommu: No IOMMU is active on this host/m);
    expect(r.out).toContain(`evidence: ${join(root, 'sys/class/iommu')}  no IOMMU units registered`);
    expect(r.out).toMatch(/do: Enable VT-d \(Intel\) or AMD-Vi/);
    // Nothing about groups, widths or windows is claimed for a space that does not exist.
    const report = diagnose({ root });
    for (const check of ['interrupt-remapping', 'direct-region', 'shared-group', 'domain-width', 'msi-window', 'ht-hole']) expect(find(report.findings, check)).toEqual([]);
    expect(one(report.findings, 'vfio').verdict).toBe('problem');
    expect(one(report.findings, 'iommufd').verdict).toBe('problem');
    // /proc/meminfo: HugePages_Free 0 → a warning naming the lines it read.
    const huge = one(report.findings, 'hugepages');
    expect(huge.verdict).toBe('warning');
    expect(huge.evidence.map((e) => e.line)).toEqual([2, 3, 4]);
  });

  it('--json gives the verdict counts and each finding with its evidence', async () => {
    const r = await iova('doctor', tree(NO_IOMMU), '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['host', 'root', 'summary', 'findings']);
    expect(json.summary.problem).toBe(json.findings.filter((f: Finding) => f.verdict === 'problem').length);
    expect(json.findings[0]).toMatchObject({ check: 'iommu', verdict: 'problem' });
  });
});

describe('iova doctor on an Intel host tree', () => {
  it('reads passthrough from the command line, widths per unit from the capability registers, and the rest', () => {
    const root = tree(intelHost());
    const report = diagnose({ root, files: [ivyLog] });
    const iommu = one(report.findings, 'iommu');
    expect(iommu.verdict).toBe('ok');
    expect(iommu.summary).toMatch(/2 units.*passthrough/);
    expect(iommu.evidence[0]).toMatchObject({ file: join(root, 'proc/cmdline'), line: 1 });

    // Interrupt remapping from the log line that says so.
    const ir = one(report.findings, 'interrupt-remapping');
    expect(ir.verdict).toBe('ok');
    expect(ir.evidence).toEqual([expect.objectContaining({ file: ivyLog, line: lineOf(ivyLog, 'Enabled IRQ remapping') })]);

    // MGAW field 0x26 in both registers (0xc0000020e60262, 0xc9008020660262) → 39 bits.
    const widths = find(report.findings, 'domain-width');
    expect(widths.map((w) => w.summary)).toEqual(['IOMMU unit dmar0: 39-bit (IOVAs below 512 GiB)', 'IOMMU unit dmar1: 39-bit (IOVAs below 512 GiB)']);
    expect(widths.every((w) => w.verdict === 'ok')).toBe(true);

    // Group 1 = two functions of 0000:00:1f.
    const shared = one(report.findings, 'shared-group');
    expect(shared.verdict).toBe('warning');
    expect(shared.summary).toMatch(/group 1 holds 2 devices .*functions of one multi-function device \(0000:00:1f\)/);

    // The log's two RMRRs name no device: warnings, not "every device is unassignable".
    const direct = find(report.findings, 'direct-region');
    expect(direct.map((d) => d.verdict)).toEqual(['warning', 'warning']);
    expect(direct[0].evidence[0]).toMatchObject({ file: ivyLog, line: lineOf(ivyLog, 'RMRR base: 0x000000d9fa8000') });

    expect(one(report.findings, 'msi-window').summary).toMatch(/^MSI window 0xfee0_0000–0xfeef_ffff \(1 MiB\)/);
    expect(one(report.findings, 'iommufd').verdict).toBe('ok');
    expect(one(report.findings, 'vfio').verdict).toBe('ok');
    expect(one(report.findings, 'dma-entry-limit')).toMatchObject({ verdict: 'ok', summary: 'VFIO type1 accepts at most 65535 mappings per container' });
    // 8 free 1 GiB pages, none of 2 MiB.
    expect(one(report.findings, 'hugepages')).toMatchObject({ verdict: 'ok', summary: expect.stringMatching(/^8 GiB of huge pages free/) });
    expect(report.findings.filter((f) => f.verdict === 'problem')).toEqual([]);
  });

  it('exits 0 with warnings, and 5 with --strict (1 stays for problems)', async () => {
    const root = tree(intelHost({ 'sys/module/vfio_iommu_type1/parameters/dma_entry_limit': '4096\n' }));
    const plain = await iova('doctor', root, ivyLog);
    expect(plain.code, plain.out).toBe(0);
    expect(plain.out).toMatch(/WARNING +dma-entry-limit: VFIO type1 accepts at most 4096 mappings per container \(below the default 65535\)/);
    expect((await iova('doctor', root, ivyLog, '--strict')).code).toBe(5);
  });

  it('names a device with a non-relaxable direct region as a problem', async () => {
    const root = tree(
      intelHost({
        'sys/kernel/iommu_groups/3/reserved_regions': '0x00000000db800000 0x00000000df9fffff direct\n0x00000000fee00000 0x00000000feefffff msi\n',
        'sys/kernel/iommu_groups/3/devices/0000:00:14.0': null,
      }),
    );
    const direct = one(diagnose({ root }).findings, 'direct-region');
    expect(direct.verdict).toBe('problem');
    expect(direct.summary).toMatch(/^0000:00:14\.0 \(group 3\) cannot be assigned: firmware requires a 1:1 mapping of 0xdb80_0000–0xdf9f_ffff \(66 MiB\)/);
    expect(direct.evidence[0]).toMatchObject({ file: join(root, 'sys/kernel/iommu_groups/3/reserved_regions'), line: 1 });
    expect((await iova('doctor', root)).code).toBe(1);
  });

  it('reports an IOMMU turned off on the command line, and interrupt remapping turned off', () => {
    const off = diagnose({ root: tree({ ...NO_IOMMU, 'proc/cmdline': 'root=/dev/sda1 intel_iommu=off quiet\n' }) });
    const iommu = one(off.findings, 'iommu');
    expect(iommu.verdict).toBe('problem');
    expect(iommu.summary).toMatch(/turned off on the kernel command line \(intel_iommu=off\)/);
    expect(iommu.action).toMatch(/Remove intel_iommu=off/);

    const ir = one(diagnose({ root: tree(intelHost({ 'proc/cmdline': 'root=/dev/sda1 intremap=off\n' })) }).findings, 'interrupt-remapping');
    expect(ir.verdict).toBe('problem');
    expect(ir.evidence[0].text).toBe('root=/dev/sda1 intremap=off');
  });

  it('does not read parameters after "--" (they are for init)', () => {
    const report = diagnose({ root: tree({ ...NO_IOMMU, 'proc/cmdline': 'quiet -- intel_iommu=off\n' }) });
    expect(one(report.findings, 'iommu').summary).toMatch(/^No IOMMU is active/);
  });
});

describe('iova doctor on captures', () => {
  it('finds the RMRR device, the group that lacks ACS and where, the windows, and says what it cannot see', () => {
    const report = diagnose({ files: epyc });
    const direct = one(report.findings, 'direct-region');
    expect(direct.verdict).toBe('problem');
    expect(direct.summary).toMatch(/^0000:05:00\.3 \(group 5\) cannot be assigned/);
    expect(direct.evidence[0]).toMatchObject({ file: epyc[0], line: 1 });

    // lspci: ACSCtl on both PLX downstream ports has ReqRedir- (lines 24 and 33); the upstream
    // port 41:00.0 needs none; root port 40:01.1 has them all on.
    const shared = one(report.findings, 'shared-group');
    expect(shared.summary).toMatch(/group 30 holds 2 devices \(0000:43:00\.0, 0000:44:00\.0\)/);
    expect(shared.summary).toMatch(/port 0000:42:08\.0 \(switch-downstream\) lacks SrcValid, ReqRedir, CmpltRedir, UpstreamFwd/);
    expect(shared.summary).toMatch(/port 0000:42:10\.0/);
    expect(shared.summary).not.toMatch(/41:00\.0|40:01\.1/);

    const ht = one(report.findings, 'ht-hole');
    expect(ht.summary).toMatch(/^HyperTransport hole 0xfd_0000_0000–0xff_ffff_ffff \(12 GiB\)/);
    expect(ht.evidence.map((e) => e.line)).toEqual([3, 5]);

    // No root: the file-based checks are warnings that say what is missing, never "ok".
    for (const check of ['iommufd', 'dma-entry-limit', 'hugepages']) {
      const f = one(report.findings, check);
      expect(f.verdict).toBe('warning');
      expect(f.summary).toMatch(/not determined/);
    }
  });

  it('reads a host file, and refuses mixing it with raw sources (exit 2)', async () => {
    const r = await iova('doctor', join(repo, 'examples/hosts/epyc.json'), '--json');
    expect([0, 1]).toContain(r.code);
    expect(JSON.parse(r.out).findings.some((f: Finding) => f.check === 'ht-hole')).toBe(true);
    const mixed = await iova('doctor', join(repo, 'examples/hosts/epyc.json'), epyc[0]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/epyc\.json: a host file is already imported/);
  });

  it('escapes control characters read from the host', async () => {
    const root = tree({ ...NO_IOMMU, 'proc/cmdline': 'intel_iommu=off \u001b[31mred\n' });
    const r = await iova('doctor', root);
    expect(r.out).not.toContain('\u001b');
    expect(r.out).toContain('\\x1b[31mred');
  });
});

describe('files that are not files', () => {
  it('refuses a FIFO in a captured tree instead of waiting on it for ever', () => {
    const root = tree(NO_IOMMU);
    mkdirSync(join(root, 'proc'), { recursive: true });
    rmSync(join(root, 'proc/cmdline'), { force: true });
    execFileSync('mkfifo', [join(root, 'proc/cmdline')]);
    expect(() => diagnose({ root })).toThrow(/proc\/cmdline: cannot read: this is a FIFO/);
  });
});
