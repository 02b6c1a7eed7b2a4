/**
 * The iommufd self-tests (tools/testing/selftests/iommu/iommufd.c, fixture iommufd_ioas) that
 * exercise IOVA rules, with the errnos they expect. The mock domain is a host device whose
 * IOMMU has the mock aperture and 2 KiB pages; IOMMU_TEST_OP_ADD_RESERVED is `addReserved`.
 */
import { describe, expect, it } from 'vitest';
import { Ioas } from '../../src/ioas/index.js';
import { MAX_ADDRESS } from '../../src/model/address.js';
import { BUFFER, expectErrno, expectOk, fixture, MOCK_APERTURE_LAST, MOCK_APERTURE_START, MOCK_PAGE, mockHost, PAGE, VARIANTS } from './helpers.js';

const fixed = (iova: bigint, length: bigint, va = BUFFER) => ({ iova, length, fixed: true, va });
const auto = (length: bigint, va = BUFFER) => ({ length, fixed: false, va });

describe.each(VARIANTS)('iommufd_ioas.$name', ({ domains }) => {
  it('area: unmap of nothing, whole-area unmaps, split refused, five over-maps refused, unmap all', () => {
    const { ioas, base } = fixture(domains);
    for (let i = 0n; i < 10n; i++) expectErrno(ioas, ioas.unmap(i * PAGE, PAGE), 'ENOENT', 'nothing-mapped');
    for (let i = 0n; i < 10n; i++) expectOk(ioas.map(fixed(base + i * PAGE, PAGE)));
    for (let i = 0n; i < 10n; i++) expectOk(ioas.unmap(base + i * PAGE, PAGE));

    expectOk(ioas.map(fixed(base + 16n * PAGE, 2n * PAGE)));
    const split = expectErrno(ioas, ioas.unmap(base + 16n * PAGE, PAGE), 'ENOENT', 'partial-unmap');
    expect(split.suggestions[0].steps).toEqual([{ op: 'unmap', iova: base + 16n * PAGE, length: 2n * PAGE }]);
    expectErrno(ioas, ioas.unmap(base + 17n * PAGE, PAGE), 'ENOENT', 'partial-unmap');

    for (const [length, at] of [
      [2n, 16n],
      [1n, 16n],
      [1n, 17n],
      [2n, 15n],
      [3n, 15n],
    ] as const) {
      const r = expectErrno(ioas, ioas.map(fixed(base + at * PAGE, length * PAGE)), 'EEXIST', 'area-overlap');
      expect(r.blocking).toMatchObject({ fact: 'mapping', range: { start: base + 16n * PAGE, last: base + 18n * PAGE - 1n } });
      expect(r.suggestions.length).toBeGreaterThan(0);
    }

    expect(expectOk(ioas.unmap(0n, MAX_ADDRESS)).bytes).toBe(2n * PAGE);
    expect(expectOk(ioas.unmap(0n, MAX_ADDRESS)).bytes).toBe(0n);
  });

  it('unmap_fully_contained_areas: cutting either end is ENOENT, covering all works', () => {
    const { ioas, base: start } = fixture(domains);
    const base = start + 4n * PAGE;
    for (let i = 0n; i < 4n; i++) expectOk(ioas.map(fixed(base + i * 16n * PAGE, 8n * PAGE)));
    expectErrno(ioas, ioas.unmap(base - 4n * PAGE, 8n * PAGE), 'ENOENT', 'partial-unmap');
    expectErrno(ioas, ioas.unmap(base + 3n * 16n * PAGE + 8n * PAGE - 4n * PAGE, 8n * PAGE), 'ENOENT', 'partial-unmap');
    const all = expectOk(ioas.unmap(base - 4n * PAGE, 3n * 16n * PAGE + 8n * PAGE + 4n * PAGE));
    expect(all.bytes).toBe(32n * PAGE);
  });

  it('area_auto_iova: lengths of 1-10 pages land aligned, avoid a reservation, stay in the allowed range', () => {
    const { ioas } = fixture(domains);
    const iovas: bigint[] = [];
    for (let i = 0; i < 10; i++) iovas.push(expectOk(ioas.map(auto(PAGE))).iova);
    for (const iova of iovas) expectOk(ioas.unmap(iova, PAGE));

    const lowestBit = (v: bigint) => v & -v;
    const mapAll = () => {
      const out: Array<[bigint, bigint]> = [];
      for (let i = 1n; i <= 10n; i++) {
        const length = PAGE * i;
        const r = expectOk(ioas.map(auto(length, domains > 0 ? BUFFER : 1n << 31n)));
        expect(r.iova % lowestBit(length)).toBe(0n);
        out.push([r.iova, length]);
      }
      return out;
    };
    for (const [iova, length] of mapAll()) expectOk(ioas.unmap(iova, length));

    const reserved = { start: PAGE * 4n, last: PAGE * 104n - 1n };
    expectOk(ioas.addReserved(reserved));
    for (const [iova, length] of mapAll()) {
      expect(iova > reserved.start && iova <= reserved.last).toBe(false);
      expectOk(ioas.unmap(iova, length));
    }

    const clash = expectErrno(ioas, ioas.allowIovas([{ start: PAGE, last: PAGE * 600n }]), 'EADDRINUSE', 'allowed-reserved');
    expect(clash.suggestions.length).toBeGreaterThan(0);

    const allowed = domains > 0 ? { start: MOCK_APERTURE_START + PAGE, last: MOCK_APERTURE_START + PAGE * 600n - 1n } : { start: PAGE * 200n, last: PAGE * 600n - 1n };
    expectOk(ioas.allowIovas([allowed]));
    for (let i = 1n; i <= 10n; i++) {
      const length = PAGE * i;
      const r = expectOk(ioas.map(auto(length)));
      expect(r.iova % lowestBit(length)).toBe(0n);
      expect(r.iova >= allowed.start && r.iova + length - 1n <= allowed.last).toBe(true);
    }
  });

  it('reserved_overflow: a reservation up to near 2^64 leaves no room, ENOSPC (not a wrapped IOVA)', () => {
    const { ioas } = fixture(domains);
    expectOk(ioas.addReserved({ start: 6n, last: 6n + 0xffff_ffff_ffff_8001n - 1n }));
    const r = expectErrno(ioas, ioas.map(auto(0x5000n)), 'ENOSPC', 'no-space');
    expect(r.blocking?.owners).toEqual(['manual']);
  });

  it('area_allowed: a reservation inside an allowed range, and an allowed range over a reservation, are EADDRINUSE', () => {
    const { ioas, base } = fixture(domains);
    const allowed = { start: base, last: base + PAGE * 600n };
    expectOk(ioas.allowIovas([allowed]));
    const reserved = { start: allowed.start + PAGE, last: allowed.start + 2n * PAGE - 1n };
    const first = expectErrno(ioas, ioas.addReserved(reserved), 'EADDRINUSE', 'reserved-allowed');
    expect(first.involved.some((f) => f.fact === 'allowed')).toBe(true);
    expectOk(ioas.allowIovas([]));
    expectOk(ioas.addReserved(reserved));
    const second = expectErrno(ioas, ioas.allowIovas([allowed]), 'EADDRINUSE', 'allowed-reserved');
    expect(second.blocking).toMatchObject({ fact: 'hole', range: reserved, owners: ['manual'] });
  });

  it('iova_ranges: the holes of the reserved set, the alignment, EMSGSIZE with the count', () => {
    const { ioas } = fixture(domains);
    const one = expectOk(ioas.iovaRanges(64));
    if (domains === 0) {
      expect(one.ranges).toEqual([{ start: 0n, last: MAX_ADDRESS }]);
      expect(one.alignment).toBe(1n);
    } else {
      expect(one.ranges).toEqual([{ start: MOCK_APERTURE_START, last: MOCK_APERTURE_LAST }]);
      expect(one.alignment).toBe(MOCK_PAGE);
    }
    const small = expectErrno(ioas, ioas.iovaRanges(0), 'EMSGSIZE', 'buffer-too-small');
    expect(small.count).toBe(1);
    expect(small.ranges).toEqual([]);

    expectOk(ioas.addReserved({ start: PAGE, last: 2n * PAGE - 1n }));
    const two = expectOk(ioas.iovaRanges(64));
    if (domains === 0) {
      expect(two.ranges).toEqual([
        { start: 0n, last: PAGE - 1n },
        { start: 2n * PAGE, last: MAX_ADDRESS },
      ]);
      const cut = expectErrno(ioas, ioas.iovaRanges(1), 'EMSGSIZE', 'buffer-too-small');
      expect(cut.count).toBe(2);
      expect(cut.ranges).toEqual([{ start: 0n, last: PAGE - 1n }]);
    } else {
      expect(two.count).toBe(1);
      expect(expectOk(ioas.iovaRanges(1)).ranges).toEqual([{ start: MOCK_APERTURE_START, last: MOCK_APERTURE_LAST }]);
    }
  });

  it('ioas_iova_alloc: automatic maps of every length below two pages (EINVAL for sub-mock-page lengths under a domain)', () => {
    const { ioas } = fixture(domains);
    for (let length = 1n; length < PAGE * 2n; length++) {
      if (domains > 0 && length % MOCK_PAGE !== 0n) {
        const r = ioas.map(auto(length));
        expect(r.ok ? 'accepted' : `${r.errno} ${r.rule}`).toBe('EINVAL length-alignment');
      } else {
        const r = expectOk(ioas.map(auto(length)));
        expectOk(ioas.unmap(r.iova, length));
      }
    }
  });
});

