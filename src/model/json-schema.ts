/**
 * JSON Schemas generated from the zod schemas, so that editors can validate host, spec,
 * layout and IOAS-state files as they are typed. Address fields are described as what a file
 * may hold: a hex / decimal / binary-unit string, or a safe-integer number.
 */
import { z } from 'zod';
import { zHostFacts } from './schema.js';
import { zNumberLike } from './validate.js';
import { zIoasState } from './ioas-state.js';

const ADDRESS_JSON_SCHEMA = {
  description: 'An address or size: "0xfee00000", "4096", "2MiB", "1G" (binary units), or a JSON number that is a safe integer',
  anyOf: [
    { type: 'string', pattern: '^\\s*-?\\s*(0[xX][0-9a-fA-F](_?[0-9a-fA-F])*|[0-9](_?[0-9])*\\s*([kKmMgGtTpPeE]([iI][bB])?|[bB])?)\\s*$' },
    { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  ],
};

/** The JSON Schema (draft 2020-12) of a zod schema's input side. */
export function jsonSchemaOf(schema: z.ZodType, title: string): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    reused: 'ref',
    override: (ctx) => {
      if (ctx.zodSchema === zNumberLike) {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
        Object.assign(ctx.jsonSchema, ADDRESS_JSON_SCHEMA);
      }
    },
  }) as Record<string, unknown>;
  return { ...out, title };
}

export const MODEL_SCHEMAS = {
  host: () => jsonSchemaOf(zHostFacts, 'iova-solver host facts'),
  ioas: () => jsonSchemaOf(zIoasState, 'iova-solver IOAS state'),
};
