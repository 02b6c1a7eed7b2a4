/**
 * Writing model objects as JSON: addresses become `0x…` strings, undefined fields vanish, and
 * key order follows the objects, so the same facts always give the same bytes.
 */
import { hex } from './address.js';
import type { HostFacts } from './host.js';

export const HOST_FORMAT = 'iova-solver/host@1';

/** JSON.stringify with bigints as `0x…` hex strings. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? hex(v) : v), indent);
}

/** Host facts in the form `parseHostFacts` reads back. */
export function hostToJson(host: HostFacts): string {
  return `${toJson({ format: HOST_FORMAT, ...host })}\n`;
}
