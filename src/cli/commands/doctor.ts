import { escapeControls } from '../../model/escape.js';
import { countVerdicts, describeEvidence, diagnose, type DoctorReport, type Finding } from '../../doctor/index.js';
import { InputError } from '../../model/errors.js';
import { toJson } from '../../model/serialise.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { isDirectory } from '../inputs.js';

const help = `Usage: iova doctor [ROOT] [captures… | host.json] [options]

Is this host fit for device assignment? Checks, each with a verdict (ok / warning / problem),
the evidence it rests on (file:line) and what to do:
  iommu                 on, off (kernel command line) or passthrough (iommu=pt)
  interrupt-remapping   from the kernel log (VFIO and iommufd refuse without it)
  iommufd, vfio         /dev/iommu and /dev/vfio/vfio
  direct-region         devices that cannot be assigned (non-relaxable RMRR / unity map)
  shared-group          groups with more than one device, and which port lacks ACS
  domain-width          address width per IOMMU unit
  msi-window, ht-hole   the MSI window and the AMD HyperTransport hole
  dma-entry-limit       /sys/module/vfio_iommu_type1/parameters/dma_entry_limit
  hugepages             free huge pages for pinned guest RAM

ROOT is a directory laid out like / (default: / itself, this machine); captures are text
files any importer reads (dmesg, lspci -vvv, reserved_regions, /proc/iomem); a host file from
\`iova import\` may be given instead. What the sources do not show is a warning that says so.

Options:
  --name NAME   the host's name in the report
  --json        print {"host","root","summary","findings":[{check,verdict,summary,evidence,action}]}
  --strict      exit 5 instead of 0 when there are warnings (as every command's --strict)
  -h, --help    this text

Exit codes: 0 no problem (warnings allowed), 1 a problem, 2 bad input, 4 internal error,
5 (--strict only) no problem but warnings.`;

const command: Command = {
  name: 'doctor',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('doctor', argv, {
      name: { type: 'string' },
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
    });
    const dirs = positionals.filter(isDirectory);
    if (dirs.length > 1) throw new InputError('give one root directory to the doctor', { file: dirs[1] });
    const files = positionals.filter((p) => !isDirectory(p));
    const root = dirs[0] ?? (files.length === 0 ? '/' : undefined);
    const report = diagnose({ ...(root !== undefined ? { root } : {}), files, ...(values.name !== undefined ? { name: values.name } : {}) });
    io.out(values.json ? toJson(doctorJson(report)) : doctorText(report));
    const counts = countVerdicts(report);
    return counts.problem > 0 ? EXIT.rejected : values.strict && counts.warning > 0 ? EXIT.warnings : EXIT.ok;
  },
};

export default command;

/** The `--json` form. */
export function doctorJson(report: DoctorReport) {
  return { host: report.host, ...(report.root !== undefined ? { root: report.root } : {}), summary: countVerdicts(report), findings: report.findings };
}

const LABEL = { ok: 'ok', warning: 'WARNING', problem: 'PROBLEM' } as const;

/** The human form: one block per finding, problems first. */
export function doctorText(report: DoctorReport): string {
  const counts = countVerdicts(report);
  const order = { problem: 0, warning: 1, ok: 2 } as const;
  const findings = [...report.findings].sort((a, b) => order[a.verdict] - order[b.verdict]);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `Host ${escapeControls(report.host)}${report.root !== undefined ? ` (root ${escapeControls(report.root)})` : ''}: ${plural(counts.problem, 'problem')}, ${plural(counts.warning, 'warning')}, ${counts.ok} ok`,
  ];
  for (const f of findings) lines.push('', ...findingText(f));
  return lines.join('\n');
}

function findingText(f: Finding): string[] {
  const out = [`${LABEL[f.verdict].padEnd(8)} ${f.check}: ${escapeControls(f.summary)}`];
  for (const e of f.evidence) {
    const detail = [e.text ? `"${e.text}"` : '', e.note ?? ''].filter(Boolean).join(' — ');
    out.push(`         evidence: ${escapeControls(describeEvidence(e))}${detail ? `  ${escapeControls(detail)}` : ''}`);
  }
  if (f.action) out.push(`         do: ${escapeControls(f.action)}`);
  return out;
}
