// Entry point of a Z3 worker thread: registers the jobs, loads Z3 (gated), then runs one job at a
// time for the pool. Started by pool.ts only.
import { parentPort, workerData } from 'node:worker_threads';
import { z3JobHandlers } from './handlers.js';
import { isZ3Job, type AnyZ3Job } from './job.js';
import { firstLine, OUT_OF_MEMORY, type Answer, type FromWorker, type RemoteError, type ToWorker, type WorkerConfig } from './protocol.js';
import { loadZ3Runtime } from './runtime.js';
import { openSession, Z3Interrupted, Z3OutOfMemory, type JobSession } from './session.js';

if (!parentPort) throw new Error('src/solver/z3/worker runs in a worker thread started by the Z3 pool');
const port = parentPort;
const config = workerData as WorkerConfig;

// Delete finished jobs' contexts when the worker has been idle this long, or at once when this
// many are waiting or Z3 holds this much: a forced GC costs ~5-25 ms, too much after every job.
const SWEEP_IDLE_MS = 50;
const SWEEP_AT_RETIRED = 8;
const SWEEP_AT_BYTES = 256 * 2 ** 20;
// Retire the worker when this many finished contexts cannot be deleted (a handler kept Z3 objects).
const RETIRE_AT_STUCK = 4;
// How long to wait for a check a handler left running before giving up on the worker.
const LINGER_MS = 2_000;

const jobs = new Map<string, AnyZ3Job>();

function register(list: unknown, origin: string): void {
  if (!Array.isArray(list)) throw new Error(`${origin} does not export an array 'z3Jobs'`);
  for (const job of list) {
    if (!isZ3Job(job)) throw new Error(`${origin}: 'z3Jobs' holds something not made by defineZ3Job`);
    const known = jobs.get(job.kind);
    if (known && known !== job) throw new Error(`${origin}: job kind '${job.kind}' is registered twice`);
    jobs.set(job.kind, job);
  }
}

register(z3JobHandlers, 'src/solver/z3/handlers.ts');
for (const href of config.jobModules) {
  const mod = (await import(href)) as { z3Jobs?: unknown };
  register(mod.z3Jobs, href);
}
const runtime = await loadZ3Runtime({ memoryLimitMiB: config.memoryLimitMiB });

let chain: Promise<void> = Promise.resolve();
let current: { readonly id: number; readonly session: JobSession } | undefined;
let jobsRun = 0;
let stuckContexts = 0;
let dead = false;
let sweepTimer: ReturnType<typeof setTimeout> | undefined;

function post(message: FromWorker): void {
  port.postMessage(message);
}

// Steps run one at a time. A step that throws (the runner itself, not a job: e.g. Z3 aborting
// while deleting contexts) is an unhandled rejection, which ends the worker; the pool answers a
// running job as crashed and starts another worker.
function enqueue(step: () => Promise<void>): void {
  chain = chain.then(step);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'job':
      clearTimeout(sweepTimer);
      enqueue(() => runJob(message));
      break;
    case 'cancel':
      if (current?.id === message.id) current.session.abort('cancelled');
      break;
    case 'close':
      clearTimeout(sweepTimer);
      enqueue(close);
      break;
  }
});

post({ type: 'ready', initMs: runtime.initMs, version: runtime.api.getVersionString() });

type AnswerBody =
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'unknown'; readonly reason: 'timeout' | 'cancelled' | 'out-of-memory' | 'worker-crashed'; readonly detail: string }
  | { readonly type: 'error'; readonly error: RemoteError };

async function runJob(message: Extract<ToWorker, { type: 'job' }>): Promise<void> {
  if (dead) return;
  const { id } = message;
  const job = jobs.get(message.kind);
  if (!job) {
    const known = [...jobs.keys()].join(', ');
    answer(id, { type: 'error', error: { name: 'Error', message: `no job '${message.kind}' is registered (known: ${known})` } }, false);
    return;
  }
  await runtime.gate.whenIdle();
  let session: JobSession | undefined;
  let outcome: Classified;
  try {
    session = openSession(runtime, message.timeoutMs);
    current = { id, session };
    outcome = { body: { type: 'done', result: await job.handler(session, message.payload as never, session.signal) }, fatal: false };
  } catch (error) {
    outcome = classify(error, session);
  }
  current = undefined;
  jobsRun++;
  let { fatal } = outcome;
  const { body } = outcome;
  if (session) {
    if (!fatal && runtime.gate.inFlight > 0) {
      // The handler returned without awaiting a check: stop it before anything else runs here.
      session.abort('cancelled');
      const settled = await Promise.race([
        runtime.gate.whenIdle().then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, LINGER_MS, false)),
      ]);
      if (!settled) fatal = true;
    }
    session.close();
  }
  const outOfMemory = body.type === 'unknown' && body.reason === 'out-of-memory';
  if (fatal || outOfMemory) {
    // After an abort nothing in Z3 works; after a memout, destroying its objects can throw in a
    // destructor and abort the module: free nothing more, and let the pool end this worker.
    runtime.gate.disable(fatal ? 'Z3 aborted' : 'Z3 ran out of memory');
  }
  const retire = fatal || outOfMemory || jobsRun >= config.maxJobs || stuckContexts >= RETIRE_AT_STUCK;
  answer(id, body, retire, fatal);
  if (fatal || outOfMemory) dead = true;
  else scheduleSweep();
}

function answer(id: number, body: AnswerBody, retire: boolean, fatal = false): void {
  const message = { ...body, id, retire, fatal } as Answer;
  try {
    post(message);
  } catch (error) {
    // The result could not be cloned.
    post({ type: 'error', id, retire, fatal, error: toRemote(error) });
  }
}

interface Classified {
  readonly body: AnswerBody;
  /** Z3 aborted in this thread: the worker must be terminated. */
  readonly fatal: boolean;
}

function classify(error: unknown, session: JobSession | undefined): Classified {
  const message = error instanceof Error ? error.message : String(error);
  const detail = firstLine(message);
  if (error instanceof Error && error.name === 'RuntimeError') {
    // A wasm trap or emscripten's abort() (heap exhausted, assertion): Z3's state is gone.
    return { body: { type: 'unknown', reason: OUT_OF_MEMORY.test(message) ? 'out-of-memory' : 'worker-crashed', detail }, fatal: true };
  }
  if (error instanceof Z3OutOfMemory || OUT_OF_MEMORY.test(message)) {
    return { body: { type: 'unknown', reason: 'out-of-memory', detail }, fatal: false };
  }
  if (session?.signal.aborted || error instanceof Z3Interrupted) {
    const reason = session?.signal.reason === 'cancelled' ? 'cancelled' : 'timeout';
    return { body: { type: 'unknown', reason, detail }, fatal: false };
  }
  return { body: { type: 'error', error: toRemote(error) }, fatal: false };
}

function toRemote(error: unknown): RemoteError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

function scheduleSweep(): void {
  const { estimatedAllocBytes } = runtime.diagnostics();
  if (runtime.janitor.retired >= SWEEP_AT_RETIRED || estimatedAllocBytes >= SWEEP_AT_BYTES) {
    enqueue(sweep);
  } else {
    sweepTimer = setTimeout(() => enqueue(sweep), SWEEP_IDLE_MS);
  }
}

async function sweep(): Promise<void> {
  if (dead) return;
  stuckContexts = await runtime.sweep();
}

async function close(): Promise<void> {
  dead = true;
  try {
    await runtime.shutdown();
  } finally {
    process.exit(0);
  }
}
