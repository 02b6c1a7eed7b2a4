/** Helpers that split host warnings by kind (no shared data needed). */
import type { HostFacts } from '../../src/model/host.js';

/**
 * The warnings about lines and files (skipped, conflicting, unreadable), without `kind`:
 * what the line-level tests compare. Assumptions are checked by their own tests.
 */
export function lineWarnings(host: HostFacts): Array<Omit<HostFacts['warnings'][number], 'kind'>> {
  return host.warnings.filter((w) => w.kind !== 'assumption').map(({ kind: _kind, ...w }) => w);
}

/** The assumption warnings of a host. */
export function assumptions(host: HostFacts): HostFacts['warnings'] {
  return host.warnings.filter((w) => w.kind === 'assumption');
}
