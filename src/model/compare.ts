/**
 * Orders that are the same on every machine (unlike `localeCompare`), so that output built by
 * sorting is byte-identical everywhere.
 */

/** Code-unit order of two strings. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
