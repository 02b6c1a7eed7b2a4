import { readJsonFile } from '../../model/load.js';
import { toJson } from '../../model/serialise.js';
import { InputError } from '../../model/errors.js';
import { mergeFleetReports } from '../../solver/fleet.js';
import { type Command, EXIT, finish, parseCommandArgs, STRICT_HELP, STRICT_OPTION } from '../command.js';
import { forHost } from '../../model/warnings.js';
import { fleetJson, fleetText } from './verify.js';

const help = `Usage: iova fleet merge <shard.json>… [--json]

Combine the results of \`iova verify <layout> --fleet FLEET --shard I/N\` runs (one file per
shard, all N of them, for the same layout) into the summary and exit code that one run over the
whole fleet gives: hosts that accept, hosts that reject grouped by reason, hosts that could not
be read. Shards of another layout, another N, a shard given twice or a missing shard are refused.

Options:
  --json              print the merged report as JSON (as \`verify --fleet --json\` does)
${STRICT_HELP}
  -h, --help          this text

Exit codes: 0 every host accepts, 1 some host rejects or could not be read, 2 bad input, 5 with
--strict when every host accepts but some verdicts rest on warnings (as one run would give).`;

const command: Command = {
  name: 'fleet',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('fleet', argv, { json: { type: 'boolean' }, ...STRICT_OPTION });
    const [action, ...files] = positionals;
    if (action !== 'merge') throw new InputError(action === undefined ? 'give an action: iova fleet merge <shard.json>…' : `unknown action "${action}" (only merge)`);
    if (files.length === 0) throw new InputError('no shard results given: iova fleet merge <shard.json>…');
    const report = mergeFleetReports(files.map((file) => ({ file, data: readJsonFile(file) })));
    io.out(values.json ? toJson(fleetJson(report)) : fleetText(report));
    // As verify --fleet: the summary counts the warnings; only the exit code is left to give.
    const warnings = report.hosts.flatMap((h) => ('warnings' in h ? forHost(h.warnings, h.host) : []));
    return finish(io, report.ok ? EXIT.ok : EXIT.rejected, warnings, { json: true, strict: values.strict });
  },
};

export default command;
