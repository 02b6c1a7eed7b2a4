/**
 * Bad input, reported to the user as one line that says where the problem is
 * (a file and line, or a JSON path) and what was wrong. The CLI turns it into exit code 2.
 */
export class InputError extends Error {
  readonly file?: string;
  readonly line?: number;
  /** JSON path of the offending field, e.g. `devices[2].bars[0].start`. */
  readonly path?: string;

  constructor(message: string, where: { file?: string; line?: number; path?: string } = {}) {
    super(message);
    this.name = 'InputError';
    this.file = where.file;
    this.line = where.line;
    this.path = where.path;
  }

  /** `file:line: message`, `file: at path: message`, or just the message. */
  describe(): string {
    const place = [this.file, this.line !== undefined ? String(this.line) : undefined].filter((x) => x !== undefined).join(':');
    const at = this.path ? `at ${this.path}: ` : '';
    return place ? `${place}: ${at}${this.message}` : `${at}${this.message}`;
  }

  /** The same error, located in `file` (keeps a line or path it already has). */
  inFile(file: string): InputError {
    if (this.file) return this;
    return new InputError(this.message, { file, line: this.line, path: this.path });
  }
}

/** Quote user input in an error message, shortened so one bad line cannot flood the terminal. */
export function quote(input: unknown): string {
  const text = typeof input === 'string' ? input : typeof input === 'bigint' ? `${input}n` : JSON.stringify(input) ?? String(input);
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `"${short}"`;
}
