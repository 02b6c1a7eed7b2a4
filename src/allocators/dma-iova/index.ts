/** The DMA-API IOVA allocator: public surface. */
export { DmaIovaDomain } from './domain.js';
export type { DmaIovaDomainOptions, DmaIovaPolicyName, DomainState } from './domain.js';
export type { CursorState, PfnRange } from './policy.js';
export type { CacheBinState } from './rcache.js';
export { CACHE_BINS, MAG_SIZE } from './rcache.js';
export { MAX_TOP_PFN } from './pfn.js';
export { replayTrace } from './replay.js';
