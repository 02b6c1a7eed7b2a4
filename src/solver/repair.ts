/**
 * Repairs: relaxations that make an unsat problem sat, cheapest first. A repair is a change to
 * the spec — lower an alignment, move a fixed request, shrink or drop a request, leave a
 * device unattached — and every one offered has been applied and solved again, so it comes
 * with the placement it leads to.
 *
 * For one or two requests in conflict the candidates are computed exactly here; for more
 * competing requests the exact engine (Z3, MaxSMT over soft relaxations) proposes them.
 */
import { AddressSpace } from '../model/address-space.js';
import { alignDown, alignUp, formatSize, hexGrouped } from '../model/address.js';
import { constraintsFor } from './constraints.js';
import { domainOf, lowestStart } from './domain.js';
import { placePair } from './pair.js';
import { windowsOf } from './spec.js';
import type { Constraint, PlacementRequest, Problem } from './problem.js';

/** Cost classes, cheapest first. Within a class, smaller changes are cheaper. */
export const REPAIR_KINDS = ['lower-align', 'move', 'shrink', 'detach', 'drop'] as const;
export type RepairKind = (typeof REPAIR_KINDS)[number];

export interface RepairChange {
  kind: RepairKind;
  /** The request changed (not for `detach`). */
  request?: string;
  /** The device (or group:N) left unattached, for `detach`. */
  device?: string;
  /** New alignment, size or fixed IOVA. */
  align?: bigint;
  size?: bigint;
  iova?: bigint;
}

/** One or more changes that together should make the problem solvable. */
export interface RepairProposal {
  changes: RepairChange[];
}

/** A change in words: `shrink \`ram\` by 14 GiB to 1008 GiB, keeping it at 0x1_0000_0000`. */
export function describeChange(problem: Problem, c: RepairChange): string {
  const r = problem.requests.find((q) => q.name === c.request);
  const name = `\`${c.request}\``;
  switch (c.kind) {
    case 'lower-align':
      return `lower ${name}'s alignment from ${formatSize(r?.ownAlign ?? 1n)} to ${formatSize(c.align ?? 1n)}`;
    case 'move': {
      const from = r?.fixed ? ` from ${hexGrouped(r.fixed.iova)}` : '';
      const identity = r?.fixed?.identity ? ' (giving up the identity mapping)' : '';
      return c.iova === undefined ? `move ${name} away${from}${identity}` : `move ${name}${from} to ${hexGrouped(c.iova)}${identity}`;
    }
    case 'shrink': {
      const size = c.size ?? r?.size ?? 0n;
      const keep = r?.fixed ? `, keeping it at ${hexGrouped(r.fixed.iova)}` : '';
      return `shrink ${name} by ${formatSize((r?.size ?? size) - size)} to ${formatSize(size)}${keep}`;
    }
    case 'detach':
      return `leave ${c.device} unattached, lifting the holes it brings`;
    case 'drop':
      return `drop ${name}`;
  }
}

/** Cost order of proposals: by their most expensive change, then by how many changes. */
export function compareRepairCost(a: { changes: RepairChange[] }, b: { changes: RepairChange[] }): number {
  const worst = (p: { changes: RepairChange[] }) => Math.max(...p.changes.map((c) => REPAIR_KINDS.indexOf(c.kind)));
  return worst(a) - worst(b) || a.changes.length - b.changes.length;
}

/** Apply changes to a problem; the result is a new problem (the input is not modified). */
export function applyRepair(problem: Problem, changes: readonly RepairChange[]): Problem {
  return changes.reduce(applyChange, problem);
}

function applyChange(problem: Problem, change: RepairChange): Problem {
  if (change.kind === 'detach') {
    const remaining = problem.space.attachments.map((a) => a.id).filter((id) => id !== change.device);
    const space = AddressSpace.build(problem.space.host, { policy: problem.space.policy, devices: remaining, dmaApiHoles: problem.space.dmaApiHolesIncluded });
    const windows = windowsOf(space);
    const requests = problem.requests.map((r) => ({ ...r, align: r.ownAlign > space.alignment ? r.ownAlign : space.alignment }));
    return { ...problem, space, windows, requests };
  }
  const requests: PlacementRequest[] = [];
  for (const r of problem.requests) {
    if (r.name !== change.request) {
      requests.push(r);
      continue;
    }
    switch (change.kind) {
      case 'drop':
        break;
      case 'lower-align': {
        const align = change.align ?? r.ownAlign;
        requests.push({ ...r, ownAlign: align, align: align > problem.space.alignment ? align : problem.space.alignment, preferAlign: undefined });
        break;
      }
      case 'shrink':
        requests.push({ ...r, size: change.size ?? r.size });
        break;
      case 'move':
        requests.push({ ...r, fixed: change.iova !== undefined ? { iova: change.iova, identity: false } : undefined });
        break;
    }
  }
  // Relations to a dropped request go with it.
  const names = new Set(requests.map((r) => r.name));
  const cleaned = requests.map((r) => ({
    ...r,
    above: r.above.filter((a) => names.has(a)),
    offsetFrom: r.offsetFrom && names.has(r.offsetFrom.request) ? r.offsetFrom : undefined,
  }));
  return { ...problem, requests: cleaned };
}

