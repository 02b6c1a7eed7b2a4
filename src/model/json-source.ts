/**
 * Lines of JSON paths: parsed JSON remembers the text it came from, so that an error found in
 * the parsed value (a schema problem at `devices[2].id`, a duplicate id) can name the line of
 * the file as well as the path. The scan is iterative and linear in the text, whatever the
 * nesting depth.
 */
import { InputError } from './errors.js';

const SOURCES = new WeakMap<object, string>();

/** Remember that `value` (a parsed JSON object or array) was read from `text`. */
export function rememberJsonSource(value: unknown, text: string): void {
  if (value !== null && typeof value === 'object') SOURCES.set(value, text);
}

/** `devices[2].bars[0]` → `['devices', 2, 'bars', 0]`. */
export function parseJsonPath(path: string): Array<string | number> {
  if (path === '(top level)' || path === '') return [];
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : m[2]);
  return out;
}

/**
 * The 1-based line where the value at `path` starts in the text `root` was parsed from; the
 * line of the deepest part of the path that exists; undefined when the text is not known.
 */
export function jsonLineOf(root: unknown, path: ReadonlyArray<PropertyKey> | string): number | undefined {
  if (root === null || typeof root !== 'object') return undefined;
  const text = SOURCES.get(root);
  if (text === undefined) return undefined;
  const keys = typeof path === 'string' ? parseJsonPath(path) : path;
  return lineAt(text, offsetOfPath(text, keys));
}

/** The error with the line of its JSON path in `root`'s text added (when it has a path and no line). */
export function withJsonLine(error: unknown, root: unknown): unknown {
  if (!(error instanceof InputError) || error.line !== undefined || error.path === undefined) return error;
  const line = jsonLineOf(root, error.path);
  return line === undefined ? error : new InputError(error.reason, { file: error.file, line, path: error.path });
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Offset of the value at `keys` (or of the deepest existing prefix) in valid JSON text. */
function offsetOfPath(text: string, keys: ReadonlyArray<PropertyKey>): number {
  let i = 0;
  const space = () => {
    while (isSpace(text[i])) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const readString = (): string => {
    const start = i;
    skipString();
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return '';
    }
  };
  // Skip one value without recursion: strings are skipped whole, brackets counted.
  const skipValue = () => {
    space();
    let depth = 0;
    do {
      const c = text[i];
      if (c === '"') skipString();
      else if (c === '{' || c === '[') {
        depth++;
        i++;
      } else if (c === '}' || c === ']') {
        depth--;
        i++;
      } else if (depth === 0) {
        while (i < text.length && !isSpace(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
      } else i++;
    } while (depth > 0 && i < text.length);
  };

  space();
  for (const key of keys) {
    const valueStart = i;
    if (text[i] === '{' && typeof key === 'string') {
      i++;
      let found = false;
      for (;;) {
        space();
        if (text[i] !== '"') break;
        const name = readString();
        space();
        i++; // ':'
        space();
        if (name === key) {
          found = true;
          break;
        }
        skipValue();
        space();
        if (text[i] === ',') i++;
        else break;
      }
      if (!found) return valueStart;
    } else if (text[i] === '[' && typeof key === 'number') {
      i++;
      space();
      let n = 0;
      while (n < key && i < text.length && text[i] !== ']') {
        skipValue();
        space();
        if (text[i] !== ',') break;
        i++;
        space();
        n++;
      }
      if (n !== key || text[i] === ']') return valueStart;
    } else return valueStart;
  }
  return i;
}
