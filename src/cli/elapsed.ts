/**
 * The elapsed-time indicator: one line on standard error, redrawn in place, for work that has
 * run longer than a second — and only when standard error is a terminal (`Io.progress` is
 * absent otherwise), so pipes and logs never see it. Every long command (solve, verify
 * --fleet, import, a spec drawn by render or checked by check-attach) uses this one helper.
 *
 * The executable draws from a small worker thread that writes to the terminal itself: the
 * main thread may be busy for seconds in synchronous work (repair search, verification), and a
 * timer on it would freeze exactly when the indicator matters. `stop()` waits for the worker to
 * clear its line, so nothing it draws can land after the command's output.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
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

/** The indicator's line. */
export function elapsedLine(label: string, detail: string, ms: number): string {
  return `${label}${detail ? ` ${detail}` : ''} … ${(ms / 1000).toFixed(1)} s`;
}

function threshold(options: ElapsedOptions): number {
  const fromEnv = Number(process.env.IOVA_PROGRESS_AFTER_MS);
  return options.after ?? (process.env.IOVA_PROGRESS_AFTER_MS !== undefined && Number.isFinite(fromEnv) ? fromEnv : ELAPSED_AFTER_MS);
}

/** Start the indicator for `label` (`solving`, `importing`); call `stop()` when done. */
export function startElapsed(io: Io, label: string, options: ElapsedOptions = {}): Elapsed {
  if (io.progressFd !== undefined) return startTicker(io.progressFd, label, threshold(options));
  const progress = io.progress;
  if (!progress) return { update() {}, stop() {} };
  const now = options.now ?? (() => performance.now());
  const after = threshold(options);
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
    progress(elapsedLine(label, detail, ms));
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

/**
 * The worker's loop (CommonJS, run with `eval`): every 200 ms, or at once when told to stop,
 * take the latest detail and redraw; on stop, clear the line if drawn and acknowledge.
 * `state[0]` is the stop flag, `state[1]` the acknowledgement, `state[2]` says it is running.
 */
const TICKER = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, after, label, started, state, port } = workerData;
let detail = '';
let drawn = false;
Atomics.store(state, 2, 1);
for (;;) {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) detail = m.message;
  if (Atomics.load(state, 0) === 1) {
    if (drawn) writeSync(fd, '\\r\\x1b[K');
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 1);
    break;
  }
  const ms = Date.now() - started;
  if (ms >= after) {
    drawn = true;
    writeSync(fd, '\\r\\x1b[K' + label + (detail ? ' ' + detail : '') + ' \\u2026 ' + (ms / 1000).toFixed(1) + ' s');
  }
  Atomics.wait(state, 0, 0, 200);
}
`;

function startTicker(fd: number, label: string, after: number): Elapsed {
  const state = new Int32Array(new SharedArrayBuffer(12));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(TICKER, { eval: true, workerData: { fd, after, label, started: Date.now(), state, port: port2 }, transferList: [port2] });
  worker.unref();
  let stopped = false;
  return {
    update(detail) {
      if (!stopped) port1.postMessage(detail);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
      // A running worker clears its line and acknowledges. One not running yet will see the stop
      // flag before drawing anything (the flag is set before `state[2]` is read): no need to wait.
      if (Atomics.load(state, 2) === 1) Atomics.wait(state, 1, 0, 2000);
      port1.close();
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