describe('iommufd_ioas.no_domain ioas_align_change', () => {
  it('raises the alignment only when mappings allow it, and checks the user offset at map time', () => {
    const ioas = Ioas.create(mockHost());
    expectOk(ioas.map(fixed(MOCK_APERTURE_START, PAGE)));
    expectOk(ioas.setLargePages(false));
    expect(ioas.alignment).toBe(PAGE);

    const offset = expectErrno(ioas, ioas.map(fixed(MOCK_APERTURE_START + PAGE, PAGE, BUFFER + MOCK_PAGE)), 'EINVAL', 'va-offset-alignment');
    expect(offset.message).toContain('0x800 into its 4 KiB page');
    expectOk(ioas.setLargePages(false));

    expectOk(ioas.setLargePages(true));
    expect(ioas.alignment).toBe(1n);
    expectOk(ioas.map(fixed(MOCK_APERTURE_START + PAGE, PAGE, BUFFER + MOCK_PAGE)));
    const raise = expectErrno(ioas, ioas.setLargePages(false), 'EADDRINUSE', 'alignment-in-use');
    expect(raise.involved.map((f) => f.range.start)).toEqual([MOCK_APERTURE_START + PAGE]);
    expect(raise.suggestions.length).toBe(1);

    expectOk(ioas.unmap(MOCK_APERTURE_START + PAGE, PAGE));
    expectOk(ioas.unmap(MOCK_APERTURE_START, PAGE));
  });

  it('refuses to turn large pages off while a domain holds mappings', () => {
    const { ioas, base } = fixture(1);
    expectOk(ioas.map(fixed(base, PAGE)));
    expectErrno(ioas, ioas.setLargePages(false), 'EINVAL', 'large-pages-in-use');
  });
});

