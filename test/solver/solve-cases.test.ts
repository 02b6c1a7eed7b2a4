/**
 * The cases the placement solver must get right, with expectations worked out by hand from
 * the host facts (see the comments next to each).
 */
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/model/host.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { solve } from '../../src/solver/solve.js';

const G = 1n << 30n;
const T = 1n << 40n;
const W64 = 1n << 59n;

function spec(host: unknown, requests: unknown[], extra: Record<string, unknown> = {}) {
  return parsePlacementSpec({ host, requests, ...extra }, 'spec.json');
}

describe('sPAPR windows', () => {
  const guest = [
    { name: 'dma32', size: '1G', fixed: '0' },
    { name: 'dma64', size: '1T', fixed: '0x0800000000000000' },
  ];

  it('fit a host whose apertures cover both windows', async () => {
    const host = { name: 'power9', platform: { profile: 'spapr', window64Size: '2T' } };
    const result = await solve(spec(host, guest));
    expect(result.status).toBe('sat');
    if (result.status !== 'sat') return;
    expect(result.placements.map((p) => [p.name, p.iova, p.last])).toEqual([
      ['dma32', 0n, G - 1n],
      ['dma64', W64, W64 + T - 1n],
    ]);
  });

  it('do not fit a 48-bit host, and the conflict names the aperture', async () => {
    const host = { name: 'x86-48', platform: { profile: 'intel-vtd', addressWidth: 48 } };
    const result = await solve(spec(host, guest));
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    expect(result.conflicts).toHaveLength(1);
    const [conflict] = result.conflicts;
    expect(conflict.constraints.map((c) => c.id)).toEqual(['aperture:dma64', 'fixed:dma64']);
    expect(conflict.message).toBe(
      '`dma64` (1 TiB at 0x800_0000_0000_0000) lies outside every aperture window: 0x0–0xffff_ffff_ffff (48-bit aperture (profile intel-vtd; spec.json; platform))',
    );
    expect(conflict.constraints[0].text).toContain('48-bit aperture');
    // Moving the window is a repair, and it lands inside the 48-bit aperture.
    const move = result.repairs.find((r) => r.changes[0].kind === 'move');
    expect(move?.changes[0].iova).toBeDefined();
    expect((move?.changes[0].iova as bigint) + T - 1n).toBeLessThan(1n << 48n);
  });

  it('fit the 48-bit host at a base it can honour when the 64-bit base is left free', async () => {
    const host = { name: 'x86-48', platform: { profile: 'intel-vtd', addressWidth: 48 } };
    const result = await solve(spec(host, [guest[0], { name: 'dma64', size: '1T', align: '1T' }]));
    expect(result.status).toBe('sat');
    if (result.status !== 'sat') return;
    // 1 TiB-aligned and clear of dma32 (0..1G) and the MSI window: the first such base is 1 TiB.
    expect(result.placements[1]).toMatchObject({ name: 'dma64', iova: T, last: 2n * T - 1n });
  });
});

