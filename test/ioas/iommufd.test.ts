/**
 * iommufd attach rules, provenance in explanations, peer-to-peer warnings, and loading an
 * IOAS state — on hosts built the way `iova import` builds them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { InputError } from '../../src/model/errors.js';
import { parseIoasState } from '../../src/model/ioas-state.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { expectErrno, expectOk, MOCK_APERTURE_START, PAGE } from './helpers.js';

const G = 1n << 30n;
const HT_START = 0xfd_0000_0000n;
const HT_LAST = 0xff_ffff_ffffn;

/** An AMD host as imported from sysfs: group 12 (MSI window, HyperTransport hole), and a NIC with its own region. */
const amdHost = parseHostFacts(
  {
    name: 'amd',
    platform: 'amd-vi',
    groups: [
      {
        id: 12,
        devices: ['0000:41:00.0', '0000:41:00.1'],
        reservedRegions: [
          { start: '0xfee00000', last: '0xfeefffff', type: 'msi' },
          { start: '0xfd00000000', last: '0xffffffffff', type: 'reserved' },
        ],
      },
      { id: 13, devices: ['0000:42:00.0'], reservedRegions: [{ start: '0xfee00000', last: '0xfeefffff', type: 'msi' }] },
    ],
    devices: [
      { id: '41:00.0', group: 12 },
      { id: '41:00.1', group: 12 },
      { id: '42:00.0', group: 13, reservedRegions: [{ start: '0x80000000', last: '0x80ffffff', type: 'reserved' }] },
    ],
  },
  'amd.json',
);

describe('explanations name where a fact came from', () => {
  it('names the HyperTransport hole of group 12 in amd.json, and suggests maps that work', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('0000:41:00.0'));
    const r = expectErrno(ioas, ioas.map({ iova: HT_START, length: 64n * 1024n }), 'EINVAL', 'reserved-overlap');
    expect(r.blocking).toMatchObject({ fact: 'hole', holeKind: 'reserved-region', holeType: 'reserved', range: { start: HT_START, last: HT_LAST }, owners: ['0000:41:00.0'] });
    expect(r.blocking?.source).toMatchObject({ group: 12, file: 'amd.json', path: 'groups[0].reservedRegions[1]' });
    expect(r.message).toContain('0xfd_0000_0000–0xff_ffff_ffff (12 GiB)');
    expect(r.message).toContain('IOMMU group 12');
    const texts = r.suggestions.map((s) => s.text);
    expect(texts.some((t) => t.startsWith('Map at 0xfc_ffff_0000'))).toBe(true);
    expect(texts.some((t) => t.startsWith('Map at 0x100_0000_0000'))).toBe(true);
    // Detaching the device the map is for is no fix (issue 10 item 6).
    expect(r.suggestions.flatMap((s) => s.steps).some((s) => s.op === 'detach')).toBe(false);
  });

  it('suggests mapping around the hole in two pieces that keep the whole length', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('0000:41:00.0'));
    const r = expectErrno(ioas, ioas.map({ iova: HT_START - G, length: 16n * G, va: 1n << 44n }), 'EINVAL', 'reserved-overlap');
    const split = r.suggestions.find((s) => s.text.startsWith('Map it as 2 pieces'));
    // The part below the hole stays; the rest moves past the hole, its user address continuing.
    expect(split?.steps).toEqual([
      { op: 'map', iova: HT_START - G, length: G, fixed: true, va: 1n << 44n },
      { op: 'map', iova: HT_LAST + 1n, length: 15n * G, fixed: true, va: (1n << 44n) + G },
    ]);
  });

  it('never splits a BAR: a pfnmap map gets no pieces', () => {
    const ioas = Ioas.create(amdHost, { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:41:00.0'));
    const r = expectErrno(ioas, ioas.map({ iova: HT_START - G, length: 2n * G, backing: 'pfnmap' }), 'EINVAL', 'reserved-overlap');
    expect(r.suggestions.some((s) => s.steps.length > 1)).toBe(false);
    expect(r.suggestions.every((s) => s.steps.every((st) => st.op !== 'map' || st.length === 2n * G))).toBe(true);
  });

  it('keeps a region two attachments share until both are gone', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('0000:41:00.0'));
    expectOk(ioas.attach('0000:42:00.0'));
    const msi = ioas.reserved().filter((f) => f.holeType === 'msi');
    expect(msi.map((f) => [f.source.group, f.owners])).toEqual([
      [12, ['0000:41:00.0']],
      [13, ['0000:42:00.0']],
    ]);
    expectOk(ioas.detach('0000:41:00.0'));
    expectErrno(ioas, ioas.map({ iova: 0xfee0_0000n, length: PAGE }), 'EINVAL', 'reserved-overlap');
    expectOk(ioas.detach('0000:42:00.0'));
    expectOk(ioas.map({ iova: 0xfee0_0000n, length: PAGE }));
  });

  it('blames the device whose region is in the way, and does not offer to detach it', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('0000:41:00.0'));
    expectOk(ioas.attach('0000:42:00.0'));
    const r = expectErrno(ioas, ioas.map({ iova: 0x8000_0000n, length: 16n << 20n }), 'EINVAL', 'reserved-overlap');
    expect(r.blocking?.owners).toEqual(['0000:42:00.0']);
    expect(r.suggestions.some((s) => s.steps.some((st) => st.op === 'detach'))).toBe(false);
    // The guest-chosen-IOVA advice lists the valid ranges and its first fit works.
    const guest = r.suggestions.find((s) => s.text.startsWith('If a guest chooses'));
    expect(guest?.text).toContain('0x0–0x7fff_ffff');
  });
});