/** The self-test's BUFFER_SIZE: 16 CPU pages. */
const BUFFER_SIZE = 16n * PAGE;

describe.each(VARIANTS)('iommufd_ioas.$name copy and option', ({ domains }) => {
  it('copy_sweep: a mock-page copy from every offset; outside the mapping is ENOENT (iopt_get_pages)', () => {
    const { ioas } = fixture(domains);
    const dst = Ioas.create(mockHost());
    const last = MOCK_APERTURE_START + BUFFER_SIZE - (domains > 0 ? 1n : 2n);
    expectOk(ioas.map(fixed(MOCK_APERTURE_START, last - MOCK_APERTURE_START + 1n)));
    let copies = 0;
    for (let iova = MOCK_APERTURE_START - PAGE; iova <= last; iova += 511n) {
      const r = ioas.copy(dst, { srcIova: iova, length: MOCK_PAGE, dstIova: MOCK_APERTURE_START });
      if (iova < MOCK_APERTURE_START || iova + MOCK_PAGE - 1n > last) {
        const refused = expectErrno(ioas, r, 'ENOENT', 'copy-not-mapped');
        expect(refused.operation).toBe('copy');
      } else {
        expectOk(r);
        expectOk(dst.unmap(MOCK_APERTURE_START, MOCK_PAGE));
        copies++;
      }
    }
    expect(copies).toBeGreaterThan(50);
  });

  it('ioas_option_huge_pages: GET 1, SET 0, GET 0, SET 2 is EINVAL, SET 1', () => {
    const { ioas } = fixture(domains);
    expect(ioas.largePages).toBe(true);
    expectOk(ioas.setHugePagesOption(0n));
    expect(ioas.largePages).toBe(false);
    expectErrno(ioas, ioas.setHugePagesOption(2n), 'EINVAL', 'option-value');
    expectOk(ioas.setHugePagesOption(1n));
  });
});

