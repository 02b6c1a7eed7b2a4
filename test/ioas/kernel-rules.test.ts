/**
 * The rules that decide a map or an attach by kernel version, each test naming the kernel
 * function it mirrors (the errno and version boundaries are the kernel's, see src/ioas/kernel.ts).
 * Every rejection's suggestions are applied on a copy and must be accepted (expectErrno).
 */
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { NotModelledError } from '../../src/ioas/kernel.js';
import { InputError } from '../../src/model/errors.js';
import { parseIoasState } from '../../src/model/ioas-state.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { expectErrno, expectOk, PAGE } from './helpers.js';

const G = 1n << 30n;

/** Intel (39-bit): a NIC with a non-relaxable RMRR (as on HP/Dell servers), a GPU with a relaxable one, a plain device. */
function intelHost(profile: 'intel-vtd' | 'amd-vi' | 'arm-smmuv3' = 'intel-vtd') {
  return parseHostFacts(
    {
      name: profile,
      platform: profile === 'intel-vtd' ? { profile, addressWidth: 39 } : profile,
      reservedRegions: [],
      groups: [
        { id: 1, devices: ['0000:02:00.0'], reservedRegions: [{ start: '0xbdf6e000', last: '0xbdf84fff', type: 'direct' }] },
        { id: 2, devices: ['0000:00:02.0'], reservedRegions: [{ start: '0x7c000000', last: '0x7fffffff', type: 'direct-relaxable' }] },
        { id: 3, devices: ['0000:03:00.0'] },
        { id: 4, devices: ['0000:04:00.0', '0000:04:00.1'] },
      ],
      devices: [
        { id: '02:00.0', group: 1 },
        { id: '00:02.0', group: 2 },
        { id: '03:00.0', group: 3 },
        { id: '04:00.0', group: 4 },
        { id: '04:00.1', group: 4, reservedRegions: [{ start: '0xa0000000', last: '0xa0000fff', type: 'direct' }] },
        { id: '05:00.0', iommu: { apertures: [{ start: 0, last: '0xffffffffffff' }], pageSizes: ['64K', '2M'] } },
      ],
    },
    `${profile}.json`,
  );
}

describe('require_direct (iommu.c __iommu_device_set_domain from 6.5; intel-iommu.c device_is_rmrr_locked before)', () => {
  for (const policy of ['iommufd', 'vfio-type1'] as const) {
    it(`${policy}, 6.5 and later: EINVAL for a device with a non-relaxable direct region; the firmware fix is applied and works`, () => {
      const ioas = Ioas.create(intelHost(), { policy, kernel: '6.5' });
      const r = expectErrno(ioas, ioas.attach('0000:02:00.0'), 'EINVAL', 'require-direct');
      expect(r.kernel).toBe('6.5');
      expect(r.message).toContain('Firmware has requested this device have a 1:1 IOMMU mapping');
      expect(r.blocking).toMatchObject({ holeType: 'direct', range: { start: 0xbdf6_e000n }, source: { group: 1, file: 'intel-vtd.json' } });
      const fix = r.suggestions[0];
      expect(fix.steps.map((s) => s.op)).toEqual(['drop-direct', 'attach']);
      expect(fix.text).toContain('RMRR');
      expect(fix.text).toContain('no kernel command-line option');
      // Applying it: the host without that region lets the device attach.
      const copy = ioas.clone();
      expectOk(copy.applyAll(fix.steps));
      expect(copy.attached).toContain('0000:02:00.0');
    });
  }

  it('before 6.5 on Intel: EPERM ("ineligible … RMRR")', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', kernel: '6.1' });
    const r = expectErrno(ioas, ioas.attach('0000:02:00.0'), 'EPERM', 'require-direct');
    expect(r.message).toContain('ineligible');
    expect(Ioas.create(intelHost(), { policy: 'iommufd', kernel: '6.4' }).attach('0000:02:00.0')).toMatchObject({ ok: false, errno: 'EPERM' });
  });

  it('before 6.5 on another IOMMU: not modelled rather than guessed', () => {
    const ioas = Ioas.create(intelHost('amd-vi'), { policy: 'vfio-type1', kernel: '6.1' });
    expect(() => ioas.attach('0000:02:00.0')).toThrow(NotModelledError);
    expect(() => ioas.attach('0000:02:00.0')).toThrow(/not modelled/);
    // From 6.5 the core decides for every driver.
    expectErrno(ioas, Ioas.create(intelHost('amd-vi'), { kernel: '6.8' }).attach('0000:02:00.0'), 'EINVAL', 'require-direct');
  });

  it('claims the whole group: a sibling with a direct region blocks the device; a relaxable region does not', () => {
    const ioas = Ioas.create(intelHost());
    const r = expectErrno(ioas, ioas.attach('0000:04:00.0'), 'EINVAL', 'require-direct');
    expect(r.blocking?.source).toMatchObject({ device: '0000:04:00.1' });
    expectOk(ioas.attach('0000:00:02.0'));
  });

  it('a host-wide direct region (an RMRR read without its device scope) does not refuse, but the answer says what it assumed', () => {
    const host = parseHostFacts({ name: 'dmesg', platform: 'intel-vtd', reservedRegions: [{ start: '0xbdf6e000', last: '0xbdf84fff', type: 'direct' }], devices: [{ id: '03:00.0' }] }, 'dmesg.json');
    const r = expectOk(Ioas.create(host).attach('0000:03:00.0'));
    expect(r.warnings.map((w) => w.kind)).toEqual(['assumption']);
    expect(r.warnings[0].message).toContain('require_direct');
  });

  it('an AMD IVMD suggestion names the IVRS table', () => {
    const ioas = Ioas.create(intelHost('amd-vi'));
    const r = expectErrno(ioas, ioas.attach('0000:02:00.0'), 'EINVAL', 'require-direct');
    expect(r.suggestions[0].text).toContain('IVRS');
  });
});

