import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from '../../src/model/suggest.js';

/** Plain Levenshtein by exhaustive recursion (small words only): an independent reference. */
function levenshtein(a: string, b: string): number {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  return Math.min(levenshtein(a.slice(1), b) + 1, levenshtein(a, b.slice(1)) + 1, levenshtein(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1));
}

describe('editDistance', () => {
  it('knows the textbook cases', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('sovle', 'solve')).toBe(1); // one swap
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('is symmetric, at most Levenshtein, and equal to it when no swap helps', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 6 });
    fc.assert(
      fc.property(word, word, (a, b) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d).toBeLessThanOrEqual(levenshtein(a, b));
        expect(d).toBeGreaterThanOrEqual(Math.ceil(levenshtein(a, b) / 2));
      }),
    );
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 5 }), fc.string({ unit: fc.constantFrom('c', 'd'), maxLength: 5 }), (a, b) => editDistance(a, b) === levenshtein(a, b)));
  });
});

describe('closest', () => {
  const commands = ['import', 'ranges', 'solve', 'verify', 'explain', 'replay', 'schema', 'check-attach', 'render', 'groups', 'completion'];
  it('finds typos, ignores case, and leaves far words alone', () => {
    expect(closest('sovle', commands)).toBe('solve');
    expect(closest('RANGES', commands)).toBe('ranges');
    expect(closest('renderr', commands)).toBe('render');
    expect(closest('grp', commands)).toBe(undefined);
    expect(closest('frobnicate', commands)).toBe(undefined);
    expect(closest('x', commands)).toBe(undefined);
    expect(closest('compl', commands)).toBe('completion'); // a unique prefix
    expect(closest('re', commands)).toBe(undefined); // several names start with it
  });

  it('a tighter limit for addresses', () => {
    expect(closest('0000:43:00.1', ['0000:43:00.0', '0000:44:00.0'], 1)).toBe('0000:43:00.0');
    expect(closest('0000:77:00.0', ['0000:43:00.0', '0000:44:00.0'], 1)).toBe(undefined);
    expect(didYouMean('0000:77:00.0', ['0000:43:00.0'], 1)).toBe('');
    expect(didYouMean('vfio-typ1', ['iommufd', 'vfio-type1'])).toBe('; did you mean "vfio-type1"?');
  });
});