describe('iommufd attach', () => {
  it('refuses a device whose reserved region is mapped (EADDRINUSE), and unmapping first works', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.map({ iova: 0xfee0_0000n, length: PAGE, name: 'doorbell' }));
    const r = expectErrno(ioas, ioas.attach('0000:41:00.0'), 'EADDRINUSE', 'reserved-mapped');
    expect(r.blocking).toMatchObject({ holeType: 'msi', source: { group: 12 } });
    expect(r.involved.find((f) => f.fact === 'mapping')?.what).toBe('mapping doorbell');
    expect(r.suggestions[0].steps).toEqual([{ op: 'unmap', iova: 0xfee0_0000n, length: PAGE }, { op: 'attach', device: '0000:41:00.0' }]);
  });

  it('refuses a device whose reserved region lies in an allowed range, and trimming the range works', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.allowIovas([{ start: 0xf000_0000n, last: 0xffff_ffffn }]));
    const r = expectErrno(ioas, ioas.attach('0000:41:00.0'), 'EADDRINUSE', 'reserved-allowed');
    expect(r.suggestions[0].steps[0]).toEqual({
      op: 'allow',
      ranges: [
        { start: 0xf000_0000n, last: 0xfedf_ffffn },
        { start: 0xfef0_0000n, last: 0xffff_ffffn },
      ],
    });
  });

  it('refuses a domain whose aperture leaves out a mapping', () => {
    const host = parseHostFacts({ name: 'vtd39', platform: { profile: 'intel-vtd', addressWidth: 39 }, devices: [{ id: '00:02.0' }] });
    const ioas = Ioas.create(host);
    expectOk(ioas.map({ iova: 1n << 40n, length: PAGE }));
    const r = expectErrno(ioas, ioas.attach('0000:00:02.0'), 'EADDRINUSE', 'aperture-mapped');
    expect(r.blocking).toMatchObject({ holeKind: 'aperture', range: { start: 1n << 39n }, source: { profile: 'intel-vtd' } });
  });

  it('raises the alignment to the largest minimum page, refuses it over misaligned mappings, and lowers it on detach', () => {
    const geometry = (pages: string) => ({ apertures: [{ start: 0, last: '0xffffffffffff' }], pageSizes: pages });
    const host = parseHostFacts({
      name: 'mixed',
      devices: [
        { id: '01:00.0', iommu: geometry('0x800') },
        { id: '02:00.0', iommu: geometry('0x201000') },
        { id: '03:00.0', iommu: geometry('0x10000') },
      ],
    });
    const ioas = Ioas.create(host);
    expectOk(ioas.attach('01:00.0'));
    expect(ioas.alignment).toBe(0x800n);
    expectOk(ioas.map({ iova: 0x800n, length: 0x800n }));
    const r = expectErrno(ioas, ioas.attach('02:00.0'), 'EADDRINUSE', 'alignment-in-use');
    expect(r.involved.map((f) => f.fact)).toEqual(['mapping', 'domain']);
    expectOk(ioas.unmap(0x800n, 0x800n));
    expect(expectOk(ioas.attach('02:00.0')).newDomain).toBe(true);
    expect(ioas.alignment).toBe(PAGE);
    expectErrno(ioas, ioas.attach('03:00.0'), 'EINVAL', 'domain-page-size');
    expectOk(ioas.detach('02:00.0'));
    expect(ioas.alignment).toBe(0x800n);
  });

  it('ignores direct-relaxable regions and reserves the software MSI window', () => {
    const host = parseHostFacts({
      name: 'arm',
      platform: 'arm-smmuv3',
      groups: [{ id: 0, devices: ['0000:01:00.0'], reservedRegions: [{ start: '0x1000000', last: '0x1ffffff', type: 'direct-relaxable' }] }],
      devices: [{ id: '01:00.0', group: 0 }],
    });
    const ioas = Ioas.create(host);
    expectOk(ioas.map({ iova: 0x100_0000n, length: 0x100_0000n }));
    expectOk(ioas.attach('0000:01:00.0'));
    const r = expectErrno(ioas, ioas.map({ iova: 0x800_0000n, length: PAGE }), 'EINVAL', 'reserved-overlap');
    expect(r.blocking).toMatchObject({ holeType: 'sw-msi', source: { profile: 'arm-smmuv3' } });
  });

  it('treats attaching twice and detaching a stranger as bad input', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('41:00.0'));
    expect(() => ioas.attach('0000:41:00.0')).toThrow(InputError);
    expect(() => ioas.detach('0000:42:00.0')).toThrow(/not attached/);
    expect(() => ioas.attach('0000:99:00.0')).toThrow(/not in host amd/);
  });
});

