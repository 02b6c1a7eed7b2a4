// Jobs that come with the runtime.
import { defineZ3Job } from '../job.js';

/** Round trip through a worker: answers with the Z3 version, without solving anything. */
export const pingJob = defineZ3Job('z3.ping', async (session, _payload: null): Promise<{ version: string }> => ({
  version: session.z3.getVersionString(),
}));
