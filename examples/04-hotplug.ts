/**
 * Example 4 — a layout built from the boot-time devices' holes, then a hot-plug.
 *
 * The guest boots with the NIC (0000:43:00.0) assigned; its layout is solved against the NIC's
 * holes only. Later a USB controller (0000:05:00.3, IOMMU group 5) is hot-plugged: its group
 * has a direct (identity) region at 0xa8f0_0000, inside the guest's 2.75 GiB of low RAM. Since
 * 6.5 the kernel refuses to let VFIO or iommufd claim such a device at all (require_direct,
 * -EINVAL), whatever the layout: solving the layout with the device's holes up front removes the
 * collision, but only the firmware (the IVMD entry) can free the device — the check says which.
 */
import { checkHotplug, hexGrouped, layoutOf, loadHostFile, parsePlacementSpec, solve } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

const NIC = '0000:43:00.0';
const USB = '0000:05:00.3';
const REQUESTS = [
  { name: 'ram-low', size: '2816M', align: '1G' },
  { name: 'ram-high', size: '61G', align: '1G', above: 'ram-low' },
];

export async function main(print: Print) {
  const host = loadHostFile(here('hosts/epyc.json'));
  const checks = [];
  for (const devices of [[NIC], [NIC, USB]]) {
    const problem = parsePlacementSpec({ host: host.name, policy: 'iommufd', devices, requests: REQUESTS }, 'guest.json', host);
    const result = await solve(problem);
    if (result.status !== 'sat') throw new Error(`expected sat, got ${result.status}`);
    print(`layout solved with ${devices.join(' + ')} attached:`);
    for (const p of result.placements) print(`  ${p.name.padEnd(9)} ${hexGrouped(p.iova)}–${hexGrouped(p.last)}`);
    const layout = layoutOf(problem, result.placements);
    const check = checkHotplug({ ...layout, devices: [NIC] }, host, USB);
    print(`  hot-plug ${USB}: ${check.ok ? 'attaches' : `refused (-${check.errno}, ${check.rule})`}: ${check.message}`);
    for (const c of check.collisions) print(`    collision: ${c.message}`);
    for (const s of check.suggestions) print(`    fix: ${s.text}`);
    checks.push(check);
  }
  return checks;
}

await runIfMain(import.meta.url, main);
