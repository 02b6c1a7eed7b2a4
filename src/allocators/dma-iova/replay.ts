/**
 * Replays an IOVA-domain trace (the format of `vectors/linux-iova/*.trace`) and returns one
 * output line per operation line, in the format of the matching `.out` files.
 *
 * Trace format: one operation per line, `#` starts a comment, blank lines are skipped; numbers
 * are decimal or `0x` hex page-frame numbers. Operations:
 *
 * | op | output |
 * |---|---|
 * | `init <granule> <start_pfn>` | `ok` (replaces the current domain) |
 * | `alloc <size> <limit> <0/1>` | `<lo> <hi>` or `fail` |
 * | `allocf <size> <limit> [flush=1]` | `<lo>`, or `0` on failure |
 * | `free <pfn>` | `ok`, or `none` when nothing contains pfn |
 * | `freef <pfn> <size>` | `ok` |
 * | `reserve <lo> <hi>` | `<lo> <hi>` of the resulting node, or `fail` |
 * | `find <pfn>` | `<lo> <hi>` or `none` |
 * | `dump` | `n=<k> lo-hi lo-hi …` |
 * | `state` | `cached=… cached32=… max32=… rc=L/P/D,…` (`-` for values a policy lacks) |
 * | `rcache` | `b<i> L[…] P[…] D<n>` per bin |
 * | `flush` | `ok` |
 * | `tick` | `ran=<n>` |
 * | `check` | `ok`, or `broken: <what>` |
 * | `put` | `ok` (destroys the domain) |
 *
 * Granules below 2048 bytes get a top pfn of 2^53 - 1 (see {@link DmaIovaDomainOptions.topPfn}),
 * where the kernel's space reaches 2^64 / granule - 1: pfns above 2^53 - 1 cannot be reserved or
 * allocated in the replay. No trace in the vectors comes near them.
 */
import { InputError, quote } from '../../model/errors.js';
import { DmaIovaDomain, type DmaIovaPolicyName } from './domain.js';
import { MAX_TOP_PFN } from './pfn.js';
import type { PfnRange } from './policy.js';

const MAX_U64 = (1n << 64n) - 1n;
const SAFE = BigInt(MAX_TOP_PFN);

/** Operand counts: [required, optional]. */
const ARITY: Record<string, readonly [number, number]> = {
  init: [2, 0],
  alloc: [3, 0],
  allocf: [2, 1],
  free: [1, 0],
  freef: [2, 0],
  reserve: [2, 0],
  find: [1, 0],
  dump: [0, 0],
  state: [0, 0],
  rcache: [0, 0],
  flush: [0, 0],
  tick: [0, 0],
  check: [0, 0],
  put: [0, 0],
};

/**
 * Runs `text` against a fresh {@link DmaIovaDomain} per `init` under `policy` (`'linux'` unless
 * given, since traces are recorded from the kernel) and returns the output lines. A malformed
 * line throws {@link InputError} with its line number, quoting the line.
 */
export function replayTrace(text: string, policy: DmaIovaPolicyName = 'linux'): string[] {
  const out: string[] = [];
  const replay = new Replay(policy);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i].indexOf('#');
    const body = (hash >= 0 ? lines[i].slice(0, hash) : lines[i]).trim();
    if (body === '') continue;
    try {
      out.push(replay.run(body.split(/\s+/)));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(`${e.message} in ${quote(lines[i].trim())}`, { line: i + 1 });
    }
  }
  return out;
}

class Replay {
  private domain: DmaIovaDomain | undefined;

  constructor(private readonly policy: DmaIovaPolicyName) {}

