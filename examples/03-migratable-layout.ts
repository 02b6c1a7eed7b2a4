/**
 * Example 3 — one fixed, migratable layout checked against a fleet.
 *
 * A VMM's machine type fixes the guest's IOVA layout so that a guest can move between hosts.
 * Before a migration (or when placing a guest) check the layout against each candidate host
 * offline: which hosts can take the guest, and for the others the fact that stops it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadHostFile, parseLayout, verifyLayout } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

/** A q35-style guest with 128 GiB: RAM below 2 GiB, the rest above 4 GiB, DMA-mask-limited buffers for a 32-bit device. */
export const MACHINE_LAYOUT = {
  policy: 'vfio-type1',
  placements: [
    { name: 'ram-below-4g', iova: '0x0', size: '2G' },
    { name: 'ram-above-4g', iova: '0x100000000', size: '126G' },
    { name: 'bounce-32bit', iova: '0x80000000', size: '256M', dmaBits: 32 },
  ],
};

export async function main(print: Print) {
  const dir = here('fleet');
  const hosts = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadHostFile(join(dir, f)));
  const report = verifyLayout(parseLayout(MACHINE_LAYOUT), hosts);
  const accepting = report.hosts.filter((h) => h.ok).map((h) => h.host);
  print(`layout accepted by ${accepting.length} of ${hosts.length} hosts: ${accepting.join(', ')}`);
  for (const h of report.hosts.filter((x) => !x.ok)) {
    print(`${h.host} cannot take the guest:`);
    for (const v of h.violations) print(`  - ${v.message}`);
  }
  return report;
}

await runIfMain(import.meta.url, main);
