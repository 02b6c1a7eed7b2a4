/**
 * Checks at the library's entry points for values built in code rather than parsed from JSON:
 * a wrong type is an {@link InputError} naming the argument and the path inside it, never a
 * TypeError from deep inside. They check the shape the code relies on, not every fact (that is
 * what the JSON schemas and the verifier do).
 */
import { InputError } from './errors.js';

function kind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

type Check = 'object' | 'array' | 'string' | 'bigint' | 'number' | 'boolean';

function is(value: unknown, check: Check): boolean {
  if (check === 'array') return Array.isArray(value);
  if (check === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === check;
}

/** `value` must be of the kind; `what` names the argument, `path` the place inside it. */
export function expect(value: unknown, check: Check, what: string, path = '', optional = false): void {
  if (optional && value === undefined) return;
  if (!is(value, check)) {
    const article = check === 'array' || check === 'object' ? 'an' : 'a';
    if (path) throw new InputError(`${what} needs ${article} ${check} here, not ${kind(value)}`, { path });
    throw new InputError(`${what} must be ${article} ${check}, not ${kind(value)}`);
  }
}

/** Host facts as the library builds them (parseHostFacts, importSources). */
export function expectHostFacts(host: unknown, what = 'host facts'): void {
  expect(host, 'object', what);
  const h = host as Record<string, unknown>;
  expect(h.name, 'string', what, 'name');
  for (const key of ['reservedRegions', 'groups', 'devices', 'warnings']) expect(h[key], 'array', what, key);
  expect(h.pci, 'object', what, 'pci');
  const pci = h.pci as Record<string, unknown>;
  expect(pci.hostBridges, 'array', what, 'pci.hostBridges');
  expect(pci.bridges, 'array', what, 'pci.bridges');
  (h.devices as unknown[]).forEach((d, i) => {
    expect(d, 'object', what, `devices[${i}]`);
    expect((d as Record<string, unknown>).id, 'string', what, `devices[${i}].id`);
  });
  (h.reservedRegions as unknown[]).forEach((r, i) => expectRange(r, what, `reservedRegions[${i}]`));
}

/** A layout as {@link parseLayout} or `layoutOf` builds it. */
export function expectLayout(layout: unknown, what = 'layout'): void {
  expect(layout, 'object', what);
  const l = layout as Record<string, unknown>;
  expect(l.placements, 'array', what, 'placements');
  (l.placements as unknown[]).forEach((p, i) => {
    const at = `placements[${i}]`;
    expect(p, 'object', what, at);
    const q = p as Record<string, unknown>;
    expect(q.name, 'string', what, `${at}.name`);
    expect(q.iova, 'bigint', what, `${at}.iova`);
    expect(q.size, 'bigint', what, `${at}.size`);
    expect(q.align, 'bigint', what, `${at}.align`, true);
    expect(q.dmaBits, 'number', what, `${at}.dmaBits`, true);
    expect(q.within, 'array', what, `${at}.within`, true);
  });
  expect(l.devices, 'array', what, 'devices', true);
  expect(l.existing, 'array', what, 'existing', true);
  ((l.existing as unknown[] | undefined) ?? []).forEach((m, i) => expectRange(m, what, `existing[${i}]`));
}

function expectRange(r: unknown, what: string, at: string): void {
  expect(r, 'object', what, at);
  expect((r as Record<string, unknown>).start, 'bigint', what, `${at}.start`);
  expect((r as Record<string, unknown>).last, 'bigint', what, `${at}.last`);
}
