/**
 * zod schemas for the JSON form of host facts. Addresses are strings (`"0xfee00000"`,
 * `"2GiB"`) or safe-integer numbers; ranges are `{start, last}` or `{start, size}`; a missing
 * `source` is filled in with the file and JSON path the fact was read from.
 */
import { z } from 'zod';
import { hex, isPowerOfTwo } from './address.js';
import {
  type AcsFlags,
  BRIDGE_ROLES,
  type HostFacts,
  IMPORT_WARNING_KINDS,
  NO_ACS,
  PROFILE_NAMES,
  RESERVED_REGION_TYPES,
} from './host.js';
import { isBdf, normaliseBdf } from './pci.js';
import type { Provenance } from './provenance.js';
import { quote } from './errors.js';
import { formatJsonPath, toRange, uniqueBy, validate, zAddress, zRange, zRangeFields, zSize } from './validate.js';

export const zProvenance = z.strictObject({
  what: z.string(),
  file: z.string().optional(),
  line: z.number().int().positive().optional(),
  path: z.string().optional(),
  group: z.number().int().nonnegative().optional(),
  device: z.string().optional(),
  profile: z.string().optional(),
  peer: z.string().optional(),
  port: z.string().optional(),
  note: z.string().optional(),
});

/** Page sizes: a list of sizes (`["4K", "2M"]`) or a bitmap (`"0x40201000"`). */
export const zPageSizes = z
  .union([z.array(zSize).min(1), zAddress])
  .transform((value, ctx) => {
    if (typeof value === 'bigint') {
      if (value === 0n) ctx.addIssue({ code: 'custom', message: 'page-size bitmap must not be zero' });
      return value;
    }
    let bitmap = 0n;
    for (const size of value) {
      if (!isPowerOfTwo(size)) ctx.addIssue({ code: 'custom', message: `page size ${hex(size)} is not a power of two` });
      bitmap |= size;
    }
    return bitmap;
  });

const zRegionType = z.enum(RESERVED_REGION_TYPES, {
  error: (issue) => `unknown reserved-region type ${quote(issue.input)}; expected one of ${RESERVED_REGION_TYPES.join(', ')}`,
});

export const zReservedRegion = z
  .strictObject({ ...zRangeFields, type: zRegionType, source: zProvenance.optional() })
  .transform((f, ctx) => ({ ...toRange(f, ctx), type: f.type, source: f.source }));

const zGeometry = z.strictObject({
  apertures: z.array(zRange).min(1),
  pageSizes: zPageSizes,
  addressWidth: z.number().int().min(1).max(64).optional(),
  source: zProvenance.optional(),
});

const zBar = z
  .strictObject({
    ...zRangeFields,
    bar: z.union([z.number().int().min(0).max(5), z.literal('rom')]).optional(),
    prefetchable: z.boolean().optional(),
    is64: z.boolean().optional(),
    virtual: z.boolean().optional(),
    disabled: z.boolean().optional(),
    source: zProvenance.optional(),
  })
  .transform(({ start, last, size, ...rest }, ctx) => ({ ...rest, ...toRange({ start, last, size }, ctx) }));

export const zDeviceId = z.string().transform((id, ctx) => {
  if (isBdf(id)) return normaliseBdf(id);
  if (/^platform:\S+$/.test(id)) return id;
  ctx.addIssue({ code: 'custom', message: `device id ${quote(id)} is neither a PCI address (0000:03:00.0) nor "platform:<name>"` });
  return z.NEVER;
});

const zDevice = z.strictObject({
  id: zDeviceId,
  group: z.number().int().nonnegative().optional(),
  dmaMaskBits: z.number().int().min(1).max(64).optional(),
  reservedRegions: z.array(zReservedRegion).default([]),
  bars: z.array(zBar).default([]),
  iommu: zGeometry.optional(),
  description: z.string().optional(),
  source: zProvenance.optional(),
});

const zGroup = z.strictObject({
  id: z.number().int().nonnegative(),
  reservedRegions: z.array(zReservedRegion).default([]),
  devices: z.array(zDeviceId).default([]),
  source: zProvenance.optional(),
});

const zAcsFlags = z
  .strictObject({
    sourceValidation: z.boolean().optional(),
    translationBlocking: z.boolean().optional(),
    requestRedirect: z.boolean().optional(),
    completionRedirect: z.boolean().optional(),
    upstreamForwarding: z.boolean().optional(),
    egressControl: z.boolean().optional(),
    directTranslated: z.boolean().optional(),
  })
  .transform((flags): AcsFlags => ({ ...NO_ACS, ...stripUndefined(flags) }));

const zBusNumber = z.number().int().min(0).max(255);

const zBridge = z.strictObject({
  id: z.string().transform((id) => (isBdf(id) ? normaliseBdf(id) : id)),
  role: z.enum(BRIDGE_ROLES).default('unknown'),
  segment: z.number().int().min(0).max(0xffff).default(0),
  primaryBus: zBusNumber.optional(),
  secondaryBus: zBusNumber,
  subordinateBus: zBusNumber,
  windows: z
    .array(
      z
        .strictObject({ ...zRangeFields, prefetchable: z.boolean().optional(), source: zProvenance.optional() })
        .transform(({ prefetchable, source, ...f }, ctx) => ({ ...toRange(f, ctx), prefetchable, source })),
    )
    .default([]),
  bars: z.array(zBar).default([]),
  acs: z.strictObject({ capability: zAcsFlags, control: zAcsFlags }).optional(),
  source: zProvenance.optional(),
});

