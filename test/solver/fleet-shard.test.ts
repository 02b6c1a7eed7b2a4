// Fleets from a directory, a tar and an ndjson stream; hosts with identical facts verified once;
// `--shard I/N` runs merged by `iova fleet merge` equal one run over the whole fleet.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fleetItems, parseShard, shardOf } from '../../src/solver/fleet-source.js';
import { verifyFleet } from '../../src/solver/fleet.js';
import { parseLayout } from '../../src/solver/layout.js';
import { iova } from '../cli/run.js';

const LAYOUT = {
  policy: 'vfio-type1',
  placements: [
    { name: 'ram-below-4g', iova: '0x0', size: '2G' },
    { name: 'ram-above-4g', iova: '0x100000000', size: '126G' },
  ],
};

/**
 * Host i: a 36-bit Intel (i % 4 == 1: the 126 GiB block lies outside its aperture, rejected) or
 * a 48-bit Intel (accepted), each with an RMRR whose provenance names the host's own dmesg.
 * Only 4 distinct sets of facts: i % 4 decides the platform, i % 2 where the RMRR sits (below
 * 2 GiB, inside `ram-below-4g`, when i % 8 == 6: rejected as well). Every 25th host is broken.
 */
function hostJson(i: number): string {
  if (i % 25 === 24) return '{ "name": ';
  const rmrr = i % 8 === 6 ? '0x40000000' : '0xd0000000';
  return JSON.stringify({
    name: `host-${i}`,
    platform: { profile: 'intel-vtd', addressWidth: i % 4 === 1 ? 36 : 48 },
    groups: [{ id: 1, devices: ['0000:01:00.0'], reservedRegions: [{ start: rmrr, size: '1M', type: 'direct', source: { what: 'RMRR', file: `host-${i}/dmesg`, line: 7 } }] }],
    devices: [{ id: '0000:01:00.0', group: 1 }],
  });
}

function expected(n: number) {
  const out = { accepted: 0, rejected: 0, unreadable: 0 };
  for (let i = 0; i < n; i++) {
    if (i % 25 === 24) out.unreadable++;
    else if (i % 4 === 1 || i % 8 === 6) out.rejected++;
    else out.accepted++;
  }
  return out;
}

function makeFleet(n: number) {
  const root = mkdtempSync(join(tmpdir(), 'iova-shard-'));
  const dir = join(root, 'fleet');
  mkdirSync(dir);
  const names = Array.from({ length: n }, (_, i) => `host-${String(i).padStart(4, '0')}.json`);
  names.forEach((name, i) => writeFileSync(join(dir, name), hostJson(i)));
  const layout = join(root, 'layout.json');
  writeFileSync(layout, JSON.stringify(LAYOUT));
  return { root, dir, layout, names };
}

/** The parts of a report that must not depend on where the hosts came from (messages name the file). */
function verdicts(report: { hosts: Array<{ file: string; ok?: boolean; host?: string; violations?: Array<{ reason: string }>; error?: string }> }) {
  return report.hosts.map((h) => [h.file.replace(/^.*[/:]/, ''), h.host, h.ok, h.violations?.map((v) => v.reason), h.error === undefined]);
}

