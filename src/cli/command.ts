/**
 * What every `iova` subcommand provides, and the argument helpers they share.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../model/errors.js';
import { isPolicy, type Policy, POLICIES } from '../model/policy.js';

/** Exit codes (DESIGN.md): 0 ok/sat/accepted, 1 unsat/rejected/failed, 2 bad input, 3 unknown. */
export const EXIT = { ok: 0, rejected: 1, badInput: 2, unknown: 3, internal: 4, warnings: 5 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal. */
  isTty: boolean;
  /** Redraws a one-line progress display; present only when standard error is a terminal. */
  progress?: (line: string) => void;
}

export interface Command {
  name: string;
  /** Full help text for `iova <name> --help`. */
  help: string;
  run(argv: string[], io: Io): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** What parsing gives for each option: a string, strings, a boolean, or nothing when absent. */
export type ParsedValues<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: 'string' } ? (O[K] extends { multiple: true } ? string[] : string) : O[K] extends { multiple: true } ? boolean[] : boolean;
};

/**
 * Parse a subcommand's arguments; unknown options and missing values become {@link InputError}
 * (exit 2) with a pointer to `--help`.
 */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): { values: ParsedValues<O>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedValues<O>, positionals: parsed.positionals };
  } catch (error) {
    throw new InputError(`${(error as Error).message.replace(/\. To specify.*$/s, '')} (see: iova ${command} --help)`);
  }
}

export function policyOption(value: string | undefined, fallback: Policy = 'iommufd'): Policy {
  if (value === undefined) return fallback;
  if (!isPolicy(value)) throw new InputError(`unknown policy "${value}"; expected one of ${POLICIES.join(', ')}`);
  return value;
}

/**
 * `--timeout MS` → milliseconds (default 30 s): the budget of the whole command. Node's timers
 * hold at most 2^31 − 1 ms (a longer one fires at once), so larger values are refused.
 */
export function timeoutOption(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const ms = Number(value);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InputError(`--timeout must be a positive number of milliseconds, not "${value}"`);
  if (ms > 2 ** 31 - 1) throw new InputError(`--timeout ${value}: at most 2147483647 milliseconds (about 24.8 days), the longest timer Node supports`);
  return ms;
}

/** `--dma-api-holes` / `--no-dma-api-holes` → true / false, or undefined for the policy's default. */
export function dmaApiHolesOption(values: { 'dma-api-holes'?: boolean; 'no-dma-api-holes'?: boolean }): boolean | undefined {
  if (values['dma-api-holes'] && values['no-dma-api-holes']) throw new InputError('give --dma-api-holes or --no-dma-api-holes, not both');
  return values['dma-api-holes'] ? true : values['no-dma-api-holes'] ? false : undefined;
}

/** `--devices a,b` (repeatable) → list, or undefined when not given. */
export function listOption(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return items;
}