describe('automatic placement details', () => {
  it('keeps the user address offset in its page and never returns IOVA 0', () => {
    const ioas = Ioas.create(amdHost);
    const r = expectOk(ioas.map({ length: 0x10n, fixed: false, va: 0x7000_0000_0230n }));
    expect(r.iova % PAGE).toBe(0x230n);
    expect(r.iova >= PAGE).toBe(true);
    expect(r.alignment).toBe(0x10n);
  });

  it('caps the alignment at the huge-page size', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.map({ iova: PAGE, length: PAGE }));
    const r = expectOk(ioas.map({ length: 1n << 30n, fixed: false, va: 1n << 40n }));
    expect(r.alignment).toBe(2n << 20n);
    expect(r.iova).toBe(2n << 20n);
  });

  it('refuses an alignment below the IOAS alignment (EINVAL) and lengths near 2^63 (EOVERFLOW)', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.attach('0000:41:00.0'));
    expectErrno(ioas, ioas.map({ length: PAGE, fixed: false, va: 0x7000_0000_0800n }), 'EINVAL', 'auto-alignment');
    expectErrno(ioas, ioas.map({ length: 1n << 63n, fixed: false }), 'EOVERFLOW', 'auto-length-overflow');
  });

  it('fills the allowed ranges lowest first and then reports ENOSPC; clearing them is suggested', () => {
    const ioas = Ioas.create(amdHost);
    expectOk(ioas.allowIovas([{ start: MOCK_APERTURE_START, last: MOCK_APERTURE_START + 4n * PAGE - 1n }]));
    const placed = [1, 2, 3, 4].map(() => expectOk(ioas.map({ length: PAGE, fixed: false })).iova);
    expect(placed).toEqual([0n, 1n, 2n, 3n].map((i) => MOCK_APERTURE_START + i * PAGE));
    const r = expectErrno(ioas, ioas.map({ length: PAGE, fixed: false }), 'ENOSPC', 'no-space');
    expect(r.involved[0]).toMatchObject({ fact: 'allowed' });
    expect(r.suggestions[0].text).toBe('Clear the allowed ranges, then map again');
  });
});

describe('fixed-map argument checks', () => {
  const ioas = Ioas.create(amdHost);
  expectOk(ioas.attach('0000:41:00.0'));
  it.each([
    [{ iova: 0x1000n, length: 0n }, 'EINVAL', 'length-zero'],
    [{ iova: 0x1000n, length: 0x1800n }, 'EINVAL', 'length-alignment'],
    [{ iova: 0x1800n, length: 0x1000n }, 'EINVAL', 'iova-alignment'],
    [{ iova: 0xffff_ffff_ffff_f000n, length: 0x2000n }, 'EOVERFLOW', 'iova-wrap'],
    [{ iova: 0xffff_ffff_ffff_ffffn, length: 0x1000n }, 'EOVERFLOW', 'argument-overflow'],
    [{ iova: 0x1000n, length: 0x1000n, va: 0xffff_ffff_ffff_f800n }, 'EOVERFLOW', 'va-overflow'],
  ] as const)('%o → %s %s', (request, errno, rule) => {
    expectErrno(ioas, ioas.map(request), errno, rule);
  });

  it('rounds a misaligned length up in its suggestion', () => {
    const r = expectErrno(ioas, ioas.map({ iova: 0x1000n, length: 0x1800n }), 'EINVAL', 'length-alignment');
    expect(r.suggestions[0].steps).toEqual([{ op: 'map', iova: 0x1000n, length: 0x2000n, fixed: true }]);
  });
});

