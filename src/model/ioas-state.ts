/**
 * The state of one IOAS (an iommufd I/O address space or a VFIO type1 container) as a file:
 * the host it lives on, the devices attached, the allowed ranges, and the existing mappings.
 * `iova explain` reads it to say why the next map or attach would be refused.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { HostFacts } from './host.js';
import { withJsonLine } from './json-source.js';
import { loadHostFile, readJsonFile } from './load.js';
import { type Policy, POLICIES } from './policy.js';
import type { Provenance } from './provenance.js';
import type { IovaRange } from './range.js';
import { parseHostFacts, zDeviceId, zHostFacts } from './schema.js';
import { toRange, uniqueBy, validate, zAddress, zRange, zRangeFields } from './validate.js';

export interface IoasMapping extends IovaRange {
  /** A name for messages ("guest RAM below 4G"). */
  name?: string;
  /** The user virtual address it maps, when known (iommufd auto-IOVA uses its alignment). */
  va?: bigint;
  source: Provenance;
}

export interface IoasState {
  host: HostFacts;
  policy: Policy;
  /** Device ids (canonical BDFs or `platform:` names) attached to the IOAS, in attach order. */
  attached: string[];
  /** iommufd IOMMU_IOAS_ALLOW_IOVAS ranges (empty: no restriction). */
  allowed: Array<IovaRange & { source: Provenance }>;
  mappings: IoasMapping[];
}

const zMapping = z
  .strictObject({ ...zRangeFields, name: z.string().optional(), va: zAddress.optional() })
  .transform(({ name, va, ...f }, ctx) => ({ ...toRange(f, ctx), name, va }));

export const zIoasState = z.strictObject({
  $schema: z.string().optional(),
  format: z.literal('iova-solver/ioas@1').optional(),
  /** Host facts inline, or the path of a host file (relative to this file). */
  host: z.union([z.string(), zHostFacts]),
  policy: z.enum(POLICIES).default('iommufd'),
  attached: z.array(zDeviceId).superRefine(uniqueBy('device', (id) => id)).default([]),
  allowed: z.array(zRange).default([]),
  mappings: z.array(zMapping).default([]),
});

/** Whether parsed JSON looks like an IOAS state rather than host facts. */
export function isIoasStateJson(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'host' in data && !('groups' in data) && !('devices' in data);
}

/** Parse an IOAS state; `file` names the source and anchors a relative host path. */
export function parseIoasState(data: unknown, file?: string): IoasState {
  try {
    return readIoasState(data, file);
  } catch (error) {
    throw withJsonLine(error, data);
  }
}

function readIoasState(data: unknown, file?: string): IoasState {
  const raw = validate(zIoasState, data, file);
  const host =
    typeof raw.host === 'string'
      ? loadHostFile(file ? resolve(dirname(file), raw.host) : raw.host)
      : parseHostFacts(raw.host, file);
  const at = (path: string): Provenance => ({ what: path.startsWith('allowed') ? 'allowed range' : 'mapping', path, ...(file ? { file } : {}) });
  return {
    host,
    policy: raw.policy,
    attached: raw.attached,
    allowed: raw.allowed.map((r, i) => ({ ...r, source: at(`allowed[${i}]`) })),
    mappings: raw.mappings.map((m, i) => ({ ...m, source: { ...at(`mappings[${i}]`), ...(m.name ? { what: `mapping ${m.name}` } : {}) } })),
  };
}

/** Read an IOAS state file. */
export function loadIoasStateFile(file: string): IoasState {
  return parseIoasState(readJsonFile(file), file);
}