describe('a VFIO container with no group (container.c vfio_fops_unl_ioctl: no IOMMU driver → -EINVAL)', () => {
  it('refuses MAP_DMA and UNMAP_DMA until a group is attached; attaching one first is suggested and works', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    const r = expectErrno(ioas, ioas.map({ iova: 0x1000_0000n, length: PAGE }), 'EINVAL', 'no-iommu');
    // A device the kernel will not let VFIO claim is not offered.
    expect(r.suggestions.some((s) => s.steps.some((st) => st.op === 'attach' && st.device === '0000:02:00.0'))).toBe(false);
    expect(r.suggestions[0].steps).toEqual([{ op: 'attach', device: '0000:00:02.0' }, { op: 'map', iova: 0x1000_0000n, length: PAGE, fixed: true }]);
    expectErrno(ioas, ioas.unmap(0n, PAGE), 'EINVAL', 'no-iommu');
  });

  it('after the last group leaves, maps are refused again (the IOMMU went with it)', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: PAGE }));
    expect(ioas.detach('0000:03:00.0').unmapped).toHaveLength(1);
    expectErrno(ioas, ioas.map({ iova: 0x1000_0000n, length: PAGE }), 'EINVAL', 'no-iommu');
  });

  it('an IOAS state without `attached` under vfio-type1 is such a container: its mappings cannot exist', () => {
    const state = parseIoasState({ host: { name: 'h', platform: 'intel-vtd', devices: [{ id: '03:00.0' }] }, policy: 'vfio-type1', mappings: [{ start: '0x100000', size: '4K' }] }, 's.json');
    expect(() => Ioas.fromState(state)).toThrow(/no group and so no IOMMU/);
    try {
      Ioas.fromState(state);
    } catch (e) {
      expect((e as InputError).path).toBe('mappings[0]');
    }
  });
});