/**
 * Root port → switch upstream 01:00.0 → downstream 02:08.0 (NIC on bus 3) and 02:10.0 (GPU on
 * bus 4), with ACS P2P Request Redirect off — or turned on here.
 */
function switchHost(redirect: boolean) {
  const raw = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'switch-host.json'), 'utf8'));
  for (const bridge of raw.pci.bridges) if (bridge.acs) bridge.acs.control = { requestRedirect: redirect, upstreamForwarding: redirect };
  return parseHostFacts({ ...raw, name: redirect ? 'acs' : 'no-acs' }, 'switch-host.json');
}

describe('peer-to-peer warnings', () => {
  it('accepts a map over a peer BAR behind a non-ACS switch, warning that DMA goes to the peer', () => {
    const ioas = Ioas.create(switchHost(false));
    expectOk(ioas.attach('0000:03:00.0'));
    const r = expectOk(ioas.map({ iova: 0x9_0000_0000n, length: 2n << 20n }));
    expect(r.warnings.length).toBeGreaterThan(0);
    const bar = r.warnings.find((w) => w.fact.holeType === 'peer-bar');
    expect(bar).toMatchObject({ kind: 'p2p', range: { start: 0x9_0000_0000n, last: 0x9_001f_ffffn }, fact: { enforced: false, source: { peer: '0000:04:00.0', port: '0000:02:08.0' } } });
    expect(bar?.message).toContain('peer 0000:04:00.0');
  });

  it('suggests a place no peer decodes, and warns nothing with ACS redirect on', () => {
    const bad = Ioas.create(switchHost(false));
    expectOk(bad.attach('0000:03:00.0'));
    expectOk(bad.map({ iova: 0x9_0000_0000n, length: 2n << 20n }));
    const r = expectErrno(bad, bad.map({ iova: 0x9_0000_0000n, length: 2n << 20n }), 'EEXIST', 'area-overlap');
    const moved = r.suggestions.find((s) => s.text.startsWith('Map at'));
    const step = moved?.steps[0];
    const copy = bad.clone();
    const placed = copy.applyAll(moved?.steps ?? []);
    expect(step?.op).toBe('map');
    expect(placed.ok && placed.warnings).toEqual([]);

    const good = Ioas.create(switchHost(true));
    expectOk(good.attach('0000:03:00.0'));
    expect(expectOk(good.map({ iova: 0x9_0000_0000n, length: 2n << 20n })).warnings).toEqual([]);
  });
});

describe('IOAS state files', () => {
  const state = (mappings: unknown[], extra: Record<string, unknown> = {}) =>
    parseIoasState({ host: { name: 'amd', platform: 'amd-vi', groups: [{ id: 12, devices: ['0000:41:00.0'] }], devices: [{ id: '41:00.0', group: 12 }] }, attached: ['41:00.0'], mappings, ...extra }, 'vm.json');

  it('attaches, allows and replays the mappings', () => {
    const ioas = Ioas.fromState(state([{ name: 'ram-low', start: 0, size: '2G' }, { name: 'ram-high', start: '0x100000000', size: '2G', va: '0x7f0000000000' }], { allowed: [{ start: '0x200000000000', size: '1T' }] }));
    expect(ioas.attached).toEqual(['0000:41:00.0']);
    expect(ioas.mappings.map((m) => m.name)).toEqual(['ram-low', 'ram-high']);
    expect(ioas.allowed).toHaveLength(1);
  });

  it('names the mapping that cannot be replayed, with its place in the file', () => {
    const bad = state([{ name: 'ram-low', start: 0, size: '2G' }, { name: 'ram-high', start: '0xfd00000000', size: '4G' }]);
    expect(() => Ioas.fromState(bad)).toThrow(InputError);
    try {
      Ioas.fromState(bad);
    } catch (error) {
      const e = error as InputError;
      expect(e.message).toMatch(/^mapping ram-high .* cannot be replayed: -EINVAL reserved-overlap: .*HyperTransport hole/);
      expect(e.describe()).toContain('vm.json: at mappings[1]');
    }
  });

  it('refuses allowed ranges under VFIO type1', () => {
    expect(() => Ioas.fromState(state([], { policy: 'vfio-type1', allowed: [{ start: '0x1000', size: '4K' }] }))).toThrow(/no allowed ranges/);
  });
});
