/**
 * `-` as a file name means standard input, as in every Unix tool. It is read once (a second
 * `-` in the same command sees the same text) and named `<stdin>` in messages and provenance.
 */
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';

/** The operand that stands for standard input. */
export const STDIN = '-';
/** How standard input is named in messages, provenance and warnings. */
export const STDIN_NAME = '<stdin>';

let text: string | undefined;

/** Standard input as UTF-8 text, read on first use. */
export function readStdin(): string {
  if (text === undefined) {
    try {
      text = readFileSync(0, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: STDIN_NAME });
    }
  }
  return text;
}

/** The name to show for an input operand: `<stdin>` for `-`, else the path as given. */
export function inputName(file: string): string {
  return file === STDIN ? STDIN_NAME : file;
}
