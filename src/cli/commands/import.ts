import { InputError } from '../../model/errors.js';
import { hostToJson } from '../../model/serialise.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { writeOutput } from '../inputs.js';

const help = `Usage: iova import <sources…> [-o host.json] [--name NAME]

Read what a host says about its IOMMU and PCI topology and write host facts that every other
command accepts. Each source is detected by content:
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
  -o, --output FILE    write the host file here (default: standard output)
  --name NAME          the host's name in messages (default: from the first source)
  -h, --help           this text`;

const command: Command = {
  name: 'import',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('import', argv, {
      output: { type: 'string', short: 'o' },
      name: { type: 'string' },
    });
    if (positionals.length === 0) throw new InputError('no sources given (see: iova import --help)');
    const { importSources } = await import('../../model/import/index.js');
    const host = importSources(positionals, { name: values.name });
    const json = hostToJson(host);
    if (values.output) {
      writeOutput(values.output, json);
    } else {
      io.out(json.trimEnd());
    }
    const summary = host.sources.map((s) => `${s.file} (${s.kind})`).join(', ');
    io.err(`imported ${summary}: ${host.devices.length} devices, ${host.groups.length} IOMMU groups, ${host.pci.bridges.length} bridges`);
    // Conflict messages say "conflict:" themselves.
    const label = (kind?: string) => (kind === 'assumption' ? 'assumed: ' : kind === 'conflict' ? '' : 'skipped: ');
    for (const w of host.warnings) io.err(`${w.file}:${w.line}: ${label(w.kind)}${w.message}`);
    return EXIT.ok;
  },
};

export default command;