describe('map backing (pages.c pfn_reader_user_pin → GUP; mm/gup.c check_vma_flags refuses VM_PFNMAP with -EFAULT)', () => {
  const bar = { iova: 0x1_0000_0000n, length: 16n << 20n, va: 0x7f00_0000_0000n, backing: 'pfnmap' as const };

  it('iommufd refuses a PFNMAP range (a mapped BAR) with EFAULT when a domain is attached; 6.19 suggests MAP_FILE with a dma-buf, which works', () => {
    const ioas = Ioas.create(intelHost());
    expectOk(ioas.attach('0000:03:00.0'));
    const r = expectErrno(ioas, ioas.map(bar), 'EFAULT', 'pfnmap-backing');
    expect(r.blocking).toMatchObject({ fact: 'backing', what: 'pfnmap memory' });
    expect(r.suggestions).toHaveLength(1);
    expect(r.suggestions[0].steps[0]).toMatchObject({ op: 'map', file: true, backing: 'dma-buf', iova: bar.iova, length: bar.length });
    const copy = ioas.clone();
    const mapped = copy.applyAll(r.suggestions[0].steps);
    expect(mapped.ok && mapped.warnings.some((w) => w.kind === 'assumption')).toBe(true);
  });

  it('before 6.19 there is no dma-buf path: MAP_FILE of a dma-buf is EINVAL (memfd_pin_folios), so nothing is suggested', () => {
    const ioas = Ioas.create(intelHost(), { kernel: '6.18' });
    expectOk(ioas.attach('0000:03:00.0'));
    expect(expectErrno(ioas, ioas.map(bar), 'EFAULT', 'pfnmap-backing').suggestions).toEqual([]);
    expectErrno(ioas, ioas.map({ ...bar, va: 0n, file: true, backing: 'dma-buf' }), 'EINVAL', 'pfnmap-backing');
  });

  it('before 6.13 IOMMU_IOAS_MAP_FILE does not exist (ENOTTY)', () => {
    const ioas = Ioas.create(intelHost(), { kernel: '6.12' });
    expectErrno(ioas, ioas.map({ iova: 0x1000_0000n, length: PAGE, va: 0n, file: true, backing: 'memfd' }), 'ENOTTY', 'ioctl-missing');
    expectOk(Ioas.create(intelHost(), { kernel: '6.13' }).map({ iova: 0x1000_0000n, length: PAGE, va: 0n, file: true, backing: 'memfd' }));
  });

  it('without a domain the pages are not pinned yet: accepted with a warning, and the attach that pins them fails', () => {
    const ioas = Ioas.create(intelHost());
    const r = expectOk(ioas.map(bar));
    expect(r.warnings.map((w) => w.kind)).toEqual(['deferred']);
    const attach = expectErrno(ioas, ioas.attach('0000:03:00.0'), 'EFAULT', 'pfnmap-backing');
    expect(attach.suggestions[0].steps[0]).toEqual({ op: 'unmap', iova: bar.iova, length: bar.length });
  });

  it('VFIO type1 maps a PFNMAP range (vaddr_get_pfns follows VM_PFNMAP)', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map(bar));
  });

  it('memfd and hugetlb user memory map like anonymous memory', () => {
    const ioas = Ioas.create(intelHost());
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: 2n << 20n, va: 0x7f00_0020_0000n, backing: 'hugetlb' }));
    expectOk(ioas.map({ iova: 0x2000_0000n, length: PAGE, va: 0x7f00_1000_0000n, backing: 'memfd' }));
  });
});

describe('dma_entry_limit (vfio_iommu_type1_open copies it into dma_avail; vfio_dma_do_map → -ENOSPC, from 5.1)', () => {
  it('is read when the container gets its IOMMU: raising the parameter later does not help, re-opening does', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', dmaEntryLimit: 2 });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: PAGE, va: 0x7000_0000n }));
    expectOk(ioas.map({ iova: 0x3000_0000n, length: PAGE, va: 0x9000_0000n }));
    expect(ioas.setDmaEntryLimit(100)).toMatchObject({ limit: 100, container: 2 });
    const r = expectErrno(ioas, ioas.map({ iova: 0x1000_1000n, length: PAGE, va: 0x7000_1000n }), 'ENOSPC', 'entry-limit');
    // Merging with the neighbour it continues (IOVA and user address) keeps the count.
    const merge = r.suggestions.find((s) => s.text.startsWith('Merge'));
    expect(merge?.steps).toEqual([
      { op: 'unmap', iova: 0x1000_0000n, length: PAGE },
      { op: 'map', iova: 0x1000_0000n, length: 2n * PAGE, fixed: true, va: 0x7000_0000n },
    ]);
    expect(r.suggestions.some((s) => s.text.includes('re-open the container'))).toBe(true);
  });

  it('before 5.1 there is no limit', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', dmaEntryLimit: 1, kernel: '5.0' });
    expectOk(ioas.attach('0000:03:00.0'));
    for (let i = 0n; i < 3n; i++) expectOk(ioas.map({ iova: 0x1000_0000n + i * 0x10000n, length: PAGE }));
  });
});

describe('type1 valid-IOVA list (vfio_iommu_iova_dma_valid, 5.4) and before it', () => {
  it('5.4 and later: a map beyond the aperture is EINVAL', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', kernel: '5.4' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectErrno(ioas, ioas.map({ iova: 1n << 39n, length: PAGE }), 'EINVAL', 'outside-aperture');
  });

  it('3.12–5.3 on Intel: beyond the address width is EFAULT (intel_iommu_map); a reserved region is mapped, with a warning', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', kernel: '5.3' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectErrno(ioas, ioas.map({ iova: 1n << 39n, length: PAGE }), 'EFAULT', 'width-fault');
    const msi = expectOk(ioas.map({ iova: 0xfee0_0000n, length: PAGE }));
    expect(msi.warnings[0].message).toContain('from 5.4 on');
  });

  it('before 5.4 on another IOMMU: not modelled', () => {
    const ioas = Ioas.create(intelHost('arm-smmuv3'), { policy: 'vfio-type1', kernel: '5.3' });
    expectOk(ioas.attach('0000:03:00.0'));
    expect(() => ioas.map({ iova: 1n << 60n, length: PAGE })).toThrow(/not modelled/);
  });
});

