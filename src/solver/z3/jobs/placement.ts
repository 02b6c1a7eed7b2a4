/**
 * Placement jobs that run in a Z3 worker: decide a set of named constraints (a placement, or
 * an unsat core of constraint ids), and find the cheapest relaxations (MaxSMT) that make them
 * satisfiable. The payloads are plain data built on the main thread by `src/solver/z3-engine.ts`.
 *
 * Encoding: one Int per request, its IOVA `x`; `x ≥ 0` and `x + size - 1 ≤ 2^64 - 1` always
 * hold. Every named constraint is guarded by its own Boolean and checked under those
 * Booleans as assumptions, so the unsat core names constraints. Alignment is `x mod a = 0`.
 * This module imports z3-solver for types only (the main thread loads it to get job handles).
 *
 * Why this encoding stays (measured with `npm run bench:solver`, one whole instance per
 * question, 10 s each, load average about 18 on 2 cores, so noisy): on the generated one-window
 * instances of 10–24 requests, `plain` (constraints asserted directly, identical requests
 * ordered by name to break symmetry) took 0.9–8.1 s and `guarded` 1.5–5.6 s, each faster on
 * about half; both decided every sat and over-full assorted-size case there, and neither
 * proved the 20-request power-of-two over-full case in 10 s, nor placed 154 requests at 50 %
 * load. Neither wins, the guarded one gives cores, so it stays; what decides the hard families
 * is not the encoding but what runs before it: capacity bounds (microseconds, a proof) and
 * the packing passes (exact for power-of-two sizes), with Z3 only for what is left, split by
 * component and, in large components, by neighbourhood (see `solve.ts`, `neighbourhood.ts`).
 * Earlier figures (DESIGN.md): bit-vectors slower than Int and out of heap at 200 requests.
 */
import type { Arith, Bool } from 'z3-solver';
import { defineZ3Job } from '../job.js';
import type { Z3Context, Z3ContextName, Z3Session } from '../session.js';

const MAX = (1n << 64n) - 1n;

export interface WireRange {
  start: bigint;
  last: bigint;
}

/** A constraint as the worker needs it: what the main thread's `Constraint` says, without provenance. */
export interface WireConstraint {
  id: string;
  kind: 'aperture' | 'hole' | 'existing' | 'align' | 'size-multiple' | 'fixed' | 'within' | 'dma-mask' | 'disjoint' | 'above' | 'offset' | 'same-window';
  request: string;
  other?: string;
  range?: WireRange;
  align?: bigint;
  bits?: number;
  iova?: bigint;
  offset?: bigint;
}

export interface WireRequest {
  name: string;
  size: bigint;
  within?: WireRange[];
  /** The IOAS alignment a shrunk size must stay a multiple of. */
  pageAlign: bigint;
}

export interface PlacementPayload {
  requests: WireRequest[];
  windows: WireRange[];
  constraints: WireConstraint[];
  /** Prefer low or high addresses when the problem is small enough to optimise. */
  prefer?: 'low' | 'high';
  /**
   * Shrink an unsat core to a minimal one, trying constraint ids for removal in this order
   * (what is tried last is kept when there is a choice).
   */
  minimise?: string[];
  /**
   * `guarded` (default): every constraint under its own Boolean, checked as assumptions (the
   * core names constraints). `plain`: the constraints asserted directly, no core (for measuring
   * and for a first decision).
   */
  encoding?: 'guarded' | 'plain';
}

export type PlacementResult =
  | { status: 'sat'; placed: Array<[string, bigint]> }
  /** `minimal`: every member was checked to be needed (dropping it made the rest sat). */
  | { status: 'unsat'; core: string[]; minimal: boolean }
  | { status: 'unknown'; reason: string };

/** One relaxation the repair search may choose: what it costs and which constraints it lifts. */
export interface WireRelaxation {
  key: string;
  weight: number;
  /** Constraint ids that no longer hold once this relaxation is chosen. */
  lifts: string[];
  /** A shrink: the request whose size may become smaller (in whole pages). */
  shrink?: string;
}

export interface RepairPayload extends PlacementPayload {
  relaxations: WireRelaxation[];
  /** How many different cheapest answers to look for. */
  alternatives: number;
}

export interface RepairAnswer {
  /** Keys of the chosen relaxations. */
  chosen: string[];
  placed: Array<[string, bigint]>;
  /** New sizes of shrunk requests. */
  sizes: Array<[string, bigint]>;
}

