/**
 * `-` as a file name means standard input, as in every Unix tool. It is read once (a second
 * `-` in the same command sees the same text) and named `<stdin>` in messages and provenance.
 */
import { readSync } from 'node:fs';
import { InputError } from './errors.js';
import { MAX_INPUT_BYTES } from './load.js';

/** The operand that stands for standard input. */
export const STDIN = '-';
/** How standard input is named in messages, provenance and warnings. */
export const STDIN_NAME = '<stdin>';

let text: string | undefined;

/** Standard input as UTF-8 text, read on first use. */
export function readStdin(): string {
  if (text === undefined) {
    text = readCapped(MAX_INPUT_BYTES).toString('utf8');
  }
  return text;
}

/** The name to show for an input operand: `<stdin>` for `-`, else the path as given. */
export function inputName(file: string): string {
  return file === STDIN ? STDIN_NAME : file;
}

/** Standard input up to `maxBytes` (a larger input, `/dev/zero` say, is refused, not read whole). */
function readCapped(maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1 << 16);
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe with nothing yet: wait for the writer
      if (code === 'EOF') break;
      throw new InputError(`cannot read: ${code ?? (error as Error).message}`, { file: STDIN_NAME });
    }
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > maxBytes) throw new InputError(`standard input holds more than ${maxBytes} bytes, the most an input may hold; give a smaller extract`, { file: STDIN_NAME });
  }
  return Buffer.concat(chunks, total);
}