describe('iommufd_mock_domain copies', () => {
  it('user_copy: pages mapped in an IOAS without domains copy into one with a mock domain', () => {
    const src = Ioas.create(mockHost());
    const at = expectOk(src.map(auto(BUFFER_SIZE))).iova;
    const { ioas: dst } = fixture(1);
    const r = expectOk(src.copy(dst, { srcIova: at, length: BUFFER_SIZE, dstIova: MOCK_APERTURE_START }));
    // The copy carries the source's user address, so the mock domain's alignment checks it too.
    expect(r.mapping.va).toBe(BUFFER);
  });

  it('copies across adjacent mappings, not across a gap; a copy takes the destination rules (EEXIST)', () => {
    const { ioas } = fixture(1);
    expectOk(ioas.map(fixed(MOCK_APERTURE_START, PAGE)));
    expectOk(ioas.map(fixed(MOCK_APERTURE_START + PAGE, PAGE, BUFFER + PAGE)));
    expectOk(ioas.map(fixed(MOCK_APERTURE_START + 3n * PAGE, PAGE)));
    expectOk(ioas.copy(ioas, { srcIova: MOCK_APERTURE_START, length: 2n * PAGE, dstIova: MOCK_APERTURE_START + 8n * PAGE }));
    expectErrno(ioas, ioas.copy(ioas, { srcIova: MOCK_APERTURE_START, length: 4n * PAGE, dstIova: MOCK_APERTURE_START + 16n * PAGE }), 'ENOENT', 'copy-not-mapped');
    expectErrno(ioas, ioas.copy(ioas, { srcIova: MOCK_APERTURE_START, length: PAGE, dstIova: MOCK_APERTURE_START + 3n * PAGE }), 'EEXIST', 'area-overlap');
    expectErrno(ioas, ioas.copy(ioas, { srcIova: MOCK_APERTURE_START, length: 0n }), 'EINVAL', 'length-zero');
    expectErrno(ioas, ioas.copy(ioas, { srcIova: MAX_ADDRESS, length: PAGE }), 'EOVERFLOW', 'argument-overflow');
  });
});

describe('iommufd_ioas dmabuf_simple (MAP_FILE with a dma-buf, 6.19)', () => {
  it('refuses an empty range and ranges past the dma-buf (EINVAL); maps the whole of it', () => {
    const size = 4n * PAGE;
    for (const { domains } of VARIANTS) {
      const { ioas } = fixture(domains);
      const file = (start: bigint, length: bigint) => ioas.map({ length, va: start, fixed: false, file: true, backing: 'dma-buf', fileSize: size });
      expectErrno(ioas, file(0n, 0n), 'EINVAL', 'length-zero');
      expectErrno(ioas, file(size, size), 'EINVAL', 'file-range');
      expectErrno(ioas, file(0n, size + 1n), 'EINVAL', 'file-range');
      expectOk(file(0n, size));
    }
  });
});

