/**
 * Turning command-line operands into host facts: a host JSON file as written by
 * `iova import`, or raw sources (sysfs roots, reserved_regions, lspci, iomem, dmesg) imported
 * on the fly.
 */
import { statSync, writeFileSync } from 'node:fs';
import type { HostFacts } from '../model/host.js';
import { InputError } from '../model/errors.js';
import { loadHostFile } from '../model/load.js';
import { readStdin, STDIN } from '../model/stdin.js';
import type { Io } from './command.js';

/** Whether a path names a JSON file (by extension). */
export function isJsonPath(path: string): boolean {
  return /\.json$/i.test(path);
}

/** Host facts from `<host.json>` or from `<sources…>`. */
export async function loadHost(operands: readonly string[]): Promise<HostFacts> {
  if (operands.length === 0) throw new InputError('no host given: name a host file (host.json) or sources to import');
  if (operands.length === 1 && isJsonOperand(operands[0])) return loadHostFile(operands[0]);
  const { importSources } = await import('../model/import/index.js');
  return importSources([...operands]);
}

/**
 * Whether an operand holds JSON: a `*.json` path that is not a directory, or standard input
 * (`-`) whose text starts with `{` (anything else on standard input is a capture to import).
 */
export function isJsonOperand(path: string): boolean {
  if (path === STDIN) return readStdin().trimStart().startsWith('{');
  return isJsonPath(path) && !isDirectory(path);
}

/** Whether an output operand (`-o`) names standard output: `-`, as for inputs. */
export function isStdout(file: string | undefined): boolean {
  return file === STDIN;
}

/** Write an output file, or standard output for `-`; failure is bad input naming the file. */
export function writeOutput(file: string, text: string, io: Io): void {
  if (isStdout(file)) {
    io.out(text.trimEnd());
    return;
  }
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new InputError(`cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
}

/** Whether a path names a directory (false when it cannot be read). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
