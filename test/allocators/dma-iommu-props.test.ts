// Property test: random map/unmap/alloc/free sequences from several devices of one DMA-API
// domain, checked after every step against the AddressSpace's holes (never independent of the
// reservations the domain derived from them), the devices' limits, the live mappings, and the
// below-4-GiB rule. Granule 16 MiB, so that the space below 4 GiB runs out within a sequence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace, DmaIommuDomain, type DmaIommuDevice, type DmaIovaPolicyName, type Hole, parseHostFacts } from '../../src/index.js';

const SEED = 20260715;
const G = 1n << 24n;
const LOW = 1n << 32n;

const HOST = parseHostFacts({
  name: 'prop-host',
  iommu: { apertures: [{ start: '0x40000000', last: '0xffffffffff' }], pageSizes: ['16M', '1G'] },
  reservedRegions: [
    { start: '0xfee00000', last: '0xfeefffff', type: 'msi' },
    { start: '0x80000000', last: '0x80ffffff', type: 'direct' },
    // dma-iommu maps the software MSI window itself: not a hole, may be handed out.
    { start: '0x90000000', last: '0x900fffff', type: 'sw-msi' },
  ],
  groups: [{ id: 1, devices: ['0000:01:00.0', '0000:01:00.1', '0000:02:00.0', 'platform:dsp'], reservedRegions: [] }],
  devices: [
    { id: '0000:01:00.0', group: 1, dmaMaskBits: 32 },
    { id: '0000:01:00.1', group: 1, dmaMaskBits: 64 },
    { id: '0000:02:00.0', group: 1, dmaMaskBits: 40 },
    { id: 'platform:dsp', group: 1, dmaMaskBits: 36 },
  ],
  pci: {
    hostBridges: [
      {
        id: '0000:00',
        busFirst: 0,
        busLast: 255,
        windows: [
          { start: '0xc0000000', last: '0xcfffffff' },
          { start: '0x2000000000', last: '0x20ffffffff' },
        ],
        dmaRanges: [
          { start: '0x0', last: '0xdfffffff' },
          { start: '0x100000000', last: '0x3fffffffff' },
        ],
      },
    ],
  },
});
const DEVICES = HOST.devices.map((d) => d.id);

type Op =
  | { kind: 'map'; dev: number; size: bigint; phys: bigint }
  | { kind: 'alloc'; dev: number; size: bigint }
  | { kind: 'release'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('map' as const), dev: fc.nat(DEVICES.length - 1), size: fc.bigInt({ min: 1n, max: 40n * G }), phys: fc.bigInt({ min: 0n, max: 1n << 40n }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('alloc' as const), dev: fc.nat(DEVICES.length - 1), size: fc.bigInt({ min: 1n, max: 40n * G }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
);

interface Live {
  dev: DmaIommuDevice;
  iova: bigint;
  size: bigint;
  coherent: boolean;
  start: bigint;
  last: bigint;
}

const overlaps = (a: { start: bigint; last: bigint }, b: { start: bigint; last: bigint }): boolean => a.start <= b.last && b.start <= a.last;

/** How often the interesting cases came up, so that the property is known not to be vacuous. */
const seen = { switched: 0, failed: 0, above4G: 0 };

function run(policy: DmaIovaPolicyName, ops: Op[]): void {
  const space = AddressSpace.build(HOST, { policy: 'dma-iommu' });
  // What must never be handed out: reserved regions, host-bridge windows, dma-ranges gaps, the
  // aperture's outside and page 0. (The narrowest DMA mask is checked per device instead.)
  const holes: Hole[] = space.holes.filter((h) => h.kind !== 'dma-mask' && h.kind !== 'p2p');
  expect(holes.map((h) => h.type)).toContain('host-bridge-window');
  const d = DmaIommuDomain.fromSpace(space, { policy });
  const nodesAtStart = d.iova.dump().length;
  const devs = DEVICES.map((id) => d.attach(id));
  const live: Live[] = [];
  for (const op of ops) {
    if (op.kind === 'release') {
      if (live.length === 0) continue;
      const [m] = live.splice(op.pick % live.length, 1);
      if (m.coherent) m.dev.free(m.iova, m.size);
      else m.dev.unmap(m.iova, m.size);
      continue;
    }
    const dev = devs[op.dev];
    const coherent = op.kind === 'alloc';
    const limit = coherent ? dev.coherentDmaLimit : dev.dmaLimit;
    const tried32 = dev.tries32BitFirst && limit >= LOW;
    const offset = op.kind === 'map' ? op.phys & (G - 1n) : 0n;
    const iova = op.kind === 'map' ? dev.map(op.size, { phys: op.phys }) : dev.alloc(op.size);
    if (!dev.pci) expect(dev.tries32BitFirst).toBe(false);
    if (iova === undefined) {
      // A PCI device whose first try below 4 GiB failed has switched for good.
      if (tried32) expect(dev.tries32BitFirst).toBe(false);
      seen.failed++;
      continue;
    }
    expect(iova & (G - 1n), 'offset inside the granule is kept').toBe(offset);
    const start = iova - offset;
    const last = start + ((op.size + offset + G - 1n) / G) * G - 1n;
    // The range the allocator holds (sizes below 32 granules are rounded up to a power of two).
    const node = d.iova.findBytes(start);
    expect(node?.start).toBe(start);
    const held = node as { start: bigint; last: bigint };
    expect(held.last >= last).toBe(true);
    expect(held.last <= limit, `${dev.id}: ${held.last.toString(16)} above its limit ${limit.toString(16)}`).toBe(true);
    for (const h of holes) expect(overlaps(held, h), `${dev.id} got ${start.toString(16)} inside ${h.type} ${h.start.toString(16)}`).toBe(false);
    for (const m of live) expect(overlaps(held, m), 'overlaps a live mapping').toBe(false);
    if (tried32) {
      // Below 4 GiB while the device still looks there; above only after it has switched.
      expect(dev.tries32BitFirst).toBe(held.last < LOW);
      expect(dev.notices).toHaveLength(dev.tries32BitFirst ? 0 : 1);
      if (!dev.tries32BitFirst) seen.switched++;
    }
    if (held.last >= LOW) seen.above4G++;
    live.push({ dev, iova, size: op.size, coherent, start, last });
  }
  expect(d.mappedCount).toBe(live.length);
  for (const m of live) {
    if (m.coherent) m.dev.free(m.iova, m.size);
    else m.dev.unmap(m.iova, m.size);
  }
  expect(d.mappedCount).toBe(0);
  expect(d.iova.check()).toBeUndefined();
  // Once the caches are flushed, only the reservations remain.
  d.iova.flush();
  expect(d.iova.dump()).toHaveLength(nodesAtStart);
}

describe.each<DmaIovaPolicyName>(['default', 'linux'])('dma-iommu properties (%s policy)', (policy) => {
  it('never hands out a hole, stays below each limit, and switches above 4 GiB only after a miss', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 150 }), (ops) => run(policy, ops)),
      { seed: SEED, numRuns: 150 },
    );
    expect(seen.switched).toBeGreaterThan(10);
    expect(seen.failed).toBeGreaterThan(10);
    expect(seen.above4G).toBeGreaterThan(100);
  });
});
