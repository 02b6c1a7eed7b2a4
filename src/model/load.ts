/**
 * Reading JSON files of host facts (and other JSON inputs) with errors that name the file.
 */
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import type { HostFacts } from './host.js';
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

/** Parse JSON text, locating a syntax error by line where the engine reports a position. */
export function parseJsonText(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    throw new InputError(`not valid JSON: ${message.replace(/^JSON\.parse: /, '')}`, { file, line });
  }
}

/** Read a host-facts JSON file (as written by `iova import`). */
export function loadHostFile(file: string): HostFacts {
  return parseHostFacts(readJsonFile(file), file);
}
