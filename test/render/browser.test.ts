/**
 * The rendered pages in a real browser: Debian's headless Chromium, driven over the DevTools
 * pipe (see chromium.ts). Each page must load with no console error, exception, CSP violation
 * or network request, and the live DOM must hold one element per hole and placement with the
 * scene's data attributes; hovering an element shows its full provenance.
 *
 * CI installs Chromium (.ci/run), so there a missing browser fails the test. Elsewhere the
 * test is skipped, loudly, when Chromium is absent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/model/address-space.js';
import { hex } from '../../src/model/address.js';
import { renderHtml, renderSvg, type Scene, sceneOfLayout, sceneOfSolution, sceneOfSpace } from '../../src/render/index.js';
import { parseLayout } from '../../src/solver/layout.js';
import { solve } from '../../src/solver/solve.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { Browser, findChromium, type Page } from './chromium.js';
import { bigGuestLayout, epycHost, richHostInput, richSpace } from './fixtures.js';

const chromium = findChromium();
const MISSING = `chromium is not installed (looked for ${process.env.CHROMIUM ?? '/usr/bin/chromium'}): install it with \`apt-get install -y chromium\``;

if (!chromium && !process.env.CI) {
  console.warn(`\n*** SKIPPING the browser test of iova render: ${MISSING}. CI installs it and runs this test. ***\n`);
}

describe('chromium is available', () => {
  it.runIf(process.env.CI)('in CI', () => {
    expect(chromium, MISSING).toBeDefined();
  });
});

interface Rendered {
  name: string;
  scene: Scene;
  html: string;
  svg: string;
}

async function scenes(): Promise<Array<{ name: string; scene: Scene }>> {
  const unsat = parsePlacementSpec(
    { host: richHostInput, devices: ['0000:03:00.0'], requests: [{ name: 'doorbell', size: '2M', fixed: '0xfee00000' }, { name: 'ok', size: '4K', fixed: '0x10000000' }] },
    'unsat.json',
  );
  const sat = parsePlacementSpec({ host: richHostInput, devices: ['0000:03:00.0'], requests: [{ name: 'ram', size: '1G', align: '1G' }, { name: 'ring', size: '4K' }] }, 'sat.json');
  return [
    { name: 'epyc-layout', scene: sceneOfLayout(AddressSpace.build(epycHost()), parseLayout(bigGuestLayout, 'big-guest.json')) },
    { name: 'rich-dma-iommu', scene: sceneOfSpace(richSpace('dma-iommu')) },
    { name: 'unsat', scene: sceneOfSolution(unsat, await solve(unsat)) },
    { name: 'sat', scene: sceneOfSolution(sat, await solve(sat)) },
  ];
}

interface DomItem {
  kind: string;
  holeKind: string | null;
  type: string | null;
  name: string | null;
  start: string | null;
  last: string | null;
  conflict: string | null;
  width: number;
}

const ITEMS = `[...document.querySelectorAll('svg [data-kind="hole"], svg [data-kind="placement"]')].map((e) => ({
  kind: e.getAttribute('data-kind'),
  holeKind: e.getAttribute('data-hole-kind'),
  type: e.getAttribute('data-type'),
  name: e.getAttribute('data-name'),
  start: e.getAttribute('data-start'),
  last: e.getAttribute('data-last'),
  conflict: e.getAttribute('data-conflict'),
  width: e.querySelector('rect').getBoundingClientRect().width,
}))`;

function expectedItems(scene: Scene): Array<Omit<DomItem, 'width'>> {
  return [
    ...scene.holes.map((h) => ({ kind: 'hole', holeKind: h.kind, type: h.type, name: null, start: hex(h.start), last: hex(h.last), conflict: String(h.conflict) })),
    ...scene.placements.map((p) => ({ kind: 'placement', holeKind: null, type: null, name: p.name, start: hex(p.start), last: hex(p.last), conflict: String(p.conflict) })),
  ];
}

describe.skipIf(!chromium)('iova render pages in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const rendered: Rendered[] = [];
  const url = (name: string) => pathToFileURL(join(dir, name)).href;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iova-render-browser-'));
    for (const { name, scene } of await scenes()) {
      const r = { name, scene, html: renderHtml(scene), svg: renderSvg(scene) };
      writeFileSync(join(dir, `${name}.html`), r.html);
      writeFileSync(join(dir, `${name}.svg`), r.svg);
      rendered.push(r);
    }
    browser = await Browser.launch(chromium as string);
    page = await browser.newPage();
    await page.send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 1000, deviceScaleFactor: 1, mobile: false });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Load a file and check that it produced no error and fetched nothing but itself. */
  async function load(name: string): Promise<void> {
    page.log.errors.length = 0;
    page.log.requests.length = 0;
    await page.goto(url(name));
    expect(page.log.errors, `errors while loading ${name}`).toEqual([]);
    expect(page.log.requests.filter((u) => u !== url(name))).toEqual([]);
  }

  it('loads every HTML page without errors, with one element per hole and placement', async () => {
    for (const r of rendered) {
      await load(`${r.name}.html`);
      const items = await page.evaluate<DomItem[]>(ITEMS);
      expect(items.map(({ width: _, ...rest }) => rest), r.name).toEqual(expectedItems(r.scene));
      // Every element is drawn, and none is thinner than the minimum segment.
      for (const item of items) expect(item.width, `${r.name}: ${item.kind} ${item.start}`).toBeGreaterThanOrEqual(14);
      const counts = await page.evaluate<{ rows: number; conflicts: number; svgWidth: number }>(`({
        rows: document.querySelectorAll('tr[data-row="hole"], tr[data-row="placement"]').length,
        conflicts: document.querySelectorAll('svg [data-conflict="true"]').length,
        svgWidth: document.querySelector('svg').getBoundingClientRect().width,
      })`);
      expect(counts.rows).toBe(r.scene.holes.length + r.scene.placements.length);
      const flagged = r.scene.holes.filter((h) => h.conflict).length + r.scene.placements.filter((p) => p.conflict).length + r.scene.existing.filter((m) => m.conflict).length;
      const marks = new Set(r.scene.conflicts.flatMap((c) => c.ranges.map((x) => `${x.start}:${x.last}`))).size;
      expect(counts.conflicts).toBe(flagged + marks);
      expect(counts.svgWidth).toBe(1280);
    }
  });

  it('loads the standalone SVG files without errors', async () => {
    for (const r of rendered) {
      await load(`${r.name}.svg`);
      const items = await page.evaluate<DomItem[]>(ITEMS);
      expect(items).toHaveLength(r.scene.holes.length + r.scene.placements.length);
    }
  });

  it('shows the full provenance of the hovered hole in the details panel', async () => {
    const r = rendered.find((x) => x.name === 'epyc-layout') as Rendered;
    await load('epyc-layout.html');
    const index = r.scene.holes.findIndex((h) => h.type === 'direct');
    const box = await page.evaluate<{ x: number; y: number; width: number; height: number }>(`(() => {
      const el = document.querySelectorAll('svg [data-kind="hole"]')[${index}].querySelector('rect');
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const b = el.getBoundingClientRect();
      return { x: b.x, y: b.y, width: b.width, height: b.height };
    })()`);
    await page.hover(box.x + box.width / 2, box.y + box.height / 2);
    const details = await page.evaluate<string>(`document.getElementById('details-text').textContent`);
    expect(details).toContain(r.scene.holes[index].provenance);
    expect(details).toContain('0xa8f0_0000–0xa8ff_ffff (1 MiB)');
    expect(page.log.errors).toEqual([]);
  });

  it('shows a placement when its table row is clicked, and after keyboard focus', async () => {
    await load('epyc-layout.html');
    const box = await page.evaluate<{ x: number; y: number }>(`(() => {
      const row = document.querySelector('tr[data-row="placement"][data-ref="placement-1"]');
      row.scrollIntoView({ block: 'center' });
      const b = row.getBoundingClientRect();
      return { x: b.x + 10, y: b.y + b.height / 2 };
    })()`);
    await page.click(box.x, box.y);
    const clicked = await page.evaluate<{ text: string; active: string | null }>(
      `({ text: document.getElementById('details-text').textContent, active: document.activeElement.getAttribute('data-name') })`,
    );
    expect(clicked.text).toMatch(/^placement ram-high\n0x1_0000_0000–0x100_ffff_ffff \(1 TiB\)/);
    expect(clicked.active).toBe('ram-high');
    const focused = await page.evaluate<string>(`(() => {
      document.querySelector('svg [data-kind="placement"][data-name="msi-doorbell"]').focus();
      return document.getElementById('details-text').textContent;
    })()`);
    expect(focused).toContain('placement msi-doorbell');
    expect(page.log.errors).toEqual([]);
  });
});
