/**
 * The state of one IOAS (an iommufd I/O address space or a VFIO type1 container) as a file:
 * the host it lives on, the devices attached, the allowed ranges, and the existing mappings.
 * `iova explain` reads it to say why the next map or attach would be refused.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { HostFacts } from './host.js';
import { loadHostFile, readJsonFile } from './load.js';
import { type Policy, POLICIES } from './policy.js';
import type { Provenance } from './provenance.js';
import type { IovaRange } from './range.js';
import { parseHostFacts, zDeviceId, zHostFacts } from './schema.js';
import { toRange, validate, zAddress, zRange, zRangeFields } from './validate.js';

/**
 * What backs the user memory of a mapping: anonymous memory, a memfd (shmem), hugetlbfs, a
 * VM_PFNMAP range such as an mmap()ed PCI BAR, or a dma-buf (mapped through IOMMU_IOAS_MAP_FILE).
 */
export const BACKINGS = ['anonymous', 'memfd', 'hugetlb', 'pfnmap', 'dma-buf'] as const;
export type Backing = (typeof BACKINGS)[number];

export interface IoasMapping extends IovaRange {
  /** A name for messages ("guest RAM below 4G"). */
  name?: string;
  /** The user virtual address it maps, when known (iommufd auto-IOVA uses its alignment). */
  va?: bigint;
  /** What backs it (default: anonymous memory). */
  backing?: Backing;
  /** Mapped with IOMMU_IOAS_MAP_FILE (`va` is then the offset in the file). */
  file?: boolean;
  source: Provenance;
}

export interface IoasState {
  host: HostFacts;
  policy: Policy;
  /**
   * Attached device ids (canonical BDFs, `platform:` names, `group:N`, `host`), in attach order.
   * Under VFIO type1 an empty list is a container with no group (and so no VFIO_SET_IOMMU).
   */
  attached: string[];
  /** iommufd IOMMU_IOAS_ALLOW_IOVAS ranges (empty: no restriction). */
  allowed: Array<IovaRange & { source: Provenance }>;
  mappings: IoasMapping[];
  /** The kernel version the state is on (`6.8`); absent: the model's default. */
  kernel?: string;
  /** VFIO type1's dma_entry_limit when the container got its IOMMU. */
  dmaEntryLimit?: number;
  /** VFIO type1 interface: `v2` (VFIO_TYPE1v2_IOMMU, the default) or `v1` (VFIO_TYPE1_IOMMU). */
  type1?: 'v1' | 'v2';
}

const zMapping = z
  .strictObject({ ...zRangeFields, name: z.string().optional(), va: zAddress.optional(), backing: z.enum(BACKINGS).optional(), file: z.boolean().optional() })
  .transform(({ name, va, backing, file, ...f }, ctx) => ({ ...toRange(f, ctx), name, va, ...(backing ? { backing } : {}), ...(file ? { file } : {}) }));

/** What `--device` accepts: a PCI address, `platform:NAME`, `group:N`, or `host`. */
const zAttachmentId = z.union([z.string().regex(/^group:\d+$/), z.literal('host'), zDeviceId]);

export const zIoasState = z.strictObject({
  $schema: z.string().optional(),
  format: z.literal('iova-solver/ioas@1').optional(),
  /** Host facts inline, or the path of a host file (relative to this file). */
  host: z.union([z.string(), zHostFacts]),
  policy: z.enum(POLICIES).default('iommufd'),
  attached: z.array(zAttachmentId).default([]),
  allowed: z.array(zRange).default([]),
  mappings: z.array(zMapping).default([]),
  /** Kernel version, `X.Y` (a release string such as `6.8.0-45-generic` is accepted too). */
  kernel: z.string().regex(/^v?\d{1,2}\.\d{1,3}([.\-+~][\w.\-+~]*)?$/, 'a kernel version X.Y').optional(),
  dmaEntryLimit: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  type1: z.enum(['v1', 'v2']).optional(),
});

/** Whether parsed JSON looks like an IOAS state rather than host facts. */
export function isIoasStateJson(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'host' in data && !('groups' in data) && !('devices' in data);
}

/** Parse an IOAS state; `file` names the source and anchors a relative host path. */
export function parseIoasState(data: unknown, file?: string): IoasState {
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
    ...(raw.kernel !== undefined ? { kernel: raw.kernel } : {}),
    ...(raw.dmaEntryLimit !== undefined ? { dmaEntryLimit: raw.dmaEntryLimit } : {}),
    ...(raw.type1 !== undefined ? { type1: raw.type1 } : {}),
  };
}

/** Read an IOAS state file. */
export function loadIoasStateFile(file: string): IoasState {
  return parseIoasState(readJsonFile(file), file);
}
