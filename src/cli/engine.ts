/**
 * The exact engine the commands hand to the solver: Z3 in worker threads, with the command's
 * time limit per question.
 */
import type { ExactOracle } from '../solver/oracle.js';
import { z3Engine } from '../solver/z3-engine.js';

export function exactEngine(options: { timeoutMs: number }): ExactOracle {
  return z3Engine(options);
}
