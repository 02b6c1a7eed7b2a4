/**
 * Shared pieces of the fuzz suites: how many runs (FUZZ_RUNS; `npm run fuzz` raises it), the
 * properties every answer to hostile input must have, and hostile JSON values.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Run } from '../cli/run.js';

/** Runs per property: small in the normal suite, large under `npm run fuzz`. */
export function runs(normal: number): number {
  const given = Number(process.env.FUZZ_RUNS);
  return Number.isSafeInteger(given) && given > 0 ? given : normal;
}

/**
 * What every answer to any input must be: never exit 4, never a stack trace or raw error, and a
 * bad-input answer that is one line saying where (`file` when one was read).
 */
export function expectCleanAnswer(r: Run, file?: string): void {
  expect(r.code, r.err).not.toBe(4);
  expect([0, 1, 2, 3, 5]).toContain(r.code);
  expect(r.err).not.toMatch(/\n\s+at \S+ \(|TypeError|RangeError|ReferenceError|internal error/);
  if (r.code === 2) {
    const lines = r.err.split('\n').filter((l) => !l.startsWith('warning: '));
    expect(lines, r.err).toHaveLength(1);
    expect(lines[0]).toMatch(/^iova( [a-z-]+)?: /);
    if (file) expect(lines[0], r.err).toContain(file);
  }
}

/** Strings a hostile file may hold: control characters, huge and odd numbers, near-miss syntax. */
export const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '0x', '-1', '0xffffffffffffffff', '0x10000000000000000', '1e400', 'NaN', '4K', '1022GB', '2^64', '0000:41:00.0', 'group:1', 'platform:x', '\u001b[31m', '\ud800', 'largest'),
);

/** Any JSON value, with hostile strings and numbers (deep nesting comes from the dedicated cases). */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.constantFrom(0, -1, 0.5, 2 ** 53, 2 ** 64, -0, 1e308, 4096, 3),
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('start', 'last', 'size', 'id', 'name', 'type')), tie('value'), { maxKeys: 3 }),
})).value;

type Path = Array<string | number>;

/** Every path into a JSON value (objects and arrays), the root included. */
export function pathsOf(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

/** A copy of `root` with the value at `path` replaced (`undefined`: removed). */
export function replaceAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (value === undefined && rest.length === 0) copy.splice(key as number, 1);
    else copy[key as number] = replaceAt(copy[key as number], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  if (value === undefined && rest.length === 0) delete copy[key as string];
  else Object.defineProperty(copy, key, { value: replaceAt(copy[key as string], rest, value), enumerable: true, writable: true, configurable: true });
  return copy;
}

/**
 * Mutations of a valid document: one value replaced by a hostile one, removed, an array item
 * repeated (duplicate ids), or an unknown key added.
 */
export function mutated(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), hostileJson).map(([p, v]) => replaceAt(valid, p, v)),
    fc.constantFrom(...paths.filter((p) => p.length > 0)).map((p) => replaceAt(valid, p, undefined)),
    fc.constantFrom(...paths).map((p) => {
      const parent = p.slice(0, -1);
      const at = getAt(valid, parent);
      return Array.isArray(at) && at.length > 0 ? replaceAt(valid, parent, [...at, at[0]]) : valid;
    }),
    fc.tuple(fc.constantFrom(...paths), hostileString, hostileJson).map(([p, k, v]) => {
      const at = getAt(valid, p);
      return at !== null && typeof at === 'object' && !Array.isArray(at) ? replaceAt(valid, [...p, k], v) : valid;
    }),
  );
}

function getAt(root: unknown, path: Path): unknown {
  let at = root;
  for (const k of path) at = (at as Record<string | number, unknown>)?.[k];
  return at;
}
