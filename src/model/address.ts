/**
 * Addresses and sizes: parsing from user input and formatting for output.
 *
 * Every address is a `bigint` in `[0, 2^64)`. Input may be a hex string (`0xfee00000`,
 * `0xfd_0000_0000`), a decimal string, a decimal with a binary unit (`4K`, `2MiB`, `1T`), a
 * bigint, or a JSON number when it is a safe integer.
 *
 * Size suffixes: one rule, binary only. `K M G T P E` alone or with `iB` (`2M`, `2MiB`) are
 * powers of 1024; `B` alone is bytes. The decimal (SI) spellings `KB MB GB TB PB EB` (and `kB`)
 * are refused with a message rather than read either way: `1022GB` is 1022·10^9 to a disk
 * vendor and 1022·2^30 to many tools, and a silent guess is a wrong address.
 */
import { InputError, quote } from './errors.js';

/** 2^64: the exclusive end of every IOVA space. */
export const SPACE_END = 1n << 64n;
/** 2^64 - 1: the last address of every IOVA space. */
export const MAX_ADDRESS = SPACE_END - 1n;

const UNIT_SHIFT: Record<string, bigint> = {
  '': 0n,
  k: 10n,
  m: 20n,
  g: 30n,
  t: 40n,
  p: 50n,
  e: 60n,
};

const MAX_NUMBER_TEXT = 200;

/** Input accepted wherever an address or size is expected. */
export type AddressInput = string | number | bigint;

/**
 * Parse an address or size. Throws {@link InputError} quoting the input for garbage, negatives,
 * unsafe JS numbers and values of 2^64 or more. `what` names the field in the message.
 */
export function parseAddress(input: AddressInput, what = 'address'): bigint {
  const value = parseUnchecked(input, what);
  if (value < 0n) throw new InputError(`${what} ${quote(input)} is negative`);
  if (value > MAX_ADDRESS) throw new InputError(`${what} ${quote(input)} does not fit in 64 bits (must be below 2^64)`);
  return value;
}

function parseUnchecked(input: AddressInput, what: string): bigint {
  if (typeof input === 'bigint') return input;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw new InputError(
        `${what} ${quote(input)} is not a safe integer; write large or fractional values as strings such as "0x1000000000"`,
      );
    }
    return BigInt(input);
  }
  if (typeof input !== 'string') throw new InputError(`${what} must be a string or a number, not ${quote(input)}`);
  // No 64-bit value needs this many characters, even with separators and leading zeros.
  if (input.length > MAX_NUMBER_TEXT) throw new InputError(`${what} ${quote(input)} is ${input.length} characters long, too long for a 64-bit number`);
  const text = input.trim();
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1).trim() : text;
  const hex = /^0x([0-9a-f](?:_?[0-9a-f])*)$/i.exec(body);
  if (hex) return sign(negative, bigDigits(hex[1], 16, input, what));
  const dec = /^([0-9](?:_?[0-9])*)\s*(?:([kmgtpe])(ib)?|(b))?$/i.exec(body);
  if (dec) {
    const unit = (dec[2] ?? '').toLowerCase();
    return sign(negative, bigDigits(dec[1], 10, input, what) << UNIT_SHIFT[unit]);
  }
  const si = /^[0-9](?:_?[0-9])*\s*([kmgtpe])b$/i.exec(body);
  if (si) {
    const letter = si[1].toUpperCase();
    throw new InputError(
      `${what} ${quote(input)}: "${si[1]}B" is a decimal (SI) unit and is not accepted; write ${letter}iB or ${letter} for ` +
        `powers of 1024, or the number of bytes in full`,
    );
  }
  if (/^[0-9.]+\s*[kmgtpe]?(?:i?b)?$/i.test(body) && body.includes('.')) {
    throw new InputError(`${what} ${quote(input)} is not a whole number; write it in a smaller unit`);
  }
  throw new InputError(
    `${what} ${quote(input)} is not a number: use hex (0xfee00000), decimal (4096) or a binary size (4K, 2MiB, 1G)`,
  );
}