export type RepairResult = { status: 'done'; answers: RepairAnswer[] } | { status: 'unknown'; reason: string };

type IntExpr = Arith<Z3ContextName>;
type BoolExpr = Bool<Z3ContextName>;

/** The encoder of one payload: the IOVA and size terms of each request, and each constraint's formula. */
class Encoding {
  readonly x = new Map<string, IntExpr>();
  readonly size = new Map<string, IntExpr>();
  private readonly byName = new Map<string, WireRequest>();

  constructor(
    readonly ctx: Z3Context,
    readonly payload: PlacementPayload,
    readonly shrinkable: ReadonlySet<string> = new Set(),
  ) {
    payload.requests.forEach((r, i) => {
      this.byName.set(r.name, r);
      this.x.set(r.name, ctx.Int.const(`x!${i}`));
      this.size.set(r.name, shrinkable.has(r.name) ? ctx.Int.const(`size!${i}`) : ctx.Int.val(r.size));
    });
  }

  /** What always holds: every slot inside the 64-bit space; a shrunk size between one page and the original. */
  background(): BoolExpr[] {
    const out: BoolExpr[] = [];
    for (const r of this.payload.requests) {
      const x = this.xOf(r.name);
      const size = this.sizeOf(r.name);
      out.push(x.ge(0), this.lastOf(r.name).le(this.ctx.Int.val(MAX)));
      if (this.shrinkable.has(r.name)) {
        out.push(size.ge(this.ctx.Int.val(r.pageAlign)), size.le(this.ctx.Int.val(r.size)), size.mod(this.ctx.Int.val(r.pageAlign)).eq(0));
      }
    }
    return out;
  }

  xOf(name: string): IntExpr {
    const x = this.x.get(name);
    if (!x) throw new Error(`constraint names unknown request ${name}`);
    return x;
  }

  sizeOf(name: string): IntExpr {
    return this.size.get(name) as IntExpr;
  }

  lastOf(name: string): IntExpr {
    return this.xOf(name).add(this.sizeOf(name)).sub(1);
  }

  inside(name: string, r: WireRange): BoolExpr {
    const { ctx } = this;
    return ctx.And(this.xOf(name).ge(ctx.Int.val(r.start)), this.lastOf(name).le(ctx.Int.val(r.last)));
  }

  clear(name: string, r: WireRange): BoolExpr {
    const { ctx } = this;
    return ctx.Or(this.lastOf(name).lt(ctx.Int.val(r.start)), this.xOf(name).gt(ctx.Int.val(r.last)));
  }

  formula(c: WireConstraint): BoolExpr {
    const { ctx } = this;
    const any = (items: BoolExpr[]) => (items.length === 0 ? ctx.Bool.val(false) : items.length === 1 ? items[0] : ctx.Or(...items));
    const other = c.other ?? '';
    switch (c.kind) {
      case 'aperture':
        return any(this.payload.windows.map((w) => this.inside(c.request, w)));
      case 'hole':
      case 'existing':
        return this.clear(c.request, c.range as WireRange);
      case 'align':
        return this.xOf(c.request).mod(ctx.Int.val(c.align as bigint)).eq(0);
      case 'size-multiple':
        return this.sizeOf(c.request).mod(ctx.Int.val(c.align as bigint)).eq(0);
      case 'fixed':
        return this.xOf(c.request).eq(ctx.Int.val(c.iova as bigint));
      case 'within':
        return any((this.byName.get(c.request)?.within ?? []).map((w) => this.inside(c.request, w)));
      case 'dma-mask':
        return this.lastOf(c.request).le(ctx.Int.val((1n << BigInt(c.bits as number)) - 1n));
      case 'disjoint':
        return ctx.Or(this.lastOf(c.request).lt(this.xOf(other)), this.lastOf(other).lt(this.xOf(c.request)));
      case 'above':
        return this.xOf(c.request).gt(this.lastOf(other));
      case 'offset':
        return this.xOf(c.request).eq(this.xOf(other).add(ctx.Int.val(c.offset as bigint)));
      case 'same-window':
        return any(this.payload.windows.map((w) => ctx.And(this.inside(c.request, w), this.inside(other, w))));
    }
  }

