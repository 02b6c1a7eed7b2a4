/**
 * The guest memory map: E820 lines in the kernel's print format (`e820__print_table`:
 * `%s: [mem %#018Lx-%#018Lx] ` then the type word), hand-computed for small layouts; the check
 * of a guest's boot log or /proc/iomem against the plan; a real pre-3.x E820 print as input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGuestMap, formatE820, guestMemoryMap, parseGuestMap, ramPlacements } from '../../src/guest/memory-map.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { parseLayout } from '../../src/solver/layout.js';
import { iova } from '../cli/run.js';

const repo = resolve(import.meta.dirname, '../..');
const z77 = join(repo, 'test/fixtures/doctor/e820-intel-ivybridge-z77.txt');

/** An AMD host whose one group reports the MSI window and the HyperTransport hole (lines 1, 2). */
const amdHost = {
  name: 'amd',
  platform: 'amd-vi',
  groups: [
    {
      id: 7,
      devices: ['0000:01:00.0'],
      reservedRegions: [
        { start: '0xfee00000', last: '0xfeefffff', type: 'msi', source: { what: 'msi region', file: 'rr.txt', line: 1 } },
        { start: '0xfd00000000', last: '0xffffffffff', type: 'reserved', source: { what: 'HyperTransport hole', file: 'rr.txt', line: 2 } },
      ],
    },
  ],
  devices: [{ id: '0000:01:00.0', group: 7 }],
};

const layout = parseLayout({
  policy: 'vfio-type1',
  devices: ['0000:01:00.0'],
  placements: [
    { name: 'ram-low', iova: '0x0', size: '2G' },
    { name: 'ram-high', iova: '0x100000000', size: '8G' },
    { name: 'msix', iova: '0x80000000', size: '64K' },
  ],
});

const tmp = () => mkdtempSync(join(tmpdir(), 'iova-guest-'));

