// The jobs every Z3 worker registers. To add jobs, define them with `defineZ3Job` in a module that
// imports z3-solver for types only, and append them here; callers then pass the same handle to
// `runZ3Job`. (Jobs can also come from `jobModules` in the pool options: modules that export
// `z3Jobs`; meant for tests and benchmarks.)
import type { AnyZ3Job } from './job.js';
import { pingJob } from './jobs/builtin.js';
import { placementJobs } from './jobs/placement.js';

export const z3JobHandlers: readonly AnyZ3Job[] = [pingJob, ...(placementJobs as readonly AnyZ3Job[])];