  /** Read the requests' IOVAs (and sizes) from a model. */
  read(model: { eval(e: IntExpr, completion: boolean): IntExpr }): { placed: Array<[string, bigint]>; sizes: Array<[string, bigint]> } {
    const value = (e: IntExpr) => BigInt((model.eval(e, true) as unknown as { value(): bigint | number }).value());
    const placed: Array<[string, bigint]> = this.payload.requests.map((r) => [r.name, value(this.xOf(r.name))]);
    const sizes: Array<[string, bigint]> = this.payload.requests.map((r) => [r.name, value(this.sizeOf(r.name))]);
    return { placed, sizes };
  }
}

/** Optimise the placement towards low or high addresses only when the problem is this small. */
const OPTIMISE_AT_MOST = 12;

async function decide(session: Z3Session, payload: PlacementPayload): Promise<PlacementResult> {
  const { ctx } = session;
  const enc = new Encoding(ctx, payload);
  if (payload.encoding === 'plain') {
    const plain = new ctx.Solver();
    for (const f of enc.background()) plain.add(f);
    for (const c of payload.constraints) plain.add(enc.formula(c));
    // Symmetry breaking (sound here: no assumptions are ever dropped): requests that the
    // constraints treat alike are placed in name order.
    for (const [a, b] of interchangeable(payload)) plain.add(enc.xOf(a).lt(enc.xOf(b)));
    const verdict = await session.check(plain, []);
    if (verdict === 'unknown') return { status: 'unknown', reason: `Z3: ${plain.reasonUnknown()}` };
    if (verdict === 'unsat') return { status: 'unsat', core: payload.constraints.map((c) => c.id), minimal: false };
    return { status: 'sat', placed: enc.read(plain.model()).placed };
  }
  const solver = new ctx.Solver();
  for (const f of enc.background()) solver.add(f);
  const guards: BoolExpr[] = [];
  const idOf = new Map<string, string>();
  payload.constraints.forEach((c, i) => {
    const guard = ctx.Bool.const(`c!${i}`);
    solver.add(ctx.Implies(guard, enc.formula(c)));
    guards.push(guard);
    idOf.set(`c!${i}`, c.id);
  });
  const answer = await session.check(solver, guards);
  if (answer === 'unknown') return { status: 'unknown', reason: `Z3: ${solver.reasonUnknown()}` };
  if (answer === 'unsat') {
    const coreOf = () => {
      const core = solver.unsatCore();
      const names = new Set<string>();
      for (let i = 0; i < core.length(); i++) names.add(core.get(i).toString());
      return guards.filter((g) => names.has(g.toString()));
    };
    let core = coreOf();
    let minimal = true;
    if (payload.minimise) {
      // Deletion: drop one member at a time; keep it only when the rest becomes sat. Every
      // set found sat along the way holds the final core minus that member, so the result is
      // minimal. The assumptions make each check incremental on the same solver.
      const guardOf = new Map(payload.constraints.map((c, i) => [c.id, guards[i]]));
      for (const id of payload.minimise) {
        const candidate = guardOf.get(id);
        if (!candidate || !core.includes(candidate)) continue;
        const rest = core.filter((g) => g !== candidate);
        const verdict = await session.check(solver, rest, { timeoutMs: Math.max(1, session.remainingMs() / 4) });
        if (verdict === 'unsat') core = coreOf().filter((g) => rest.includes(g));
        else if (verdict === 'unknown') minimal = false;
      }
    }
    return { status: 'unsat', core: core.map((g) => idOf.get(g.toString()) as string), minimal };
  }
  let model = solver.model();
  if (payload.prefer && payload.requests.length <= OPTIMISE_AT_MOST) {
    const opt = new ctx.Optimize();
    for (const f of enc.background()) opt.add(f);
    for (const c of payload.constraints) opt.add(enc.formula(c));
    const xs = payload.requests.map((r) => enc.xOf(r.name));
    const sum = xs.slice(1).reduce<IntExpr>((a, b) => a.add(b), xs[0]);
    if (payload.prefer === 'low') opt.minimize(sum);
    else opt.maximize(sum);
    // A shorter budget: the solver's model is a fine answer if optimising takes long.
    if ((await session.check(opt, [], { timeoutMs: Math.min(2000, session.remainingMs() / 2) })) === 'sat') model = opt.model() as typeof model;
  }
  return { status: 'sat', placed: enc.read(model).placed };
}

