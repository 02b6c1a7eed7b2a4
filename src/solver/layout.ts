/**
 * Layout files: a concrete placement (what a VMM keeps for a migratable machine type), with
 * the requirements each placement must still meet on any host. `iova solve -o` writes one;
 * `iova verify` and `iova check-attach` read one — or a spec whose requests are all fixed.
 */
import { z } from 'zod';
import { InputError } from '../model/errors.js';
import { readJsonFile } from '../model/load.js';
import { POLICIES } from '../model/policy.js';
import { hex } from '../model/address.js';
import { toRange, validate, zAddress, zRange, zRangeFields } from '../model/validate.js';
import type { Problem } from './problem.js';
import type { Placement } from './solve.js';
import { zPlacementSpec } from './spec.js';
import type { Layout } from '../explain/verify.js';

export const LAYOUT_FORMAT = 'iova-solver/layout@1';

const zLayoutPlacement = z
  .strictObject({
    name: z.string(),
    iova: zAddress,
    size: zAddress.optional(),
    last: zAddress.optional(),
    align: zAddress.optional(),
    dmaBits: z.number().int().min(1).max(64).optional(),
    within: z.union([zRange, z.array(zRange)]).optional(),
    /** Page counts as `iova solve --json` prints them; informational. */
    pages: z.array(z.strictObject({ pageSize: z.string(), count: z.string() })).optional(),
  })
  .transform(({ iova, size, last, within, name, align, dmaBits }, ctx) => {
    const r = toRange({ start: iova, size, last }, ctx);
    return { name, iova, size: r.last - r.start + 1n, align, dmaBits, within: within === undefined ? undefined : Array.isArray(within) ? within : [within] };
  });

export const zLayout = z.strictObject({
  $schema: z.string().optional(),
  format: z.literal(LAYOUT_FORMAT).optional(),
  policy: z.enum(POLICIES).optional(),
  devices: z.array(z.string()).optional(),
  dmaApiHoles: z.boolean().optional(),
  kernel: z.string().regex(/^v?\d{1,2}\.\d{1,3}([.\-+~][\w.\-+~]*)?$/, 'a kernel version X.Y').optional(),
  existing: z
    .array(z.strictObject({ ...zRangeFields, name: z.string().optional() }).transform(({ name, ...f }, ctx) => ({ ...toRange(f, ctx), name })))
    .default([]),
  placements: z.array(zLayoutPlacement),
  /** Accepted so that `iova solve --json` output can be verified as it is. */
  status: z.literal('sat').optional(),
  conflicts: z.array(z.unknown()).max(0).optional(),
  repairs: z.array(z.unknown()).max(0).optional(),
});

/** Read a layout: a layout file, `iova solve --json` output, or a spec whose requests are all fixed. */
export function parseLayout(data: unknown, file?: string): Layout {
  if (typeof data === 'object' && data !== null && 'requests' in data) return layoutOfFixedSpec(data, file);
  const raw = validate(zLayout, data, file);
  return {
    placements: raw.placements,
    policy: raw.policy,
    devices: raw.devices,
    dmaApiHoles: raw.dmaApiHoles,
    ...(raw.kernel !== undefined ? { kernel: raw.kernel } : {}),
    existing: raw.existing.map((m, i) => ({
      start: m.start,
      last: m.last,
      name: m.name ?? `existing[${i}]`,
      source: { what: m.name ? `existing mapping ${m.name}` : 'existing mapping', path: `existing[${i}]`, ...(file ? { file } : {}) },
    })),
  };
}

export function loadLayout(file: string): Layout {
  return parseLayout(readJsonFile(file), file);
}

function layoutOfFixedSpec(data: unknown, file?: string): Layout {
  const spec = validate(zPlacementSpec, data, file);
  return {
    policy: spec.policy,
    devices: spec.devices,
    dmaApiHoles: spec.dmaApiHoles,
    ...(spec.kernel !== undefined ? { kernel: spec.kernel } : {}),
    existing: spec.existing.map((m, i) => ({ start: m.start, last: m.last, name: m.name ?? `existing[${i}]`, source: { what: 'existing mapping', path: `existing[${i}]`, ...(file ? { file } : {}) } })),
    placements: spec.requests.map((r, i) => {
      const iova = r.fixed ?? r.identity;
      if (iova === undefined) {
        throw new InputError(`request "${r.name}" has no fixed IOVA: solve the spec first (iova solve … -o layout.json)`, { file, path: `requests[${i}]` });
      }
      return { name: r.name, iova, size: r.size, align: r.align, dmaBits: r.dmaBits, within: r.within === undefined ? undefined : Array.isArray(r.within) ? r.within : [r.within] };
    }),
  };
}

/** The layout a solved problem gives, keeping each request's requirements for other hosts. */
export function layoutOf(problem: Problem, placements: readonly Placement[]): Layout {
  const byName = new Map(problem.requests.map((r) => [r.name, r]));
  return {
    policy: problem.space.policy,
    devices: problem.devices,
    dmaApiHoles: problem.space.dmaApiHolesIncluded,
    existing: problem.existing,
    ...(problem.kernel !== undefined ? { kernel: problem.kernel } : {}),
    placements: placements.map((p) => {
      const r = byName.get(p.name);
      return { name: p.name, iova: p.iova, size: p.size, align: r && r.ownAlign > 1n ? r.ownAlign : undefined, dmaBits: r?.dmaBits, within: r?.within?.ranges };
    }),
  };
}

/** A layout as JSON (addresses as `0x…` strings). */
export function layoutToJson(layout: Layout): unknown {
  return {
    format: LAYOUT_FORMAT,
    policy: layout.policy,
    devices: layout.devices,
    dmaApiHoles: layout.dmaApiHoles,
    ...(layout.kernel !== undefined ? { kernel: layout.kernel } : {}),
    existing: (layout.existing ?? []).map((m) => ({ name: m.name, start: hex(m.start), last: hex(m.last) })),
    placements: layout.placements.map((p) => ({
      name: p.name,
      iova: hex(p.iova),
      size: hex(p.size),
      align: p.align === undefined ? undefined : hex(p.align),
      dmaBits: p.dmaBits,
      within: p.within?.map((w) => ({ start: hex(w.start), last: hex(w.last) })),
    })),
  };
}
