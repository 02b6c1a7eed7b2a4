// Differential test: the `linux` policy must reproduce every output line of the traces recorded
// from the kernel's own drivers/iommu/iova.c (test/fixtures/linux-iova; the README there says
// which part of each recorded trace is kept and why).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../src/allocators/index.js';
const vectors = path.resolve(import.meta.dirname, '../fixtures/linux-iova');

/** Operation lines of a trace with their line numbers (what produces output). */
function operations(trace: string): Array<{ line: number; text: string }> {
  return trace
    .split(/\r?\n/)
    .map((text, i) => ({ line: i + 1, text: text.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

function firstMismatch(name: string, trace: string, got: string[], want: string[]): string | undefined {
  const ops = operations(trace);
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] === want[i]) continue;
    const context = ops
      .slice(Math.max(0, i - 3), i + 1)
      .map((o) => `  ${name}.trace:${o.line}: ${o.text}`)
      .join('\n');
    const clip = (s: string | undefined): string => (s === undefined ? '(no line)' : s.length > 300 ? `${s.slice(0, 300)}…` : s);
    return `output line ${i + 1} differs\n${context}\n  expected: ${clip(want[i])}\n  got:      ${clip(got[i])}`;
  }
  return undefined;
}

describe('linux policy reproduces the kernel vectors', () => {
  for (const name of ['edge', 'gen-s1', 'gen-s2', 'gen-s3']) {
    it(name, () => {
      const trace = readFileSync(path.join(vectors, `${name}.trace`), 'utf8');
      const want = readFileSync(path.join(vectors, `${name}.out`), 'utf8').split(/\r?\n/);
      if (want[want.length - 1] === '') want.pop();
      expect(want.length).toBe(operations(trace).length);
      const got = replayTrace(trace, 'linux');
      const mismatch = firstMismatch(name, trace, got, want);
      // Thrown rather than compared, so the report keeps its line breaks.
      if (mismatch !== undefined) throw new Error(mismatch);
    });
  }
});

describe('default policy on the same traces', () => {
  it('answers every line and keeps its invariants', () => {
    for (const name of ['edge', 'gen-s1', 'gen-s2', 'gen-s3']) {
      const trace = readFileSync(path.join(vectors, `${name}.trace`), 'utf8');
      // A self-check after every `dump` and at the end.
      const checked = trace.replace(/^dump$/gm, 'dump\ncheck') + '\ncheck\n';
      const got = replayTrace(checked, 'default');
      expect(got.length).toBe(operations(checked).length);
      expect(got.filter((l) => l.startsWith('broken'))).toEqual([]);
      expect(got[got.length - 1]).toBe('ok');
    }
  });
});
