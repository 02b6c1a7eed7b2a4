/**
 * Host importers: {@link HostFacts} from what real hosts print.
 *
 * Sources are text files (reserved_regions listings, `lspci -vvv`, `/proc/iomem`, kernel logs,
 * IOMMU group listings — or any mix of them, as pasted into mails and issues) and directories
 * laid out like a Linux root (the live `/`, or a capture made with
 * {@link SYSFS_CAPTURE_SCRIPT}). Every fact carries its provenance (file as named, 1-based
 * line); every line that could not be read is an {@link ImportWarning}, never silently
 * dropped. Unreadable files and directories, FIFOs, devices, files above the size cap and files
 * that are not host facts at all are {@link InputError}s.
 *
 * @see text.ts for the warning rule, merge.ts for how sources merge and which wins on conflict.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { HostFacts } from '../host.js';
import { readInputBytes } from '../load.js';
import { stripNulPadding } from './lines.js';
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
 * facts. What cannot be read becomes a warning; text that is not host facts at all (no line
 * gave a fact, most were not recognised) is an {@link InputError} at its first unrecognised line.
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
      // stat, not open: it neither blocks on a FIFO nor reads a device; readInputBytes refuses those.
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      throw new InputError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path });
    }
    if (isDirectory) readSysfsInto(builder, path);
    else importTextInto(builder, readTextFile(path), path);
  }
  return builder.finish();
}

/** A text file's content; archives and other binary files are refused with a hint. */
function readTextFile(path: string): string {
  const bytes = readInputBytes(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new InputError('this is a gzip archive: extract it (tar -xzf) and import the directory', { file: path });
  }
  const text = stripNulPadding(bytes.toString('utf8'));
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = countLines(text, nul);
    throw new InputError('not a text file (it contains NUL bytes)', { file: path, line });
  }
  return text;
}

/** The 1-based line number of offset `at`. */
function countLines(text: string, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function hostName(path: string): string {
  if (path === STDIN) return 'stdin';
  const name = basename(path, extname(path));
  return name === '' ? 'host' : name;
}
