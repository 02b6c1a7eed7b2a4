import { describeProvenance } from '../../model/provenance.js';
import { toJson } from '../../model/serialise.js';
import { InputError } from '../../model/errors.js';
import { loadLayout } from '../../solver/layout.js';
import { type VerifyReport, verifyLayout } from '../../explain/verify.js';
import { type FleetHostResult, type FleetReport, type FleetShardReport, layoutDigest, verifyFleet } from '../../solver/fleet.js';
import { fleetFiles, fleetItems, fleetSourceKind, parseShard, type Shard } from '../../solver/fleet-source.js';
import type { Layout } from '../../explain/verify.js';
import { formatWarning, forHost, warningJson } from '../../model/warnings.js';
import { type Command, EXIT, finish, type Io, listOption, parseCommandArgs, STRICT_HELP, STRICT_OPTION } from '../command.js';
import { startElapsed } from '../elapsed.js';
import { loadHost } from '../inputs.js';
import { plural } from '../../render/text.js';

const help = `Usage: iova verify <layout.json | -> (--host HOST [--host HOST …] | --fleet FLEET [--shard I/N]) [--json]

Check a fixed layout offline (no solver) against each host: every placement inside an
aperture window, outside every hole that applies under the layout's policy (reserved regions,
peer-to-peer holes of the attached devices, DMA-API-only holes when opted in), aligned, within
its DMA mask and hint ranges, and clear of the others. Every violation is listed with where
it comes from. Run it before migrating a guest with a fixed layout to another host.

The layout may be a file written by \`iova solve -o\`, \`iova solve --json\` output, or a spec
whose requests are all fixed. HOST is a host file from \`iova import\` (or sources to import).

Options:
  --host HOST         a host to check against (repeat for several)
  --fleet FLEET       every host of FLEET, checked in parallel on all cores, with a progress bar
                      on a terminal; then a summary: hosts that accept, hosts that reject grouped
                      by reason, hosts that could not be read. FLEET is a directory (every
                      *.json in it), a .tar of host files (plain ustar), or an ndjson file with
                      one host per line (- reads it from standard input). Hosts with identical
                      facts (apart from names and provenance) are verified once.
  --shard I/N         check only shard I of N (0-based; a host's shard depends on its file name
                      alone) and print the shard's results as JSON, to combine with
                      \`iova fleet merge\`; exits 0 once they are written (the verdict is merge's)
  --workers N         worker threads for --fleet (default: the cores available)
  --devices A,B|all   attach these devices on every host instead of the layout's own list;
                      "all": every device of each host (for fleets whose PCI addresses differ)
  --json              print {"ok","hosts":[{"host","ok","violations":[…],"warnings":[…]}],
                      "warnings":[…]}; with --fleet also "total", "accepted", "rejected",
                      "unreadable", "warned" and "reasons"
${STRICT_HELP}
  -h, --help          this text

Warnings (facts of a host that were skipped or assumed, e.g. a reserved_regions line the
importer could not read) go to standard error, each naming its host; with --fleet the summary
counts the hosts that have any and shows a few.

Exit codes: 0 every host accepts, 1 some host rejects (or, with --fleet, cannot be read),
2 bad input, 4 internal error (a bug while checking a host: the message names its file), 5 every
host accepts but some verdict rests on warnings (--strict).`;

const command: Command = {
  name: 'verify',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('verify', argv, {
      host: { type: 'string', multiple: true },
      fleet: { type: 'string' },
      workers: { type: 'string' },
      shard: { type: 'string' },
      devices: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      ...STRICT_OPTION,
    });
    const devices = listOption(values.devices);
    if (positionals.length !== 1) throw new InputError('give exactly one layout file (see: iova verify --help)');
    const hostFiles = values.host ?? [];
    if (values.fleet !== undefined) {
      if (hostFiles.length > 0) throw new InputError('give either --host or --fleet, not both');
      const shard = values.shard === undefined ? undefined : parseShard(values.shard);
      return runFleet(withDevices(loadLayout(positionals[0]), devices), values.fleet, values.workers, values, shard, io);
    }
    if (values.shard !== undefined) throw new InputError('--shard needs --fleet');
    if (hostFiles.length === 0) throw new InputError('no host given: use --host host.json (repeatable) or --fleet DIR');
    const layout = withDevices(loadLayout(positionals[0]), devices);
    const hosts = [];
    for (const file of hostFiles) hosts.push(await loadHost([file]));
    const report = verifyLayout(layout, hosts);
    io.out(values.json ? toJson(verifyJson(report)) : verifyText(report));
    return finish(io, report.ok ? EXIT.ok : EXIT.rejected, report.warnings, values);
  },
};

export default command;

/** The layout with `--devices` applied: a list, `all` (every device of each host), or as it was. */
function withDevices(layout: Layout, devices: string[] | undefined): Layout {
  if (devices === undefined) return layout;
  return { ...layout, devices: devices.length === 1 && devices[0] === 'all' ? undefined : devices };
}

