/**
 * Example 8 — planning a big guest for a whole migration pool.
 *
 * A 1 TiB q35 guest (2 GiB below 4 GiB, 1022 GiB from 4 GiB up, split into at most 4 pieces of
 * whole GiB) must keep one layout on every host it may migrate to. The pool is the bundled
 * fleet: two of its hosts rule every such layout out (the ARM host's software MSI window at
 * 128 MiB lies in RAM below 4 GiB; the Ivy Bridge host translates only 36 bits), and the
 * repair is to leave them out. On the rest, RAM goes around the AMD HyperTransport hole in two
 * pieces, and the guest gets the E820 map that says so. Before any of this, the doctor checks
 * the EPYC host's captures.
 */
import { readdirSync } from 'node:fs';
import { countVerdicts, diagnose, formatE820, guestMemoryMap, hexGrouped, layoutOf, loadHostFile, parsePoolSpec, ramPlacements, solvePool, verifyLayout } from '../src/index.js';
import { here, type Print, runIfMain } from './lib.js';

export async function main(print: Print) {
  // 1. Is the EPYC host fit for device assignment at all?
  const doctor = diagnose({ files: ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => here(`hosts/epyc/${f}`)) });
  const counts = countVerdicts(doctor);
  print(`doctor on the EPYC captures: ${counts.problem} problem, ${counts.warning} warnings, ${counts.ok} ok`);
  for (const f of doctor.findings.filter((x) => x.verdict === 'problem')) print(`  problem (${f.check}): ${f.summary}`);

  // 2. One layout for the whole fleet.
  const hosts = readdirSync(here('fleet'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadHostFile(here(`fleet/${f}`)));
  const spec = parsePoolSpec(
    {
      host: 'pool',
      policy: 'vfio-type1',
      requests: [
        { name: 'ram-below-4g', size: '2G', fixed: '0' },
        { name: 'ram-above-4g', size: '1022G', fixed: '0x100000000', split: { align: '1G', minPiece: '1G', maxPieces: 4 } },
      ],
    },
    'q35-1tib.json',
  );
  const pool = await solvePool(spec, hosts);
  print(`pool of ${pool.hosts} hosts (${pool.distinct} distinct): ${pool.result.status}`);
  if (pool.result.status === 'unsat') for (const c of pool.result.conflicts) print(`  conflict: ${c.message}`);
  if (!pool.leaveOut) throw new Error('expected a leave-out repair');
  print(`  repair: leave ${pool.leaveOut.hosts.join(', ')} out of the pool`);

  // 3. The layout on the rest of the pool, verified on each host.
  const kept = hosts.filter((h) => !pool.leaveOut?.hosts.includes(h.name));
  const rest = await solvePool(spec, kept);
  if (rest.result.status !== 'sat') throw new Error(`expected sat, got ${rest.result.status}`);
  const layout = layoutOf(rest.problem, rest.result.placements);
  const report = verifyLayout(layout, kept);
  print(`layout for ${kept.map((h) => h.name).join(', ')}: ${report.ok ? 'accepted by every host' : 'rejected'}`);
  for (const p of rest.result.placements) {
    for (const [i, piece] of (p.pieces ?? [{ iova: p.iova, last: p.last }]).entries()) print(`  ${p.pieces ? `${p.name}[${i}]` : p.name}`.padEnd(18) + ` ${hexGrouped(piece.iova)}–${hexGrouped(piece.last)}`);
  }

  // 4. The guest's memory map: RAM around the holes every host of the pool has.
  const map = guestMemoryMap(layout, kept, ramPlacements(layout));
  print('guest E820:');
  for (const line of formatE820(map).split('\n')) print(`  ${line}`);
  return { doctor, pool, rest, report, map };
}

await runIfMain(import.meta.url, main);
