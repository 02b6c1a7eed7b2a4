/**
 * The fleet worker with a bug planted for tests: JSON.stringify, which the worker uses to key a
 * host's facts, throws a TypeError for the host named `host-1`, as a bug in our code would.
 * Everything else is the real worker.
 */
const stringify = JSON.stringify;
JSON.stringify = function (value: unknown, ...rest: unknown[]) {
  if (value !== null && typeof value === 'object' && (value as { name?: unknown }).name === 'host-1') throw new TypeError('planted fault');
  return (stringify as (...args: unknown[]) => string).call(JSON, value, ...rest);
} as typeof JSON.stringify;
await import('../../src/solver/fleet-worker.js');
