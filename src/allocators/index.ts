/** Allocators over an IOVA space. */
export * from './dma-iova/index.js';
