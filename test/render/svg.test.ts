import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/model/address-space.js';
import { hex } from '../../src/model/address.js';
import { describeProvenance } from '../../src/model/provenance.js';
import { overlaps } from '../../src/model/range.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { HOLE_CATEGORIES, renderHtml, renderSvg, type Scene, sceneOfLayout, sceneOfSolution, sceneOfSpace } from '../../src/render/index.js';
import { parseLayout } from '../../src/solver/layout.js';
import { solve } from '../../src/solver/solve.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { bigGuestLayout, epycHost, richHostInput, richSpace } from './fixtures.js';
import { allElements, child, findAll, parseXml, textOf, type XmlElement } from './xml.js';

function svg(scene: Scene): XmlElement {
  return parseXml(renderSvg(scene));
}

function bar(g: XmlElement): { x: number; y: number; width: number } {
  const rect = child(g, 'rect');
  if (!rect) throw new Error('item without a rect');
  return { x: Number(rect.attrs.x), y: Number(rect.attrs.y), width: Number(rect.attrs.width) };
}

function titleOf(g: XmlElement): string {
  const t = child(g, 'title');
  return t ? textOf(t) : '';
}

async function solved(requests: unknown[], extra: Record<string, unknown> = {}) {
  const problem = parsePlacementSpec({ host: richHostInput, devices: ['0000:03:00.0'], requests, ...extra }, 'spec.json');
  return { problem, result: await solve(problem) };
}

function epycLayoutScene(): Scene {
  const layout = parseLayout(bigGuestLayout, 'big-guest.json');
  return sceneOfLayout(AddressSpace.build(epycHost(), {}), layout);
}

describe('SVG of an address space', () => {
  for (const policy of ['iommufd', 'dma-iommu'] as const) {
    it(`is well-formed XML with every hole, window and usable range (${policy})`, () => {
      const space = richSpace(policy);
      const root = svg(sceneOfSpace(space));
      expect(root.name).toBe('svg');
      expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
      const holes = findAll(root, { 'data-kind': 'hole' }, 'g');
      expect(holes).toHaveLength(space.holes.length);
      space.holes.forEach((h, i) => {
        expect(holes[i].attrs).toMatchObject({
          'data-hole-kind': h.kind,
          'data-type': h.type,
          'data-start': hex(h.start),
          'data-last': hex(h.last),
          'data-conflict': 'false',
        });
        expect(titleOf(holes[i])).toContain(describeProvenance(h.source));
      });
      expect(findAll(root, { 'data-kind': 'window' }, 'g')).toHaveLength(space.windows.ranges.length);
      expect(findAll(root, { 'data-kind': 'usable' }, 'g')).toHaveLength(space.usable.ranges.length);
      expect(findAll(root, { 'data-kind': 'placement' })).toHaveLength(0);
      expect(textOf(root)).toContain('scale: segmented, not linear');
    });
  }

  it('colours every hole category, with a legend entry for each one shown', () => {
    const seen = new Set<string>();
    for (const policy of ['iommufd', 'dma-iommu'] as const) {
      const scene = sceneOfSpace(richSpace(policy));
      const root = svg(scene);
      for (const h of scene.holes) {
        seen.add(h.category);
        expect(findAll(root, { 'data-legend': h.category })).toHaveLength(1);
      }
      // One colour per category.
      const fills = new Map<string, string>();
      for (const [i, g] of findAll(root, { 'data-kind': 'hole' }, 'g').entries()) {
        const fill = child(g, 'rect')?.attrs.fill as string;
        const category = scene.holes[i].category;
        expect(fills.get(category) ?? fill).toBe(fill);
        fills.set(category, fill);
      }
      expect(new Set(fills.values()).size).toBe(fills.size);
    }
    expect([...seen].sort()).toEqual([...HOLE_CATEGORIES].sort());
  });

  it('keeps a 4 KiB RMRR visible next to a 16 EiB aperture hole', () => {
    const root = svg(sceneOfSpace(richSpace('iommufd')));
    const holes = findAll(root, { 'data-kind': 'hole' }, 'g');
    const rmrr = holes.find((g) => g.attrs['data-start'] === '0xe8000') as XmlElement;
    const aperture = holes.find((g) => g.attrs['data-hole-kind'] === 'aperture') as XmlElement;
    expect(bar(rmrr).width).toBeGreaterThanOrEqual(14);
    expect(bar(aperture).width).toBeGreaterThan(bar(rmrr).width);
    for (const g of holes) expect(bar(g).width).toBeGreaterThanOrEqual(14);
  });

  it('stacks overlapping holes in separate lanes (a peer BAR inside its bridge window, two groups’ MSI windows)', () => {
    for (const scene of [sceneOfSpace(richSpace('iommufd')), sceneOfSpace(AddressSpace.build(epycHost()))]) {
      const holes = findAll(svg(scene), { 'data-kind': 'hole' }, 'g');
      let pairs = 0;
      for (let i = 0; i < holes.length; i++) {
        for (let j = i + 1; j < holes.length; j++) {
          if (!overlaps(scene.holes[i], scene.holes[j])) continue;
          pairs++;
          expect(bar(holes[i]).y).not.toBe(bar(holes[j]).y);
        }
      }
      expect(pairs).toBeGreaterThan(0);
    }
  });

  it('labels boundaries in grouped hex and marks the scale breaks', () => {
    const root = svg(sceneOfSpace(richSpace('iommufd')));
    const labels = findAll(root, { class: 'address' }, 'text').map(textOf);
    expect(labels).toContain('0x0');
    expect(labels).toContain('0xe_8000');
    expect(labels).toContain('0xfee0_0000');
    expect(labels).toContain('0x1_0000_0000_0000_0000');
    expect(findAll(root, { class: 'break' }, 'path').length).toBe(labels.length - 2);
  });

  it('escapes names and provenance that contain markup characters', () => {
    const host = parseHostFacts({ ...richHostInput, name: 'a<b>&"c"' }, 'odd.json');
    const space = AddressSpace.build(host, { devices: ['0000:03:00.0'] });
    const root = svg(sceneOfSpace(space, { title: 'map of <a & b>' }));
    expect(textOf(root)).toContain('map of <a & b>');
    expect(textOf(root)).toContain('a<b>&"c"');
  });

  it('draws a space with hundreds of holes (the scale falls back to equal widths)', () => {
    const regions = Array.from({ length: 300 }, (_, i) => ({ start: hex(BigInt(i) * 0x10000n + 0x100000n), size: '4K', type: 'reserved' }));
    const host = parseHostFacts({ name: 'many', reservedRegions: regions }, 'many.json');
    const space = AddressSpace.build(host);
    const root = svg(sceneOfSpace(space));
    expect(findAll(root, { 'data-kind': 'hole' }, 'g')).toHaveLength(space.holes.length);
  });
});

