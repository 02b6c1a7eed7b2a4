/**
 * Bad input, reported as one line that says where the problem is (a file and line, and a JSON
 * path where there is one) and what was wrong. The CLI turns it into exit code 2; library
 * callers get the same located text as `message` and the parts as fields.
 */
import { escapeControls } from './escape.js';

export interface InputLocation {
  file?: string;
  /** 1-based line in `file` (for JSON input: the line where the value at `path` starts). */
  line?: number;
  /** JSON path of the offending field, e.g. `devices[2].bars[0].start`. */
  path?: string;
}

/**
 * Bad input: a file, a line or a JSON path and the reason. Every library entry point throws it
 * for input it cannot use (never a raw TypeError); the command turns it into exit 2 and one
 * located line. `reason` is the bare reason; `message` carries the location too.
 */
export class InputError extends Error {
  readonly file?: string;
  readonly line?: number;
  /** JSON path of the offending field, e.g. `devices[2].bars[0].start`. */
  readonly path?: string;
  /** What was wrong, without the location (`message` is the located form). */
  readonly reason: string;

  constructor(reason: string, where: InputLocation = {}) {
    super(locate(reason, where));
    this.name = 'InputError';
    this.reason = reason;
    this.file = where.file;
    this.line = where.line;
    this.path = where.path;
  }

  /** `file:line: at path: reason`, `file: reason`, or just the reason (the same as `message`). */
  describe(): string {
    return this.message;
  }

  /** The same error, located in `file` (keeps a line or path it already has). */
  inFile(file: string): InputError {
    if (this.file) return this;
    return new InputError(this.reason, { file, line: this.line, path: this.path });
  }
}

function locate(reason: string, where: InputLocation): string {
  const place = [where.file === undefined ? undefined : escapeControls(where.file), where.line !== undefined ? String(where.line) : undefined]
    .filter((x) => x !== undefined)
    .join(':');
  const at = where.path ? `at ${escapeControls(where.path)}: ` : '';
  const text = `${at}${escapeControls(reason)}`;
  return place ? `${place}: ${text}` : text;
}

/** Quote user input in an error message, shortened so one bad line cannot flood the terminal. */
export function quote(input: unknown): string {
  const text = typeof input === 'string' ? input : typeof input === 'bigint' ? `${input}n` : shallowJson(input);
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `"${escapeControls(short)}"`;
}

/** JSON text of a value for a message, never recursing deep: nested containers are elided. */
function shallowJson(input: unknown): string {
  if (Array.isArray(input)) return input.length === 0 ? '[]' : '[…]';
  if (input !== null && typeof input === 'object') return Object.keys(input).length === 0 ? '{}' : '{…}';
  return JSON.stringify(input) ?? String(input);
}