describe('fleet sources, grouping and shards', () => {
  it('gives hosts with identical facts the verdict a full check gives, and cites each rejecting host with its own files', async () => {
    const { dir } = makeFleet(200);
    const report = await verifyFleet(parseLayout(LAYOUT), (await import('../../src/solver/fleet-source.js')).fleetFiles(dir), { workers: 2 });
    expect({ accepted: report.accepted, rejected: report.rejected, unreadable: report.unreadable }).toEqual(expected(200));
    const h6 = report.hosts.find((h) => h.file.endsWith('host-0006.json'));
    const h14 = report.hosts.find((h) => h.file.endsWith('host-0014.json'));
    expect(h6 && 'violations' in h6 ? h6.violations.map((v) => v.source) : []).toContain('RMRR of IOMMU group 1 (host-6/dmesg:7)');
    expect(h14 && 'violations' in h14 ? h14.violations.map((v) => v.source) : []).toContain('RMRR of IOMMU group 1 (host-14/dmesg:7)');
    // Accepting duplicates keep their own names.
    expect(report.hosts.filter((h) => 'host' in h && h.ok).map((h) => ('host' in h ? h.host : ''))).toContain('host-8');
    const broken = report.hosts.find((h) => h.file.endsWith('host-0024.json'));
    expect(broken && 'error' in broken ? broken.error : '').toMatch(/host-0024\.json:1: not valid JSON/);
  });

  it('still refuses a duplicate of an accepting host whose name or provenance is malformed', async () => {
    const { root, dir } = makeFleet(4);
    const good = JSON.parse(hostJson(0));
    const badSource = structuredClone(good);
    badSource.groups[0].reservedRegions[0].source = { what: 5 };
    const badName = { ...structuredClone(good), name: 7 };
    writeFileSync(join(dir, 'host-9000.json'), JSON.stringify(badSource));
    writeFileSync(join(dir, 'host-9001.json'), JSON.stringify(badName));
    writeFileSync(join(dir, 'host-9002.json'), JSON.stringify({ ...structuredClone(good), name: 'twin' }));
    const report = await verifyFleet(parseLayout(LAYOUT), (await import('../../src/solver/fleet-source.js')).fleetFiles(dir), { workers: 1 });
    const by = (n: string) => report.hosts.find((h) => h.file.endsWith(n));
    expect(by('host-9000.json')).toMatchObject({ error: expect.stringMatching(/host-9000\.json:\d+: at groups\[0\]\.reservedRegions\[0\]\.source\.what/) });
    expect(by('host-9001.json')).toMatchObject({ error: expect.stringMatching(/host-9001\.json:\d+: at name/) });
    expect(by('host-9002.json')).toMatchObject({ host: 'twin', ok: true });
    expect(root).toBeTruthy();
  });

  it('reads the same fleet from a tar (ustar, GNU, pax) and from ndjson, with the same verdicts', async () => {
    const { root, dir, layout, names } = makeFleet(60);
    const byDir = JSON.parse((await iova('verify', layout, '--fleet', dir, '--json')).out);
    for (const format of ['ustar', 'gnu', 'pax']) {
      const tar = join(root, `fleet-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', tar, '-C', dir, ...names]);
      const r = await iova('verify', layout, '--fleet', tar, '--json');
      expect(r.code).toBe(1);
      expect(verdicts(JSON.parse(r.out))).toEqual(verdicts(byDir));
    }
    const ndjson = join(root, 'fleet.ndjson');
    writeFileSync(ndjson, names.map((_, i) => hostJson(i)).join('\n') + '\n');
    const byLines = JSON.parse((await iova('verify', layout, '--fleet', ndjson, '--json')).out);
    expect(byLines).toMatchObject({ total: 60, ...expected(60) });
    expect(byLines.hosts[10].file).toBe(`${ndjson}:11`);
    expect(byLines.reasons).toEqual(byDir.reasons);
  });

  it('reads long member names (GNU long-name and pax path records) and ndjson from a stream', async () => {
    const { root, dir } = makeFleet(3);
    const deep = join(dir, 'd'.repeat(90), 'e'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'long-host.json'), hostJson(0));
    for (const format of ['gnu', 'pax']) {
      const tar = join(root, `long-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', tar, '-C', dir, '.']);
      const keys: string[] = [];
      for await (const item of fleetItems(tar)) keys.push(item.key);
      expect(keys.sort()).toEqual(['./host-0000.json', './host-0001.json', './host-0002.json', `./${'d'.repeat(90)}/${'e'.repeat(90)}/long-host.json`].sort());
    }
    const items: string[] = [];
    for await (const item of fleetItems('-', Readable.from([hostJson(1) + '\n\n', hostJson(2)]))) items.push(`${item.name} ${JSON.parse(item.text ?? '').name}`);
    expect(items).toEqual(['<stdin>:1 host-1', '<stdin>:3 host-2']);
  });

  it('refuses a file that is not a tar, with where it went wrong', async () => {
    const { root, layout } = makeFleet(1);
    const bad = join(root, 'bad.tar');
    writeFileSync(bad, Buffer.alloc(1024, 0x41));
    const r = await iova('verify', layout, '--fleet', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.tar: tar header at byte 0: not an octal number/);
  });

  it('splits by file name alone, and merging the shards gives what one run gives', async () => {
    const { root, dir, layout, names } = makeFleet(90);
    // The split is a function of the name: the same in a smaller fleet.
    expect(names.map((n) => shardOf(n, 4))).toEqual(names.map((n) => shardOf(n, 4)));
    expect(new Set(names.map((n) => shardOf(n, 4))).size).toBe(4);
    const single = await iova('verify', layout, '--fleet', dir, '--json');
    const files: string[] = [];
    let seen = 0;
    for (let i = 0; i < 4; i++) {
      const r = await iova('verify', layout, '--fleet', dir, '--shard', `${i}/4`, '--workers', '1');
      expect(r.code).toBe(0);
      const part = JSON.parse(r.out);
      expect(part.shard).toEqual({ index: i, count: 4 });
      expect(part.hosts.map((h: { file: string }) => h.file.replace(/^.*\//, ''))).toEqual(names.filter((n) => shardOf(n, 4) === i));
      seen += part.total;
      files.push(join(root, `shard-${i}.json`));
      writeFileSync(files[i], r.out);
    }
    expect(seen).toBe(90);
    const merged = await iova('fleet', 'merge', ...files, '--json');
    expect(merged.code).toBe(single.code);
    expect(JSON.parse(merged.out)).toEqual(JSON.parse(single.out));
    const text = await iova('fleet', 'merge', ...files.reverse());
    expect(text.out).toContain(`90 host files: ${expected(90).accepted} accept the layout, ${expected(90).rejected} reject it, ${expected(90).unreadable} could not be read.`);
    // Missing, repeated and foreign shards are refused.
    expect((await iova('fleet', 'merge', ...files.slice(1))).err).toMatch(/shard 3\/4 missing/);
    expect((await iova('fleet', 'merge', files[0], ...files)).err).toMatch(/given twice/);
    const other = JSON.parse(readFileSync(files[0], 'utf8'));
    other.layout = '0'.repeat(64);
    writeFileSync(files[0], JSON.stringify(other));
    const foreign = await iova('fleet', 'merge', ...files);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toMatch(/checked another layout/);
  });

  it('keeps each host\'s warnings through shards: merge --strict fails as one run --strict does', async () => {
    const root = mkdtempSync(join(tmpdir(), 'iova-shard-warn-'));
    const dir = join(root, 'fleet');
    mkdirSync(dir);
    // An AMD host without its address width: the profile's width is an assumption, a warning.
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, `amd-${i}.json`), JSON.stringify({ name: `amd-${i}`, platform: 'amd-vi', groups: [{ id: 1, devices: ['0000:01:00.0'] }], devices: [{ id: '0000:01:00.0', group: 1 }] }));
    const layout = join(root, 'layout.json');
    writeFileSync(layout, JSON.stringify(LAYOUT));
    const single = await iova('verify', layout, '--fleet', dir, '--json', '--strict');
    expect(single.code).toBe(5);
    const files = [0, 1].map((i) => join(root, `shard-${i}.json`));
    for (const [i, file] of files.entries()) writeFileSync(file, (await iova('verify', layout, '--fleet', dir, '--shard', `${i}/2`)).out);
    const merged = await iova('fleet', 'merge', ...files, '--json', '--strict');
    expect(merged.code).toBe(5);
    expect(JSON.parse(merged.out)).toEqual(JSON.parse(single.out));
    expect(JSON.parse(merged.out).hosts[0].warnings[0].message).toMatch(/address width/);
    expect((await iova('fleet', 'merge', ...files)).code).toBe(0);
  });

  it('counts a FIFO among the host files as unreadable instead of waiting on it', async () => {
    const { dir, layout } = makeFleet(3);
    execFileSync('mkfifo', [join(dir, 'host-pipe.json')]);
    const r = await iova('verify', layout, '--fleet', dir, '--json', '--workers', '1');
    const pipe = JSON.parse(r.out).hosts.find((h: { file: string }) => h.file.endsWith('host-pipe.json'));
    expect(pipe.error).toMatch(/cannot read: this is a FIFO/);
  });

  it('validates --shard', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    for (const bad of ['16/16', '1/0', 'a/b', '3']) expect(() => parseShard(bad)).toThrow(/--shard must be I\/N/);
  });
});
