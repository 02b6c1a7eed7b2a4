import { describeProvenance } from '../../model/provenance.js';
import { toJson } from '../../model/serialise.js';
import { InputError } from '../../model/errors.js';
import { loadLayout } from '../../solver/layout.js';
import { type VerifyReport, verifyLayout } from '../../solver/verify.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { loadHost } from '../inputs.js';

const help = `Usage: iova verify <layout.json> --host HOST [--host HOST …] [--json]

Check a fixed layout offline (no solver) against each host: every placement inside an
aperture window, outside every hole that applies under the layout's policy (reserved regions,
peer-to-peer holes of the attached devices, DMA-API-only holes when opted in), aligned, within
its DMA mask and hint ranges, and clear of the others. Every violation is listed with where
it comes from. Run it before migrating a guest with a fixed layout to another host.

The layout may be a file written by \`iova solve -o\`, \`iova solve --json\` output, or a spec
whose requests are all fixed. HOST is a host file from \`iova import\` (or sources to import).

Options:
  --host HOST         a host to check against (repeat for several)
  --json              print {"ok","hosts":[{"host","ok","violations":[…]}]}
  -h, --help          this text

Exit codes: 0 every host accepts, 1 some host rejects, 2 bad input.`;

const command: Command = {
  name: 'verify',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('verify', argv, {
      host: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new InputError('give exactly one layout file (see: iova verify --help)');
    const hostFiles = values.host ?? [];
    if (hostFiles.length === 0) throw new InputError('no host given: use --host host.json (repeatable)');
    const layout = loadLayout(positionals[0]);
    const hosts = [];
    for (const file of hostFiles) hosts.push(await loadHost([file]));
    const report = verifyLayout(layout, hosts);
    io.out(values.json ? toJson(verifyJson(report)) : verifyText(report));
    return report.ok ? EXIT.ok : EXIT.rejected;
  },
};

export default command;

export function verifyJson(report: VerifyReport) {
  return {
    ok: report.ok,
    hosts: report.hosts.map((h) => ({
      host: h.host,
      ok: h.ok,
      violations: h.violations.map((v) => ({
        kind: v.kind,
        placement: v.placement,
        other: v.other,
        enforced: v.enforced,
        message: v.message,
        source: v.source ? describeProvenance(v.source) : undefined,
      })),
    })),
  };
}

export function verifyText(report: VerifyReport): string {
  const lines: string[] = [];
  for (const h of report.hosts) {
    if (h.ok) {
      lines.push(`${h.host}: accepts the layout`);
      continue;
    }
    lines.push(`${h.host}: rejects the layout (${h.violations.length} violation${h.violations.length === 1 ? '' : 's'})`);
    for (const v of h.violations) lines.push(`  - ${v.message}${v.enforced ? '' : '  [the kernel would not refuse this; the DMA would misbehave]'}`);
  }
  const accepted = report.hosts.filter((h) => h.ok).length;
  lines.push('', `${accepted} of ${report.hosts.length} host${report.hosts.length === 1 ? '' : 's'} accept the layout.`);
  return lines.join('\n');
}
