/**
 * The placement spec: a JSON document naming the host, the policy, the attached devices,
 * existing mappings and the requests to place. `parsePlacementSpec` validates it (JSON paths
 * in every error) and resolves it into a {@link Problem}.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AddressSpace } from '../model/address-space.js';
import { isPowerOfTwo, lowestSetBit } from '../model/address.js';
import { InputError } from '../model/errors.js';
import type { HostFacts } from '../model/host.js';
import { loadHostFile, readJsonFile } from '../model/load.js';
import { POLICIES } from '../model/policy.js';
import type { Provenance } from '../model/provenance.js';
import { RangeSet } from '../model/rangeset.js';
import { parseHostFacts, zHostFacts } from '../model/schema.js';
import { formatJsonPath, toRange, validate, zAddress, zOffset, zRange, zRangeFields, zSize } from '../model/validate.js';
import { type ApertureWindow, OBJECTIVES, type PlacementRequest, type Problem } from './problem.js';

export const SPEC_FORMAT = 'iova-solver/spec@1';

const zName = z.string().regex(/^[A-Za-z0-9_.:@+-]+$/, 'names use letters, digits and _ . : @ + - only');
const zNames = z.union([zName, z.array(zName)]).transform((v) => (Array.isArray(v) ? v : [v]));

const zPowerOfTwo = zSize.refine(isPowerOfTwo, { message: 'must be a power of two' });

export const zRequest = z.strictObject({
  name: zName,
  size: zSize,
  align: zPowerOfTwo.optional(),
  pageSize: z.union([z.literal('largest'), zPowerOfTwo]).optional(),
  fixed: zAddress.optional(),
  identity: zAddress.optional(),
  within: z.union([zRange, z.array(zRange).min(1)]).optional(),
  dmaBits: z.number().int().min(1).max(64).optional(),
  above: zNames.optional(),
  offsetFrom: z.strictObject({ request: zName, offset: zOffset }).optional(),
  window: zName.optional(),
});

const zExisting = z
  .strictObject({ ...zRangeFields, name: z.string().optional() })
  .transform(({ name, ...f }, ctx) => ({ ...toRange(f, ctx), name }));

export const zPlacementSpec = z.strictObject({
  $schema: z.string().optional(),
  format: z.literal(SPEC_FORMAT).optional(),
  /** Host facts inline, or the path of a host file (relative to the spec). */
  host: z.union([z.string(), zHostFacts]),
  policy: z.enum(POLICIES).default('iommufd'),
  /** Attached devices (PCI addresses or group:N); default: every device of the host. */
  devices: z.array(z.string()).optional(),
  dmaApiHoles: z.boolean().optional(),
  existing: z.array(zExisting).default([]),
  requests: z.array(zRequest).min(1),
  objective: z.enum(OBJECTIVES).default('low'),
  /** The kernel version the IOAS answers (hot-plug checks) are for, `X.Y`. */
  kernel: z.string().regex(/^v?\d{1,2}\.\d{1,3}([.\-+~][\w.\-+~]*)?$/, 'a kernel version X.Y').optional(),
});

export type PlacementSpecInput = z.input<typeof zPlacementSpec>;
type RawSpec = z.output<typeof zPlacementSpec>;

/** Read a spec file. */
export function loadPlacementSpec(file: string): Problem {
  return parsePlacementSpec(readJsonFile(file), file);
}

/**
 * Validate a spec and resolve it into a problem. `file` names the spec in errors and
 * provenance, and anchors a relative host path. `host` overrides the spec's host (for checking
 * one layout against many hosts).
 */
export function parsePlacementSpec(data: unknown, file?: string, host?: HostFacts): Problem {
  const raw = validate(zPlacementSpec, data, file);
  const facts = host ?? resolveHost(raw.host, file);
  let space: AddressSpace;
  try {
    space = AddressSpace.build(facts, { policy: raw.policy, devices: raw.devices, dmaApiHoles: raw.dmaApiHoles });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.message, { file, path: 'devices' });
    throw error;
  }
  return problemFromSpec(raw, space, file);
}

function resolveHost(host: RawSpec['host'], file: string | undefined): HostFacts {
  if (typeof host !== 'string') return parseHostFacts(host, file);
  return loadHostFile(file ? resolve(dirname(file), host) : host);
}

