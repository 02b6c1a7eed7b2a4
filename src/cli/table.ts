/**
 * Plain-text tables for terminal output: columns padded to their widest cell. A table wider
 * than the terminal moves one long column (provenance, usually) under its row, wrapped to
 * the width; `--wide` keeps one line per row whatever the width.
 */
import { wrap } from '../render/text.js';
import { DEFAULT_COLUMNS, type Io } from './command.js';

export interface TableFit {
  /** Columns available (the terminal's width); Infinity: never wrap. */
  width: number;
  /** The column that moves under its row when the table is too wide (default: the last). */
  under?: number;
}

/** The width tables fit: the terminal's, 100 columns when not a terminal, unbounded with --wide. */
export function tableWidth(io: Io, wide: boolean | undefined): number {
  return wide ? Infinity : io.columns ?? DEFAULT_COLUMNS;
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, indent = '  ', fit?: TableFit): string {
  const full = lay(header, rows, indent);
  if (!fit || full.every((line) => [...line].length <= fit.width)) return full.join('\n');
  const under = fit.under ?? header.length - 1;
  const without = (cells: readonly string[]) => cells.filter((_, i) => i !== under);
  // The moved column's heading sits under the other headings, as its cells sit under their rows.
  const heads = lay(without(header), rows.map(without), indent);
  const deeper = `${indent}    `;
  const out = [heads[0], deeper + header[under]];
  rows.forEach((row, i) => {
    out.push(heads[i + 1]);
    const text = row[under] ?? '';
    if (text) for (const line of wrap(text, fit.width - [...deeper].length)) out.push(deeper + line);
  });
  return out.join('\n');
}

function lay(header: readonly string[], rows: ReadonlyArray<readonly string[]>, indent: string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
