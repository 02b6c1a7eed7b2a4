/**
 * The exact engine: hands a set of named constraints to a Z3 worker and reads back a placement
 * or an unsat core, and searches repairs by MaxSMT. Importing this module starts nothing; the
 * first question starts the worker pool (see `src/solver/z3`).
 */
import { lowestSetBit } from '../model/address.js';
import { requestsOf, type ExactOracle, type OracleAnswer } from './oracle.js';
import type { Constraint, Problem } from './problem.js';
import { constraintsFor } from './constraints.js';
import { detachCandidates, REPAIR_KINDS, type RepairChange, type RepairKind, type RepairProposal } from './repair.js';
import { runZ3Job } from './z3/index.js';
import {
  type PlacementPayload,
  placementCheckJob,
  placementRepairJob,
  type WireConstraint,
  type WireRelaxation,
} from './z3/jobs/placement.js';

export interface Z3EngineOptions {
  /** Budget of one question to Z3, in milliseconds (default 10 s, or what is left before `deadline`). */
  timeoutMs?: number;
  /** A `performance.now()` time no question may run past: questions get what is left of it. */
  deadline?: number;
  /** The encoding of `check` (see `PlacementPayload.encoding`); `plain` gives no core. */
  encoding?: 'guarded' | 'plain';
}

/** Node's timers (and so the Z3 pool's) hold at most 2^31 − 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The exact engine plus the MaxSMT repair search, for `solve`'s `exact` and `proposeRepairs`. */
export interface Z3Engine extends ExactOracle {
  proposeRepairs(problem: Problem, core: readonly Constraint[]): Promise<RepairProposal[]>;
}

export function z3Engine(options: Z3EngineOptions = {}): Z3Engine {
  const budget = () => {
    const own = options.timeoutMs ?? (options.deadline === undefined ? 10_000 : MAX_TIMER_MS);
    const left = options.deadline === undefined ? own : Math.floor(options.deadline - performance.now());
    return Math.min(own, left, MAX_TIMER_MS);
  };
  return {
    async check(problem, constraints, minimise): Promise<OracleAnswer> {
      const timeoutMs = budget();
      if (timeoutMs < 1) return { status: 'unknown', reason: 'Z3 gave no answer (timeout: the time budget was spent)' };
      const outcome = await runZ3Job(placementCheckJob, { ...payloadOf(problem, constraints), minimise: minimise ? [...minimise] : undefined, encoding: options.encoding }, { timeoutMs });
      if (outcome.status === 'unknown') return { status: 'unknown', reason: `Z3 gave no answer (${outcome.reason}: ${outcome.detail})` };
      const r = outcome.result;
      if (r.status === 'sat') return { status: 'sat', placed: new Map(r.placed) };
      if (r.status === 'unsat') return { status: 'unsat', core: r.core, minimal: r.minimal };
      return { status: 'unknown', reason: r.reason };
    },

    async proposeRepairs(problem, core) {
      const timeoutMs = budget();
      if (timeoutMs < 1) return [];
      const names = requestsOf(core);
      const constraints = constraintsFor(problem, names);
      const relaxations = relaxationsFor(problem, names, constraints);
      const outcome = await runZ3Job(placementRepairJob, { ...payloadOf(problem, constraints), relaxations, alternatives: 3 }, { timeoutMs });
      if (outcome.status === 'unknown' || outcome.result.status !== 'done') return [];
      return outcome.result.answers.map((answer) => ({
        changes: answer.chosen.map((key) => changeOf(problem, key, new Map(answer.placed), new Map(answer.sizes))),
      }));
    },
  };
}

/** The plain-data form of a question: only the requests the constraints speak about. */
function payloadOf(problem: Problem, constraints: readonly Constraint[]): PlacementPayload {
  const names = requestsOf(constraints);
  const prefer = problem.objective === 'high' ? 'high' : problem.objective === 'free-below-4g' ? undefined : 'low';
  return {
    requests: problem.requests
      .filter((r) => names.has(r.name))
      .map((r) => ({ name: r.name, size: r.size, within: r.within?.ranges.map((w) => ({ start: w.start, last: w.last })), pageAlign: problem.space.alignment })),
    windows: problem.windows.map((w) => ({ start: w.start, last: w.last })),
    constraints: constraints.map(wire),
    prefer,
  };
}

