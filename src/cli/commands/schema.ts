import { InputError } from '../../model/errors.js';
import { jsonSchemaOf, MODEL_SCHEMAS } from '../../model/json-schema.js';
import { zLayout } from '../../solver/layout.js';
import { zPlacementSpec } from '../../solver/spec.js';
import { type Command, EXIT, parseCommandArgs } from '../command.js';
import { writeOutput } from '../inputs.js';

const SCHEMAS: Record<string, () => Record<string, unknown>> = {
  ...MODEL_SCHEMAS,
  spec: () => jsonSchemaOf(zPlacementSpec, 'iova-solver placement spec'),
  layout: () => jsonSchemaOf(zLayout, 'iova-solver layout'),
};

const help = `Usage: iova schema <host | spec | layout | ioas> [-o FILE]

Print the JSON Schema (draft 2020-12) of a file format, generated from the same schemas the
commands validate with, so that an editor can check files as they are written. Point a file
at it with "$schema": "./spec.schema.json".

  host     host facts (iova import writes them; ranges, solve, verify read them)
  spec     a placement spec (iova solve)
  layout   a fixed layout (iova solve -o; iova verify, iova check-attach)
  ioas     an IOAS state (iova explain)

Options:
  -o, --output FILE   write the schema there instead of standard output ("-": standard output)
  -h, --help          this text`;

const command: Command = {
  name: 'schema',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('schema', argv, { output: { type: 'string', short: 'o' } });
    const kind = positionals[0];
    if (positionals.length !== 1 || !Object.hasOwn(SCHEMAS, kind)) {
      throw new InputError(`name one format: ${Object.keys(SCHEMAS).join(', ')} (see: iova schema --help)`);
    }
    const text = `${JSON.stringify(SCHEMAS[kind](), null, 2)}\n`;
    if (values.output) writeOutput(values.output, text, io);
    else io.out(text.trimEnd());
    return EXIT.ok;
  },
};

export default command;
