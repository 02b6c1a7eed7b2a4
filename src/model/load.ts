/**
 * Reading JSON files of host facts (and other JSON inputs) with errors that name the file.
 */
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import type { HostFacts } from './host.js';
import { parseHostFacts } from './schema.js';
import { inputName, readStdin, STDIN, STDIN_NAME } from './stdin.js';

/** Read and parse a JSON file; unreadable files and JSON syntax errors become {@link InputError}. */
export function readJsonFile(file: string): unknown {
  if (file === STDIN) return parseJsonText(readStdin(), STDIN_NAME);
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
  try {
    return JSON.parse(text);
  } catch {
    const { offset, expected } = locateJsonError(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const found = offset >= text.length ? 'the end of the file' : JSON.stringify(text[offset]);
    throw new InputError(`not valid JSON: ${expected} expected at column ${column}, found ${found}`, { file, line });
  }
}

/**
 * Where JSON text first goes wrong, found by a small recursive-descent scan (the engine's own
 * message does not always say where). Only called on text that JSON.parse refused.
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
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m) fail('a value');
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        string();
        space();
        if (text[i] !== ':') fail('":"');
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail('"," or "}"');
      }
    } else if (ch === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail('"," or "]"');
      }
    } else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else number();
  };
  try {
    value();
    space();
    if (i < text.length) fail('the end of the file');
    return { offset: text.length, expected: 'valid JSON' };
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'offset' in error) return error as { offset: number; expected: string };
    throw error;
  }
}

/** Read a host-facts JSON file (as written by `iova import`). */
export function loadHostFile(file: string): HostFacts {
  return parseHostFacts(readJsonFile(file), inputName(file));
}