describe('type1 replay into a new domain (vfio_iommu_replay → __iommu_map "unaligned" → -EINVAL)', () => {
  it('refuses a group whose domain cannot map an existing mapping at its alignment; unmapping it first works', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_1000n, length: PAGE, name: 'ring' }));
    const r = expectErrno(ioas, ioas.attach('0000:05:00.0'), 'EINVAL', 'replay-alignment');
    expect(r.blocking).toMatchObject({ fact: 'mapping', what: 'mapping ring' });
    expect(r.suggestions[0].steps).toEqual([{ op: 'unmap', iova: 0x1000_1000n, length: PAGE }, { op: 'attach', device: '0000:05:00.0' }]);
  });
});

describe('type1 unmap: v1 semantics and VFIO_DMA_UNMAP_FLAG_ALL (vfio_dma_do_unmap)', () => {
  it('v1: a range starting inside a mapping unmaps nothing; one covering a start removes the whole mapping', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1', type1: 'v1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: 4n * PAGE }));
    const inside = expectOk(ioas.unmap(0x1000_1000n, PAGE));
    expect(inside.bytes).toBe(0n);
    const start = expectOk(ioas.unmap(0x1000_0000n, PAGE));
    expect(start.bytes).toBe(4n * PAGE);
    expect(start.warnings[0].message).toContain('beyond the end');
  });

  it('v2 refuses the same cut (EINVAL)', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: 4n * PAGE }));
    expectErrno(ioas, ioas.unmap(0x1000_1000n, PAGE), 'EINVAL', 'partial-unmap');
  });

  it('UNMAP_FLAG_ALL needs IOVA 0 and size 0; before 5.12 the flag is unknown', () => {
    const ioas = Ioas.create(intelHost(), { policy: 'vfio-type1' });
    expectOk(ioas.attach('0000:03:00.0'));
    expectOk(ioas.map({ iova: 0x1000_0000n, length: PAGE }));
    expectErrno(ioas, ioas.unmapAll(0n, PAGE), 'EINVAL', 'unmap-all-args');
    expectErrno(ioas, ioas.unmapAll(0x800n, 0n), 'EINVAL', 'unmap-alignment');
    expect(expectOk(ioas.unmapAll()).bytes).toBe(PAGE);
    const old = Ioas.create(intelHost(), { policy: 'vfio-type1', kernel: '5.11' });
    expectOk(old.attach('0000:03:00.0'));
    expectErrno(old, old.unmapAll(), 'EINVAL', 'unmap-flags');
  });
});

describe('kernel versions', () => {
  it('every answer names its kernel; the default is 6.19', () => {
    const ioas = Ioas.create(intelHost());
    expect(ioas.kernel).toBe('6.19');
    expect(expectOk(ioas.attach('0000:03:00.0')).kernel).toBe('6.19');
  });

  it('refuses versions outside the model instead of guessing', () => {
    expect(() => Ioas.create(intelHost(), { kernel: '5.15' })).toThrow(/iommufd \(\/dev\/iommu\) does not exist before 6.2/);
    expect(() => Ioas.create(intelHost(), { kernel: '7.0' })).toThrow(/not modelled: Linux 7.0 is newer/);
    expect(() => Ioas.create(intelHost(), { policy: 'vfio-type1', kernel: '3.10' })).toThrow(/not modelled/);
    expect(() => Ioas.create(intelHost(), { kernel: 'six' })).toThrow(/not X.Y/);
    expect(Ioas.create(intelHost(), { kernel: '6.8.0-45-generic' }).kernel).toBe('6.8');
  });

  it('reads kernel, dmaEntryLimit and type1 from an IOAS state', () => {
    const state = parseIoasState({ host: { name: 'h', platform: 'intel-vtd', devices: [{ id: '03:00.0' }] }, policy: 'vfio-type1', kernel: '5.10', dmaEntryLimit: 7, type1: 'v1', attached: ['03:00.0'] });
    const ioas = Ioas.fromState(state);
    expect([ioas.kernel, ioas.dmaEntryLimit]).toEqual(['5.10', 7]);
    expect(() => parseIoasState({ host: { name: 'h', devices: [] }, kernel: 'new' })).toThrow(/kernel/);
  });

  it('accepts group:N in `attached`', () => {
    const state = parseIoasState({ host: { name: 'h', groups: [{ id: 7, devices: [] }] }, attached: ['group:7'] });
    expect(Ioas.fromState(state).attached).toEqual(['group:7']);
  });
});

