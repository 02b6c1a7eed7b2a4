/**
 * InputError locates itself in library use too: file, line and JSON path as fields and in the
 * message; a JSON path's line is found in the source text; wrong types at the library's entry
 * points are InputErrors, never TypeErrors.
 */
import { thrown } from '../thrown.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHotplug } from '../../src/ioas/hotplug.js';
import { AddressSpace } from '../../src/model/address-space.js';
import { InputError } from '../../src/model/errors.js';
import { emptyHost } from '../../src/model/host.js';
import { jsonLineOf } from '../../src/model/json-source.js';
import { parseJsonText } from '../../src/model/load.js';
import { parseHostFacts } from '../../src/model/schema.js';
import { parseLayout } from '../../src/solver/layout.js';
import { solve } from '../../src/solver/solve.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { verifyLayout, verifyOnHost } from '../../src/explain/verify.js';


describe('InputError', () => {
  it('carries file, line and JSON path as fields and in its message', () => {
    const text = JSON.stringify({ name: 'h', devices: [{ id: '01:00.0' }, { id: '02:00.0', group: -1 }] }, null, 2);
    const e = thrown(() => parseHostFacts(parseJsonText(text, 'host.json'), 'host.json'));
    expect(e.file).toBe('host.json');
    expect(e.path).toBe('devices[1].group');
    // The line of `"group": -1` in the pretty-printed text, counted independently.
    const line = text.split('\n').findIndex((l) => l.includes('"group": -1')) + 1;
    expect(e.line).toBe(line);
    expect(e.message).toBe(`host.json:${line}: at devices[1].group: ${e.reason}`);
    expect(e.describe()).toBe(e.message);
  });

  it('locates errors found after the schema (a spec\'s references, a layout\'s fixed requests)', () => {
    const text = JSON.stringify({ host: { name: 'h' }, requests: [{ name: 'a', size: '4K' }, { name: 'b', size: '4K', above: 'zz' }] }, null, 2);
    const e = thrown(() => parsePlacementSpec(parseJsonText(text, 'spec.json'), 'spec.json'));
    expect(e.path).toBe('requests[1].above');
    expect(e.line).toBe(text.split('\n').findIndex((l) => l.includes('"above"')) + 1);
    const layoutText = JSON.stringify({ host: { name: 'h' }, requests: [{ name: 'a', size: '4K', fixed: 0 }, { name: 'b', size: '4K' }] }, null, 2);
    const l = thrown(() => parseLayout(parseJsonText(layoutText, 'l.json'), 'l.json'));
    expect(l.path).toBe('requests[1]');
    expect(l.line).toBe(layoutText.split('\n').findIndex((x) => x.includes('"name": "b"')));
  });

  it('finds the line of any path in pretty-printed JSON (marked with a sentinel, independently)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(json.object, fc.integer({ min: 0, max: 2 }), (root, indent) => {
        for (const path of paths(root)) {
          const marked = JSON.stringify(setAt(root, path, '\u0000MARK'), null, indent);
          const expected = marked.split('\n').findIndex((l) => l.includes('\\u0000MARK')) + 1;
          const value = parseJsonText(JSON.stringify(root, null, indent));
          expect(jsonLineOf(value, path)).toBe(expected);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 100) },
    );
  });
});

describe('library entry points refuse wrong types with an InputError', () => {
  const host = parseHostFacts({ name: 'h', platform: { profile: 'intel-vtd', addressWidth: 48 } });
  it.each([
    ['AddressSpace.build(null)', () => AddressSpace.build(null as never), /host facts must be an object, not null/],
    ['AddressSpace.build({})', () => AddressSpace.build({} as never), /^at name: host facts needs a string here, not undefined$/],
    ['AddressSpace.build without devices', () => AddressSpace.build({ ...emptyHost('h'), devices: 3 } as never), /at devices/],
    ['verifyLayout({}, [])', () => verifyLayout({} as never, []), /^at placements: layout needs an array here, not undefined$/],
    ['verifyLayout with a number IOVA', () => verifyLayout({ placements: [{ name: 'a', iova: 4096, size: 4096n }] } as never, [host]), /^at placements\[0\]\.iova: layout needs a bigint here, not a number$/],
    ['verifyLayout with hosts not a list', () => verifyLayout({ placements: [] }, host as never), /hosts must be an array/],
    ['verifyOnHost with a string host', () => verifyOnHost({ placements: [] }, 'host.json' as never), /host facts must be an object, not a string/],
    ['checkHotplug with no device', () => checkHotplug({ placements: [] }, host, undefined as never), /device must be a string/],
    ['parseHostFacts(42)', () => parseHostFacts(42), /expected object/i],
    ['parseLayout(null)', () => parseLayout(null), /expected object/i],
  ])('%s', (_what, call, message) => {
    const e = thrown(call);
    expect(e.message).toMatch(message);
  });

  it('solve(garbage) rejects with an InputError', async () => {
    await expect(solve({} as never)).rejects.toBeInstanceOf(InputError);
    await expect(solve(null as never)).rejects.toThrow(/problem must be an object, not null/);
  });
});

type Path = Array<string | number>;

function paths(value: unknown, at: Path = []): Path[] {
  const out: Path[] = at.length > 0 ? [at] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function setAt(root: unknown, path: Path, mark: unknown): unknown {
  if (path.length === 0) return mark;
  const [key, ...rest] = path;
  if (Array.isArray(root)) return root.map((v, i) => (i === key ? setAt(v, rest, mark) : v));
  const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  Object.defineProperty(copy, key, { value: setAt(copy[key as string], rest, mark), enumerable: true, writable: true, configurable: true });
  return copy;
}
