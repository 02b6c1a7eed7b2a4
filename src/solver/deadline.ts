/**
 * The one deadline of a whole solve. Every long loop of the solve pipeline (greedy placement,
 * the packing passes, the capacity scan, the searches around left-over requests) asks it every
 * {@link CHECK_EVERY} iterations and gives up with what it has, so that `--timeout` bounds the
 * command and not only each question to Z3. Its clock is `performance.now()` unless one is
 * given (tests give one to expire it at a chosen phase).
 */

/** Milliseconds on some monotonic clock. */
export type Clock = () => number;

const systemClock: Clock = () => performance.now();

/** Long loops look at the clock on every this-many-th iteration (and the first). */
export const CHECK_EVERY = 32;

export class Deadline {
  constructor(
    /** The time (on `clock`) past which the solve gives up. */
    readonly at: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** A deadline `ms` from now. */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    return new Deadline(clock() + ms, clock);
  }

  now(): number {
    return this.clock();
  }

  /** Milliseconds left (negative once passed). */
  left(): number {
    return this.at - this.clock();
  }

  passed(): boolean {
    return this.clock() >= this.at;
  }

  /** Whether it has passed, looking at the clock only on iteration 0 and every CHECK_EVERY-th after. */
  passedAt(iteration: number): boolean {
    return iteration % CHECK_EVERY === 0 && this.passed();
  }

  /** An earlier deadline on the same clock: `part` of what is left, at least `minMs`, never later than this one. */
  share(part: number, minMs = 0): Deadline {
    const now = this.clock();
    return new Deadline(Math.min(this.at, now + Math.max(minMs, (this.at - now) * part)), this.clock);
  }

  /** The same moment as a `performance.now()` time, for code that takes one (the Z3 engine, core minimisation). */
  get system(): number {
    const left = this.left();
    return performance.now() + (left > 0 ? left : 0);
  }
}
