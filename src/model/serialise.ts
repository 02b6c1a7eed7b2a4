/**
 * Writing model objects as JSON: addresses become `0x…` strings, undefined fields vanish, and
 * key order follows the objects, so the same facts always give the same bytes.
 */
import { hex } from './address.js';
import type { HostFacts } from './host.js';

export const HOST_FORMAT = 'iova-solver/host@1';

/**
 * JSON.stringify with bigints as `0x…` hex strings. Characters that JSON leaves raw but a
 * terminal acts on (DEL, C1 controls, bidi overrides, separators) are written as `\u` escapes:
 * the same string to a parser, harmless on a screen.
 */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? hex(v) : v), indent)?.replace(
    /[\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Host facts in the form `parseHostFacts` reads back. */
export function hostToJson(host: HostFacts): string {
  return `${toJson({ format: HOST_FORMAT, ...host })}\n`;
}
