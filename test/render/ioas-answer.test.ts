/**
 * Pictures of IOAS answers (`sceneOfIoasAnswer`, `iova explain … -o`): the rejected map and every
 * fact the rejection involved are marked in the SVG's data attributes and with "!" in the text
 * map; the checked suggestion is drawn as a dashed placement; an accepted map has no conflict
 * marks. Expected ranges come from the fixture files themselves (the host's reserved regions,
 * the state's mappings), not from the code's output.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { hex } from '../../src/model/address.js';
import { readJsonFile } from '../../src/model/load.js';
import { parseIoasState } from '../../src/model/ioas-state.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { renderHtml, renderSvg, renderTxt, sceneOfIoasAnswer } from '../../src/render/index.js';
import { iova } from '../cli/run.js';
import { MOCK_APERTURE_LAST, MOCK_APERTURE_START, mockHost } from '../ioas/helpers.js';
import { allElements, child, findAll, parseXml, textOf, type XmlElement } from './xml.js';

const dir = join(import.meta.dirname, '..', 'ioas', 'fixtures');
const HOST = join(dir, 'amd-host.json');
const VM = join(dir, 'vm.json');

/** The host file's reserved regions and the state file's mappings, read as plain JSON. */
const hostJson = JSON.parse(readFileSync(HOST, 'utf8')) as { groups: Array<{ reservedRegions: Array<{ start: string; last: string; type: string }> }> };
const [MSI, HT] = hostJson.groups[0].reservedRegions.map((r) => ({ start: BigInt(r.start), last: BigInt(r.last), type: r.type }));
const vmJson = JSON.parse(readFileSync(VM, 'utf8')) as { mappings: Array<{ name: string; start: string }> };

function vm(): Ioas {
  const data = readJsonFile(VM);
  return Ioas.fromState(parseIoasState(data, VM));
}

function hostIoas(): Ioas {
  const ioas = Ioas.create(parseHostFacts(readJsonFile(HOST), HOST));
  const r = ioas.attach('0000:41:00.0');
  if (!r.ok) throw new Error('attach refused');
  return ioas;
}

/** Draw `ioas.map(request)` on a copy of the state before it. */
function answerScene(ioas: Ioas, request: { iova?: bigint; length: bigint; fixed: boolean }) {
  const before = ioas.clone();
  const answer = ioas.map(request);
  return { answer, scene: sceneOfIoasAnswer(before, { op: 'map', ...request }, answer) };
}

function marked(root: XmlElement): XmlElement[] {
  return allElements(root).filter((e) => e.name === 'g' && e.attrs['data-conflict'] === 'true');
}

