/**
 * Example 7 — guest RAM over the arm SMMU's software MSI window.
 *
 * On arm64 hosts the SMMU driver reserves 0x800_0000–0x80f_ffff as the software-managed MSI
 * window (sysfs lists it as "msi"). VFIO and iommufd refuse to map guest RAM there; a VMM that
 * puts RAM at 0, as x86 machine types do, fails. The explanation names the window and the
 * group; the repair moves RAM to the first 1 GiB boundary — the base QEMU's arm `virt`
 * machine uses.
 */
import { hexGrouped, loadHostFile, parsePlacementSpec, solve } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

export async function main(print: Print) {
  const host = loadHostFile(here('fleet/arm-n1sdp.json'));
  const spec = { host: host.name, policy: 'iommufd', requests: [{ name: 'guest-ram', size: '4G', align: '1G', fixed: '0x0' }] };
  const result = await solve(parsePlacementSpec(spec, 'arm-guest.json', host));
  if (result.status !== 'unsat') throw new Error(`expected unsat, got ${result.status}`);
  print(`RAM at 0 on ${host.name}: unsat`);
  print(`  ${result.conflicts[0].message}`);
  for (const r of result.repairs) {
    const ram = r.placements.find((p) => p.name === 'guest-ram');
    print(`  repair: ${r.description}${ram ? ` (guest-ram at ${hexGrouped(ram.iova)}–${hexGrouped(ram.last)})` : ''}`);
  }
  return result;
}

await runIfMain(import.meta.url, main);
