/**
 * The elapsed-time indicator: one line on standard error, redrawn in place, for work that has
 * run longer than a second — and only when standard error is a terminal (`Io.progress` is
 * absent otherwise), so pipes and logs never see it. Every long command (solve, verify
 * --fleet, import, a spec drawn by render or checked by check-attach) uses this one helper.
 */
import type { Io } from './command.js';

/** Work shorter than this shows nothing. `IOVA_PROGRESS_AFTER_MS` overrides it (for tests). */
export const ELAPSED_AFTER_MS = 1000;

export interface Elapsed {
  /** Say what is being done now (`12/400 hosts`); redraws when past the threshold. */
  update(detail: string): void;
  /** Stop redrawing and clear the line if anything was drawn. */
  stop(): void;
}

export interface ElapsedOptions {
  after?: number;
  /** Milliseconds since some origin (default: performance.now). */
  now?: () => number;
}

/** Start the indicator for `label` (`solving`, `importing`); call `stop()` when done. */
export function startElapsed(io: Io, label: string, options: ElapsedOptions = {}): Elapsed {
  const progress = io.progress;
  if (!progress) return { update() {}, stop() {} };
  const now = options.now ?? (() => performance.now());
  const fromEnv = Number(process.env.IOVA_PROGRESS_AFTER_MS);
  const after = options.after ?? (process.env.IOVA_PROGRESS_AFTER_MS !== undefined && Number.isFinite(fromEnv) ? fromEnv : ELAPSED_AFTER_MS);
  const started = now();
  let detail = '';
  let drawn = false;
  let last = -Infinity;
  const draw = () => {
    const at = now();
    const ms = at - started;
    // A terminal redrawn more than ten times a second only flickers.
    if (ms < after || at - last < 100) return;
    drawn = true;
    last = at;
    progress(`${label}${detail ? ` ${detail}` : ''} … ${(ms / 1000).toFixed(1)} s`);
  };
  const timer = setInterval(draw, 200);
  timer.unref();
  return {
    update(text) {
      detail = text;
      draw();
    },
    stop() {
      clearInterval(timer);
      if (drawn) progress('');
    },
  };
}

/** Run `work` with the indicator showing `label`. */
export async function withElapsed<T>(io: Io, label: string, work: () => Promise<T>): Promise<T> {
  const elapsed = startElapsed(io, label);
  try {
    return await work();
  } finally {
    elapsed.stop();
  }
}