/** Candidate repairs for one request in conflict on its own (exact, no solver needed). */
export function singleRequestRepairs(problem: Problem, r: PlacementRequest, core: readonly Constraint[]): RepairProposal[] {
  const out: RepairProposal[] = [];
  const own = constraintsFor(problem, new Set([r.name])).filter((c) => c.request === r.name && c.kind !== 'disjoint');

  if (r.fixed) {
    // Where it moves to is decided by solving again with the request set free.
    out.push({ changes: [{ kind: 'move', request: r.name }] });
    // Or keep the base and stop before the first thing in the way.
    const base = r.fixed.iova;
    const loose = domainOf(problem, r, own.filter((c) => c.kind !== 'fixed'));
    const at = loose.space.ranges.find((x) => x.start <= base && base <= x.last);
    const room = at && base % loose.align === 0n ? alignDown(at.last - base + 1n, problem.space.alignment) : 0n;
    if (room > 0n && room < r.size) {
      out.push({ changes: [{ kind: 'shrink', request: r.name, size: room }] });
    }
    out.push({ changes: [{ kind: 'drop', request: r.name }] });
    return out;
  }

  // Lower the alignment: the largest power of two below the current one that leaves room.
  if (r.ownAlign > problem.space.alignment && core.some((c) => c.kind === 'align' && !c.ioas)) {
    for (let align = r.ownAlign / 2n; align >= problem.space.alignment && align >= 1n; align /= 2n) {
      const relaxed = own.map((c) => (c.kind === 'align' && !c.ioas ? { ...c, align } : c));
      if (lowestStart(domainOf(problem, r, relaxed), r.size) !== undefined) {
        out.push({ changes: [{ kind: 'lower-align', request: r.name, align }] });
        break;
      }
    }
  }

  // Shrink: the largest size, in whole IOAS pages, for which an aligned slot exists.
  const domain = domainOf(problem, r, own);
  let best = 0n;
  for (const range of domain.space.ranges) {
    const start = alignUp(range.start, domain.align);
    if (start > range.last) continue;
    const room = alignDown(range.last - start + 1n, problem.space.alignment);
    if (room > best) best = room;
  }
  if (best > 0n && best < r.size) {
    out.push({ changes: [{ kind: 'shrink', request: r.name, size: best }] });
  }

  // Leave a device unattached: one whose regions or peer holes are in the conflict.
  for (const device of detachCandidates(problem, core)) {
    out.push({ changes: [{ kind: 'detach', device }] });
  }

  out.push({ changes: [{ kind: 'drop', request: r.name }] });
  return out;
}

/** Attached devices or groups whose holes take part in a conflict. */
export function detachCandidates(problem: Problem, core: readonly Constraint[]): string[] {
  const ids = new Set<string>();
  for (const c of core) {
    if (c.kind !== 'hole') continue;
    const source = c.hole.source;
    for (const a of problem.space.attachments) {
      const byDevice = source.device !== undefined && a.device?.id === source.device;
      const byGroup = source.group !== undefined && a.group?.id === source.group;
      if (byDevice || byGroup) ids.add(a.id);
    }
  }
  return [...ids].sort();
}

/**
 * Candidate repairs for two requests in conflict, computed exactly with {@link placePair}
 * (what the exact engine's MaxSMT search proposes for larger conflicts): the largest lower
 * alignment and the largest smaller size (in whole IOAS pages) of either request that let the
 * pair fit, a move of a fixed one, leaving a device of the core unattached, and a drop of
 * either. Only the pair's own constraints are considered; each repair is solved again whole.
 */
export function pairRepairs(problem: Problem, core: readonly Constraint[]): RepairProposal[] {
  const names = new Set(core.flatMap((c) => ('other' in c ? [c.request, c.other] : [c.request])));
  const fits = (changes: RepairChange[]) => {
    const changed = applyRepair(problem, changes);
    const pair = changed.requests.filter((r) => names.has(r.name));
    return pair.length === 2 && placePair(changed, [pair[0], pair[1]], constraintsFor(changed, names)) !== undefined;
  };
  const page = problem.space.alignment;
  const out: RepairProposal[] = [];
  const members = problem.requests.filter((r) => names.has(r.name));
  for (const r of members) {
    for (let align = r.ownAlign / 2n; r.ownAlign > page && align >= page && align >= 1n; align /= 2n) {
      const change: RepairChange = { kind: 'lower-align', request: r.name, align };
      if (fits([change])) {
        out.push({ changes: [change] });
        break;
      }
    }
    if (r.fixed) out.push({ changes: [{ kind: 'move', request: r.name }] });
  }
  for (const r of members) {
    // Fitting only gets easier as a request shrinks: binary search on whole pages.
    const shrinkTo = (pages: bigint): RepairChange => ({ kind: 'shrink', request: r.name, size: pages * page });
    let lo = 0n;
    let hi = (r.size - 1n) / page;
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (fits([shrinkTo(mid)])) lo = mid;
      else hi = mid - 1n;
    }
    if (lo > 0n) out.push({ changes: [shrinkTo(lo)] });
  }
  for (const device of detachCandidates(problem, core)) out.push({ changes: [{ kind: 'detach', device }] });
  for (const r of members) out.push({ changes: [{ kind: 'drop', request: r.name }] });
  return out;
}
