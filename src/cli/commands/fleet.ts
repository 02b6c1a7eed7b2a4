import { readJsonFile } from '../../model/load.js';
import { toJson } from '../../model/serialise.js';
import { InputError } from '../../model/errors.js';
import { mergeFleetReports } from '../../solver/fleet.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { fleetText } from './verify.js';

const help = `Usage: iova fleet merge <shard.json>… [--json]

Combine the results of \`iova verify <layout> --fleet FLEET --shard I/N\` runs (one file per
shard, all N of them, for the same layout) into the summary and exit code that one run over the
whole fleet gives: hosts that accept, hosts that reject grouped by reason, hosts that could not
be read. Shards of another layout, another N, a shard given twice or a missing shard are refused.

Options:
  --json              print the merged report as JSON (as \`verify --fleet --json\` does)
  -h, --help          this text

Exit codes: 0 every host accepts, 1 some host rejects or could not be read, 2 bad input.`;

const command: Command = {
  name: 'fleet',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('fleet', argv, { json: { type: 'boolean' } });
    const [action, ...files] = positionals;
    if (action !== 'merge') throw new InputError(action === undefined ? 'give an action: iova fleet merge <shard.json>…' : `unknown action "${action}" (only merge)`);
    if (files.length === 0) throw new InputError('no shard results given: iova fleet merge <shard.json>…');
    const report = mergeFleetReports(files.map((file) => ({ file, data: readJsonFile(file) })));
    io.out(values.json ? toJson(report) : fleetText(report));
    return report.ok ? EXIT.ok : EXIT.rejected;
  },
};

export default command;
