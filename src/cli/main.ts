/**
 * The `iova` command: a thin shell over the library. Each subcommand lives in
 * `commands/<name>.ts` and is loaded only when used, so `iova ranges` never starts Z3.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../model/errors.js';
import { escapeTerminal } from '../model/escape.js';
import { didYouMean } from '../model/suggest.js';
import { type Command, EXIT, type Io } from './command.js';

export const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  import: { summary: 'read sysfs trees, reserved_regions, lspci, /proc/iomem and dmesg into a host file', load: () => import('./commands/import.js') },
  ranges: { summary: 'usable IOVA ranges of a host under a policy, with every hole and its source', load: () => import('./commands/ranges.js') },
  solve: { summary: 'place requests in a host IOVA space (Z3), or explain the conflict and offer repairs', load: () => import('./commands/solve.js') },
  verify: { summary: 'check a fixed layout against hosts offline, listing every violation with its source', load: () => import('./commands/verify.js') },
  fleet: { summary: 'fleet merge: combine the results of sharded `verify --fleet --shard` runs into one verdict', load: () => import('./commands/fleet.js') },
  explain: { summary: 'why the kernel would refuse a map or an attach (iommufd, VFIO type1), and what would work', load: () => import('./commands/explain.js') },
  replay: { summary: "run an IOVA-domain trace through the DMA-API allocator (the kernel's iova.c, exactly)", load: () => import('./commands/replay.js') },
  schema: { summary: 'print the JSON Schema of a host, spec, layout or IOAS-state file', load: () => import('./commands/schema.js') },
  'check-attach': { summary: 'can a device be hot-plugged into a fixed layout? which region collides, which errno', load: () => import('./commands/check-attach.js') },
  render: { summary: 'draw a host, spec or layout as an SVG, HTML or plain-text address map', load: () => import('./commands/render.js') },
  groups: { summary: 'the PCI tree: IOMMU groups, ACS redirect per port, who reaches whom peer-to-peer', load: () => import('./commands/groups.js') },
  completion: { summary: 'print a bash, zsh or fish completion script (generated from this help)', load: () => import('./commands/completion.js') },
  doctor: { summary: 'is this host fit for device assignment? IOMMU, interrupt remapping, VFIO/iommufd, RMRRs, ACS, hugepages', load: () => import('./commands/doctor.js') },
  'guest-map': { summary: "the guest's E820 map and ACPI reserved ranges for a layout, and a check of a booted guest against it", load: () => import('./commands/guest-map.js') },
};

/** Other names a command answers to. */
const ALIASES: Record<string, string> = { topology: 'groups' };

const USAGE = `iova — place I/O virtual addresses, explain why they do not fit, allocate them like the DMA API

Usage: iova <command> [options]   (iova help <command> or iova <command> --help for details)
       iova -V | --version

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}

Exit codes: 0 ok / sat / accepted, 1 unsat / rejected / verification failed, 2 bad input,
3 unknown (solver timeout), 4 internal error (a bug: please report it), 5 (only with --strict)
the answer would be 0 but rests on warnings: facts skipped or assumed.

Conventions: "-" reads standard input wherever a file is expected (a spec read from it finds
its host relative to the working directory); --json on every command that answers; usage
errors go to standard error with exit 2; work longer than a second shows the elapsed time on
standard error when it is a terminal (never in pipes); tables fit the terminal (100 columns
when output is not a terminal; --wide for one line per row).`;

/** The package version, read from package.json (one directory above src/ and dist/). */
export function version(): string {
  const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return json.version;
}

/** A command's module by name or alias; undefined when unknown. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  const key = Object.hasOwn(ALIASES, name) ? ALIASES[name] : name;
  return Object.hasOwn(COMMANDS, key) ? (await COMMANDS[key].load()).default : undefined;
}

function unknownCommand(name: string, io: Io): number {
  io.err(`iova: unknown command "${name}"${didYouMean(name, [...Object.keys(COMMANDS), ...Object.keys(ALIASES), 'help'])} (see: iova --help)`);
  return EXIT.badInput;
}

export async function main(argv: string[], given: Io): Promise<number> {
  // Everything printed passes here: control characters from input never reach a terminal.
  const io: Io = {
    ...given,
    out: (text) => given.out(escapeTerminal(text)),
    err: (text) => given.err(escapeTerminal(text)),
    progress: given.progress && ((line) => given.progress?.(escapeTerminal(line))),
  };
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error: the usage goes where errors go.
    io.err(USAGE);
    return EXIT.badInput;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.out(version());
    return EXIT.ok;
  }
  if (name === 'help') {
    const command = await loadCommand(rest[0]);
    if (!command) return unknownCommand(rest[0], io);
    io.out(command.help);
    return EXIT.ok;
  }
  const command = await loadCommand(name);
  if (!command) return unknownCommand(name, io);
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(command.help);
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof InputError) {
      io.err(`iova ${name}: ${error.describe()}`);
      return EXIT.badInput;
    }
    io.err(`iova ${name}: internal error: ${(error as Error).message ?? String(error)}`);
    if (process.env.IOVA_DEBUG) io.err((error as Error).stack ?? '');
    return EXIT.internal;
  }
}
