/**
 * Text helpers shared by the renderers and the command's text output: escaping, counted
 * nouns, and measuring and wrapping in the monospace font the picture uses, so that layout
 * needs no font metrics from a browser.
 */

import { escapeTerminal } from '../model/escape.js';

/** System monospace fonts only: nothing is fetched. */
export const FONT_FAMILY = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace";

/** Advance width of one monospace character, as a fraction of the font size (DejaVu: 0.602). */
const CHAR_WIDTH = 0.61;

/**
 * Escape text for XML/HTML content and double-quoted attribute values. Characters XML cannot
 * hold (controls, unpaired surrogates) become visible escapes first ({@link escapeTerminal}).
 */
export function escapeXml(text: string): string {
  return escapeTerminal(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Width in pixels of `text` at `fontSize` in the monospace font (code points, not UTF-16 units). */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * CHAR_WIDTH;
}

/** How many characters fit in `width` pixels at `fontSize`. */
export function charsFitting(width: number, fontSize: number): number {
  return Math.max(0, Math.floor(width / (fontSize * CHAR_WIDTH)));
}

/** `text` cut to at most `max` characters, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 1 ? chars.slice(0, max).join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Lines of at most `max` characters, broken at spaces where possible. */
export function wrap(text: string, max: number): string[] {
  const limit = Math.max(8, max);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while ([...rest].length > limit) {
      if (line) lines.push(line);
      const chars = [...rest];
      lines.push(chars.slice(0, limit).join(''));
      rest = chars.slice(limit).join('');
      line = '';
    }
    if (!line) line = rest;
    else if ([...line].length + 1 + [...rest].length <= limit) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/** A pixel value with at most two decimals and no trailing zeros: stable text for coordinates. */
export function px(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** A counted noun: `1 device`, `2 devices`, `1 IOMMU group`, `3 bridges`. */
export function plural(count: number, noun: string, pluralForm = /(s|sh|ch|x|z)$/.test(noun) ? `${noun}es` : `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralForm}`;
}