const zHostBridge = z.strictObject({
  id: z.string(),
  segment: z.number().int().min(0).max(0xffff).default(0),
  busFirst: zBusNumber,
  busLast: zBusNumber,
  windows: z
    .array(
      z
        .strictObject({ ...zRangeFields, offset: zAddress.optional(), source: zProvenance.optional() })
        .transform(({ offset, source, ...f }, ctx) => ({ ...toRange(f, ctx), offset: offset ?? 0n, source })),
    )
    .default([]),
  dmaRanges: z
    .array(
      z
        .strictObject({ ...zRangeFields, source: zProvenance.optional() })
        .transform(({ source, ...f }, ctx) => ({ ...toRange(f, ctx), source })),
    )
    .default([]),
  source: zProvenance.optional(),
});

export const zPlatform = z.strictObject({
  profile: z.enum(PROFILE_NAMES, {
    error: (issue) => `unknown platform profile ${quote(issue.input)}; expected one of ${PROFILE_NAMES.join(', ')}`,
  }),
  addressWidth: z.number().int().min(1).max(64).optional(),
  pageTable: z.enum(['v1', 'v2']).optional(),
  window32Size: zSize.optional(),
  window64Start: zAddress.optional(),
  window64Size: zSize.optional(),
  pageSizes: zPageSizes.optional(),
  inputRange: zRange.optional(),
  msiWindow: z.enum(['x86', 'none']).optional(),
  source: zProvenance.optional(),
});

export const zHostFacts = z.strictObject({
  $schema: z.string().optional(),
  format: z.literal('iova-solver/host@1').optional(),
  name: z.string().default('host'),
  platform: z.union([z.enum(PROFILE_NAMES), zPlatform]).optional(),
  iommu: zGeometry.optional(),
  reservedRegions: z.array(zReservedRegion).default([]),
  groups: z.array(zGroup).superRefine(uniqueBy('IOMMU group', (g) => g.id, 'id')).default([]),
  devices: z.array(zDevice).superRefine(uniqueBy('device', (d) => d.id, 'id')).default([]),
  pci: z
    .strictObject({
      hostBridges: z.array(zHostBridge).superRefine(uniqueBy('host bridge', (b) => b.id, 'id')).default([]),
      bridges: z.array(zBridge).superRefine(uniqueBy('bridge', (b) => b.id, 'id')).default([]),
    })
    .default({ hostBridges: [], bridges: [] }),
  sources: z.array(z.strictObject({ file: z.string(), kind: z.string() })).default([]),
  warnings: z
    .array(
      z.strictObject({
        file: z.string(),
        line: z.number().int(),
        message: z.string(),
        text: z.string(),
        kind: z.enum(IMPORT_WARNING_KINDS).optional(),
      }),
    )
    .default([]),
});

/** Parse the JSON form of host facts; `file` names the source in errors and default provenance. */
export function parseHostFacts(data: unknown, file?: string): HostFacts {
  const raw = validate(zHostFacts, data, file);
  const { $schema: _schema, format: _format, ...rest } = raw;
  const platform = typeof rest.platform === 'string' ? { profile: rest.platform } : rest.platform;
  return fillProvenance({ ...rest, platform }, file) as HostFacts;
}

/**
 * Give every object that may carry a `source` one: its JSON path in `file` when the input
 * had none. Walks the parsed value generically so that new fields are covered too.
 */
function fillProvenance(value: unknown, file: string | undefined, path: PropertyKey[] = []): unknown {
  if (Array.isArray(value)) return value.map((item, i) => fillProvenance(item, file, [...path, i]));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = key === 'source' || key === 'sources' || key === 'warnings' ? child : fillProvenance(child, file, [...path, key]);
  }
  const what = SOURCED.get(ownerKey(path));
  if (what !== undefined && out.source === undefined) {
    const source: Provenance = { what, path: formatJsonPath(path) };
    if (file) source.file = file;
    out.source = source;
  }
  return out;
}

/** What the objects under each key are called, for keys whose values (or array items) carry provenance. */
const SOURCED = new Map([
  ['reservedRegions', 'reserved region'],
  ['devices', 'device'],
  ['groups', 'IOMMU group'],
  ['bars', 'BAR'],
  ['windows', 'window'],
  ['dmaRanges', 'dma-range'],
  ['bridges', 'bridge'],
  ['hostBridges', 'host bridge'],
  ['iommu', 'IOMMU geometry'],
  ['platform', 'platform'],
]);

/** The key an object hangs under: `bars` for `devices[0].bars[1]`, `iommu` for `devices[0].iommu`. */
function ownerKey(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  return String(typeof last === 'number' ? path[path.length - 2] : last);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
