/** Allocators over an IOVA space. */
export * from './dma-iova/index.js';
export * from './dma-iommu/index.js';
