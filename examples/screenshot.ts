/**
 * Regenerates the rendering example used in the README:
 *
 *     npx tsx examples/screenshot.ts
 *
 * A big guest on the bundled EPYC host (examples/hosts/epyc): 2 GiB of RAM below 4 GiB, 1 TiB
 * from 4 GiB up, a 64 KiB firmware window below 4 GiB and a 4 KiB doorbell page. The 1 TiB
 * runs into the HyperTransport hole just below 1 TiB and the doorbell into the MSI window, so
 * the picture shows both violations, next to a 4 KiB placement that stays visible on the
 * segmented axis. Writes examples/render-amd-big-guest.svg, .html and .png; the PNG is the SVG
 * as headless Chromium draws it (`chromium --screenshot`, no DevTools protocol needed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AddressSpace } from '../src/model/address-space.js';
import { importSources } from '../src/model/import/index.js';
import { renderHtml, renderSvg, sceneOfLayout } from '../src/render/index.js';
import { parseLayout } from '../src/solver/layout.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Relative source paths keep the provenance in the picture the same on every machine.
process.chdir(root);

const host = importSources(['examples/hosts/epyc/dmesg.txt', 'examples/hosts/epyc/lspci.txt', 'examples/hosts/epyc/reserved_regions.txt'], { name: 'epyc' });
const layout = parseLayout(
  {
    placements: [
      { name: 'ram-low', iova: '0', size: '2G' },
      { name: 'fw', iova: '0xffff0000', size: '64K' },
      { name: 'doorbell', iova: '0xfee00000', size: '4K' },
      { name: 'ram-high', iova: '0x100000000', size: '1T' },
    ],
  },
  'big-guest.json',
);
const scene = sceneOfLayout(AddressSpace.build(host), layout, { title: 'A 1 TiB guest on an AMD EPYC host (iommufd)', file: 'big-guest.json' });

const base = join('examples', 'render-amd-big-guest');
const svg = `${renderSvg(scene)}\n`;
writeFileSync(`${base}.svg`, svg);
writeFileSync(`${base}.html`, renderHtml(scene));

const [width, height] = [/width="(\d+)"/, /height="(\d+)"/].map((re) => Number(re.exec(svg)?.[1]));
const chromium = process.env.CHROMIUM ?? 'chromium';
const profile = mkdtempSync(join(tmpdir(), 'iova-screenshot-'));
try {
  execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      `--screenshot=${resolve(`${base}.png`)}`,
      pathToFileURL(resolve(`${base}.svg`)).href,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
} finally {
  rmSync(profile, { recursive: true, force: true });
}
console.log(`wrote ${base}.svg, ${base}.html and ${base}.png (${width}×${height}): ${scene.summary}`);
