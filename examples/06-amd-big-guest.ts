/**
 * Example 6 — a big guest on an AMD host.
 *
 * QEMU lays out a 1 TiB q35 guest as RAM below 2 GiB and the rest from 4 GiB up. On AMD hosts
 * the IOMMU reserves the HyperTransport range 0xfd_0000_0000–0xff_ffff_ffff, so VFIO refuses
 * the map with -EINVAL and the guest does not start (guests above ~1010 GiB). The solver says
 * which fact is in the way and repairs the layout; the verifier certifies the repair.
 */
import { hexGrouped, layoutOf, loadHostFile, parsePlacementSpec, solve, verifyLayout } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

export async function main(print: Print) {
  const host = loadHostFile(here('fleet/amd-epyc-milan.json'));
  const spec = {
    host: 'amd-epyc-milan',
    policy: 'vfio-type1',
    requests: [
      { name: 'ram-below-4g', size: '2G', fixed: '0' },
      { name: 'ram-above-4g', size: '1022G', fixed: '0x100000000', align: '1G' },
    ],
  };
  const result = await solve(parsePlacementSpec(spec, 'q35-1tib.json', host));
  if (result.status !== 'unsat') throw new Error(`expected unsat, got ${result.status}`);
  print(`q35 guest with 1 TiB on ${host.name}: ${result.status}`);
  for (const c of result.conflicts) print(`  conflict: ${c.message}`);
  print('  repairs, cheapest first:');
  for (const r of result.repairs) print(`    - ${r.description}`);

  const move = result.repairs.find((r) => r.changes[0].kind === 'move');
  if (!move) throw new Error('expected a move repair');
  const problem = parsePlacementSpec(spec, 'q35-1tib.json', host);
  const layout = layoutOf(problem, move.placements);
  const report = verifyLayout(layout, [host]);
  print(`repaired layout (${move.description}):`);
  for (const p of move.placements) print(`  ${p.name.padEnd(13)} ${hexGrouped(p.iova)}–${hexGrouped(p.last)}`);
  print(`verified on ${host.name}: ${report.ok ? 'accepted' : 'rejected'}`);
  return { result, report };
}

await runIfMain(import.meta.url, main);
