/**
 * PCI addresses: `segment:bus:device.function` (BDF) and `segment:bus` bus names.
 */
import { InputError, quote } from './errors.js';

export interface Bdf {
  segment: number;
  bus: number;
  device: number;
  fn: number;
}

const BDF = /^(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i;

/** Parse `0000:03:00.1` or `03:00.1` (segment 0). Throws {@link InputError} on garbage. */
export function parseBdf(text: string): Bdf {
  const m = BDF.exec(text.trim());
  if (!m) throw new InputError(`${quote(text)} is not a PCI address like 0000:03:00.1`);
  const [segment, bus, device, fn] = [m[1] ?? '0', m[2], m[3], m[4]].map((x) => parseInt(x, 16));
  if (device > 0x1f) throw new InputError(`${quote(text)} has device number ${device}; PCI devices are 0-31`);
  return { segment, bus, device, fn };
}

/** Whether the text looks like a PCI address (with or without segment). */
export function isBdf(text: string): boolean {
  return BDF.test(text.trim());
}

/** Canonical form: `0000:03:00.1`, lower-case hex. */
export function formatBdf(b: Bdf): string {
  return `${hex4(b.segment)}:${hex2(b.bus)}:${hex2(b.device)}.${b.fn}`;
}

/** Canonical form of a BDF string (`3:0.1` → `0000:03:00.1`). */
export function normaliseBdf(text: string): string {
  return formatBdf(parseBdf(text));
}

/** `0000:61`: a bus in a segment. */
export function formatBus(segment: number, bus: number): string {
  return `${hex4(segment)}:${hex2(bus)}`;
}

/** A bus (or device) number as two hex digits: `0a`. */
export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