/** Build the problem of an already-validated spec over a given space. */
export function problemFromSpec(raw: RawSpec, space: AddressSpace, file?: string): Problem {
  const at = (path: string): Provenance => ({ what: path, path, ...(file ? { file } : {}) });
  const fail = (message: string, path: string): never => {
    throw new InputError(message, { file, path });
  };

  const names = new Map<string, number>();
  raw.requests.forEach((r, i) => {
    if (names.has(r.name)) fail(`request name "${r.name}" is used twice (also requests[${names.get(r.name)}])`, `requests[${i}].name`);
    names.set(r.name, i);
  });
  const refer = (name: string, path: string, self: string) => {
    if (!names.has(name)) fail(`no request named "${name}"`, path);
    if (name === self) fail(`request "${self}" refers to itself`, path);
  };

  const requests: PlacementRequest[] = raw.requests.map((r, i) => {
    const path = `requests[${i}]`;
    if (r.fixed !== undefined && r.identity !== undefined && r.fixed !== r.identity) {
      fail(`"fixed" (${r.fixed}) and "identity" (${r.identity}) disagree; give one`, path);
    }
    if (r.offsetFrom && (r.fixed !== undefined || r.identity !== undefined)) {
      fail('a fixed or identity request cannot also be placed relative to another ("offsetFrom")', `${path}.offsetFrom`);
    }
    r.above?.forEach((name, j) => refer(name, `${path}.above${r.above && r.above.length > 1 ? `[${j}]` : ''}`, r.name));
    if (r.offsetFrom) refer(r.offsetFrom.request, `${path}.offsetFrom.request`, r.name);
    const ownAlign = r.align ?? 1n;
    const fixedIova = r.fixed ?? r.identity;
    return {
      name: r.name,
      index: i,
      size: r.size,
      align: ownAlign > space.alignment ? ownAlign : space.alignment,
      ownAlign,
      preferAlign: preferredAlignment(r.pageSize, r.size, raw.objective, space.pageSizes),
      fixed: fixedIova !== undefined ? { iova: fixedIova, identity: r.identity !== undefined } : undefined,
      within: r.within === undefined ? undefined : RangeSet.of(Array.isArray(r.within) ? r.within : [r.within]),
      dmaBits: r.dmaBits,
      above: r.above ?? [],
      offsetFrom: r.offsetFrom,
      window: r.window,
      source: { ...at(path), what: `request ${r.name}` },
    };
  });
  checkOffsetCycles(requests, (message, path) => fail(message, path));

  const windows = windowsOf(space);

  return {
    space,
    devices: raw.devices,
    requests,
    existing: raw.existing.map((m, i) => ({
      start: m.start,
      last: m.last,
      name: m.name ?? `existing[${i}]`,
      source: { ...at(`existing[${i}]`), what: m.name ? `existing mapping ${m.name}` : 'existing mapping' },
    })),
    objective: raw.objective,
    windows,
    ...(raw.kernel !== undefined ? { kernel: raw.kernel } : {}),
    source: { what: 'placement spec', ...(file ? { file } : {}) },
  };
}

/**
 * The alignment a request would like: its page-size preference, or under `fewest-pages` the
 * largest supported page that its size can use. Undefined when there is no preference.
 */
function preferredAlignment(pageSize: bigint | 'largest' | undefined, size: bigint, objective: RawSpec['objective'], pageSizes: bigint): bigint | undefined {
  if (pageSize !== undefined && pageSize !== 'largest') return pageSize;
  if (pageSize === 'largest' || objective === 'fewest-pages') {
    let best: bigint | undefined;
    for (let bits = pageSizes; bits !== 0n; bits &= bits - 1n) {
      const page = lowestSetBit(bits);
      if (page <= size) best = page;
    }
    return best;
  }
  return undefined;
}

/** The translatable windows of a space, each with the provenance of the aperture that bounds it. */
export function windowsOf(space: AddressSpace): ApertureWindow[] {
  return space.windows.ranges.map((w) => ({ ...w, source: windowSource(space, w) }));
}

/** The provenance of a window: the attached geometry whose aperture bounds it. */
function windowSource(space: AddressSpace, w: { start: bigint; last: bigint }): Provenance {
  const geometries = [...new Set(space.attachments.map((a) => a.geometry))];
  const bounding = geometries.find((g) => g.apertures.some((a) => a.start === w.start || a.last === w.last)) ?? geometries[0];
  return bounding?.source ?? { what: 'the whole 64-bit space', note: 'nothing attached' };
}

/** `offsetFrom` chains must not loop (a loop fixes nothing and hides a typo). */
function checkOffsetCycles(requests: PlacementRequest[], fail: (message: string, path: string) => never): void {
  const byName = new Map(requests.map((r) => [r.name, r]));
  for (const start of requests) {
    const seen = new Set<string>([start.name]);
    for (let r = start.offsetFrom ? byName.get(start.offsetFrom.request) : undefined; r; r = r.offsetFrom ? byName.get(r.offsetFrom.request) : undefined) {
      if (seen.has(r.name)) fail(`"offsetFrom" requests form a loop through "${start.name}"`, formatJsonPath(['requests', start.index, 'offsetFrom']));
      seen.add(r.name);
    }
  }
}
