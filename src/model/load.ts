/**
 * Reading input files — host facts, specs, layouts, IOAS states and the importers' text — with
 * errors that name the file.
 *
 * Every input goes through {@link readInputBytes}: the path is checked with stat, opened
 * without blocking and checked again with fstat before a byte is read, so a FIFO, a character or block device, a socket
 * or a directory is refused with a message instead of hanging or reading forever (`/dev/zero`);
 * a regular file is read up to a size cap, and a larger one is refused.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { InputError } from './errors.js';
import type { HostFacts } from './host.js';
import { rememberJsonSource } from './json-source.js';
import { missingIommuFacts } from './import/assumptions.js';
import { parseHostFacts } from './schema.js';
import { inputName, readStdin, STDIN, STDIN_NAME } from './stdin.js';

/** The largest input file read (64 MiB): far above any real capture, far below memory limits. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** Options of {@link readInputBytes}. */
export interface ReadInputOptions {
  /** Refuse files larger than this many bytes (default {@link MAX_INPUT_BYTES}). */
  maxBytes?: number;
}

/** What a non-regular file is, for the refusal message. */
function fileKind(stat: Stats): string | undefined {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return stat.isFile() ? undefined : 'not a regular file';
}

/**
 * The bytes of a regular file, at most `maxBytes` of them. Throws {@link InputError} naming the
 * file when it cannot be opened, is not a regular file, or is larger than the cap (sysfs files
 * report a size of 4096 whatever they hold, so the cap is checked on what is read, not on the
 * reported size alone).
 */
export function readInputBytes(file: string, options: ReadInputOptions = {}): Buffer {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  // stat before open: opening some devices acts on them (a tape rewinds); fstat after open
  // closes the race with a file replaced in between.
  let before: Stats;
  try {
    before = statSync(file);
  } catch (error) {
    throw new InputError(`cannot read: ${errorCode(error)}`, { file });
  }
  const kindBefore = fileKind(before);
  if (kindBefore !== undefined) throw new InputError(`cannot read: this is ${kindBefore}, not a file`, { file });
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw new InputError(`cannot read: ${errorCode(error)}`, { file });
  }
  try {
    const stat = fstatSync(fd);
    const kind = fileKind(stat);
    if (kind !== undefined) throw new InputError(`cannot read: this is ${kind}, not a file`, { file });
    if (stat.size > maxBytes) throw tooLarge(file, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        throw new InputError(`cannot read: ${errorCode(error)}`, { file });
      }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge(file, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** A file's text as UTF-8 (see {@link readInputBytes}). */
export function readInputText(file: string, options: ReadInputOptions = {}): string {
  return readInputBytes(file, options).toString('utf8');
}

function tooLarge(file: string, maxBytes: number): InputError {
  return new InputError(`file is larger than ${maxBytes} bytes, the most an input may hold; give a smaller extract`, { file });
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** Read and parse a JSON file; unreadable files and JSON syntax errors become {@link InputError}. */
export function readJsonFile(file: string, options: ReadInputOptions = {}): unknown {
  if (file === STDIN) return parseJsonText(readStdin(), STDIN_NAME);
  return parseJsonText(readInputText(file, options), file);
}

/** Parse JSON text; a syntax error names its line and column and what was found there. */
export function parseJsonText(text: string, file?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const { offset, expected } = locateJsonError(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const found = offset >= text.length ? 'the end of the file' : JSON.stringify(text[offset]);
    throw new InputError(`not valid JSON: ${expected} expected at column ${column}, found ${found}`, { file, line });
  }
  rememberJsonSource(value, text);
  return value;
}

/**
 * Where JSON text first goes wrong, found by a small scan with an explicit stack (the engine's
 * own message does not always say where, and nesting of any depth must not overflow ours).
 * Only called on text that JSON.parse refused.
 */
function locateJsonError(text: string): { offset: number; expected: string } {
  let i = 0;
  const fail = (expected: string): never => {
    throw { offset: i, expected };
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    if (text[i] !== '"') fail('a string');
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('a closing quote');
      i++;
    }
    if (i >= text.length) fail('a closing quote');
    i++;
  };
  const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail('a value');
    i += (m as RegExpExecArray)[0].length;
  };
  // The open containers; a value is read, then what may follow it depends on the innermost.
  const open: Array<'{' | '['> = [];
  const member = () => {
    space();
    string();
    space();
    if (text[i] !== ':') fail('":"');
    i++;
  };
  try {
    for (;;) {
      // Read one value (an opening bracket descends instead).
      space();
      const ch = text[i];
      if (ch === '{') {
        i++;
        space();
        if (text[i] === '}') {
          i++;
        } else {
          open.push('{');
          member();
          continue;
        }
      } else if (ch === '[') {
        i++;
        space();
        if (text[i] === ']') {
          i++;
        } else {
          open.push('[');
          continue;
        }
      } else if (ch === '"') string();
      else if (ch === 't') literal('true');
      else if (ch === 'f') literal('false');
      else if (ch === 'n') literal('null');
      else number();
      // After a value: a separator, or closing brackets.
      for (;;) {
        const inner = open[open.length - 1];
        if (inner === undefined) {
          space();
          if (i < text.length) fail('the end of the file');
          return { offset: text.length, expected: 'valid JSON' };
        }
        space();
        if (text[i] === ',') {
          i++;
          if (inner === '{') member();
          break;
        }
        if (text[i] === (inner === '{' ? '}' : ']')) {
          i++;
          open.pop();
          continue;
        }
        fail(inner === '{' ? '"," or "}"' : '"," or "]"');
      }
    }
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'offset' in error) return error as { offset: number; expected: string };
    throw error;
  }
}

/**
 * Read a host-facts JSON file (as written by `iova import`). A file that gives neither a
 * platform nor an IOMMU geometry gets a warning saying so (answers would otherwise rest on the
 * default whole-space geometry without a word).
 */
export function loadHostFile(file: string): HostFacts {
  const name = inputName(file);
  const host = parseHostFacts(readJsonFile(file), name);
  const warning = missingIommuFacts(host, name);
  if (warning) host.warnings = [...host.warnings, warning];
  return host;
}
