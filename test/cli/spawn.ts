/** Run the real `iova` executable (src/cli/bin.ts through tsx) as a child process. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const root = resolve(import.meta.dirname, '../..');
export const bin = resolve(root, 'src/cli/bin.ts');
/** tsx's loader by path, so that the command runs from any working directory. */
export const tsx = pathToFileURL(resolve(root, 'node_modules/tsx/dist/loader.mjs')).href;

export interface Spawned {
  code: number;
  out: string;
  err: string;
}

export function spawnIova(argv: readonly string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Spawned {
  const r = spawnSync(process.execPath, ['--import', tsx, bin, ...argv], {
    input: options.input ?? '',
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
