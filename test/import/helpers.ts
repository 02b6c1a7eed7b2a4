/** Shared helpers for the importer tests: where the real host captures live, and lookups. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bar, Device, HostBridge, HostFacts, IommuGroup, PciBridge, ReservedRegion } from '../../src/model/host.js';
import { importText } from '../../src/model/import/index.js';
/** Real host captures, trimmed to machine output (test/fixtures/README.md says where each came from). */
export const realdataDir = path.resolve(import.meta.dirname, '../fixtures/realdata');

/** Every real-data text file, by name. */
export function realdataFiles(): string[] {
  return readdirSync(realdataDir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
}

/** The text of one real-data file. */
export function realText(name: string): string {
  return readFileSync(path.join(realdataDir, name), 'utf8');
}

/** Import one real-data file, named in provenance by its base name. */
export function importReal(name: string): HostFacts {
  return importText(realText(name), name);
}

/** `0xstart-0xlast type` for comparing region lists. */
export function regionList(regions: readonly ReservedRegion[]): string[] {
  return regions.map((r) => `0x${r.start.toString(16)}-0x${r.last.toString(16)} ${r.type}`);
}

/** `0xstart-0xlast` of ranges. */
export function rangeList(ranges: ReadonlyArray<{ start: bigint; last: bigint }>): string[] {
  return ranges.map((r) => `0x${r.start.toString(16)}-0x${r.last.toString(16)}`);
}

export function device(host: HostFacts, id: string): Device {
  const found = host.devices.find((d) => d.id === id);
  if (!found) throw new Error(`no device ${id}; have ${host.devices.map((d) => d.id).join(', ')}`);
  return found;
}

export function group(host: HostFacts, id: number): IommuGroup {
  const found = host.groups.find((g) => g.id === id);
  if (!found) throw new Error(`no group ${id}; have ${host.groups.map((g) => g.id).join(', ')}`);
  return found;
}

export function bridge(host: HostFacts, id: string): PciBridge {
  const found = host.pci.bridges.find((b) => b.id === id);
  if (!found) throw new Error(`no bridge ${id}; have ${host.pci.bridges.map((b) => b.id).join(', ')}`);
  return found;
}

export function hostBridge(host: HostFacts, id: string): HostBridge {
  const found = host.pci.hostBridges.find((b) => b.id === id);
  if (!found) throw new Error(`no host bridge ${id}; have ${host.pci.hostBridges.map((b) => b.id).join(', ')}`);
  return found;
}

export function bar(owner: { bars: Bar[] }, n: number | 'rom'): Bar {
  const found = owner.bars.find((b) => b.bar === n);
  if (!found) throw new Error(`no BAR ${n}`);
  return found;
}

export { assumptions, lineWarnings } from './warned.js';
