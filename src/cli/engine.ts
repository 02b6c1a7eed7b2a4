/**
 * The exact engine the commands hand to the solver. Until the Z3 engine is wired in, requests
 * that compete for space and that the greedy order cannot place end as `unknown`.
 */
import type { ExactOracle } from '../solver/oracle.js';

export function exactEngine(_options: { timeoutMs: number }): ExactOracle | undefined {
  return undefined;
}
