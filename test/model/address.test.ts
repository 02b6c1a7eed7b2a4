import { describe, expect, it } from 'vitest';
import {
  alignUp,
  formatSize,
  hex,
  hexGrouped,
  MAX_ADDRESS,
  parseAddress,
  parseSize,
  roundUpPowerOfTwo,
} from '../../src/model/address.js';
import { InputError } from '../../src/model/errors.js';
import { rangeOfSize } from '../../src/model/range.js';

describe('parseAddress', () => {
  it.each([
    ['0xfee00000', 0xfee00000n],
    ['0XFEE00000', 0xfee00000n],
    ['0xfd_0000_0000', 0xfd00000000n],
    ['4096', 4096n],
    ['4K', 4096n],
    ['4k', 4096n],
    ['4KiB', 4096n],
    ['2MiB', 2n * 1024n * 1024n],
    ['2M', 2097152n],
    ['1G', 1073741824n],
    ['1T', 1n << 40n],
    ['1 GiB', 1n << 30n],
    ['  12  ', 12n],
    ['0', 0n],
    ['0xffffffffffffffff', MAX_ADDRESS],
    ['15E', 15n << 60n],
    ['512b', 512n],
    ['512B', 512n],
  ])('reads %s', (text, value) => {
    expect(parseAddress(text)).toBe(value);
  });

  it('accepts safe-integer numbers and bigints', () => {
    expect(parseAddress(4096)).toBe(4096n);
    expect(parseAddress(Number.MAX_SAFE_INTEGER)).toBe(9007199254740991n);
    expect(parseAddress(5n)).toBe(5n);
  });

  it.each([
    ['-1', /negative/],
    [-4096, /negative/],
    ['0x10000000000000000', /64 bits/],
    ['16E', /64 bits/],
    [2 ** 60, /safe integer/],
    [1.5, /safe integer/],
    ['1.5G', /whole number/],
    ['banana', /"banana" is not a number/],
    ['0x', /is not a number/],
    ['', /is not a number/],
    // Decimal (SI) suffixes are refused, never read as binary: 1022GB is not 1022 GiB.
    ['1022GB', /"GB" is a decimal \(SI\) unit and is not accepted; write GiB or G/],
    ['4KB', /"KB" is a decimal \(SI\) unit/],
    ['4kB', /"kB" is a decimal \(SI\) unit/],
    ['2 MB', /"MB" is a decimal \(SI\) unit/],
    ['1TB', /"TB" is a decimal \(SI\) unit/],
    // Numbers past 64 bits are refused before any conversion, whatever their length.
    ['1'.repeat(25), /64 bits/],
    ['0x' + 'f'.repeat(17), /64 bits/],
    ['9'.repeat(1_000_000), /too long for a 64-bit number/],
  ])('rejects %s', (input, message) => {
    expect(() => parseAddress(input as string | number)).toThrowError(message);
  });

  it('quotes the input in the message and throws InputError', () => {
    try {
      parseAddress('0xzz');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain('"0xzz"');
    }
  });

  it('the binary spellings of one size agree, and leading zeros or separators do not change a value', () => {
    for (const [letter, shift] of [['K', 10n], ['M', 20n], ['G', 30n], ['T', 40n], ['P', 50n]] as const) {
      expect(parseAddress(`3${letter}`)).toBe(3n << shift);
      expect(parseAddress(`3${letter.toLowerCase()}ib`)).toBe(3n << shift);
      expect(parseAddress(`3 ${letter}iB`)).toBe(3n << shift);
    }
    expect(parseAddress(`${'0'.repeat(30)}18446744073709551615`)).toBe(MAX_ADDRESS);
    expect(parseAddress('0x0000_0000_0000_0000_00ff')).toBe(255n);
  });

  it('rejects a zero size', () => {
    expect(() => parseSize('0')).toThrowError(/zero/);
  });
});

describe('formatting', () => {
  it('writes hex without padding and grouped hex for people', () => {
    expect(hex(0xfee00000n)).toBe('0xfee00000');
    expect(hex(0n)).toBe('0x0');
    expect(hexGrouped(0xfd00000000n)).toBe('0xfd_0000_0000');
    expect(hexGrouped(0xffffffffffn)).toBe('0xff_ffff_ffff');
    expect(hexGrouped(0x1000n)).toBe('0x1000');
  });

  it('names sizes in the largest exact binary unit', () => {
    expect(formatSize(1n << 30n)).toBe('1 GiB');
    expect(formatSize(12n << 30n)).toBe('12 GiB');
    expect(formatSize(3n * 4096n)).toBe('12 KiB');
    expect(formatSize(1n << 64n)).toBe('16 EiB');
    expect(formatSize(4097n)).toBe('4097 bytes');
    expect(formatSize(2703n << 20n)).toBe('2703 MiB');
    expect(formatSize(0x44dc0000n)).toBe('≈1.08 GiB');
    expect(formatSize((1n << 64n) - 0x38100000000n)).toBe('≈16.00 EiB');
  });
});

describe('arithmetic helpers', () => {
  it('rounds up to powers of two and alignments', () => {
    expect(roundUpPowerOfTwo(1n)).toBe(1n);
    expect(roundUpPowerOfTwo(3n)).toBe(4n);
    expect(roundUpPowerOfTwo(4n)).toBe(4n);
    expect(roundUpPowerOfTwo(5n)).toBe(8n);
    expect(alignUp(0x1001n, 0x1000n)).toBe(0x2000n);
    expect(alignUp(MAX_ADDRESS, 0x1000n)).toBe(1n << 64n);
  });

  it('rejects ranges that wrap past 2^64', () => {
    expect(rangeOfSize(MAX_ADDRESS, 1n)).toEqual({ start: MAX_ADDRESS, last: MAX_ADDRESS });
    expect(() => rangeOfSize(MAX_ADDRESS, 2n)).toThrowError(/wraps/);
  });
});

import { formatPageSizes, pagesForMapping, pageSizeList } from '../../src/model/pages.js';

describe('page sizes', () => {
  const intel = (1n << 12n) | (1n << 21n) | (1n << 30n);

  it('lists and prints a bitmap', () => {
    expect(pageSizeList(intel)).toEqual([4096n, 2097152n, 1073741824n]);
    expect(formatPageSizes(intel)).toBe('4 KiB | 2 MiB | 1 GiB');
  });

  it('splits a mapping as iommu_map would: small pages up to the first large boundary', () => {
    // 3 GiB from 0x1000: 0x1000..2M is 511 pages of 4K, 2M..1G is 511 pages of 2M,
    // 1G..3G is 2 pages of 1G, and the last 4 KiB (3G..3G+4K) is one more 4K page.
    const counts = pagesForMapping(0x1000n, 3n << 30n, intel);
    expect([...counts]).toEqual([
      [4096n, 511n + 1n],
      [2097152n, 511n],
      [1073741824n, 2n],
    ]);
  });

  it('uses only the smallest page when the IOVA is badly aligned', () => {
    expect([...pagesForMapping(0x3000n, 0x5000n, intel)]).toEqual([[4096n, 5n]]);
  });
});