function wire(c: Constraint): WireConstraint {
  switch (c.kind) {
    case 'hole':
      return { id: c.id, kind: c.kind, request: c.request, range: { start: c.hole.start, last: c.hole.last } };
    case 'existing':
      return { id: c.id, kind: c.kind, request: c.request, range: { start: c.mapping.start, last: c.mapping.last } };
    case 'align':
      return { id: c.id, kind: c.kind, request: c.request, align: c.align };
    case 'size-multiple':
      return { id: c.id, kind: c.kind, request: c.request, align: c.alignment };
    case 'fixed':
      return { id: c.id, kind: c.kind, request: c.request, iova: c.iova };
    case 'dma-mask':
      return { id: c.id, kind: c.kind, request: c.request, bits: c.bits };
    case 'offset':
      return { id: c.id, kind: c.kind, request: c.request, other: c.other, offset: c.offset };
    case 'disjoint':
    case 'above':
    case 'same-window':
      return { id: c.id, kind: c.kind, request: c.request, other: c.other };
    case 'aperture':
    case 'within':
      return { id: c.id, kind: c.kind, request: c.request };
  }
}

/** Weights follow the repair kinds' cost order: lowering an alignment is cheapest, dropping dearest. */
const weight = (kind: RepairKind) => REPAIR_KINDS.indexOf(kind) + 1;

function relaxationsFor(problem: Problem, names: ReadonlySet<string>, constraints: readonly Constraint[]): WireRelaxation[] {
  const out: WireRelaxation[] = [];
  const mentions = (c: Constraint, name: string) => c.request === name || ('other' in c && c.other === name);
  for (const r of problem.requests.filter((q) => names.has(q.name))) {
    const own = constraints.filter((c) => mentions(c, r.name));
    if (own.some((c) => c.kind === 'align' && !c.ioas)) out.push({ key: `lower-align:${r.name}`, weight: weight('lower-align'), lifts: own.filter((c) => c.kind === 'align' && !c.ioas).map((c) => c.id) });
    if (r.fixed) out.push({ key: `move:${r.name}`, weight: weight('move'), lifts: own.filter((c) => c.kind === 'fixed').map((c) => c.id) });
    out.push({ key: `shrink:${r.name}`, weight: weight('shrink'), lifts: [], shrink: r.name });
    out.push({ key: `drop:${r.name}`, weight: weight('drop'), lifts: own.map((c) => c.id) });
  }
  for (const device of detachCandidates(problem, constraints)) {
    const a = problem.space.attachments.find((x) => x.id === device);
    const lifts = constraints.filter(
      (c) => c.kind === 'hole' && ((c.hole.source.device !== undefined && c.hole.source.device === a?.device?.id) || (c.hole.source.group !== undefined && c.hole.source.group === a?.group?.id)),
    );
    out.push({ key: `detach:${device}`, weight: weight('detach'), lifts: lifts.map((c) => c.id) });
  }
  return out;
}

/** Turn a chosen relaxation into a change, reading what the model settled on. */
function changeOf(problem: Problem, key: string, placed: ReadonlyMap<string, bigint>, sizes: ReadonlyMap<string, bigint>): RepairChange {
  const at = key.indexOf(':');
  const kind = key.slice(0, at) as RepairKind;
  const target = key.slice(at + 1);
  if (kind === 'detach') return { kind, device: target };
  const r = problem.requests.find((q) => q.name === target);
  switch (kind) {
    case 'lower-align': {
      // The alignment the model's IOVA happens to have, below the one asked for.
      const iova = placed.get(target) ?? 0n;
      const natural = iova === 0n ? (r?.ownAlign ?? 1n) / 2n : lowestSetBit(iova);
      const cap = (r?.ownAlign ?? 2n) / 2n;
      const align = natural < cap ? natural : cap;
      return { kind, request: target, align: align > problem.space.alignment ? align : problem.space.alignment };
    }
    case 'shrink':
      return { kind, request: target, size: sizes.get(target) ?? r?.size };
    default:
      return { kind, request: target };
  }
}