/**
 * vfio_compat_mock_domain (Ver1v2, Ver1v0): the VFIO type1 ioctls over one mock domain. The
 * self-test runs them against iommufd's compatibility layer; where real VFIO type1 answers
 * differently, the expectation follows vfio_dma_do_unmap in drivers/vfio/vfio_iommu_type1.c
 * (the model's `vfio-type1` is the real driver) and the difference is said beside it.
 */
describe.each([
  { name: 'Ver1v2', type1: 'v2' as const },
  { name: 'Ver1v0', type1: 'v1' as const },
])('vfio_compat_mock_domain.$name', ({ type1 }) => {
  const container = () => {
    const ioas = Ioas.create(mockHost(1), { policy: 'vfio-type1', type1 });
    expectOk(ioas.attach('0000:01:00.0'));
    return ioas;
  };
  /** BUFFER_SIZE in the self-test: 2 MiB (HUGEPAGE_SIZE) of user memory, mapped PAGE by PAGE below. */
  const BUFFER_SIZE = 0x20_0000n;
  /** A fixed shuffle of 0..n-1 (the self-test shuffles with rand()). */
  const shuffled = (n: number) => Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);

  it('map: a simple map and unmap, UNMAP_FLAG_ALL only with IOVA 0 and size 0, then page maps unmapped in shuffled order', () => {
    const ioas = container();
    expectOk(ioas.map(fixed(MOCK_APERTURE_START, BUFFER_SIZE)));
    expect(expectOk(ioas.unmap(MOCK_APERTURE_START, BUFFER_SIZE)).bytes).toBe(BUFFER_SIZE);

    expectOk(ioas.map(fixed(MOCK_APERTURE_START, BUFFER_SIZE)));
    expectErrno(ioas, ioas.unmapAll(MOCK_APERTURE_START, BUFFER_SIZE), 'EINVAL', 'unmap-all-args');
    expect(expectOk(ioas.unmapAll(0n, 0n)).bytes).toBe(BUFFER_SIZE);

    const pages = Number(BUFFER_SIZE / PAGE);
    for (let i = 0n; i < BigInt(pages); i++) expectOk(ioas.map(fixed(MOCK_APERTURE_START + i * PAGE, PAGE, BUFFER + i * PAGE)));
    for (const i of shuffled(pages)) expect(expectOk(ioas.unmap(MOCK_APERTURE_START + BigInt(i) * PAGE, PAGE)).bytes).toBe(PAGE);
    expect(ioas.mappings).toHaveLength(0);
  });

  it('huge_map: sixteenths of a 4 MiB mapping unmapped in shuffled order', () => {
    const ioas = container();
    const size = 2n * 0x20_0000n;
    const piece = size / 16n;
    expectOk(ioas.map(fixed(MOCK_APERTURE_START, size)));
    const order = shuffled(16);
    if (type1 === 'v2') {
      // v2 refuses an unmap that bisects a mapping: vfio_dma_do_unmap's "goto unlock" with ret
      // still -EINVAL (iommufd's compatibility layer answers ENOENT here, as the self-test expects).
      for (const i of order) {
        const at = MOCK_APERTURE_START + BigInt(i) * piece;
        const r = ioas.unmap(at, piece);
        // The first piece starts the mapping but ends inside it: bisected too.
        expectErrno(ioas, r, 'EINVAL', 'partial-unmap');
      }
      expect(ioas.mappings).toHaveLength(1);
    } else {
      // v1: a range starting inside a mapping unmaps nothing ("!iommu->v2 && iova > dma->iova"
      // breaks the loop); the range at the mapping's start removes all of it (vfio_dma_do_unmap).
      // iommufd's compatibility layer instead cuts the mapping up, as the self-test expects.
      let total = 0n;
      for (const i of order) {
        const bytes = expectOk(ioas.unmap(MOCK_APERTURE_START + BigInt(i) * piece, piece)).bytes;
        expect(bytes).toBe(i === 0 && total === 0n ? size : 0n);
        total += bytes;
      }
      expect(total).toBe(size);
      expect(ioas.mappings).toHaveLength(0);
    }
  });
});
