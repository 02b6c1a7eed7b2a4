/**
 * Reading JSON files of host facts (and other JSON inputs) with errors that name the file.
 */
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import type { HostFacts } from './host.js';
import { rememberJsonSource } from './json-source.js';
import { parseHostFacts } from './schema.js';

/** Read and parse a JSON file; unreadable files and JSON syntax errors become {@link InputError}. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
  return parseJsonText(text, file);
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

/** Read a host-facts JSON file (as written by `iova import`). */
export function loadHostFile(file: string): HostFacts {
  return parseHostFacts(readJsonFile(file), file);
}