describe('the picture of an IOAS answer', () => {
  it('marks a fixed map refused over the HyperTransport hole, the hole it touches, and draws the suggestion dashed', () => {
    const ioas = hostIoas();
    const { answer, scene } = answerScene(ioas, { iova: HT.start, length: 0x1_0000n, fixed: true });
    expect(answer.ok).toBe(false);
    const root = parseXml(renderSvg(scene));

    const requested = findAll(root, { 'data-kind': 'placement', 'data-state': 'wanted' }, 'g');
    expect(requested).toHaveLength(1);
    expect(requested[0].attrs).toMatchObject({ 'data-start': hex(HT.start), 'data-last': hex(HT.start + 0xffffn), 'data-conflict': 'true' });

    const holes = findAll(root, { 'data-kind': 'hole' }, 'g');
    const ht = holes.filter((h) => h.attrs['data-start'] === hex(HT.start) && h.attrs['data-last'] === hex(HT.last));
    expect(ht).toHaveLength(1);
    expect(ht[0].attrs['data-conflict']).toBe('true');
    // The involved fact keeps its provenance and its owner in the hover text.
    const tooltip = textOf(child(ht[0], 'title') as XmlElement);
    expect(tooltip).toContain('groups[0].reservedRegions[1]');
    expect(tooltip).toContain('0000:41:00.0');
    // The MSI window is drawn but not involved.
    const msi = holes.filter((h) => h.attrs['data-start'] === hex(MSI.start));
    expect(msi).toHaveLength(1);
    expect(msi[0].attrs['data-conflict']).toBe('false');

    // The conflict marks carry the errno, taken from the answer, not cut out of a sentence.
    const marks = findAll(root, { 'data-kind': 'conflict' }, 'g');
    expect(marks.length).toBeGreaterThan(0);
    for (const m of marks) expect(textOf(m)).toContain(`-${answer.ok ? '' : answer.errno}`);

    // The suggested map: dashed, not flagged, outside every reserved region, and accepted when applied.
    const suggested = findAll(root, { 'data-kind': 'placement', 'data-state': 'suggested' }, 'g');
    expect(suggested).toHaveLength(1);
    expect(suggested[0].attrs['data-conflict']).toBe('false');
    expect(child(suggested[0], 'rect')?.attrs['stroke-dasharray']).toBeDefined();
    const start = BigInt(suggested[0].attrs['data-start']);
    const last = BigInt(suggested[0].attrs['data-last']);
    for (const r of [MSI, HT]) expect(last < r.start || start > r.last).toBe(true);
    expect(hostIoas().map({ iova: start, length: last - start + 1n, fixed: true }).ok).toBe(true);
  });

  it('marks the existing mapping a fixed map overlaps (EEXIST), and only that one', () => {
    const { answer, scene } = answerScene(vm(), { iova: 0x1000_0000n, length: 0x1_0000n, fixed: true });
    expect(answer.ok).toBe(false);
    const root = parseXml(renderSvg(scene));
    const existing = findAll(root, { 'data-kind': 'existing' }, 'g');
    expect(existing.map((e) => e.attrs['data-name'])).toEqual(vmJson.mappings.map((m) => m.name));
    const low = existing.find((e) => e.attrs['data-start'] === hex(BigInt(vmJson.mappings[0].start)));
    expect(low?.attrs['data-conflict']).toBe('true');
    expect(existing.filter((e) => e.attrs['data-conflict'] === 'true')).toHaveLength(1);
    // No hole is involved in an overlap with a mapping.
    expect(findAll(root, { 'data-kind': 'hole', 'data-conflict': 'true' }, 'g')).toHaveLength(0);
  });

  it('marks the aperture hole a map outside the domain aperture falls in', () => {
    const ioas = Ioas.create(mockHost(1));
    expect(ioas.attach('0000:01:00.0').ok).toBe(true);
    const { answer, scene } = answerScene(ioas, { iova: MOCK_APERTURE_LAST + 1n, length: 0x1000n, fixed: true });
    expect(answer.ok).toBe(false);
    const root = parseXml(renderSvg(scene));
    // The window is the mock domain's aperture.
    const windows = findAll(root, { 'data-kind': 'window' }, 'g');
    expect(windows.map((w) => [w.attrs['data-start'], w.attrs['data-last']])).toEqual([[hex(MOCK_APERTURE_START), hex(MOCK_APERTURE_LAST)]]);
    const flagged = findAll(root, { 'data-kind': 'hole', 'data-conflict': 'true' }, 'g');
    expect(flagged).toHaveLength(1);
    expect(flagged[0].attrs['data-hole-kind']).toBe('aperture');
    expect(BigInt(flagged[0].attrs['data-start'])).toBe(MOCK_APERTURE_LAST + 1n);
  });

  it('draws an accepted map where it went, with no conflict marks', () => {
    const ioas = hostIoas();
    const { answer, scene } = answerScene(ioas, { iova: 0x4000_0000n, length: 0x20_0000n, fixed: true });
    expect(answer.ok).toBe(true);
    expect(scene.verdict).toBe('accepted');
    const root = parseXml(renderSvg(scene));
    expect(marked(root)).toHaveLength(0);
    expect(findAll(root, { 'data-kind': 'conflict' }, 'g')).toHaveLength(0);
    expect(findAll(root, { 'data-state': 'suggested' }, 'g')).toHaveLength(0);
    const placed = findAll(root, { 'data-kind': 'placement' }, 'g');
    expect(placed).toHaveLength(1);
    expect(placed[0].attrs).toMatchObject({ 'data-state': 'placed', 'data-start': '0x40000000', 'data-last': '0x401fffff', 'data-conflict': 'false' });
    // Both reserved regions are drawn.
    expect(findAll(root, { 'data-kind': 'hole' }, 'g').filter((h) => h.attrs['data-hole-kind'] === 'reserved-region')).toHaveLength(2);
    const txt = renderTxt(scene);
    expect(txt.split('\n').filter((l) => l.startsWith('!'))).toEqual([]);
    expect(txt).not.toContain('Conflicts and violations');
  });

  it('lists the rejected map and the involved fact with "!" in the text map, and the suggestion', () => {
    const { answer, scene } = answerScene(hostIoas(), { iova: HT.start, length: 0x1_0000n, fixed: true });
    if (answer.ok) throw new Error('expected a rejection');
    const txt = renderTxt(scene);
    const flagged = txt.split('\n').filter((l) => l.startsWith('!'));
    expect(flagged).toHaveLength(2);
    expect(flagged.some((l) => l.includes('0xfd_0000_0000') && l.includes('0xfd_0000_ffff') && l.includes('requested map'))).toBe(true);
    expect(flagged.some((l) => l.includes('0xff_ffff_ffff') && l.includes(`hole reserved-region ${HT.type}`))).toBe(true);
    expect(txt).toContain(`-${answer.errno} ${answer.rule}: `);
    expect(txt).toContain('Suggestions (each was checked to be accepted):');
    expect(txt).toContain(answer.suggestions[0].text.slice(0, 30));
    // The HTML page has the same facts in its tables and parses as the SVG does.
    expect(renderHtml(scene)).toContain('Suggestions (each was checked to be accepted)');
  });
});