describe('a 1 GiB-aligned 1 GiB window below 4 GiB on a crowded x86 host', () => {
  // One blocker per aligned slot: an RMRR in [0,1G), another RMRR in [1G,2G), the host-bridge
  // window in [2G,3G) and the MSI doorbells in [3G,4G). Nothing else is below 4 GiB.
  const host = {
    name: 'crowded',
    platform: { profile: 'intel-vtd', addressWidth: 39 },
    reservedRegions: [
      { start: '0xe8000', last: '0xe8fff', type: 'direct', source: { what: 'RMRR', file: 'dmesg.txt', line: 3 } },
      { start: '0x7b800000', last: '0x7b8fffff', type: 'direct', source: { what: 'RMRR', file: 'dmesg.txt', line: 4 } },
    ],
    devices: [{ id: '0000:00:14.0' }],
    pci: { hostBridges: [{ id: '0000:00', busFirst: 0, busLast: 255, windows: [{ start: '0x90000000', last: '0xbfffffff' }] }] },
  };
  const requests = [{ name: 'lowwin', size: '1G', align: '1G', within: { start: '0', last: '0xffffffff' } }];

  it('is unsat and the minimal conflict names every blocking hole', async () => {
    const result = await solve(spec(host, requests, { policy: 'dma-iommu' }));
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    const [conflict] = result.conflicts;
    const holes = conflict.constraints.filter((c) => c.kind === 'hole');
    expect(holes.map((c) => c.text.match(/0x[0-9a-f_]+–0x[0-9a-f_]+/)?.[0])).toEqual([
      '0xe_8000–0xe_8fff',
      '0x7b80_0000–0x7b8f_ffff',
      '0x9000_0000–0xbfff_ffff',
      '0xfee0_0000–0xfeef_ffff',
    ]);
    expect(conflict.constraints.map((c) => c.kind).sort()).toEqual(['align', 'hole', 'hole', 'hole', 'hole', 'within']);
    expect(conflict.message).toMatch(/no room: it must be aligned to 1 GiB, lie within 0x0–0xffff_ffff/);
    expect(conflict.minimal).toBe(true);
  });

  it('offers repairs that each work: a lower alignment first, then a smaller window', async () => {
    const result = await solve(spec(host, requests, { policy: 'dma-iommu' }));
    if (result.status !== 'unsat') throw new Error('expected unsat');
    expect(result.repairs.map((r) => r.description)).toEqual([
      "lower `lowwin`'s alignment from 1 GiB to 512 MiB",
      // The largest aligned room: from 3 GiB up to the MSI doorbells at 0xfee0_0000, 1006 MiB
      // (from 1 GiB up to the second RMRR there are only 952 MiB).
      'shrink `lowwin` by 18 MiB to 1006 MiB',
      // The host-bridge window comes with the one attached PCI device.
      'leave 0000:00:14.0 unattached, lifting the holes it brings',
      'drop `lowwin`',
    ]);
    // 512 MiB-aligned: [0, 512M) holds the first RMRR; [512M, 1G) is free.
    expect(result.repairs[0].placements[0]).toMatchObject({ iova: 0x20000000n });
  });

  it('is sat under iommufd, which does not keep DMA away from host-bridge windows', async () => {
    const result = await solve(spec(host, requests, { policy: 'iommufd' }));
    expect(result.status).toBe('sat');
    if (result.status === 'sat') expect(result.placements[0].iova).toBe(2n * G);
  });
});

function switchHost(redirect: boolean): unknown {
  const acs = { capability: { requestRedirect: true }, control: { requestRedirect: redirect } };
  return {
    name: redirect ? 'acs' : 'no-acs',
    platform: { profile: 'intel-vtd', addressWidth: 48 },
    devices: [
      { id: '0000:03:00.0', bars: [{ bar: 0, start: '0x71200000', size: '1M' }] },
      { id: '0000:04:00.0', bars: [{ bar: 2, start: '0x900000000', size: '256M', prefetchable: true }] },
    ],
    pci: {
      bridges: [
        { id: '0000:00:01.0', role: 'root-port', secondaryBus: 1, subordinateBus: 4 },
        { id: '0000:01:00.0', role: 'switch-upstream', primaryBus: 1, secondaryBus: 2, subordinateBus: 4 },
        { id: '0000:02:08.0', role: 'switch-downstream', primaryBus: 2, secondaryBus: 3, subordinateBus: 3, windows: [{ start: '0x71200000', last: '0x713fffff' }], acs },
        { id: '0000:02:10.0', role: 'switch-downstream', primaryBus: 2, secondaryBus: 4, subordinateBus: 4, windows: [{ start: '0x900000000', last: '0x90fffffff', prefetchable: true }], acs },
      ],
    },
  };
}

describe('peer-to-peer', () => {
  const requests = [{ name: 'guest-ram', size: '64G', fixed: '0x800000000' }];

  it('without ACS redirect, a request over the peer GPU BAR is unsat, naming peer, BAR and port', async () => {
    const result = await solve(spec(switchHost(false) as HostFacts, requests, { devices: ['0000:03:00.0'] }));
    expect(result.status).toBe('unsat');
    if (result.status !== 'unsat') return;
    const [conflict] = result.conflicts;
    expect(conflict.constraints.map((c) => c.kind)).toEqual(['fixed', 'hole']);
    const hole = conflict.constraints[1];
    expect(hole.source?.peer).toBe('0000:04:00.0');
    expect(hole.source?.what).toBe('BAR2');
    expect(hole.source?.port).toBe('0000:02:08.0');
    expect(conflict.message).toContain('peer 0000:04:00.0');
    expect(conflict.message).toContain('port 0000:02:08.0');
  });

  it('with ACS redirect enabled, the same request is sat', async () => {
    const result = await solve(spec(switchHost(true), requests, { devices: ['0000:03:00.0'] }));
    expect(result.status).toBe('sat');
  });
});