describe('SVG of a solved spec', () => {
  it('draws every placement with its name and size when sat', async () => {
    const { problem, result } = await solved([
      { name: 'ram', size: '1G', align: '1G' },
      { name: 'ring', size: '4K' },
    ]);
    expect(result.status).toBe('sat');
    const scene = sceneOfSolution(problem, result);
    const root = svg(scene);
    const placed = findAll(root, { 'data-kind': 'placement' }, 'g');
    expect(placed.map((g) => g.attrs['data-name'])).toEqual(['ram', 'ring']);
    if (result.status !== 'sat') return;
    result.placements.forEach((p, i) => {
      expect(placed[i].attrs).toMatchObject({ 'data-start': hex(p.iova), 'data-last': hex(p.last), 'data-size': hex(p.size), 'data-state': 'placed', 'data-conflict': 'false' });
    });
    const labels = placed.map((g) => textOf(child(g, 'text') as XmlElement));
    expect(labels).toEqual(['ram (1 GiB)', 'ring (4 KiB)']);
    expect(findAll(root, { 'data-conflict': 'true' })).toHaveLength(0);
  });

  it('highlights what the conflict names when unsat, and draws fixed requests where they are pinned', async () => {
    const { problem, result } = await solved([
      { name: 'doorbell', size: '2M', fixed: '0xfee00000' },
      { name: 'ok', size: '4K', fixed: '0x10000000' },
    ]);
    expect(result.status).toBe('unsat');
    const scene = sceneOfSolution(problem, result);
    const root = svg(scene);
    const placements = findAll(root, { 'data-kind': 'placement' }, 'g');
    expect(placements.map((g) => [g.attrs['data-name'], g.attrs['data-state'], g.attrs['data-conflict']])).toEqual([
      ['doorbell', 'wanted', 'true'],
      ['ok', 'wanted', 'false'],
    ]);
    const flagged = findAll(root, { 'data-kind': 'hole', 'data-conflict': 'true' }, 'g');
    expect(flagged.map((g) => [g.attrs['data-type'], g.attrs['data-start']])).toEqual([['msi', '0xfee00000']]);
    const marks = findAll(root, { 'data-kind': 'conflict' }, 'g');
    expect(marks.map((g) => [g.attrs['data-start'], g.attrs['data-last'], g.attrs['data-conflict']])).toEqual([
      ['0xfee00000', '0xfeefffff', 'true'],
      ['0xfee00000', '0xfeffffff', 'true'],
    ]);
    expect(textOf(root)).toContain('Conflict 1:');
    expect(textOf(root)).toMatch(/unsat: 1 conflict/);
  });
});

