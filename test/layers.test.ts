/**
 * The layers of src/ depend one way (DESIGN.md): model at the bottom; explain (verifier, words,
 * explanation values) on model only; solver, ioas and allocators on model and explain but not on
 * each other's layer, except that hot-plug and the IOAS model may not reach the solver either.
 * Read from the import statements of every source file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level layer (first directory under src/) of every relative import of `file`. */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = relative(SRC, join(file, '..', m[1]));
    out.push(target.split('/')[0]);
  }
  return out;
}

const ALLOWED: Record<string, readonly string[]> = {
  model: ['model'],
  explain: ['model', 'explain'],
  ioas: ['model', 'explain', 'ioas'],
  allocators: ['model', 'explain', 'allocators'],
  solver: ['model', 'explain', 'solver'],
};

describe('layering', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer} imports only ${allowed.join(', ')}`, () => {
      const dir = join(SRC, layer);
      const bad = files(dir).flatMap((f) => importedLayers(f).filter((l) => !allowed.includes(l)).map((l) => `${relative(SRC, f)} → ${l}`));
      expect(files(dir).length).toBeGreaterThan(0);
      expect(bad).toEqual([]);
    });
  }
});
