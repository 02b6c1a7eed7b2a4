/**
 * Turning command-line operands into host facts: a host JSON file as written by
 * `iova import`, or raw sources (sysfs roots, reserved_regions, lspci, iomem, dmesg) imported
 * on the fly.
 */
import { statSync, writeFileSync } from 'node:fs';
import type { HostFacts } from '../model/host.js';
import { InputError } from '../model/errors.js';
import { loadHostFile } from '../model/load.js';

/** Whether a path names a JSON file (by extension). */
export function isJsonPath(path: string): boolean {
  return /\.json$/i.test(path);
}

/** Host facts from `<host.json>` or from `<sources…>`. */
export async function loadHost(operands: readonly string[]): Promise<HostFacts> {
  if (operands.length === 0) throw new InputError('no host given: name a host file (host.json) or sources to import');
  if (operands.length === 1 && isJsonPath(operands[0]) && !isDirectory(operands[0])) return loadHostFile(operands[0]);
  const { importSources } = await import('../model/import/index.js');
  return importSources([...operands]);
}

/** Write an output file; failure is bad input naming the file. */
export function writeOutput(file: string, text: string): void {
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
