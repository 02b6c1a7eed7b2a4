/**
 * Unix and npm conventions of the `iova` command, checked on the real executable where the
 * convention is about the process (standard input, standard error, exit codes, terminals) and
 * in-process elsewhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { iova } from './run.js';
import { bin, root, spawnIova, tsx } from './spawn.js';

const epycDir = join(root, 'examples/hosts/epyc');
const epyc = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => join(epycDir, f));
const tmp = () => mkdtempSync(join(tmpdir(), 'iova-conv-'));
/** A two-line DMA-API trace in a file. */
function traceFile(): string {
  const file = join(tmp(), 't.trace');
  writeFileSync(file, 'init 4096 1\nalloc 16 0x100 1\n');
  return file;
}
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Run in-process with a given terminal width (undefined: not a terminal). */
async function iovaAt(columns: number | undefined, ...argv: string[]) {
  const out: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: () => {}, isTty: columns !== undefined, columns });
  return { code, out: out.join('\n') };
}

describe('version, help and usage errors', () => {
  it('-V and --version print the version from package.json', () => {
    for (const flag of ['-V', '--version']) {
      const r = spawnIova([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${version}\n`);
    }
  });

  it('bare iova is a usage error: usage on standard error, nothing on standard output, exit 2', () => {
    const r = spawnIova([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^iova — .*\n\nUsage: iova <command>/);
  });

  it('iova help and --help print the usage on standard output, exit 0', async () => {
    for (const argv of [['help'], ['--help'], ['-h']]) {
      const r = await iova(...argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^iova — /);
      expect(r.err).toBe('');
    }
  });

  it('iova help <cmd> prints that command\'s help, the same as iova <cmd> --help', async () => {
    for (const name of ['solve', 'ranges', 'groups', 'completion', 'replay']) {
      const viaHelp = await iova('help', name);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.out).toMatch(new RegExp(`^Usage: iova ${name} `));
      expect(viaHelp.out).toBe((await iova(name, '--help')).out);
    }
    expect((await iova('help', 'topology')).out).toMatch(/^Usage: iova groups /);
    const bad = await iova('help', 'sovle');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('iova: unknown command "sovle"; did you mean "solve"? (see: iova --help)');
  });
});

describe('did you mean', () => {
  it.each([
    [['rnages'], 'did you mean "ranges"?'],
    [['check-atach'], 'did you mean "check-attach"?'],
    [['ranges', ...epyc, '--jsno'], `Unknown option '--jsno'; did you mean "--json"?`],
    [['ranges', ...epyc, '--polcy', 'x'], `Unknown option '--polcy'; did you mean "--policy"?`],
    [['ranges', ...epyc, '--policy', 'vfio-typ1'], 'did you mean "vfio-type1"?'],
    [['ranges', ...epyc, '--devices', '0000:43:00.1'], 'did you mean "0000:43:00.0"?'],
    [['explain', 'map', join(root, 'examples/hosts/epyc.json'), '--policy', 'iomufd', '--length', '4K', '--auto'], 'did you mean "iommufd"?'],
    [['replay', '-', '--policy', 'linus'], 'did you mean "linux"?'],
    [['render', ...epyc, '--format', 'text'], 'did you mean "txt"?'],
    [['completion', 'bsh'], 'did you mean "bash"?'],
  ])('%j', async (argv, hint) => {
    const r = await iova(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toContain(hint);
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('names the request a mistyped reference meant', async () => {
    const dir = tmp();
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ host: { name: 'h', platform: 'amd-vi' }, requests: [{ name: 'ram-low', size: '1G' }, { name: 'ram-high', size: '1G', above: 'ram-lwo' }] }));
    const r = await iova('solve', spec);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`iova solve: ${spec}:1: at requests[1].above: no request named "ram-lwo"; did you mean "ram-low"?`);
  });

  it('suggests nothing for a word close to no name', async () => {
    const r = await iova('frobnicate');
    expect(r.err).toBe('iova: unknown command "frobnicate" (see: iova --help)');
    const policy = await iova('ranges', ...epyc, '--policy', 'linux');
    expect(policy.err).not.toMatch(/did you mean/);
  });
});

describe('- reads standard input', () => {
  it('a capture piped in gives the same ranges as the file', () => {
    const piped = spawnIova(['ranges', '-', '--json'], { input: readFileSync(epyc[0], 'utf8') });
    expect(piped.code, piped.err).toBe(0);
    const fromFile = spawnIova(['ranges', epyc[0], '--json']);
    const a = JSON.parse(piped.out);
    const b = JSON.parse(fromFile.out);
    expect(a.ranges).toEqual(b.ranges);
    // Provenance names standard input, not a file.
    expect(a.holes.map((h: { source: string }) => h.source).join('\n')).toMatch(/<stdin>:2/);
    expect(a.holes.map((h: { source: string }) => h.source.replace('<stdin>', epyc[0]))).toEqual(b.holes.map((h: { source: string }) => h.source));
  });

  it('a spec from standard input finds its host relative to the working directory', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ name: 'cwd-host', platform: 'amd-vi' }));
    const spec = JSON.stringify({ host: 'host.json', requests: [{ name: 'ram', size: '2G', fixed: '0' }] });
    const r = spawnIova(['solve', '-'], { input: spec, cwd: dir });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^sat: 1 placement on cwd-host /);
  });

  it('errors in standard input are located in <stdin>', () => {
    const r = spawnIova(['solve', '-'], { input: JSON.stringify({ host: { name: 'h' }, requests: [{ name: 'a', size: '1G', align: '3K' }] }) });
    expect(r.code).toBe(2);
    expect(r.err).toBe('iova solve: <stdin>:1: at requests[0].align: must be a non-zero power of two\n');
    const json = spawnIova(['verify', '-', '--host', join(root, 'examples/hosts/epyc.json')], { input: '{\n  "placements": [,]\n}' });
    expect(json.code).toBe(2);
    expect(json.err).toMatch(/^iova verify: <stdin>:2: not valid JSON/);
  });

  it('import and replay read standard input too; replay --json lists the same lines', () => {
    const imported = spawnIova(['import', '-', '--name', 'piped'], { input: readFileSync(epyc[1], 'utf8') });
    expect(imported.code, imported.err).toBe(0);
    expect(JSON.parse(imported.out).name).toBe('piped');
    expect(imported.err).toMatch(/^imported <stdin> \(lspci\): 2 devices, 1 IOMMU group, 4 bridges$/m);

    // A DMA-API trace: a 4 KiB-granule domain starting at pfn 1, one allocation below pfn 0x100.
    const trace = 'init 4096 1\nalloc 16 0x100 1\ndump\n';
    const dir = tmp();
    writeFileSync(join(dir, 't.trace'), trace);
    const fromFile = spawnIova(['replay', join(dir, 't.trace')]);
    const piped = spawnIova(['replay', '-', '--json'], { input: trace });
    expect(piped.code, piped.err).toBe(0);
    const json = JSON.parse(piped.out);
    expect(json).toMatchObject({ trace: '<stdin>', policy: 'linux' });
    expect(json.output).toEqual(fromFile.out.trimEnd().split('\n'));
    // The kernel allocates top-down below the limit, size-aligned: 16 pages end at pfn 0xff.
    expect(json.output).toEqual(['ok', '240 255', 'n=1 240-255']);
  });
});

describe('--json on every command that answers', () => {
  it.each([
    ['ranges', [...epyc, '--json']],
    ['groups', [...epyc, '--json']],
    ['explain', ['map', join(root, 'examples/hosts/epyc.json'), '--device', '0000:43:00.0', '--length', '4K', '--iova', '0xfee00000', '--json']],
    ['replay', [traceFile(), '--json']],
  ])('%s', async (name, argv) => {
    const r = await iova(name as string, ...(argv as string[]));
    expect(r.code === 0 || r.code === 1, r.err).toBe(true);
    expect(() => JSON.parse(r.out)).not.toThrow();
  });

  it('import --json summarises what it wrote', async () => {
    const out = join(tmp(), 'h.json');
    const r = await iova('import', ...epyc, '-o', out, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const json = JSON.parse(r.out);
    // By hand from the captures: 43:00.0, 44:00.0 (lspci) and 05:00.3 (dmesg); groups 5 and
    // 30; bridges 40:01.1, 41:00.0, 42:08.0, 42:10.0.
    expect(json).toMatchObject({ output: out, devices: 3, groups: 2, bridges: 4 });
    // The EPYC captures have no kernel log line giving the AMD-Vi address width: that assumption is the only warning.
    expect(json.warnings.map((w: { message: string }) => w.message)).toEqual([expect.stringMatching(/address width/)]);
    expect(JSON.parse(readFileSync(out, 'utf8')).name).toBe('reserved_regions');
  });
});

describe('the elapsed-time indicator', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;

  it('never appears when standard error is not a terminal', () => {
    const r = spawnIova(['import', ...epyc, '-o', join(tmp(), 'h.json')], { env: { IOVA_PROGRESS_AFTER_MS: '0' } });
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/importing|\r|\x1b/);
  });

  it.skipIf(!hasScript)('counts on a terminal while a solve runs, and is cleared before the answer (threshold 0 ms for the test)', () => {
    // An unsat spec whose conflict search and repairs take seconds of CPU (Z3 in workers, the
    // rest on the main thread).
    const spec = join(tmp(), 'spec.json');
    writeFileSync(spec, JSON.stringify({ host: join(root, 'examples/hosts/epyc.json'), policy: 'vfio-type1', devices: ['0000:43:00.0'], requests: [{ name: 'ram-hi', size: '1022G', fixed: '0x100000000' }, { name: 'a', size: '3G', align: '1G' }, { name: 'b', size: '5G', above: 'a', dmaBits: 40 }] }));
    const command = [process.execPath, '--import', tsx, bin, 'solve', spec].map((a) => `'${a}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: root, env: { ...process.env, IOVA_PROGRESS_AFTER_MS: '0' }, encoding: 'utf8' });
    expect(run.status).toBe(1); // unsat, passed on by script -e
    const text = run.stdout;
    const frames = [...text.matchAll(/\r\x1b\[Ksolving … (\d+\.\d) s/g)].map((m) => Number(m[1]));
    expect(frames.length).toBeGreaterThan(0);
    for (let i = 1; i < frames.length; i++) expect(frames[i]).toBeGreaterThanOrEqual(frames[i - 1]);
    // The last frame is cleared, then the answer starts at the beginning of the line.
    expect(text).toMatch(/ s\r\x1b\[Kunsat: no placement exists on epyc /);
    expect(text.slice(text.indexOf('unsat:'))).not.toMatch(/solving/);
  });
});

describe('tables fit the terminal', () => {
  const lengths = (text: string) => text.split('\n').map((l) => [...l].length);
  // Paths as a user types them (relative), so the rows are as long as in real use.
  const rel = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => `examples/hosts/epyc/${f}`);
  const holes = (text: string) => text.slice(text.indexOf('Holes ('));

  it('wraps hole provenance under its row at 100 columns when not a terminal, and at the terminal width', async () => {
    const piped = await iovaAt(undefined, 'ranges', ...rel);
    expect(Math.max(...lengths(piped.out))).toBeLessThanOrEqual(100);
    const narrow = await iovaAt(72, 'ranges', ...rel);
    expect(Math.max(...lengths(holes(narrow.out)))).toBeLessThanOrEqual(72);
    expect(narrow.out).toMatch(/\n {2}start +last +kind +type\n {6}source\n/);
    // The wrapped text is the long form's, word for word.
    const wide = await iovaAt(72, 'ranges', ...rel, '--wide');
    expect(Math.max(...lengths(wide.out))).toBeGreaterThan(200);
    const ht = wide.out.split('\n').find((l) => l.includes('HyperTransport')) as string;
    const provenance = ht.replace(/^ +0xfd_0000_0000 +0xff_ffff_ffff +reserved-region +reserved +/, '');
    const at = narrow.out.indexOf('0xfd_0000_0000   ');
    const under = narrow.out.slice(at).split('\n').slice(1, 4).filter((l) => l.startsWith('      ')).join(' ').replace(/\s+/g, ' ').trim();
    expect(under.startsWith(provenance.replace(/\s+/g, ' ').trim())).toBe(true);
  });

  it('a table that fits is not wrapped', async () => {
    const r = await iovaAt(undefined, 'ranges', 'examples/hosts/epyc/reserved_regions.txt', '--devices', 'group:5');
    // Group 5's direct region at 0xa8f0_0000 ends the first range: 0xa8f0_0000 bytes = 2703 MiB.
    expect(r.out).toMatch(/\n {2}start +last +size\n {2}0x0 +0xa8ef_ffff +2703 MiB\n/);
  });
});

describe('plurals', () => {
  it('says 1 device and 1 IOMMU group', async () => {
    const dir = tmp();
    const lspci = join(dir, 'lspci.txt');
    writeFileSync(lspci, '01:00.0 Ethernet controller: Example NIC\n\tIOMMU group: 7\n\tRegion 0: Memory at f0000000 (32-bit, non-prefetchable) [size=1M]\n');
    const r = await iova('import', lspci, '-o', join(dir, 'h.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/: 1 device, 1 IOMMU group, 0 bridges$/m);
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({ placements: [{ name: 'ram', iova: '0', size: '1G' }] }));
    const v = await iova('verify', join(dir, 'layout.json'), '--host', join(dir, 'h.json'));
    expect(v.out).toMatch(/\n1 of 1 host accepts the layout\.$/);
  });
});

describe('shell completion generated from the help', () => {
  const commands = ['import', 'ranges', 'solve', 'verify', 'fleet', 'explain', 'replay', 'schema', 'check-attach', 'render', 'groups', 'completion', 'doctor', 'guest-map'];

  it('lists every command of iova --help', async () => {
    const listed = [...(await iova('--help')).out.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
    expect(listed).toEqual(commands);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const script = (await iova('completion', shell)).out;
      for (const name of commands) expect(script, `${shell} ${name}`).toMatch(new RegExp(`(^|[\\s'(])${name}[\\s):']`));
    }
  });

  it('bash: the script parses, and every option it offers is one the command accepts', async () => {
    const script = (await iova('completion', 'bash')).out;
    const file = join(tmp(), 'iova.bash');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
    const cases = new Map([...script.matchAll(/^ {4}([a-z-]+)\) opts='([^']*)'; firsts='([^']*)'/gm)].map((m) => [m[1], { opts: m[2].split(' ').filter(Boolean), firsts: m[3].split(' ').filter(Boolean) }]));
    expect([...cases.keys()]).toEqual(commands);
    // Written by hand from each command's documented options.
    expect(cases.get('solve')?.opts.sort()).toEqual(['--fleet', '--help', '--host', '--json', '--output', '--strict', '--timeout', '--wide', '-h', '-o']);
    expect(cases.get('groups')?.opts.sort()).toEqual(['--help', '--json', '--strict', '--wide', '-h']);
    expect(cases.get('schema')?.firsts).toEqual(['host', 'spec', 'layout', 'ioas']);
    expect(cases.get('explain')?.firsts).toEqual(['map', 'attach']);
    expect(cases.get('completion')?.firsts).toEqual(['bash', 'zsh', 'fish']);
    for (const [name, { opts }] of cases) {
      for (const opt of opts.filter((o) => o !== '--help' && o !== '-h')) {
        const r = await iova(name, opt, '--no-such-option-xyz');
        // The parser knows the option: it complains about the next argument or an operand, never this one.
        expect(r.err, `${name} ${opt}`).not.toContain(`Unknown option '${opt}'`);
      }
    }
  });

  it('runs in bash and completes a command and an option', () => {
    const script = spawnIova(['completion', 'bash']).out;
    const file = join(tmp(), 'iova.bash');
    writeFileSync(file, script);
    const probe = `source '${file}'; COMP_WORDS=(iova gr); COMP_CWORD=1; _iova; echo "\${COMPREPLY[*]}"; COMP_WORDS=(iova solve --ti); COMP_CWORD=2; _iova; echo "\${COMPREPLY[*]}"; COMP_WORDS=(iova schema l); COMP_CWORD=2; _iova; echo "\${COMPREPLY[*]}"`;
    expect(execFileSync('bash', ['-c', probe], { encoding: 'utf8' })).toBe('groups\n--timeout\nlayout\n');
  });
});
