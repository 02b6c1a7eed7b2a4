/**
 * sPAPR dynamic DMA windows, against pci-ioda-tce.c pnv_pci_ioda2_table_alloc_pages() and
 * vfio_iommu_spapr_tce.c tce_iommu_create_window(): the expected level shifts below are worked
 * out by hand from the kernel's formula, not taken from the code.
 */
import { describe, expect, it } from 'vitest';
import { NotModelledError } from '../../src/ioas/kernel.js';
import { checkDdwCreate, fewestLevels } from '../../src/ioas/spapr-ddw.js';

const K64 = 0x10000n;
const G = 1n << 30n;
const powernv = { pageSizes: 0x1000n | K64 | (16n << 20n), maxLevels: 5, hostPageSize: K64 };

describe('VFIO_IOMMU_SPAPR_TCE_CREATE on powernv', () => {
  it('a 256 GiB window of 64 KiB pages: 2^22 TCEs; one level is a 32 MiB allocation, two levels of 2^11 TCEs fit host pages', () => {
    const one = checkDdwCreate(powernv, { windowSize: 256n * G, pageShift: 16, levels: 1 });
    // entries_shift = 38 - 16 = 22; level_shift = max(22 + 3, 16) = 25 → 32 MiB.
    expect(one).toMatchObject({ ok: true, entries: 1n << 22n, levelBytes: 32n << 20n, tableBytes: 32n << 20n, fewestLevels: 2 });
    expect(one.message).toContain('-ENOMEM');
    // Two levels: ceil(22 / 2) + 3 = 14 → max(14, 16) = 16: one 64 KiB host page each.
    const two = checkDdwCreate(powernv, { windowSize: 256n * G, pageShift: 16, levels: 2 });
    expect(two).toMatchObject({ ok: true, levelBytes: K64 });
    expect(two.message).not.toContain('-ENOMEM');
  });

  it('an L2 guest offered one level gets fewer than the window needs', () => {
    expect(fewestLevels(256n * G, 16, K64)).toBe(2);
    // 512 MiB / 64 KiB = 2^13 TCEs = 64 KiB of table: one host page; 1 GiB needs 128 KiB, two levels.
    expect(fewestLevels(G / 2n, 16, K64)).toBe(1);
    expect(fewestLevels(G, 16, K64)).toBe(2);
    expect(() => checkDdwCreate({ ...powernv, maxLevels: 1 }, { windowSize: 256n * G, pageShift: 16, levels: 1 })).toThrow(NotModelledError);
  });

  it('refuses a page size GET_INFO does not offer, a level count outside 1–5, and a window that is not a power of two (EINVAL)', () => {
    expect(checkDdwCreate(powernv, { windowSize: G, pageShift: 21, levels: 1 })).toMatchObject({ ok: false, errno: 'EINVAL', rule: 'ddw-page-size' });
    expect(checkDdwCreate(powernv, { windowSize: G, pageShift: 16, levels: 0 })).toMatchObject({ ok: false, rule: 'ddw-levels' });
    expect(checkDdwCreate(powernv, { windowSize: G, pageShift: 16, levels: 6 })).toMatchObject({ ok: false, rule: 'ddw-levels' });
    expect(checkDdwCreate(powernv, { windowSize: 3n * G, pageShift: 16, levels: 1 })).toMatchObject({ ok: false, rule: 'ddw-window-size' });
  });

  it('refuses a table deeper than 2^55 of bus address (EINVAL)', () => {
    // 2^62 window of 4 KiB pages over 5 levels: entries_shift 50 → ceil(50/5)+3 = 13 → max(13,16) = 16;
    // (16 - 3) * 5 + 12 = 77 ≥ 55.
    expect(checkDdwCreate(powernv, { windowSize: 1n << 62n, pageShift: 12, levels: 5 })).toMatchObject({ ok: false, rule: 'ddw-too-deep' });
    // 2^40 of 16 MiB pages over 1 level: entries_shift 16 → max(19, 16) = 19; 16 + 24 = 40 < 55.
    expect(checkDdwCreate(powernv, { windowSize: 1n << 40n, pageShift: 24, levels: 1 })).toMatchObject({ ok: true, levelBytes: 1n << 19n });
  });
});
