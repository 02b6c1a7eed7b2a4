/**
 * The README stays true: its tour is the real output of `npm start`, its library snippets run,
 * its two commands are the ones package.json and CI use, and the examples it lists exist.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { currentSection, main as tour, readmeSection } from '../examples/tour.js';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the tour exactly as npm start prints it (npm run tour:readme rewrites it)', async () => {
    const lines: string[] = [];
    const codes = await tour((l) => lines.push(l));
    expect(codes).toEqual([0, 0, 1, 0, 0, 1, 1, 0, 1, 0]);
    expect(currentSection(readme)).toBe(readmeSection(lines));
  });

  it('runs every library snippet', async () => {
    const section = readme.slice(readme.indexOf('## Library API'), readme.indexOf('## Examples'));
    const snippets = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(snippets.length).toBeGreaterThanOrEqual(6);
    const dir = join(root, 'tmp', 'readme-snippets');
    mkdirSync(dir, { recursive: true });
    const index = pathToFileURL(join(root, 'src/index.ts')).href;
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      for (const [i, code] of snippets.entries()) {
        const file = join(dir, `snippet-${i}.ts`);
        writeFileSync(file, code.replaceAll("from 'iova-solver'", `from '${index}'`));
        log.mockClear();
        await import(pathToFileURL(file).href);
        // Each snippet prints what it found.
        expect(log.mock.calls.length, `snippet ${i} printed nothing`).toBeGreaterThan(0);
      }
    } finally {
      log.mockRestore();
    }
  });

  it('gives the two commands package.json and CI use', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test /m);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('tsx examples/tour.ts');
    expect(pkg.scripts.test).toBe('vitest run');
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('lists examples that exist', () => {
    const listed = [...readme.matchAll(/`(\d\d-[a-z0-9-]+\.ts)`/g)].map((m) => m[1]);
    expect(listed).toHaveLength(8);
    for (const name of listed) expect(existsSync(join(root, 'examples', name)), name).toBe(true);
  });
});
