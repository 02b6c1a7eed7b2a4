/**
 * The `iova` command: a thin shell over the library. Each subcommand lives in
 * `commands/<name>.ts` and is loaded only when used, so `iova ranges` never starts Z3.
 */
import { InputError } from '../model/errors.js';
import { type Command, EXIT, type Io } from './command.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  import: { summary: 'read sysfs trees, reserved_regions, lspci, /proc/iomem and dmesg into a host file', load: () => import('./commands/import.js') },
  ranges: { summary: 'usable IOVA ranges of a host under a policy, with every hole and its source', load: () => import('./commands/ranges.js') },
  solve: { summary: 'place requests in a host IOVA space (Z3), or explain the conflict and offer repairs', load: () => import('./commands/solve.js') },
  verify: { summary: 'check a fixed layout against hosts offline, listing every violation with its source', load: () => import('./commands/verify.js') },
  explain: { summary: 'why the kernel would refuse a map or an attach (iommufd, VFIO type1), and what would work', load: () => import('./commands/explain.js') },
  replay: { summary: "run an IOVA-domain trace through the DMA-API allocator (the kernel's iova.c, exactly)", load: () => import('./commands/replay.js') },
  schema: { summary: 'print the JSON Schema of a host, spec, layout or IOAS-state file', load: () => import('./commands/schema.js') },
  'check-attach': { summary: 'can a device be hot-plugged into a fixed layout? which region collides, which errno', load: () => import('./commands/check-attach.js') },
  fleet: { summary: 'fleet merge: combine the results of sharded `verify --fleet --shard` runs into one verdict', load: () => import('./commands/fleet.js') },
  render: { summary: 'draw a host, spec or layout as an SVG or HTML address map', load: () => import('./commands/render.js') },
};

const USAGE = `iova — place I/O virtual addresses, explain why they do not fit, allocate them like the DMA API

Usage: iova <command> [options]   (iova <command> --help for details)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}

Exit codes: 0 ok / sat / accepted, 1 unsat / rejected / verification failed, 2 bad input,
3 unknown (solver timeout), 4 internal error (a bug: please report it).`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  if (name === '--version') {
    io.out('0.1.0');
    return EXIT.ok;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    io.err(`iova: unknown command "${name}" (see: iova --help)`);
    return EXIT.badInput;
  }
  const command = (await entry.load()).default;
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
