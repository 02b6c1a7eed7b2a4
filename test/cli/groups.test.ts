/**
 * `iova groups` on the bundled EPYC host, against facts read by hand from its captures
 * (examples/hosts/epyc/lspci.txt, dmesg.txt):
 * - 40:01.1 is a root port (bus 41-44) with ACSCtl ReqRedir+; 41:00.0 is the PLX switch's
 *   upstream port (bus 42-44, BAR0 ba000000 256K, no ACS block); 42:08.0 (bus 43) and 42:10.0
 *   (bus 44) are its downstream ports, both ACSCtl ReqRedir-.
 * - 43:00.0 (Mellanox NIC, group 30): BAR0 38000000000 32M, ROM b8000000 1M disabled.
 *   44:00.0 (NVIDIA A100, group 30): BAR0 b9000000 16M, BAR1 38080000000 2G, BAR3 38040000000 32M.
 * - dmesg: 05:00.3 in group 5; host bridge 0000:40 for buses 40-7f.
 * - 42:08.0 forwards b8000000-b80fffff and 38000000000-38003ffffff; 42:10.0 forwards
 *   b9000000-b9ffffff and 38040000000-380ffffffff.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iova } from './run.js';
import { root, spawnIova } from './spawn.js';

const epyc = ['reserved_regions.txt', 'lspci.txt', 'dmesg.txt'].map((f) => join('examples/hosts/epyc', f));

interface Node {
  id: string;
  kind: string;
  acsRedirect?: string;
  group?: number;
  description?: string;
  children: Node[];
}

function find(nodes: Node[], id: string): Node | undefined {
  for (const n of nodes) {
    if (n.id === id) return n;
    const below = find(n.children, id);
    if (below) return below;
  }
  return undefined;
}

describe('iova groups', () => {
  it('nests the PCI tree as the bus numbers say, with ACS redirect per port', async () => {
    const r = await iova('groups', ...epyc, '--json');
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    const tree = json.tree as Node[];
    expect(tree.map((n) => n.id)).toEqual(['0000:05:00.3', '0000:40']);
    const hostBridge = find(tree, '0000:40') as Node;
    expect(hostBridge.kind).toBe('host-bridge');
    expect(hostBridge.children.map((n) => [n.id, n.kind, n.acsRedirect])).toEqual([['0000:40:01.1', 'root-port', 'on']]);
    const upstream = find(tree, '0000:41:00.0') as Node;
    expect([upstream.kind, upstream.acsRedirect]).toEqual(['switch-upstream', 'unknown']);
    expect(upstream.children.map((n) => [n.id, n.kind, n.acsRedirect])).toEqual([
      ['0000:42:08.0', 'switch-downstream', 'off'],
      ['0000:42:10.0', 'switch-downstream', 'off'],
    ]);
    expect(find(tree, '0000:42:08.0')?.children.map((n) => [n.id, n.group])).toEqual([['0000:43:00.0', 30]]);
    expect(find(tree, '0000:42:10.0')?.children.map((n) => [n.id, n.group])).toEqual([['0000:44:00.0', 30]]);
    expect(find(tree, '0000:43:00.0')?.description).toBe('Ethernet controller: Mellanox Technologies MT28800 Family [ConnectX-5 Ex]');
    expect(json.groups).toEqual([
      { id: 5, devices: ['0000:05:00.3'] },
      { id: 30, devices: ['0000:43:00.0', '0000:44:00.0'] },
    ]);
  });

  it('says which peers each device reaches without the IOMMU, and through which port', async () => {
    const json = JSON.parse((await iova('groups', ...epyc, '--json')).out);
    const reach = (device: string) => json.peers.find((p: { device: string }) => p.device === device);
    const nic = reach('0000:43:00.0');
    expect(nic.ports).toEqual(['0000:42:08.0']);
    const ranges = (peer: string) => nic.peers.find((p: { peer: string }) => p.peer === peer).ranges.map((x: { what: string; start: string; last: string }) => [x.what, x.start, x.last]);
    expect(nic.peers.map((p: { peer: string }) => p.peer)).toEqual(['0000:41:00.0', '0000:42:10.0', '0000:44:00.0']);
    expect(ranges('0000:44:00.0')).toEqual([
      ['BAR0', '0xb9000000', '0xb9ffffff'],
      ['BAR3', '0x38040000000', '0x38041ffffff'],
      ['BAR1', '0x38080000000', '0x380ffffffff'],
    ]);
    expect(ranges('0000:41:00.0')).toEqual([['BAR0', '0xba000000', '0xba03ffff']]);
    expect(ranges('0000:42:10.0')).toEqual([
      ['bridge window', '0xb9000000', '0xb9ffffff'],
      ['prefetchable bridge window', '0x38040000000', '0x380ffffffff'],
    ]);
    const gpu = reach('0000:44:00.0');
    expect(gpu.ports).toEqual(['0000:42:10.0']);
    expect(gpu.peers.map((p: { peer: string }) => p.peer)).toEqual(['0000:41:00.0', '0000:42:08.0', '0000:43:00.0']);
    const nicBars = gpu.peers.find((p: { peer: string }) => p.peer === '0000:43:00.0').ranges;
    expect(nicBars.map((x: { what: string; start: string; last: string }) => [x.what, x.start, x.last])).toEqual([
      ['expansion ROM', '0xb8000000', '0xb80fffff'],
      ['BAR0', '0x38000000000', '0x38001ffffff'],
    ]);
    expect(nicBars[0].note).toMatch(/disabled now/);
    // 05:00.3 sits below no switch: it reaches nobody.
    expect(reach('0000:05:00.3')).toBeUndefined();
  });

  it('draws the tree as text within 100 columns; topology is the same command', async () => {
    const r = await iova('groups', ...epyc);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Host reserved_regions: 3 devices, 2 IOMMU groups, 4 bridges\n/);
    expect(r.out).toContain(
      [
        '0000:40  host bridge',
        '└─ 0000:40:01.1  root port  ACS redirect on',
        '   └─ 0000:41:00.0  switch upstream port  ACS redirect unknown',
        '      ├─ 0000:42:08.0  switch downstream port  ACS redirect off',
        '      │  └─ 0000:43:00.0  group 30  Ethernet controller: Mellanox',
      ].join('\n'),
    );
    expect(r.out).toContain('      └─ 0000:42:10.0  switch downstream port  ACS redirect off\n         └─ 0000:44:00.0  group 30  3D controller: NVIDIA');
    // 05:00.3 is on bus 05, outside host bridge 0000:40's buses 40-7f, and no bridge leads to it.
    expect(r.out).toContain('\n0000:05:00.3  group 5  (no bridge known above it)\n');
    expect(r.out).toMatch(/\n {2}group 30 {2}0000:43:00\.0, 0000:44:00\.0\n/);
    expect(r.out).toMatch(/\n {2}0000:43:00\.0 through 0000:42:08\.0 reaches 0000:41:00\.0 \(BAR0\); 0000:42:10\.0 \(bridge window,\s+prefetchable bridge window\); 0000:44:00\.0 \(BAR0, BAR3, BAR1\)/);
    for (const line of r.out.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
    expect((await iova('topology', ...epyc)).out).toBe(r.out);
    expect((await iova('groups', ...epyc, '--wide')).out).toContain('[ConnectX-5 Ex]');
  });

  it('escapes control characters from the input', () => {
    const host = JSON.stringify({ name: 'h\u001b]0;x\u0007', platform: 'amd-vi', groups: [{ id: 1, devices: ['0000:01:00.0'] }], devices: [{ id: '0000:01:00.0', group: 1, description: 'NIC \u001b[2J\u202e' }] });
    const r = spawnIova(['groups', '-'], { input: host, cwd: root });
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(r.out).toContain('Host h\\x1b]0;x\\x07: 1 device, 1 IOMMU group, 0 bridges');
    expect(r.out).toContain('0000:01:00.0  group 1  NIC \\x1b[2J\\u{202e}');
  });
});
