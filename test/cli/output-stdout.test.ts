/**
 * `-o -` writes a command's output to standard output, as `-` reads standard input: for every
 * command that has `-o` (import, solve, render, schema), and never a file named `-`.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLayout } from '../../src/solver/layout.js';
import { iova } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'iova-o-stdout-'));
const HOST = { name: 'w', iommu: { apertures: [{ start: 0, last: '0xffffffff' }], pageSizes: ['4K'] } };
const spec = join(dir, 'spec.json');
writeFileSync(spec, JSON.stringify({ host: HOST, requests: [{ name: 'a', size: '8K' }, { name: 'b', size: '1M', align: '1M' }] }));
const regions = join(dir, 'reserved_regions');
writeFileSync(regions, '0x00000000fee00000 0x00000000feefffff msi\n');

describe('-o - is standard output', () => {
  it('schema: the same text as without -o', async () => {
    const plain = await iova('schema', 'host');
    const dash = await iova('schema', 'host', '-o', '-');
    expect(dash.code).toBe(0);
    expect(dash.out).toBe(plain.out);
    expect(JSON.parse(dash.out)).toHaveProperty('$schema');
  });

  it('import: the host file on standard output; --json with -o - is refused (both would go there)', async () => {
    const plain = await iova('import', regions, '--name', 'h');
    const dash = await iova('import', regions, '--name', 'h', '-o', '-');
    expect(dash.code).toBe(0);
    expect(dash.out).toBe(plain.out);
    expect(JSON.parse(dash.out).name).toBe('h');
    const both = await iova('import', regions, '-o', '-', '--json');
    expect(both.code).toBe(2);
    expect(both.out).toBe('');
  });

  it('solve: the layout on standard output, the answer on standard error; --json with -o - is refused', async () => {
    const run = await iova('solve', spec, '-o', '-');
    expect(run.code).toBe(0);
    const layout = parseLayout(JSON.parse(run.out));
    expect(layout.placements.map((p) => p.name)).toEqual(['a', 'b']);
    expect(run.err).toMatch(/^sat: 2 placements/);
    // The same layout as -o FILE writes.
    const file = join(dir, 'layout.json');
    expect((await iova('solve', spec, '-o', file)).code).toBe(0);
    expect(run.out).toBe(readFileSync(file, 'utf8').trimEnd());
    const both = await iova('solve', spec, '-o', '-', '--json');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/-o - writes the layout to standard output/);
  });

  it('render: the picture on standard output (svg by default, or --format), no "wrote" line', async () => {
    const svg = await iova('render', spec, '-o', '-');
    expect(svg.code).toBe(0);
    expect(svg.out).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(svg.out).toBe((await iova('render', spec)).out);
    const txt = await iova('render', spec, '--format', 'txt', '-o', '-');
    expect(txt.code).toBe(0);
    expect(txt.out).not.toMatch(/<svg|wrote/);
    expect(txt.out).toBe((await iova('render', spec, '--format', 'txt')).out);
  });

  it('never writes a file named "-"', () => {
    expect(existsSync(join(process.cwd(), '-'))).toBe(false);
  });
});
