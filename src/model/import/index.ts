/**
 * Host importers: {@link HostFacts} from what real hosts print.
 *
 * Sources are text files (reserved_regions listings, `lspci -vvv`, `/proc/iomem`, kernel logs,
 * IOMMU group listings — or any mix of them, as pasted into mails and issues) and directories
 * laid out like a Linux root (the live `/`, or a capture made with
 * {@link SYSFS_CAPTURE_SCRIPT}). Every fact carries its provenance (file as named, 1-based
 * line); every line that could not be read is an {@link ImportWarning}, never silently
 * dropped and never fatal. Unreadable files and directories are {@link InputError}s.
 *
 * @see text.ts for the warning rule, merge.ts for how sources merge and which wins on conflict.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { HostFacts } from '../host.js';
import { readStdin, STDIN, STDIN_NAME } from '../stdin.js';
import { HostBuilder } from './merge.js';
import { readSysfsInto } from './sysfs.js';
import { importTextInto } from './text.js';

export { type DetectedKind, detectKind, detectKinds } from './detect.js';
export { SOURCE_KINDS, type SourceKind } from './common.js';
export { HostBuilder } from './merge.js';
export { parseConfigSpace, readSysfsRoot, SYSFS_CAPTURE_SCRIPT, type SysfsOptions } from './sysfs.js';

/** Options of {@link importSources} and {@link importText}. */
export interface ImportOptions {
  /** Host name in the result (default: the first source's file name without extension). */
  name?: string;
  /** Called after each source of {@link importSources}: how many are read out of how many. */
  onSource?: (done: number, total: number) => void;
}

/**
 * Import text (the content of `file`, which names it in provenance and warnings) into host
 * facts. Never throws on content: what cannot be read becomes a warning.
 */
export function importText(text: string, file: string, options: ImportOptions = {}): HostFacts {
  const builder = new HostBuilder(options.name ?? hostName(file));
  importTextInto(builder, text, file);
  return builder.finish();
}

/**
 * Import and merge several sources, in order (on conflicting facts the first source wins; see
 * merge.ts): directories are read as Linux roots, files as text of any supported kind.
 * Throws {@link InputError} naming the path when a source cannot be read.
 */
export function importSources(paths: readonly string[], options: ImportOptions = {}): HostFacts {
  if (paths.length === 0) throw new InputError('no sources to import: give sysfs roots (directories) or text files');
  const builder = new HostBuilder(options.name ?? hostName(paths[0]));
  for (const path of paths) {
    options.onSource?.(paths.indexOf(path), paths.length);
    if (path === STDIN) {
      importTextInto(builder, readStdin(), STDIN_NAME);
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      throw new InputError(`cannot read: ${errorCode(error)}`, { file: path });
    }
    if (isDirectory) readSysfsInto(builder, path);
    else importTextInto(builder, readTextFile(path), path);
  }
  return builder.finish();
}

/** A text file's content; archives and other binary files are refused with a hint. */
function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InputError(`cannot read: ${errorCode(error)}`, { file: path });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new InputError('this is a gzip archive: extract it (tar -xzf) and import the directory', { file: path });
  }
  const text = bytes.toString('utf8').replace(/\0+$/, '');
  if (text.includes('\0')) throw new InputError('not a text file (it contains NUL bytes)', { file: path });
  return text;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

function hostName(path: string): string {
  if (path === STDIN) return 'stdin';
  const name = basename(path, extname(path));
  return name === '' ? 'host' : name;
}