async function runFleet(layout: Layout, fleet: string, workers: string | undefined, options: { json?: boolean; strict?: boolean }, shard: Shard | undefined, io: Io): Promise<number> {
  const json = options.json === true;
  // A directory is listed (and refused when empty) before any worker starts.
  const hosts = fleetSourceKind(fleet) === 'dir' ? fleetFiles(fleet) : fleetItems(fleet);
  const count = workers === undefined ? undefined : Number(workers);
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) throw new InputError(`--workers must be a positive whole number, not "${workers}"`);
  const started = performance.now();
  const elapsed = startElapsed(io, 'checking');
  let report: FleetReport;
  try {
    report = await verifyFleet(layout, hosts, {
      workers: count,
      shard,
      onProgress: (done, total) => {
        if (total === undefined) {
          elapsed.update(`${plural(done, 'host')}`);
          return;
        }
        const width = 30;
        const filled = Math.round((done / total) * width);
        elapsed.update(`[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} hosts`);
      },
    });
  } finally {
    elapsed.stop();
  }
  if (shard !== undefined) {
    io.out(toJson({ ...fleetJson(report), shard, layout: layoutDigest(layout) }));
    return EXIT.ok;
  }
  if (report.total === 0) throw new InputError('no hosts in the fleet', { file: fleet });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  io.out(json ? toJson(fleetJson(report)) : fleetText(report, seconds));
  // The summary shows the warnings (a fleet may have thousands); only the exit code is left.
  const warnings = report.hosts.flatMap((h) => ('warnings' in h ? forHost(h.warnings, h.host) : []));
  return finish(io, report.ok ? EXIT.ok : EXIT.rejected, warnings, { json: true, strict: options.strict });
}

/** The fleet report with each host's warnings in their JSON form. */
export function fleetJson(report: FleetReport) {
  return { ...report, hosts: report.hosts.map((h) => ('warnings' in h ? { ...h, warnings: h.warnings.map(warningJson) } : h)) };
}

export function fleetText(report: FleetReport, seconds?: string): string {
  const lines = [
    `${plural(report.total, 'host file')}${seconds ? ` checked in ${seconds} s` : ''}: ${report.accepted} ${report.accepted === 1 ? 'accepts' : 'accept'} the layout, ${report.rejected} ${report.rejected === 1 ? 'rejects' : 'reject'} it${report.unreadable > 0 ? `, ${report.unreadable} could not be read` : ''}.`,
  ];
  if (report.reasons.length > 0) {
    lines.push('', 'Why hosts reject it (a host may have several reasons):');
    for (const r of report.reasons) {
      const more = r.hosts - r.examples.length;
      lines.push(`  ${String(r.hosts).padStart(6)} × ${r.reason}`);
      lines.push(`           e.g. ${r.examples.join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
    }
  }
  const warned = report.hosts.filter((h): h is Extract<FleetHostResult, { warnings: unknown }> => 'warnings' in h && h.warnings.length > 0);
  if (warned.length > 0) {
    lines.push('', `${warned.length} host${warned.length === 1 ? '' : 's'}' verdicts rest on warnings (facts skipped or assumed; --strict fails on them):`);
    for (const h of warned.slice(0, 5)) lines.push(`  ${formatWarning({ ...h.warnings[0], host: h.host })}${h.warnings.length > 1 ? ` (and ${h.warnings.length - 1} more)` : ''}`);
    if (warned.length > 5) lines.push(`  … and ${warned.length - 5} more hosts (see --json)`);
  }
  const unreadable = report.hosts.filter((h): h is Extract<FleetHostResult, { error: string }> => 'error' in h);
  if (unreadable.length > 0) {
    lines.push('', 'Unreadable host files:');
    for (const h of unreadable.slice(0, 10)) lines.push(`  ${h.error.startsWith(h.file) ? h.error : `${h.file}: ${h.error}`}`);
    if (unreadable.length > 10) lines.push(`  … and ${unreadable.length - 10} more (see --json)`);
  }
  return lines.join('\n');
}

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
      warnings: h.warnings.map(warningJson),
    })),
    warnings: report.warnings.map(warningJson),
  };
}

export function verifyText(report: VerifyReport): string {
  const lines: string[] = [];
  for (const h of report.hosts) {
    if (h.ok) {
      lines.push(`${h.host}: accepts the layout`);
      continue;
    }
    lines.push(`${h.host}: rejects the layout (${plural(h.violations.length, 'violation')})`);
    for (const v of h.violations) lines.push(`  - ${v.message}${v.enforced ? '' : '  [the kernel would not refuse this; the DMA would misbehave]'}`);
  }
  const accepted = report.hosts.filter((h) => h.ok).length;
  lines.push('', `${accepted} of ${plural(report.hosts.length, 'host')} ${accepted === 1 ? 'accepts' : 'accept'} the layout.`);
  return lines.join('\n');
}
