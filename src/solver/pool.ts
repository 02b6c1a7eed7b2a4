/**
 * Solving for a migration pool: one layout that every host of the pool accepts, because
 * guest-visible IOVA parameters cannot change when a guest migrates.
 *
 * Each host gives an address space (its windows, holes, alignment and page sizes for the
 * spec's devices and policy). Hosts whose spaces are identical — same windows, holes (range,
 * kind, type), alignment and pages, whatever their provenance — form one class and are counted
 * once. The pool's space is the classes' spaces together: windows and usable ranges
 * intersected, every hole of every class (each naming the hosts it comes from), the largest
 * alignment and the page sizes all share. The unchanged solver then works on that space, so a
 * conflict names the facts — and through them the hosts — that rule every layout out.
 *
 * Every sat answer is verified again on each host of the pool. When no layout exists, a repair
 * "leave these hosts out of the pool" is searched for: the classes named by the conflicts are
 * left out (and further conflicts' classes, a few rounds), then each is added back when the
 * rest still has a layout; what remains left out is reported, with the layout that then works.
 */
import { AddressSpace, type AddressSpaceOptions, type Attachment } from '../model/address-space.js';
import { InputError } from '../model/errors.js';
import { compareHoles, type Hole } from '../model/hole.js';
import { emptyHost, type HostFacts } from '../model/host.js';
import type { Provenance } from '../model/provenance.js';
import { RangeSet } from '../model/rangeset.js';
import type { Conflict } from './explain.js';
import { layoutOf } from './layout.js';
import type { Problem } from './problem.js';
import type { Placement, SolveOptions, SolveResult } from './solve.js';
import { problemFromSpec, zPlacementSpec } from './spec.js';
import { validate } from '../model/validate.js';
import { budgeted, solveWithSplits } from './split.js';
import { verifyOnHost } from '../explain/verify.js';

/** Hosts with identical spaces: one class, solved once. */
export interface HostClass {
  hosts: HostFacts[];
  space: AddressSpace;
}

/** A placement spec as validated, before it is bound to a host (the spec file's fields). */
export type PoolSpec = Parameters<typeof problemFromSpec>[0];
type RawSpec = PoolSpec;

/** Validate a placement spec for {@link solvePool} (its `host` is not read: the pool's hosts replace it). */
export function parsePoolSpec(data: unknown, file?: string): PoolSpec {
  return validate(zPlacementSpec, data, file);
}

export interface PoolAnswer {
  result: SolveResult;
  /** The problem over the whole pool's space (for writing the layout). */
  problem: Problem;
  /** The pool: hosts given, and distinct classes among them. */
  hosts: number;
  distinct: number;
  /** When unsat: hosts whose removal from the pool leaves a layout that all others accept. */
  leaveOut?: { hosts: string[]; placements: Placement[] };
}

/** Group hosts by the space they give under `options` (a host that cannot attach the devices is bad input). */
export function hostClasses(hosts: readonly HostFacts[], options: AddressSpaceOptions, files?: readonly string[]): HostClass[] {
  const byKey = new Map<string, HostClass>();
  hosts.forEach((host, i) => {
    let space: AddressSpace;
    try {
      space = AddressSpace.build(host, options);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`host ${host.name}: ${error.message}`, { file: files?.[i] });
      throw error;
    }
    const key = fingerprint(space);
    const known = byKey.get(key);
    if (known) known.hosts.push(host);
    else byKey.set(key, { hosts: [host], space });
  });
  return [...byKey.values()];
}

/** What makes two spaces the same for placement: everything but provenance. */
function fingerprint(space: AddressSpace): string {
  const r = (x: { start: bigint; last: bigint }) => `${x.start.toString(16)}-${x.last.toString(16)}`;
  return [space.policy, space.alignment, space.pageSizes, space.windows.ranges.map(r).join(','), space.holes.map((h) => `${r(h)}:${h.kind}:${h.type}`).join(',')].join('|');
}

/** `a, b and 3 more` */
export function describeHosts(names: readonly string[], max = 3): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

const onHosts = (source: Provenance, hosts: readonly string[]): Provenance => ({ ...source, note: [source.note, `on ${describeHosts(hosts)}`].filter(Boolean).join('; ') });

