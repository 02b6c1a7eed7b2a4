import { replayTrace } from '../../allocators/dma-iova/replay.js';
import { InputError } from '../../model/errors.js';
import { readInputText } from '../../model/load.js';
import { didYouMean } from '../../model/suggest.js';
import { toJson } from '../../model/serialise.js';
import { inputName, readStdin, STDIN } from '../../model/stdin.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';

const help = `Usage: iova replay <trace-file | -> [--policy linux|default] [--json]

Run an IOVA-domain trace through the DMA-API allocator and print one output line per
operation — the format of the kernel's own traces (vectors/linux-iova/*.trace and .out), so
that the output can be compared with what drivers/iommu/iova.c printed.

Operations: init, alloc, allocf, free, freef, reserve, find, dump, state, rcache, flush,
tick, check, put (numbers are page frames, decimal or 0x hex; # starts a comment).

Options:
  --policy P     linux (default): the kernel's allocator exactly, next-fit misses and all;
                 default: the same placement preference, never failing while space exists
  --json         print {"trace","policy","output":[…]}: the output lines as a list
  -h, --help     this text`;

const command: Command = {
  name: 'replay',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('replay', argv, { policy: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new InputError('give exactly one trace file (see: iova replay --help)');
    const policy = values.policy ?? 'linux';
    if (policy !== 'linux' && policy !== 'default') throw new InputError(`unknown allocator policy "${policy}"; expected linux or default${didYouMean(policy, ['linux', 'default'])}`);
    const file = inputName(positionals[0]);
    const text = positionals[0] === STDIN ? readStdin() : readInputText(file);
    let lines: string[];
    try {
      lines = replayTrace(text, policy);
    } catch (error) {
      throw error instanceof InputError ? error.inFile(file) : error;
    }
    io.out(values.json ? toJson({ trace: file, policy, output: lines }) : lines.join('\n'));
    return EXIT.ok;
  },
};

export default command;