/** Decide a set of named constraints: a placement, or the ids of an unsat core. */
export const placementCheckJob = defineZ3Job('placement.check', async (session, payload: PlacementPayload): Promise<PlacementResult> => decide(session, payload));

/**
 * The cheapest sets of relaxations (MaxSMT): each relaxation is a Boolean whose truth lifts
 * some constraints and costs its weight; a shrink also lets the request's size drop in whole
 * pages, and among equally cheap answers the smallest total shrink wins. After each answer the
 * same combination is blocked and the search runs again, for up to `alternatives` answers.
 */
export const placementRepairJob = defineZ3Job('placement.repair', async (session, payload: RepairPayload): Promise<RepairResult> => {
  const { ctx } = session;
  const shrinkable = new Set(payload.relaxations.flatMap((r) => (r.shrink ? [r.shrink] : [])));
  const enc = new Encoding(ctx, payload, shrinkable);
  const opt = new ctx.Optimize();
  for (const f of enc.background()) opt.add(f);
  const flags = payload.relaxations.map((r, i) => ({ relax: r, flag: ctx.Bool.const(`relax!${i}`) }));
  for (const c of payload.constraints) {
    const lifting = flags.filter(({ relax }) => relax.lifts.includes(c.id)).map(({ flag }) => flag);
    opt.add(lifting.length === 0 ? enc.formula(c) : ctx.Or(enc.formula(c), ...lifting));
  }
  for (const { relax, flag } of flags) {
    if (relax.shrink) {
      const original = payload.requests.find((r) => r.name === relax.shrink)?.size ?? 0n;
      // Shrinking at all is what the flag says, and what it costs.
      opt.add(ctx.Implies(ctx.Not(flag), enc.sizeOf(relax.shrink).eq(ctx.Int.val(original))));
    }
    opt.addSoft(ctx.Not(flag), relax.weight);
  }
  const shrunk = [...shrinkable].map((name) => ctx.Int.val(payload.requests.find((r) => r.name === name)?.size ?? 0n).sub(enc.sizeOf(name)));
  if (shrunk.length > 0) opt.minimize(shrunk.slice(1).reduce<IntExpr>((a, b) => a.add(b), shrunk[0]));

  const answers: RepairAnswer[] = [];
  while (answers.length < payload.alternatives) {
    const result = await session.check(opt, [], { timeoutMs: session.remainingMs() / 2 });
    if (result !== 'sat') break;
    const model = opt.model();
    const chosen = flags.filter(({ flag }) => String(model.eval(flag, true)) === 'true');
    if (chosen.length === 0) break; // satisfiable without relaxing anything: nothing to repair here
    const { placed, sizes } = enc.read(model as unknown as { eval(e: IntExpr, completion: boolean): IntExpr });
    answers.push({ chosen: chosen.map(({ relax }) => relax.key), placed, sizes: sizes.filter(([name]) => shrinkable.has(name)) });
    opt.add(ctx.Not(ctx.And(...chosen.map(({ flag }) => flag))));
  }
  return answers.length > 0 || session.remainingMs() > 0 ? { status: 'done', answers } : { status: 'unknown', reason: 'timeout' };
});

export const placementJobs = [placementCheckJob, placementRepairJob];

/**
 * Pairs of requests (consecutive within each class) that no constraint tells apart: same size,
 * same unary constraints apart from the request's name, no relation but disjointness.
 */
export function interchangeable(payload: PlacementPayload): Array<[string, string]> {
  const unary = new Map<string, string[]>();
  const related = new Set<string>();
  for (const c of payload.constraints) {
    if (c.kind === 'disjoint') continue;
    if (c.other !== undefined) {
      related.add(c.request);
      related.add(c.other);
      continue;
    }
    const key = JSON.stringify({ ...c, id: undefined, request: undefined }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    unary.set(c.request, [...(unary.get(c.request) ?? []), key]);
  }
  const classes = new Map<string, string[]>();
  for (const r of payload.requests) {
    if (related.has(r.name)) continue;
    const key = `${r.size}|${JSON.stringify(r.within ?? [], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}|${(unary.get(r.name) ?? []).sort().join(';')}`;
    classes.set(key, [...(classes.get(key) ?? []), r.name]);
  }
  const out: Array<[string, string]> = [];
  for (const names of classes.values()) for (let i = 1; i < names.length; i++) out.push([names[i - 1], names[i]]);
  return out;
}
