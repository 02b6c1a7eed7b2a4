/**
 * zod glue: address fields that parse into bigint, and validation errors that name the
 * JSON path of the first offending field.
 */
import { z } from 'zod';
import { hex, parseAddress, parseOffset, parseSize } from './address.js';
import { InputError, quote } from './errors.js';
import { jsonLineOf } from './json-source.js';
import { type IovaRange, rangeOfSize } from './range.js';

/** Where an address or size is read: a string, a JSON number, or (from code) a bigint. */
export const zNumberLike = z.union([z.string(), z.number(), z.bigint()]);
const numberLike = zNumberLike;

function parsed<T>(parse: (value: string | number | bigint) => T) {
  return numberLike.transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

/** An address field: hex/decimal/unit string or safe-integer number → bigint. */
export const zAddress = parsed((v) => parseAddress(v));
/** A non-zero size field. */
export const zSize = parsed((v) => parseSize(v));
/** A signed offset field (`"-0x1000"`). */
export const zOffset = parsed((v) => parseOffset(v));

/** `{start, last}` or `{start, size}` → an inclusive range; rejects wrap and start > last. */
export const zRangeFields = {
  start: zAddress,
  last: zAddress.optional(),
  size: zSize.optional(),
};

/** Turn parsed `{start, last?, size?}` into `{start, last}`, reporting what is wrong. */
export function toRange(fields: { start: bigint; last?: bigint; size?: bigint }, ctx: z.RefinementCtx): IovaRange {
  if ((fields.last === undefined) === (fields.size === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of "last" (inclusive) or "size"' });
    return z.NEVER;
  }
  try {
    if (fields.size !== undefined) return rangeOfSize(fields.start, fields.size);
    const last = fields.last as bigint;
    if (fields.start > last) throw new InputError(`start ${hex(fields.start)} is above last ${hex(last)}`);
    return { start: fields.start, last };
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
}

/** A plain range object in a file. */
export const zRange = z.strictObject(zRangeFields).transform((fields, ctx) => toRange(fields, ctx));

/** `devices[2].bars[0].start` from a zod issue path. */
export function formatJsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

/**
 * Parse `data` with `schema`; on failure throw an {@link InputError} naming the file, the line
 * (when `data` was read from JSON text) and the JSON path of the first problem (and how many
 * more there are).
 */
export function validate<S extends z.ZodType>(schema: S, data: unknown, file?: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues.map(specific);
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new InputError(`${first.message}${otherPlace(first, data, file)}${more}`, { file, line: jsonLineOf(data, first.path), path: formatJsonPath(first.path) });
}

/**
 * A union's "Invalid input" says nothing: report the problem of the alternative that came
 * closest (fewest issues; the first on a tie), at its full path.
 */
function specific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
  if (closest.length === 0) return issue;
  const inner = specific(closest[0]);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

/** For a repeated id: where the first one is (JSON path, and line when known). */
function otherPlace(issue: z.core.$ZodIssue, data: unknown, file: string | undefined): string {
  const params = (issue as { params?: { duplicateOf?: number; field?: string } }).params;
  if (params?.duplicateOf === undefined) return '';
  const path = [...issue.path];
  path[path.length - (params.field ? 2 : 1)] = params.duplicateOf;
  const line = jsonLineOf(data, path);
  return ` (first at ${formatJsonPath(path)}${line !== undefined ? `, ${file ? `${file}:` : 'line '}${line}` : ''})`;
}

/**
 * A refinement for arrays of objects whose `key` must be unique: a repeat is an issue at the
 * second item, and {@link validate} names the first one's path and line too. `what` names the
 * value in the message ("device id"); `field` is where the key lives in each item.
 */
export function uniqueBy<T>(what: string, key: (item: T) => string | number | undefined, field?: string) {
  return (items: readonly T[], ctx: z.RefinementCtx): void => {
    const seen = new Map<string | number, number>();
    items.forEach((item, i) => {
      const k = key(item);
      if (k === undefined) return;
      const first = seen.get(k);
      if (first === undefined) {
        seen.set(k, i);
        return;
      }
      ctx.addIssue({ code: 'custom', message: `${what} ${quote(String(k))} is given twice`, path: field ? [i, field] : [i], params: { duplicateOf: first, field } });
    });
  };
}
