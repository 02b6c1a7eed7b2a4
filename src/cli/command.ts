/**
 * What every `iova` subcommand provides, and the argument helpers they share.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../model/errors.js';
import { isPolicy, type Policy, POLICIES } from '../model/policy.js';
import { formatWarning, type Warning } from '../model/warnings.js';
import { didYouMean } from '../model/suggest.js';

/**
 * Exit codes (DESIGN.md): 0 ok/sat/accepted, 1 unsat/rejected/failed, 2 bad input, 3 unknown,
 * 4 internal error, 5 (`--strict` only) an answer that would be 0 rests on warnings.
 */
export const EXIT = { ok: 0, rejected: 1, badInput: 2, unknown: 3, internal: 4, warnings: 5 } as const;

/** The `--strict` option every answering command takes, and the line its help shows. */
export const STRICT_OPTION = { strict: { type: 'boolean' } } as const;
export const STRICT_HELP = `  --strict            exit ${EXIT.warnings} instead of 0 when the answer carries warnings (facts skipped
                      or assumed); for CI and fleet runs`;

/**
 * The end of an answering command: its warnings on standard error (text mode; `--json` output
 * holds them itself), and the exit code, which `--strict` turns from 0 to 5 when there are any.
 */
export function finish(io: Io, code: number, warnings: readonly Warning[], options: { json?: boolean; strict?: boolean }): number {
  if (!options.json) for (const w of warnings) io.err(formatWarning(w));
  return options.strict && warnings.length > 0 && code === EXIT.ok ? EXIT.warnings : code;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal. */
  isTty: boolean;
  /** Redraws a one-line progress display; present only when standard error is a terminal. */
  progress?: (line: string) => void;
  /**
   * The terminal's file descriptor for the elapsed-time indicator, drawn from a worker thread so
   * that it keeps counting while the main thread is busy; present only when standard error is a
   * terminal. Without it the indicator draws through {@link Io.progress}.
   */
  progressFd?: number;
  /**
   * Width of standard output in columns when it is a terminal; tables fit it. Absent (pipes,
   * files, tests): {@link DEFAULT_COLUMNS}, so piped output does not depend on the terminal.
   */
  columns?: number;
}

/** Table width when standard output is not a terminal. */
export const DEFAULT_COLUMNS = 100;

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
    const message = (error as Error).message.replace(/\. To specify.*$/s, '');
    const unknown = /^Unknown option '(-[^']*)'/.exec(message)?.[1];
    const known = [...Object.keys(options), 'help'].map((name) => `--${name}`);
    const hint = unknown?.startsWith('--') ? didYouMean(unknown, known) : '';
    throw new InputError(`${message}${hint} (see: iova ${command} --help)`);
  }
}

export function policyOption(value: string | undefined, fallback: Policy = 'iommufd'): Policy {
  if (value === undefined) return fallback;
  if (!isPolicy(value)) throw new InputError(`unknown policy "${value}"; expected one of ${POLICIES.join(', ')}${didYouMean(value, POLICIES)}`);
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
