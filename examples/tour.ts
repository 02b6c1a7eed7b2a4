/**
 * The tour `npm start` runs: the whole story on the bundled EPYC host, each step an `iova`
 * command with its real output — import the host's captures, list its usable IOVA ranges,
 * solve a guest layout, explain a map the kernel would refuse, draw the address space.
 *
 * The README's "Five-minute tour" is this output; `test/readme.test.ts` runs the tour again
 * and compares, and `npx tsx examples/tour.ts --update-readme` rewrites that section.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { main as iova } from '../src/cli/main.js';
import { here, type Print, runIfMain } from './lib.js';

/** The steps: what each shows, and the command line. */
export const STEPS: Array<{ title: string; argv: string[] }> = [
  {
    title: 'Import what the host says: a `reserved_regions` grep, `lspci -vvv` and `dmesg`',
    argv: ['import', 'examples/hosts/epyc/reserved_regions.txt', 'examples/hosts/epyc/lspci.txt', 'examples/hosts/epyc/dmesg.txt', '--name', 'epyc', '-o', 'examples/out/epyc.json'],
  },
  {
    title: 'The PCI tree: IOMMU groups, ACS redirect per port, and which devices reach which peers without the IOMMU',
    argv: ['groups', 'examples/out/epyc.json'],
  },
  {
    title: 'Is the host fit for device assignment? Each finding with its evidence and what to do',
    argv: ['doctor', 'examples/hosts/epyc/reserved_regions.txt', 'examples/hosts/epyc/lspci.txt', 'examples/hosts/epyc/dmesg.txt', '--name', 'epyc'],
  },
  {
    title: 'The usable IOVA ranges for the NIC, and every hole with where it came from',
    argv: ['ranges', 'examples/out/epyc.json', '--devices', '0000:43:00.0'],
  },
  {
    title: 'Solve a 1 TiB guest layout for the NIC (VFIO type1): RAM from 4 GiB is split around the HyperTransport hole',
    argv: ['solve', 'examples/specs/q35-guest.json', '-o', 'examples/out/layout.json'],
  },
  {
    title: "Why QEMU's default layout fails: the map the kernel refuses with -EINVAL, and what would work",
    argv: ['explain', 'map', 'examples/out/epyc.json', '--device', '0000:43:00.0', '--policy', 'vfio-type1', '--iova', '0x100000000', '--length', '1022G'],
  },
  {
    title: 'Check the solved layout offline against other hosts before migrating the guest',
    argv: ['verify', 'examples/out/layout.json', '--devices', 'all', '--host', 'examples/fleet/amd-epyc-milan.json', '--host', 'examples/fleet/intel-icelake-48.json', '--host', 'examples/fleet/intel-ivybridge-36.json'],
  },
  {
    title: "The guest's memory map for that layout: E820 as the kernel prints it, each reserved range with why",
    argv: ['guest-map', 'examples/out/layout.json', '--host', 'examples/out/epyc.json'],
  },
  {
    title: 'One layout for the whole fleet: which hosts rule it out, and the pool without them',
    argv: ['solve', 'examples/specs/q35-pool.json', '--fleet', 'examples/fleet'],
  },
  {
    title: 'Draw it: an HTML address map with every hole and placement (open it in a browser)',
    argv: ['render', 'examples/specs/q35-guest.json', '-o', 'examples/out/q35-guest.html'],
  },
];

/** Run every step, printing `$ iova …` and what the command printed. */
export async function main(print: Print): Promise<number[]> {
  mkdirSync(here('out'), { recursive: true });
  const codes: number[] = [];
  for (const step of STEPS) {
    print(`# ${step.title}`);
    print(`$ iova ${step.argv.map((a) => (/[\s()]/.test(a) ? `'${a}'` : a)).join(' ')}`);
    const code = await iova(step.argv, { out: print, err: print, isTty: false });
    if (code !== 0) print(`(exit code ${code})`);
    print('');
    codes.push(code);
  }
  return codes;
}

const BEGIN = '<!-- tour:begin (written by examples/tour.ts --update-readme; checked by test/readme.test.ts) -->';
const END = '<!-- tour:end -->';

/** The README section the tour's output becomes. */
export function readmeSection(lines: readonly string[]): string {
  return `${BEGIN}\n\`\`\`console\n${lines.join('\n').trimEnd()}\n\`\`\`\n${END}`;
}

/** The tour section as it stands in the README. */
export function currentSection(readme: string): string | undefined {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  return start < 0 || end < 0 ? undefined : readme.slice(start, end + END.length);
}

await runIfMain(import.meta.url, async (print) => {
  if (!process.argv.includes('--update-readme')) return main(print);
  const lines: string[] = [];
  await main((l) => lines.push(l));
  const file = here('../README.md');
  const readme = readFileSync(file, 'utf8');
  const old = currentSection(readme);
  if (!old) throw new Error('README.md has no tour section markers');
  writeFileSync(file, readme.replace(old, readmeSection(lines)));
  print('README.md tour section updated');
  return [];
});
