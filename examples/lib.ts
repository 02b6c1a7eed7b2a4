/**
 * What the examples share: where their data lives, and running `main` when a file is executed
 * directly (`npx tsx examples/06-amd-big-guest.ts`) rather than imported by the tests.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A file next to the examples, relative to the working directory (`examples/fleet/…` from the
 * repository root), so that provenance in the output reads the same on every machine.
 */
export function here(path: string): string {
  return relative(process.cwd(), join(dirname(fileURLToPath(import.meta.url)), path));
}

export type Print = (line: string) => void;

/** Run `main` when `url` is the file Node was started with. */
export async function runIfMain(url: string, main: (print: Print) => Promise<unknown>): Promise<void> {
  if (process.argv[1] && url === pathToFileURL(process.argv[1]).href) {
    await main((line) => console.log(line));
    process.exitCode ??= 0;
  }
}