/**
 * Digits (with `_` separators) as a bigint. Values of more than 64 bits are refused before
 * conversion: converting a megabyte of decimal digits costs quadratic time.
 */
function bigDigits(digits: string, radix: 10 | 16, input: AddressInput, what: string): bigint {
  const plain = digits.replace(/_/g, '').replace(/^0+(?=.)/, '');
  if (plain.length > (radix === 16 ? 17 : 21)) throw new InputError(`${what} ${quote(input)} does not fit in 64 bits (must be below 2^64)`);
  return BigInt(radix === 16 ? `0x${plain}` : plain);
}

function sign(negative: boolean, value: bigint): bigint {
  return negative ? -value : value;
}

/** Parse a signed offset between two addresses: like {@link parseAddress}, but may be negative. */
export function parseOffset(input: AddressInput, what = 'offset'): bigint {
  const value = parseUnchecked(input, what);
  if (value > MAX_ADDRESS || value < -MAX_ADDRESS) throw new InputError(`${what} ${quote(input)} does not fit in 64 bits`);
  return value;
}

/** Parse a size: like {@link parseAddress}, but zero is rejected. */
export function parseSize(input: AddressInput, what = 'size'): bigint {
  const value = parseAddress(input, what);
  if (value === 0n) throw new InputError(`${what} must not be zero`);
  return value;
}

/** `0x…` lower-case hex, no padding: the form used in JSON output. */
export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** `0x…` hex grouped by four digits from the right (`0xfd_0000_0000`), for messages and tables. */
export function hexGrouped(value: bigint): string {
  const digits = value.toString(16);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 4) groups.unshift(digits.slice(Math.max(0, end - 4), end));
  return `0x${groups.join('_')}`;
}

const SIZE_UNITS: Array<[bigint, string]> = [
  [60n, 'EiB'],
  [50n, 'PiB'],
  [40n, 'TiB'],
  [30n, 'GiB'],
  [20n, 'MiB'],
  [10n, 'KiB'],
];

/**
 * A size for people: exact in the largest binary unit that divides it with a count below
 * 10,000 (`1 GiB`, `2703 MiB`, `12 KiB`), otherwise approximate (`≈1.08 GiB`). 2^64 (the whole
 * space) is `16 EiB`.
 */
export function formatSize(size: bigint): string {
  for (const [shift, unit] of SIZE_UNITS) {
    const unitSize = 1n << shift;
    if (size >= unitSize && size % unitSize === 0n && size / unitSize < 10_000n) return `${size / unitSize} ${unit}`;
  }
  if (size < 10_000n) return size === 1n ? '1 byte' : `${size} bytes`;
  for (const [shift, unit] of SIZE_UNITS) {
    const unitSize = 1n << shift;
    if (size >= unitSize) {
      const hundredths = (size * 100n + unitSize / 2n) / unitSize;
      return `≈${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')} ${unit}`;
    }
  }
  return `${size} bytes`;
}

export function isPowerOfTwo(value: bigint): boolean {
  return value > 0n && (value & (value - 1n)) === 0n;
}

/** Smallest power of two ≥ value (value ≥ 1). */
export function roundUpPowerOfTwo(value: bigint): bigint {
  if (value <= 1n) return 1n;
  return 1n << BigInt((value - 1n).toString(2).length);
}

/** Largest power of two dividing value (value > 0): its lowest set bit. */
export function lowestSetBit(value: bigint): bigint {
  return value & -value;
}

/** log2 of a power of two. */
export function log2(value: bigint): number {
  return value.toString(2).length - 1;
}

/** Round down to a multiple of `align` (a power of two). */
export function alignDown(value: bigint, align: bigint): bigint {
  return value & ~(align - 1n);
}

/** Round up to a multiple of `align` (a power of two); may reach 2^64. */
export function alignUp(value: bigint, align: bigint): bigint {
  return (value + align - 1n) & ~(align - 1n);
}

/** All ones below bit `bits`: the last address a `bits`-bit DMA mask or address width reaches. */
export function maskOfBits(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}