describe('SVG of a layout', () => {
  it('highlights the placements and holes each violation names', () => {
    const scene = epycLayoutScene();
    expect(scene.summary).toBe('rejected: 4 violations');
    const root = svg(scene);
    const placements = findAll(root, { 'data-kind': 'placement' }, 'g');
    expect(Object.fromEntries(placements.map((g) => [g.attrs['data-name'], g.attrs['data-conflict']]))).toEqual({
      'ram-low': 'false',
      'ram-high': 'true',
      'msi-doorbell': 'true',
      fw: 'false',
    });
    const flagged = findAll(root, { 'data-kind': 'hole', 'data-conflict': 'true' }, 'g');
    expect(flagged.map((g) => g.attrs['data-type']).sort()).toEqual(['msi', 'msi', 'reserved', 'reserved']);
    // The 4 KiB doorbell placement is drawn at least the minimum width.
    const doorbell = placements.find((g) => g.attrs['data-name'] === 'msi-doorbell') as XmlElement;
    expect(bar(doorbell).width).toBeGreaterThanOrEqual(14);
    expect(textOf(root)).toContain('Violation 4:');
  });

  it('accepts a layout that fits, with nothing flagged', () => {
    const layout = parseLayout({ placements: [{ name: 'ram-low', iova: '0', size: '2G' }] });
    const scene = sceneOfLayout(AddressSpace.build(epycHost()), layout);
    expect(scene.verdict).toBe('accepted');
    expect(findAll(svg(scene), { 'data-conflict': 'true' })).toHaveLength(0);
  });
});

describe('output', () => {
  async function everyScene(): Promise<Scene[]> {
    const sat = await solved([{ name: 'ram', size: '1G', align: '1G' }]);
    const unsat = await solved([{ name: 'doorbell', size: '2M', fixed: '0xfee00000' }]);
    return [
      sceneOfSpace(richSpace('dma-iommu')),
      sceneOfSpace(AddressSpace.build(epycHost())),
      sceneOfSolution(sat.problem, sat.result),
      sceneOfSolution(unsat.problem, unsat.result),
      epycLayoutScene(),
    ];
  }

  it('is byte-identical when rendered twice from fresh inputs', async () => {
    const [a, b] = [await everyScene(), await everyScene()];
    for (let i = 0; i < a.length; i++) {
      expect(renderSvg(a[i])).toBe(renderSvg(b[i]));
      expect(renderHtml(a[i])).toBe(renderHtml(b[i]));
    }
  });

  it('fetches nothing: no external references, only the inline hatch pattern', async () => {
    for (const scene of await everyScene()) {
      for (const text of [renderSvg(scene), renderHtml(scene)]) {
        expect(text.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:|\/\/[a-z]/i);
        expect(text).not.toMatch(/\bhref=|\bsrc=|@import|<link\b|xlink/i);
        expect(text.match(/url\([^)]*\)/g) ?? []).toSatisfy((urls: string[]) => urls.every((u) => u === 'url(#iova-hatch)'));
        expect(text).not.toMatch(/NaN|undefined|Infinity/);
      }
    }
  });

  it('HTML: the same SVG inline, a details panel, tables of holes and placements, provenance in full', async () => {
    const scene = epycLayoutScene();
    const html = renderHtml(scene);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(renderSvg(scene));
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(html).toContain('id="details-text"');
    const map = parseXml(html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6));
    expect(findAll(map, { 'data-kind': 'hole' }, 'g')).toHaveLength(scene.holes.length);
    expect(findAll(map, { 'data-kind': 'placement' }, 'g')).toHaveLength(scene.placements.length);
    // Each table row points at an element of the map.
    const refs = new Set(allElements(map).map((e) => e.attrs['data-ref']).filter(Boolean));
    const rows = [...html.matchAll(/<tr data-row="(hole|placement)" data-ref="([^"]+)"/g)];
    expect(rows).toHaveLength(scene.holes.length + scene.placements.length);
    for (const [, , ref] of rows) expect(refs.has(ref)).toBe(true);
    const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    for (const h of scene.holes) expect(unescape(html)).toContain(h.provenance);
    expect(html).toContain('<h2>Violations</h2>');
  });
});
