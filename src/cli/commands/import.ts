import { InputError } from '../../model/errors.js';
import { hostToJson, toJson } from '../../model/serialise.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { startElapsed } from '../elapsed.js';
import { isStdout, writeOutput } from '../inputs.js';
import { plural } from '../../render/text.js';

const help = `Usage: iova import <sources… | -> [-o host.json] [--name NAME] [--json]

Read what a host says about its IOMMU and PCI topology and write host facts that every other
command accepts. Each source is detected by content ("-" reads one from standard input):
  a directory          a Linux root or a copy of its sysfs (sys/kernel/iommu_groups,
                       sys/bus/pci/devices, sys/class/iommu); "/" reads this machine
  reserved_regions     one file, a "grep -h" union, or "grep ." output with paths
  lspci -vvv           BARs, bridge windows, ACS capability/control, IOMMU groups
  /proc/iomem          host-bridge and nested bridge windows, device resources
  dmesg                DMAR width and RMRRs, AMD-Vi, root-bus and bridge windows, groups

Lines that cannot be read are reported (file:line) and skipped; the rest is kept. What the
facts had to assume (no IOMMU facts, the address width, an RMRR's device scope, capabilities
hidden from a non-root reader) is reported too and recorded in the host file's "warnings".
A file that is not any of these formats is refused (exit 2).

Options:
  -o, --output FILE    write the host file here (default, or "-": standard output)
  --name NAME          the host's name in messages (default: from the first source)
  --json               with -o: print {"output","sources","devices","groups","bridges",
                       "warnings"} on standard output instead of the summary on standard error
  -h, --help           this text`;

const command: Command = {
  name: 'import',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('import', argv, {
      output: { type: 'string', short: 'o' },
      name: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length === 0) throw new InputError('no sources given (see: iova import --help)');
    if (values.json && (!values.output || isStdout(values.output))) throw new InputError('--json prints a summary of the import: give -o FILE for the host file (without -o the host file itself is the output)');
    const { importSources } = await import('../../model/import/index.js');
    const elapsed = startElapsed(io, 'importing');
    let host;
    try {
      host = importSources(positionals, { name: values.name, onSource: (done, total) => elapsed.update(`${done}/${total} sources`) });
    } finally {
      elapsed.stop();
    }
    const json = hostToJson(host);
    if (values.output) {
      writeOutput(values.output, json, io);
    } else {
      io.out(json.trimEnd());
    }
    if (values.json) {
      io.out(
        toJson({
          output: values.output,
          sources: host.sources,
          devices: host.devices.length,
          groups: host.groups.length,
          bridges: host.pci.bridges.length,
          warnings: host.warnings.map((w) => ({ file: w.file, line: w.line, message: w.message })),
        }),
      );
      return EXIT.ok;
    }
    const summary = host.sources.map((s) => `${s.file} (${s.kind})`).join(', ');
    io.err(`imported ${summary}: ${plural(host.devices.length, 'device')}, ${plural(host.groups.length, 'IOMMU group')}, ${plural(host.pci.bridges.length, 'bridge')}`);
    // Conflict messages say "conflict:" themselves.
    const label = (kind?: string) => (kind === 'assumption' ? 'assumed: ' : kind === 'conflict' ? '' : 'skipped: ');
    for (const w of host.warnings) io.err(`${w.file}:${w.line}: ${label(w.kind)}${w.message}`);
    return EXIT.ok;
  },
};

export default command;
