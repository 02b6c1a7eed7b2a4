/**
 * The one place where text from input is made safe to show: control characters (C0, DEL, C1),
 * bidirectional overrides, line and paragraph separators and unpaired surrogates become visible
 * escapes (`\x1b`, `\u{202e}`), so a name or a file line can neither drive a terminal nor break a
 * picture's XML. Printable text, backslashes included, is left as it is, so escaping twice
 * changes nothing.
 */

// C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, LS/PS, BOM, unpaired surrogates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One line of text with every unsafe character escaped (newlines and tabs included). */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** Multi-line output for a terminal: as {@link escapeControls}, but newlines and tabs stay. */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE_KEEP_LINES, visible);
}

/** Whether `text` holds anything {@link escapeControls} would change. */
export function hasUnsafeCharacters(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}
