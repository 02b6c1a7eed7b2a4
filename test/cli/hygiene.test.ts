/**
 * Output hygiene: control characters from input reach no terminal and no picture unescaped,
 * SVG stays well-formed XML, and a closed pipe ends the command quietly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeControls, escapeTerminal } from '../../src/model/escape.js';
import { parseXml } from '../render/xml.js';
import { iova } from './run.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'iova-hygiene-'));

/** What a hostile name may hold: CSI colour, clear screen, BEL, CR, LF, C1 CSI, DEL, RTL override, a lone surrogate. */
const HOSTILE = 'x\u001b[31mred\u001b[2J\u0007\r\n\u009b1m\u007f\u202eevil\ud800';
/** Anything a terminal or an XML parser would act on. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])/;

const HOST = {
  name: HOSTILE,
  platform: { profile: 'intel-vtd', addressWidth: 39 },
  devices: [{ id: '00:02.0', group: 1, description: HOSTILE }],
  groups: [{ id: 1, devices: ['0000:00:02.0'] }],
  warnings: [{ file: `rr${HOSTILE}`, line: 2, message: 'line not understood', text: HOSTILE }],
};

describe('escaping', () => {
  it('turns every unsafe character into a visible escape, and escaping twice changes nothing', () => {
    const once = escapeControls(HOSTILE);
    expect(once).toBe('x\\x1b[31mred\\x1b[2J\\x07\\r\\n\\x9b1m\\x7f\\u{202e}evil\\u{d800}');
    expect(escapeControls(once)).toBe(once);
    expect(escapeTerminal('a\tb\nc\u001b')).toBe('a\tb\nc\\x1b');
    // Printable text, emoji (a surrogate pair) included, is left alone.
    expect(escapeControls('0xfee0_0000 – ok 🙂 \\x')).toBe('0xfee0_0000 – ok 🙂 \\x');
  });
});

describe('control characters from input', () => {
  const dir = tmp();
  const host = join(dir, 'host.json');
  writeFileSync(host, JSON.stringify(HOST));
  const layout = join(dir, 'layout.json');
  writeFileSync(layout, JSON.stringify({ placements: [{ name: HOSTILE, iova: '0x8000000000', size: '2M' }] }));

  it.each([
    ['ranges', ['ranges', host]],
    ['verify', ['verify', layout, '--host', host]],
    ['check-attach', ['check-attach', layout, '--host', host, '--device', '00:02.0']],
    ['explain', ['explain', 'map', host, '--iova', '0x8000000000', '--length', '2M']],
    ['a bad value', ['ranges', join(dir, 'bad.json')]],
  ])('%s: text output and messages carry them escaped', async (_what, args) => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'h', devices: [{ id: HOSTILE }] }));
    const r = await iova(...args);
    expect(r.code).not.toBe(4);
    expect(`${r.out}\n${r.err}`).not.toMatch(UNSAFE);
    expect(`${r.out}\n${r.err}`).toContain('\\x1b[31mred');
  });

  it('JSON output holds them as \\u escapes and reads back as the input', async () => {
    const r = await iova('verify', layout, '--host', host, '--json');
    expect(r.out).not.toMatch(UNSAFE);
    const json = JSON.parse(r.out);
    expect(json.hosts[0].host).toBe(HOSTILE);
  });

  it('an SVG and the SVG in an HTML page stay well-formed XML', async () => {
    for (const args of [[host], [layout, '--host', host]]) {
      const svgFile = join(dir, 'map.svg');
      const htmlFile = join(dir, 'map.html');
      // render's exit code says what the picture shows: the layout's verdict, as verify gives it.
      const verdict = args.length === 1 ? 0 : (await iova('verify', ...args)).code;
      expect((await iova('render', ...args, '-o', svgFile)).code).toBe(verdict);
      expect((await iova('render', ...args, '-o', htmlFile)).code).toBe(verdict);
      const svg = readFileSync(svgFile, 'utf8');
      const html = readFileSync(htmlFile, 'utf8');
      parseXml(svg);
      parseXml(html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6));
      for (const text of [svg, html]) {
        expect(text).not.toMatch(UNSAFE);
        expect(text).toContain('\\x1b[31mred');
        expect(text).not.toMatch(/<\/?script>.*\u001b/s);
      }
    }
  });
});

describe('a closed pipe', () => {
  // The real executable, as a shell runs it; tsx loads the TypeScript sources.
  const run = (pipeline: string) =>
    spawnSync('bash', ['-c', `set -o pipefail; ${pipeline}; echo "status=\${PIPESTATUS[0]}" >&2`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const bin = `node --import tsx ${join(root, 'src/cli/bin.ts')}`;

  it('on stdout and stderr together ends the command quietly', () => {
    const dir = tmp();
    const host = join(dir, 'host.json');
    // Thousands of warnings: far more than a pipe buffer, all on stderr.
    const warnings = Array.from({ length: 5000 }, (_, i) => ({ file: 'rr', line: i + 1, message: 'line not understood', text: 'x'.repeat(40) }));
    writeFileSync(host, JSON.stringify({ name: 'h', platform: 'amd-vi', warnings }));
    const r = run(`${bin} ranges ${host} 2>&1 | head -1`);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/Error|at .*:\d+:\d+/);
    expect(r.stderr).toMatch(/status=0/);
    const svg = run(`${bin} render ${host} --width 20000 | head -c 10`);
    expect(svg.stderr).not.toMatch(/Error|at .*:\d+:\d+/);
    expect(svg.stderr).toMatch(/status=0/);
  }, 60_000);
});
