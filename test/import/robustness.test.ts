/**
 * Never a raw error: whatever text arrives, the importers return host facts (with warnings)
 * that round-trip through JSON, or refuse text that is not host facts with a located InputError. Inputs are random mixes of real-data lines, mangled copies of them
 * and arbitrary strings.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { importText } from '../../src/model/import/index.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { hostToJson } from '../../src/model/serialise.js';
import { realdataDir, realdataFiles } from './helpers.js';

const realLines = realdataFiles().flatMap((f) => readFileSync(path.join(realdataDir, f), 'utf8').split('\n'));

const mangled = fc
  .tuple(fc.constantFrom(...realLines), fc.nat(), fc.string({ maxLength: 6 }))
  .map(([line, at, insert]) => {
    const i = line.length === 0 ? 0 : at % line.length;
    return line.slice(0, i) + insert + line.slice(i + 1);
  });

const line = fc.oneof(fc.constantFrom(...realLines), mangled, fc.string({ maxLength: 80 }));

describe('robustness', () => {
  it('any mix of lines imports without throwing and round-trips', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (lines) => {
        let host;
        try {
          host = importText(lines.join('\n'), 'fuzz.txt');
        } catch (error) {
          // Text that is not host facts at all is refused, located at a line of it.
          expect(error).toBeInstanceOf(InputError);
          expect(error).toMatchObject({ file: 'fuzz.txt' });
          expect((error as InputError).line).toBeGreaterThanOrEqual(1);
          return;
        }
        expect(parseHostFacts(JSON.parse(hostToJson(host)))).toEqual(host);
        for (const w of host.warnings) expect(w.line).toBeLessThanOrEqual(lines.length);
      }),
      { numRuns: 300, seed: 20240308 },
    );
  });

  it('the same input always gives the same bytes', () => {
    const text = realLines.slice(0, 400).join('\n');
    expect(hostToJson(importText(text, 'x'))).toBe(hostToJson(importText(text, 'x')));
  });
});