/** The space every class accepts (see the module comment); `holeHosts` maps each hole back to its classes. */
export function poolSpace(classes: readonly HostClass[]): { space: AddressSpace; holeClasses: Map<Hole, number[]> } {
  const merged = new Map<string, { hole: Hole; classes: number[] }>();
  classes.forEach((c, i) => {
    for (const h of c.space.holes) {
      const key = `${h.start}-${h.last}-${h.kind}-${h.type}`;
      const m = merged.get(key);
      if (m) m.classes.push(i);
      else merged.set(key, { hole: h, classes: [i] });
    }
  });
  const hostsOf = (list: number[]) => list.flatMap((i) => classes[i].hosts.map((h) => h.name));
  const holeClasses = new Map<Hole, number[]>();
  const holes = [...merged.values()].map(({ hole, classes: list }) => {
    const h = { ...hole, source: onHosts(hole.source, hostsOf(list)) };
    holeClasses.set(h, list);
    return h;
  });
  const first = classes[0].space;
  const intersect = (pick: (s: AddressSpace) => RangeSet) => classes.reduce((acc, c) => acc.intersect(pick(c.space)), RangeSet.FULL);
  const alignment = classes.reduce((a, c) => (c.space.alignment > a ? c.space.alignment : a), 1n);
  const common = classes.reduce((bits, c) => bits & c.space.pageSizes, first.pageSizes);
  const attachments: Attachment[] = classes.flatMap((c) => c.space.attachments.map((a) => ({ ...a, geometry: { ...a.geometry, source: onHosts(a.geometry.source, c.hosts.map((h) => h.name)) } })));
  const total = classes.reduce((n, c) => n + c.hosts.length, 0);
  const name = classes.length === 1 && total === 1 ? classes[0].hosts[0].name : `pool of ${total} host${total === 1 ? '' : 's'} (${classes.length} distinct)`;
  const space = AddressSpace.fromParts({
    host: emptyHost(name),
    policy: first.policy,
    attachments,
    alignment,
    pageSizes: common !== 0n ? common : alignment,
    windows: intersect((s) => s.windows),
    holes: holes.sort(compareHoles),
    reported: intersect((s) => s.reported),
    usable: intersect((s) => s.usable),
    dmaApiHolesIncluded: first.dmaApiHolesIncluded,
  });
  return { space, holeClasses };
}

/** Solve a validated spec for every host of a pool (see the module comment). */
export async function solvePool(raw: RawSpec, hosts: readonly HostFacts[], options: SolveOptions & { file?: string; files?: readonly string[] } = {}): Promise<PoolAnswer> {
  if (hosts.length === 0) throw new InputError('the pool has no hosts');
  const classes = hostClasses(hosts, { policy: raw.policy, devices: raw.devices, dmaApiHoles: raw.dmaApiHoles }, options.files);
  // One budget for the whole answer, the leave-out search included.
  const left = budgeted(options);
  const attempt = async (included: readonly number[]) => {
    const { space, holeClasses } = poolSpace(included.map((i) => classes[i]));
    const problem = problemFromSpec(raw, space, options.file);
    const result = await solveWithSplits(problem, left());
    if (result.status === 'sat') certifyOnHosts(problem, result.placements, included.flatMap((i) => classes[i].hosts));
    return { problem, result, holeClasses: new Map([...holeClasses].map(([h, list]) => [h, list.map((j) => included[j])])) };
  };
  const all = classes.map((_, i) => i);
  const first = await attempt(all);
  const answer: PoolAnswer = { result: first.result, problem: first.problem, hosts: hosts.length, distinct: classes.length };
  if (first.result.status !== 'unsat' || classes.length < 2) return answer;

  // Leave out the classes the conflicts name, a few rounds; then add back what is not needed.
  let out = new Set<number>();
  let current = first;
  // The leave-out search stops with what it has once the budget is spent.
  const spent = () => left().deadline?.passed() === true;
  for (let round = 0; round < 4 && current.result.status === 'unsat' && !spent(); round++) {
    const named = conflictClasses(current.result.conflicts, current.holeClasses, classes, all.filter((i) => !out.has(i)));
    if (named.length === 0) return answer;
    out = new Set([...out, ...named]);
    if (out.size >= classes.length) return answer;
    current = await attempt(all.filter((i) => !out.has(i)));
  }
  if (current.result.status !== 'sat') return answer;
  let best = current;
  for (const i of [...out].slice(0, 24)) {
    if (spent()) break;
    const trial = await attempt(all.filter((j) => j === i || !out.has(j)));
    if (trial.result.status === 'sat') {
      out.delete(i);
      best = trial;
    }
  }
  if (best.result.status === 'sat') {
    answer.leaveOut = { hosts: [...out].sort((a, b) => a - b).flatMap((i) => classes[i].hosts.map((h) => h.name)), placements: best.result.placements };
  }
  return answer;
}

/**
 * The classes a conflict names: the classes of each hole in it, and for an aperture
 * constraint the classes whose windows are narrower than the widest class's.
 */
function conflictClasses(conflicts: readonly Conflict[], holeClasses: Map<Hole, number[]>, classes: readonly HostClass[], included: readonly number[]): number[] {
  const named = new Set<number>();
  const byRange = new Map<string, number[]>();
  for (const [h, list] of holeClasses) byRange.set(`${h.start}-${h.last}`, [...(byRange.get(`${h.start}-${h.last}`) ?? []), ...list]);
  for (const c of conflicts) {
    for (const x of c.constraints) {
      if (x.range) for (const i of byRange.get(`${x.range.start}-${x.range.last}`) ?? []) named.add(i);
      if (x.kind === 'aperture') {
        const widest = included.reduce((w, i) => w.union(classes[i].space.windows), RangeSet.EMPTY);
        for (const i of included) if (!classes[i].space.windows.equals(widest)) named.add(i);
      }
    }
  }
  // Leaving out every class is no repair.
  return [...named].filter((i) => included.includes(i)).length < included.length ? [...named].filter((i) => included.includes(i)) : [];
}

/** The answer, checked by the verifier on each host of the pool (a failure is a bug in us). */
function certifyOnHosts(problem: Problem, placements: readonly Placement[], hosts: readonly HostFacts[]): void {
  const layout = layoutOf(problem, placements);
  for (const host of hosts) {
    const verdict = verifyOnHost(layout, host);
    if (!verdict.ok) throw new Error(`the pool layout failed verification on ${host.name}: ${verdict.violations.map((v) => v.message).join('; ')}`);
  }
}