  run(words: string[]): string {
    const [op, ...args] = words;
    const arity = Object.hasOwn(ARITY, op) ? ARITY[op] : undefined;
    if (arity === undefined) throw new InputError(`unknown operation ${quote(op)}`);
    if (args.length < arity[0] || args.length > arity[0] + arity[1]) {
      const want = arity[1] === 0 ? `${arity[0]}` : `${arity[0]} or ${arity[0] + arity[1]}`;
      throw new InputError(`${op} takes ${want} operand${want === '1' ? '' : 's'}, not ${args.length}`);
    }
    const n = args.map(parseNumber);
    if (op === 'init') return this.init(n[0], n[1]);
    const d = this.domain;
    if (d === undefined) throw new InputError(`${op} before init: no domain exists`);
    switch (op) {
      case 'alloc': {
        const r = d.alloc(size(n[0]), limit(n[1]), flag(n[2], 'size_aligned'));
        return r === undefined ? 'fail' : `${r} ${r + size(n[0]) - 1}`;
      }
      case 'allocf':
        return String(d.allocFast(size(n[0]), limit(n[1]), n.length < 3 || flag(n[2], 'flush')) ?? 0);
      case 'free':
        return n[0] <= SAFE && d.free(Number(n[0])) ? 'ok' : 'none';
      case 'freef':
        d.freeFast(pfn(n[0]), n[1] > SAFE ? MAX_TOP_PFN : size(n[1]));
        return 'ok';
      case 'reserve': {
        if (n[0] > n[1]) throw new InputError(`reserve start ${n[0]} is above its end ${n[1]}`);
        const r = n[1] > SAFE ? undefined : d.reserve(Number(n[0]), Number(n[1]));
        return r === undefined ? 'fail' : pair(r);
      }
      case 'find': {
        const r = n[0] <= SAFE ? d.find(Number(n[0])) : undefined;
        return r === undefined ? 'none' : pair(r);
      }
      case 'dump': {
        const ranges = d.dump();
        return `n=${ranges.length}${ranges.map((r) => ` ${r.lo}-${r.hi}`).join('')}`;
      }
      case 'state': {
        const s = d.state();
        const c = s.cursors;
        const rc = s.rcache.map((b) => `${b.loaded}/${b.prev}/${b.depot}`).join(',');
        return `cached=${c?.cached ?? '-'} cached32=${c?.cached32 ?? '-'} max32=${c?.max32 ?? '-'} rc=${rc}`;
      }
      case 'rcache':
        return d
          .rcache()
          .map((b, i) => `b${i} L[${b.loaded.join(',')}] P[${b.prev.join(',')}] D${b.depot}`)
          .join(' ');
      case 'flush':
        d.flush();
        return 'ok';
      case 'tick':
        return `ran=${d.tick()}`;
      case 'check': {
        const bad = d.check();
        return bad === undefined ? 'ok' : `broken: ${bad}`;
      }
      default: // put
        this.domain = undefined;
        return 'ok';
    }
  }

  private init(granule: bigint, startPfn: bigint): string {
    if (granule > SAFE) throw new InputError(`granule ${granule} is too large`);
    if (startPfn > SAFE) throw new InputError(`start pfn ${startPfn} is above 2^53 - 1`);
    const g = Number(granule);
    this.domain = new DmaIovaDomain({
      granule: g,
      startPfn: Number(startPfn),
      policy: this.policy,
      topPfn: g < 2048 ? MAX_TOP_PFN : undefined,
    });
    return 'ok';
  }
}

function parseNumber(word: string): bigint {
  if (!/^(?:0x[0-9a-f]+|[0-9]+)$/i.test(word)) throw new InputError(`${quote(word)} is not a decimal or 0x hex number`);
  const value = BigInt(word);
  if (value > MAX_U64) throw new InputError(`${word} does not fit in 64 bits`);
  return value;
}

function size(value: bigint): number {
  if (value === 0n) throw new InputError('size must be at least 1');
  if (value > SAFE) throw new InputError(`size ${value} is above 2^53 - 1`);
  return Number(value);
}

function pfn(value: bigint): number {
  if (value > SAFE) throw new InputError(`pfn ${value} is above 2^53 - 1`);
  return Number(value);
}

/** Limits beyond any space are clamped by the domain anyway. */
function limit(value: bigint): number {
  return value > SAFE ? MAX_TOP_PFN : Number(value);
}

function flag(value: bigint, what: string): boolean {
  if (value > 1n) throw new InputError(`${what} must be 0 or 1, not ${value}`);
  return value === 1n;
}

function pair(r: PfnRange): string {
  return `${r.lo} ${r.hi}`;
}
