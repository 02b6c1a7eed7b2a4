/**
 * Where the workplace's shared test data lives: `../shared` beside the repository (real host
 * captures in `realdata/`, the kernel allocator's traces in `vectors/linux-iova/`), or the
 * directory IOVA_SHARED_DIR names. Missing data is an error that says so, not a skipped test.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '..');

export function sharedDir(...parts: string[]): string {
  const base = process.env.IOVA_SHARED_DIR ?? resolve(repoRoot, '../shared');
  const dir = resolve(base, ...parts);
  if (!existsSync(dir)) {
    throw new Error(`shared test data not found at ${dir}: check out ../shared beside the repository, or set IOVA_SHARED_DIR`);
  }
  return dir;
}