describe('control characters from an IOAS state', () => {
  it('never reach the SVG or the text map raw', () => {
    const state = parseIoasState(
      {
        host: { name: 'h\u001b[31m', platform: 'intel-vtd', devices: [{ id: '03:00.0' }] },
        policy: 'iommufd',
        attached: ['03:00.0'],
        mappings: [{ name: 'ram\u001b]0;owned\u0007', start: '0x0', size: '1M', va: '0x7f0000000000' }],
      },
      'state.json',
    );
    const { answer, scene } = answerScene(Ioas.fromState(state), { iova: 0x8_0000n, length: 0x1000n, fixed: true });
    expect(answer.ok).toBe(false);
    const svgText = renderSvg(scene);
    // parseXml refuses any character XML 1.0 does not allow, raw or as a reference.
    const root = parseXml(svgText);
    expect(findAll(root, { 'data-kind': 'existing', 'data-conflict': 'true' }, 'g')).toHaveLength(1);
    const controls = /[\u0000-\u0008\u000b-\u001f\u007f]/;
    expect(controls.test(svgText)).toBe(false);
    expect(controls.test(renderTxt(scene))).toBe(false);
    expect(controls.test(renderHtml(scene))).toBe(false);
  });
});

describe('iova explain -o', () => {
  it('writes the picture of a rejected map and still prints the answer', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iova-explain-')), 'answer.svg');
    const { code, out } = await iova('explain', 'map', VM, '--iova', '0x10000000', '--length', '64K', '-o', file);
    expect(code).toBe(1);
    expect(out).toContain('REJECTED (-EEXIST)');
    const root = parseXml(readFileSync(file, 'utf8'));
    expect(findAll(root, { 'data-kind': 'existing', 'data-name': vmJson.mappings[0].name, 'data-conflict': 'true' }, 'g')).toHaveLength(1);
    expect(findAll(root, { 'data-kind': 'placement', 'data-state': 'wanted', 'data-conflict': 'true' }, 'g')).toHaveLength(1);
  });

  it('keeps --json output plain JSON when the picture goes to a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iova-explain-')), 'answer.txt');
    const { code, out } = await iova('explain', 'map', HOST, '--iova', '0xfd00000000', '--length', '64K', '--json', '-o', file);
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ accepted: false, errno: 'EINVAL', rule: 'reserved-overlap' });
    const txt = readFileSync(file, 'utf8');
    expect(txt.split('\n').filter((l) => l.startsWith('!'))).toHaveLength(2);
  });

  it('writes the text map to standard output with -o -, exit code as the answer', async () => {
    const rejected = await iova('explain', 'map', HOST, '--iova', '0xfd00000000', '--length', '64K', '-o', '-', '--format', 'txt');
    expect(rejected.code).toBe(1);
    expect(rejected.out).toContain('Address map');
    expect(rejected.out).not.toContain('REJECTED');
    const accepted = await iova('explain', 'map', HOST, '--iova', '0x40000000', '--length', '2M', '-o', '-', '--format', 'txt');
    expect(accepted.code).toBe(0);
    expect(accepted.out.split('\n').filter((l) => l.startsWith('!'))).toEqual([]);
  });

  it('refuses an unknown picture format as bad input', async () => {
    const { code, err } = await iova('explain', 'map', HOST, '--iova', '0x40000000', '--length', '2M', '-o', 'x.png');
    expect(code).toBe(2);
    expect(err).toContain('.svg, .html or .txt');
  });
});

describe('the picture of a refused attach', () => {
  it('draws the reserved region the device would bring, flagged with the mapping in its way', () => {
    const ioas = Ioas.create(parseHostFacts(readJsonFile(HOST), HOST));
    expect(ioas.map({ iova: MSI.start, length: 0x1000n, fixed: true, name: 'doorbell' }).ok).toBe(true);
    const before = ioas.clone();
    const answer = ioas.attach('0000:41:00.0');
    expect(answer.ok).toBe(false);
    const root = parseXml(renderSvg(sceneOfIoasAnswer(before, { op: 'attach', device: '0000:41:00.0' }, answer)));
    const flagged = findAll(root, { 'data-kind': 'hole', 'data-conflict': 'true' }, 'g');
    expect(flagged.map((h) => [h.attrs['data-start'], h.attrs['data-last'], h.attrs['data-type']])).toEqual([[hex(MSI.start), hex(MSI.last), MSI.type]]);
    expect(findAll(root, { 'data-kind': 'existing', 'data-name': 'doorbell', 'data-conflict': 'true' }, 'g')).toHaveLength(1);
  });
});