describe('IOMMU_OPTION_HUGE_PAGES values (ioas.c iommufd_ioas_option_huge_pages)', () => {
  it('takes 0 and 1; 2 is EINVAL and both fixes work', () => {
    const ioas = Ioas.create(intelHost());
    expectErrno(ioas, ioas.setHugePagesOption(2n), 'EINVAL', 'option-value');
    expectOk(ioas.setHugePagesOption(0n));
    expect(ioas.largePages).toBe(false);
    expectOk(ioas.setHugePagesOption(1n));
    expect(ioas.largePages).toBe(true);
  });
});

describe('a second IOAS', () => {
  it('moves a device between IOASes; refused there, it stays where it was', () => {
    const host = intelHost();
    const a = Ioas.create(host);
    const b = Ioas.create(host);
    expectOk(a.attach('0000:03:00.0'));
    expectOk(b.map({ iova: 0xfee0_0000n, length: PAGE }));
    const refused = expectErrno(b, a.moveDevice('0000:03:00.0', b), 'EADDRINUSE', 'reserved-mapped');
    expect(refused.blocking).toMatchObject({ holeType: 'msi' });
    expect(a.attached).toEqual(['0000:03:00.0']);
    expectOk(b.unmap(0xfee0_0000n, PAGE));
    expectOk(a.moveDevice('0000:03:00.0', b));
    expect([a.attached, b.attached]).toEqual([[], ['0000:03:00.0']]);
    expect(() => a.moveDevice('0000:03:00.0', a)).toThrow(InputError);
    void G;
  });
});

describe('arm64 MSI reachability (SW MSI window from arm-smmu-v3 MSI_IOVA_BASE; no kernel check)', () => {
  const arm = (device: object) =>
    parseHostFacts(
      { name: 'arm', platform: 'arm-smmuv3', groups: [{ id: 3, devices: ['0000:01:00.0'], reservedRegions: [{ start: '0x8000000', last: '0x80fffff', type: 'sw-msi' }] }], devices: [{ id: '01:00.0', group: 3, ...device }] },
      'arm.json',
    );

  it('warns when the window lies above the device DMA mask, and says where a window fits', () => {
    const r = expectOk(Ioas.create(arm({ dmaMaskBits: 26 })).attach('0000:01:00.0'));
    const w = r.warnings.find((x) => x.kind === 'msi-unreachable');
    expect(w?.message).toContain('above the 26-bit DMA mask');
    // 1 MiB, 1 MiB-aligned, below 64 MiB and free: the lowest is IOVA 0.
    expect(w?.message).toContain('would fit at 0x0–0xf_ffff');
  });

  it('warns when platform MMIO (a reserved region) covers the window; the fit skips it', () => {
    const r = expectOk(Ioas.create(arm({ reservedRegions: [{ start: '0x0', last: '0x8ffffff', type: 'reserved' }] })).attach('0000:01:00.0'));
    const w = r.warnings.find((x) => x.kind === 'msi-unreachable');
    expect(w?.message).toContain('would fit at 0x900_0000–0x90f_ffff');
  });

  it('says nothing when the device reaches the window', () => {
    const r = expectOk(Ioas.create(arm({ dmaMaskBits: 32 })).attach('0000:01:00.0'));
    expect(r.warnings.filter((x) => x.kind === 'msi-unreachable')).toEqual([]);
  });
});

describe('the kernel field of specs and layouts reaches the hot-plug check', () => {
  it('check-attach answers for the layout\'s kernel: require_direct is EPERM on Intel 6.1, EINVAL on 6.19', async () => {
    const { checkHotplug } = await import('../../src/ioas/hotplug.js');
    const { parseLayout } = await import('../../src/solver/layout.js');
    const layout = parseLayout({ policy: 'vfio-type1', devices: ['0000:03:00.0'], kernel: '6.1', placements: [{ name: 'ram', iova: '0x100000', size: '1M' }] });
    const old = checkHotplug(layout, intelHost(), '0000:02:00.0');
    expect([old.kernel, old.errno, old.rule]).toEqual(['6.1', 'EPERM', 'require-direct']);
    const now = checkHotplug({ ...layout, kernel: undefined }, intelHost(), '0000:02:00.0');
    expect([now.kernel, now.errno]).toEqual(['6.19', 'EINVAL']);
    expect(now.suggestions[0].steps[0].op).toBe('drop-direct');
  });
});
