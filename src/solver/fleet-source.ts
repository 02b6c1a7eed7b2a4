/**
 * Where a fleet's hosts come from: a directory of host files, a tar of them, or an ndjson
 * stream (one host per line; `-` is standard input), so that a fleet can be piped from object
 * storage. Each host is an item with a stable name (the file name, the tar entry's path, or
 * `SOURCE:LINE`), which orders the results and decides the host's shard.
 *
 * The tar reader is our own: plain ustar (with the pax `path` record and GNU long names) is a
 * few dozen lines, and no well-kept streaming reader comes without dependencies of its own.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InputError } from '../model/errors.js';

/** One host of a fleet: its name, and its text unless the worker reads it from `name` itself. */
export interface FleetItem {
  name: string;
  text?: string;
  /** The name shards are split by (without a directory that differs from machine to machine). */
  key: string;
}

export type FleetSourceKind = 'dir' | 'tar' | 'ndjson';

/** Which kind of source `spec` names: `-` and *.ndjson/*.jsonl are ndjson, *.tar and ustar files tar. */
export function fleetSourceKind(spec: string): FleetSourceKind {
  if (spec === '-') return 'ndjson';
  let isDir: boolean;
  try {
    isDir = statSync(spec).isDirectory();
  } catch (error) {
    throw new InputError(`cannot read the fleet: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: spec });
  }
  if (isDir) return 'dir';
  if (/\.tar$/i.test(spec)) return 'tar';
  return 'ndjson';
}

/** The host files of a fleet directory: every `*.json` directly in it, sorted by name. */
export function fleetFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError('is not a directory', { file: dir });
    names = readdirSync(dir);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read the fleet directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: dir });
  }
  const files = names.filter((n) => n.endsWith('.json')).sort().map((n) => join(dir, n));
  if (files.length === 0) throw new InputError('no host files (*.json) in the fleet directory', { file: dir });
  return files;
}

/** Every host of the source `spec` (see {@link fleetSourceKind}), in order. */
export async function* fleetItems(spec: string, stdin: Readable = process.stdin): AsyncGenerator<FleetItem> {
  const kind = fleetSourceKind(spec);
  if (kind === 'dir') {
    for (const file of fleetFiles(spec)) yield { name: file, key: basename(file) };
    return;
  }
  const stream = spec === '-' ? stdin : createReadStream(spec);
  const label = spec === '-' ? '<stdin>' : spec;
  if (kind === 'tar') yield* tarItems(stream, label);
  else yield* ndjsonItems(stream, label);
}

/** One host per non-blank line, named `LABEL:LINE`. */
async function* ndjsonItems(stream: Readable, label: string): AsyncGenerator<FleetItem> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  let any = false;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      any = true;
      const name = `${label}:${line}`;
      yield { name, text, key: `${basename(label)}:${line}` };
    }
  } catch (error) {
    throw new InputError(`cannot read the fleet: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: label });
  }
  if (!any) throw new InputError('no hosts (one JSON host per line expected)', { file: label });
}

const BLOCK = 512;

/** Reads `n` bytes from a byte stream in chunks; undefined at a clean end of the stream. */
class ByteReader {
  private chunks: Buffer[] = [];
  private held = 0;
  private readonly it: AsyncIterator<Buffer>;
  offset = 0;
  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  async read(n: number): Promise<Buffer | undefined> {
    while (this.held < n) {
      const next = await this.it.next();
      if (next.done) {
        if (this.held === 0) return undefined;
        throw new Error(`truncated: ${n} bytes needed, ${this.held} left`);
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      this.chunks.push(chunk);
      this.held += chunk.length;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.held = rest.length;
    this.offset += n;
    return out;
  }
}

/** A NUL-terminated field of a header. */
function field(header: Buffer, at: number, len: number): string {
  const raw = header.subarray(at, at + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** An octal number field (ustar sizes are octal text; base-256 sizes are not needed for host files). */
function octal(header: Buffer, at: number, len: number, label: string, offset: number): number {
  const text = field(header, at, len).trim();
  if (!/^[0-7]*$/.test(text)) throw new InputError(`tar header at byte ${offset}: not an octal number: ${JSON.stringify(text)}`, { file: label });
  return text === '' ? 0 : parseInt(text, 8);
}

/** The `path` record of a pax extended header, if any. */
function paxPath(data: Buffer): string | undefined {
  let i = 0;
  let path: string | undefined;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = parseInt(data.subarray(i, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    i += len;
  }
  return path;
}

/** Every regular `*.json` member of a ustar archive, in archive order, named `LABEL:PATH`. */
async function* tarItems(stream: Readable, label: string): AsyncGenerator<FleetItem> {
  const reader = new ByteReader(stream);
  let longName: string | undefined;
  let any = false;
  for (;;) {
    const at = reader.offset;
    let header: Buffer | undefined;
    try {
      header = await reader.read(BLOCK);
    } catch (error) {
      throw new InputError(`tar header at byte ${at}: ${(error as Error).message}`, { file: label });
    }
    if (header === undefined || header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    if (sum !== octal(header, 148, 8, label, at)) throw new InputError(`tar header at byte ${at}: bad checksum (not a tar file?)`, { file: label });
    const size = octal(header, 124, 12, label, at);
    const type = String.fromCharCode(header[156] || 0x30);
    // POSIX ustar ("ustar\0") splits long paths into prefix and name; old GNU headers use that
    // space for other fields and carry long names in 'L' members instead.
    const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? field(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    let data: Buffer;
    try {
      data = (await reader.read(Math.ceil(size / BLOCK) * BLOCK)) ?? Buffer.alloc(0);
    } catch (error) {
      throw new InputError(`tar member ${JSON.stringify(name)} at byte ${at}: ${(error as Error).message}`, { file: label });
    }
    const body = data.subarray(0, size);
    if (type === 'x') longName = paxPath(body);
    else if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if ((type === '0' || type === '7') && name.endsWith('.json')) {
      any = true;
      yield { name: `${label}:${name}`, text: body.toString('utf8'), key: name };
    }
  }
  if (!any) throw new InputError('no host files (*.json) in the tar', { file: label });
}

/** FNV-1a of a name: the shard a host belongs to depends on its name alone. */
export function shardOf(key: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** `I/N` with 0 <= I < N. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count) || !Number.isSafeInteger(count)) {
    throw new InputError(`--shard must be I/N with 0 <= I < N (e.g. 3/16), not ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Host names in result order: code-unit order, except that `X:LINE` names of one ndjson source
 * sort by line number.
 */
export function compareHostNames(a: string, b: string): number {
  const ca = a.lastIndexOf(':');
  const cb = b.lastIndexOf(':');
  if (ca > 0 && cb > 0 && a.slice(0, ca) === b.slice(0, cb)) {
    const la = a.slice(ca + 1);
    const lb = b.slice(cb + 1);
    if (/^\d+$/.test(la) && /^\d+$/.test(lb)) return Number(la) - Number(lb);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