describe('guest memory map', () => {
  it('writes the E820 table in the kernel format, each reserved entry with its reason', () => {
    const map = guestMemoryMap(layout, [parseHostFacts(amdHost, 'amd.json')], ramPlacements(layout));
    // Hand-computed: RAM 0–2 GiB and 4–12 GiB; the MSI-X placement; the MSI window; the HT hole.
    expect(formatE820(map).split('\n')).toEqual([
      'BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable',
      'BIOS-e820: [mem 0x0000000080000000-0x000000008000ffff] reserved',
      'BIOS-e820: [mem 0x00000000fee00000-0x00000000feefffff] reserved',
      'BIOS-e820: [mem 0x0000000100000000-0x00000002ffffffff] usable',
      'BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved',
    ]);
    expect(map.e820[2].reasons[0]).toMatch(/^msi region of IOMMU group 7 \(rr\.txt:1\b/);
    expect(map.e820[4].reasons[0]).toMatch(/^HyperTransport hole of IOMMU group 7 \(rr\.txt:2\b/);
    expect(map.acpiReserved.map((e) => e.start)).toEqual([0x8000_0000n, 0xfee0_0000n, 0xfd_0000_0000n]);
  });

  it('merges adjacent RAM pieces as the kernel does, and names hosts when there are several', () => {
    const split = parseLayout({ placements: [{ name: 'ram-a', iova: '0x0', size: '1G' }, { name: 'ram-b', iova: '0x40000000', size: '1G' }] });
    const other = { ...amdHost, name: 'amd2', groups: [{ ...amdHost.groups[0], reservedRegions: [{ start: '0xa0000000', last: '0xa00fffff', type: 'direct', source: { what: 'RMRR', file: 'b.txt', line: 9 } }] }] };
    const map = guestMemoryMap({ ...split, devices: ['0000:01:00.0'] }, [parseHostFacts(amdHost), parseHostFacts(other)], ramPlacements(split));
    expect(formatE820(map).split('\n')[0]).toBe('BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable');
    expect(map.e820[0].reasons).toEqual(['guest RAM: placement ram-a', 'guest RAM: placement ram-b']);
    expect(map.e820[1]).toMatchObject({ start: 0xa000_0000n, last: 0xa00f_ffffn, type: 'reserved', reasons: ['RMRR of IOMMU group 7 (b.txt:9) on amd2'] });
  });

  it('refuses RAM over a hole of the host (bad input, exit 2)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'host.json'), JSON.stringify(amdHost));
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({ devices: ['0000:01:00.0'], placements: [{ name: 'ram', iova: '0x100000000', size: '1020G' }] }));
    const r = await iova('guest-map', join(dir, 'layout.json'), '--host', join(dir, 'host.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/guest RAM placement ram .* overlaps .*HyperTransport hole of IOMMU group 7 \(rr\.txt:2\b/);
  });

  it('reads the pre-3.x print with its exclusive end, and /proc/iomem top-level lines', () => {
    const old = parseGuestMap('[    0.000000]  BIOS-e820: 0000000000000000 - 000000000009ec00 (usable)\n', 'x');
    expect(old).toEqual([{ start: 0n, last: 0x9ebffn, type: 'usable', file: 'x', line: 1 }]);
    const iomem = parseGuestMap('00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n100000000-2ffffffff : System RAM\n  1a000000-1b000000 : Kernel code\nfd00000000-ffffffffff : Reserved\n', 'iomem');
    expect(iomem.map((e) => [e.start, e.last, e.type, e.line])).toEqual([
      [0n, 0xfffn, 'reserved', 1],
      [0x1000n, 0x9fbffn, 'usable', 2],
      [0x1_0000_0000n, 0x2_ffff_ffffn, 'usable', 3],
      [0xfd_0000_0000n, 0xff_ffff_ffffn, 'reserved', 5],
    ]);
  });

  it('checks a guest against the plan: its own print matches; RAM over the HT hole, missing RAM and firmware carve-outs are told apart', () => {
    const map = guestMemoryMap(layout, [parseHostFacts(amdHost)], ramPlacements(layout));
    expect(checkGuestMap(map, parseGuestMap(formatE820(map), 'guest'))).toMatchObject({ ok: true, differences: [], firmware: [] });

    const guest = [
      '[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
      '[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved',
      '[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable',
      '[    0.000000] BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff] ACPI data',
      '[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x00000001ffffffff] usable',
      '[    0.000000] BIOS-e820: [mem 0x000000fd00000000-0x000000fd3fffffff] usable',
    ].join('\n');
    const check = checkGuestMap(map, parseGuestMap(guest, 'guest.log'));
    expect(check.ok).toBe(false);
    expect(check.differences.map((d) => [d.kind, d.range.start, d.range.last, d.at?.line])).toEqual([
      ['planned-ram-missing', 0x2_0000_0000n, 0x2_ffff_ffffn, undefined],
      ['ram-over-reserved', 0xfd_0000_0000n, 0xfd_3fff_ffffn, 6],
    ]);
    expect(check.firmware).toEqual([{ range: { start: 0x7ffe_0000n, last: 0x7fff_ffffn }, type: 'ACPI data', at: { file: 'guest.log', line: 4 } }]);
  });

  it('iova guest-map --check exits 1 with the differences; a real E820 print is read', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'host.json'), JSON.stringify(amdHost));
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({ policy: 'vfio-type1', devices: ['0000:01:00.0'], placements: [{ name: 'ram', iova: '0x100000', size: '0x9fe00000' }] }));
    const args = ['guest-map', join(dir, 'layout.json'), '--host', join(dir, 'host.json')];
    const json = JSON.parse((await iova(...args, '--json')).out);
    expect(json.e820[0]).toEqual({ start: '0x100000', last: '0x9fefffff', size: '0x9fe00000', type: 'usable', reasons: ['guest RAM: placement ram'] });
    // The Z77 firmware map (exclusive ends) has RAM beyond this plan's 0x100000–0x9fefffff:
    // lines 12, 17, 19 and 27; its reserved lines 9 and 11 fall inside the planned RAM.
    const r = await iova(...args, '--check', z77, '--json');
    expect(r.code).toBe(1);
    const check = JSON.parse(r.out).check;
    expect(check.differences.map((d: { kind: string; start: string; last: string; at: { line: number } }) => [d.kind, d.start, d.last, d.at.line])).toEqual([
      ['ram-outside-plan', '0x9ff00000', '0xd98d6fff', 12],
      ['ram-outside-plan', '0xda2f9000', '0xdac6cfff', 17],
      ['ram-outside-plan', '0xdafd9000', '0xdaffffff', 19],
      ['ram-outside-plan', '0x100000000', '0x21f5fffff', 27],
    ]);
    expect(check.firmware.map((f: { start: string; at: { line: number } }) => [f.start, f.at.line])).toEqual([
      ['0x20000000', 9],
      ['0x40004000', 11],
    ]);
    const text = await iova(...args, '--check', z77);
    expect(text.code).toBe(1);
    expect(text.out).toContain(`${z77}:27: the guest uses 0x100000000–0x21f5fffff`);
  });
});
