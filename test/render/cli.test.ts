import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectInputKind } from '../../src/cli/commands/render.js';
import { iova } from '../cli/run.js';
import { bigGuestLayout, EPYC_SOURCES, richHostInput } from './fixtures.js';
import { findAll, parseXml, textOf } from './xml.js';

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iova-render-'));
  writeFileSync(file('host.json'), JSON.stringify(richHostInput));
  writeFileSync(file('sat.json'), JSON.stringify({ host: 'host.json', devices: ['0000:03:00.0'], requests: [{ name: 'ram', size: '1G', align: '1G' }] }));
  writeFileSync(file('unsat.json'), JSON.stringify({ host: 'host.json', devices: ['0000:03:00.0'], requests: [{ name: 'doorbell', size: '2M', fixed: '0xfee00000' }] }));
  writeFileSync(file('layout.json'), JSON.stringify(bigGuestLayout));
  writeFileSync(file('broken.json'), '{ "requests": [ }');
  writeFileSync(file('bad-spec.json'), JSON.stringify({ host: 'host.json', requests: [{ name: 'x', size: '3K', align: '3K' }] }));
  writeFileSync(file('list.json'), '[1, 2]');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('detectInputKind', () => {
  it('tells specs, layouts and hosts apart by content', () => {
    expect(detectInputKind({ host: 'h.json', requests: [] })).toBe('spec');
    expect(detectInputKind({ placements: [] })).toBe('layout');
    expect(detectInputKind({ status: 'sat', placements: [], conflicts: [] })).toBe('layout');
    expect(detectInputKind({ name: 'h', groups: [] })).toBe('host');
    expect(detectInputKind([1])).toBe('host');
    expect(detectInputKind(null)).toBe('host');
  });
});

describe('iova render', () => {
  it('draws a host file as SVG', async () => {
    const r = await iova('render', file('host.json'), '--devices', '0000:03:00.0', '-o', file('host.svg'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*host\.svg \(host: \d+ usable ranges, \d+ holes\)$/);
    const root = parseXml(readFileSync(file('host.svg'), 'utf8'));
    expect(findAll(root, { 'data-kind': 'hole' }).length).toBeGreaterThan(3);
  });

  it('imports raw sources like `iova ranges` does', async () => {
    const r = await iova('render', ...EPYC_SOURCES, '-o', file('epyc.svg'));
    expect(r.code).toBe(0);
    const root = parseXml(readFileSync(file('epyc.svg'), 'utf8'));
    expect(findAll(root, { 'data-kind': 'hole', 'data-type': 'msi' })).toHaveLength(2);
  });

  it('applies --policy and --dma-api-holes to a host', async () => {
    const r = await iova('render', file('host.json'), '--devices', '0000:03:00.0', '--policy', 'dma-iommu');
    expect(r.code).toBe(0);
    const root = parseXml(r.out);
    expect(findAll(root, { 'data-kind': 'hole', 'data-hole-kind': 'dma-mask' })).toHaveLength(1);
    const off = parseXml((await iova('render', file('host.json'), '--devices', '0000:03:00.0', '--policy', 'dma-iommu', '--no-dma-api-holes')).out);
    expect(findAll(off, { 'data-kind': 'hole', 'data-hole-kind': 'dma-api' })).toHaveLength(0);
  });

  it('solves a spec and draws the placements (SVG on stdout without -o), with --title', async () => {
    const r = await iova('render', file('sat.json'), '--title', 'guest <1>');
    expect(r.code).toBe(0);
    const root = parseXml(r.out);
    expect(findAll(root, { 'data-kind': 'placement', 'data-name': 'ram' })).toHaveLength(1);
    expect(textOf(root)).toContain('guest <1>');
  });

  it('draws a spec on another host with --host, and under another policy with --policy', async () => {
    writeFileSync(file('anywhere.json'), JSON.stringify({ host: 'host.json', requests: [{ name: 'ram', size: '1G', align: '1G' }] }));
    const r = await iova('render', file('anywhere.json'), '--host', EPYC_SOURCES[2], '--policy', 'dma-iommu');
    expect(r.code).toBe(0);
    const root = parseXml(r.out);
    // The EPYC reserved_regions: two groups' MSI windows, and page 0 that dma-iommu keeps.
    expect(findAll(root, { 'data-kind': 'hole', 'data-type': 'msi' })).toHaveLength(2);
    expect(findAll(root, { 'data-kind': 'hole', 'data-hole-kind': 'iova-zero' })).toHaveLength(1);
    expect(findAll(root, { 'data-kind': 'placement', 'data-name': 'ram' })).toHaveLength(1);
  });

  it('draws an unsat spec with its conflict highlighted, as HTML', async () => {
    const r = await iova('render', file('unsat.json'), '-o', file('unsat.html'));
    expect(r.code).toBe(1); // written, and the exit code says what it shows
    expect(r.out).toContain('(spec: unsat: 1 conflict)');
    const html = readFileSync(file('unsat.html'), 'utf8');
    const map = parseXml(html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6));
    expect(findAll(map, { 'data-kind': 'placement', 'data-name': 'doorbell', 'data-conflict': 'true' })).toHaveLength(1);
    expect(findAll(map, { 'data-kind': 'hole', 'data-type': 'msi', 'data-conflict': 'true' })).toHaveLength(1);
  });

  it('draws a layout on --host with its violations', async () => {
    const r = await iova('render', file('layout.json'), '--host', EPYC_SOURCES[0], '--host', EPYC_SOURCES[1], '--host', EPYC_SOURCES[2], '--format', 'html', '-o', file('layout.out'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('(layout: rejected: 4 violations)');
    expect(readFileSync(file('layout.out'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('is deterministic through the CLI', async () => {
    await iova('render', file('layout.json'), '--host', file('host.json'), '-o', file('a.html'));
    await iova('render', file('layout.json'), '--host', file('host.json'), '-o', file('b.html'));
    expect(readFileSync(file('a.html'), 'utf8')).toBe(readFileSync(file('b.html'), 'utf8'));
  });

  it('has help', async () => {
    const r = await iova('render', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: iova render /);
    expect((await iova('--help')).out).toMatch(/\n {2}render {8}draw a host, spec or layout/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['no input', [], /nothing to draw/],
    ['a missing file', ['missing.json'], /cannot read: ENOENT/],
    ['broken JSON', ['broken.json'], /not valid JSON/],
    ['JSON that is no host, spec or layout', ['list.json'], /list\.json/],
    ['an invalid spec', ['bad-spec.json'], /power of two/],
    ['a layout without --host', ['layout.json'], /needs? .*--host|give --host/],
    ['--host with a host input', ['host.json', '--host', 'host.json'], /--host is for a spec or a layout/],
    ['an unknown output extension', ['host.json', '-o', 'map.png'], /cannot tell the format/],
    ['an unknown --format', ['host.json', '--format', 'pdf'], /--format must be svg, html or txt, not "pdf"/],
    ['an unknown policy', ['host.json', '--policy', 'nope'], /unknown policy/],
    ['an unknown device', ['host.json', '--devices', '0000:99:00.0'], /not in host/],
    ['an unknown option', ['host.json', '--colour'], /Unknown option/],
    ['a silly width', ['host.json', '--width', '12'], /--width/],
  ];
  it.each(bad)('rejects %s with exit 2 and no stack trace', async (_what, args, message) => {
    const r = await iova('render', ...args.map((a) => (/\.json$/.test(a) ? file(a) : a)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('reports an unwritable output file as bad input', async () => {
    const r = await iova('render', file('host.json'), '-o', join(dir, 'no-such-dir', 'x.svg'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write: ENOENT/);
  });
});
