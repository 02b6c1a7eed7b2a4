/**
 * The rules an IOAS operation can break, by short id. The id is what tests, the CLI and a
 * solver compare; the summary is for people reading a list of them.
 */
export const RULES = {
  // map
  'argument-overflow': 'IOVA or length is 2^64 - 1, which iommufd refuses outright',
  'length-zero': 'a mapping must have a length',
  'length-too-large': 'the length leaves no room for page rounding in a 64-bit size',
  'va-overflow': 'the user buffer runs past the end of the address space',
  'length-alignment': 'the length must be a multiple of the IOAS alignment (smallest common page)',
  'iova-alignment': 'the IOVA must be a multiple of the IOAS alignment',
  'va-alignment': 'VFIO needs the user address aligned to the smallest page size',
  'va-offset-alignment': "the user address's offset within its page must be a multiple of the IOAS alignment",
  'iova-wrap': 'the range runs past the end of the 64-bit IOVA space',
  'va-wrap': 'the user buffer wraps around the end of the address space',
  'outside-aperture': 'the range leaves the aperture of an attached IOMMU domain',
  'reserved-overlap': 'the range touches a reserved range',
  'area-overlap': 'the range overlaps an existing mapping',
  'auto-length-overflow': 'automatic placement cannot align a length of 2^63 - 1 or more',
  'auto-alignment': 'the alignment automatic placement derives is below the IOAS alignment',
  'no-space': 'no free block of the needed size and alignment inside the allowed ranges',
  'entry-limit': "VFIO's per-container mapping limit (dma_entry_limit) is reached",
  'no-iommu': 'a VFIO container without a group and VFIO_SET_IOMMU answers every IOMMU ioctl with -EINVAL',
  'pfnmap-backing': 'iommufd pins user pages; a VM_PFNMAP range (a mapped PCI BAR) has none to pin',
  'map-file-backing': 'IOMMU_IOAS_MAP_FILE takes a memfd (and, from 6.19, a vfio-pci dma-buf) only',
  'file-range': 'the range to map runs past the end of the dma-buf',
  'ioctl-missing': 'the ioctl does not exist in this kernel version',
  'width-fault': 'the Intel IOMMU cannot address the IOVA (intel_iommu_map, before the 5.4 valid-IOVA list)',
  'copy-not-mapped': 'IOMMU_IOAS_COPY needs the source range fully covered by contiguous mappings',
  // attach
  'domain-page-size': "the new domain's smallest page is larger than the CPU page",
  'alignment-in-use': "existing mappings do not satisfy the new domain's larger minimum page",
  'reserved-mapped': "one of the device's reserved regions is already mapped",
  'reserved-allowed': "one of the device's reserved regions lies in an allowed range",
  'aperture-mapped': "a mapping lies outside the new domain's aperture",
  'aperture-allowed': "an allowed range lies outside the new domain's aperture",
  'aperture-disjoint': "the new domain's aperture does not meet the current valid IOVA ranges",
  'no-valid-range': 'attaching would leave no valid IOVA range at all',
  'require-direct': 'the device has a non-relaxable direct (RMRR / IVMD) region: VFIO and iommufd may not take it from its identity mapping',
  'replay-alignment': "an existing mapping is not aligned to the new domain's smallest page, so replaying it into the domain fails",
  // allowed ranges
  'allowed-invalid': 'an allowed range must have start < last',
  'allowed-overlap': 'allowed ranges must not overlap each other',
  'allowed-reserved': 'an allowed range touches a reserved range',
  // unmap
  'unmap-length-zero': 'an unmap must have a length',
  'unmap-overflow': 'the unmap range runs past the end of the 64-bit space',
  'unmap-alignment': 'VFIO needs unmap IOVA and size aligned to the smallest page size',
  'partial-unmap': 'an unmap must cover whole mappings; it would cut one',
  'nothing-mapped': 'nothing is mapped in the range',
  'unmap-all-args': 'VFIO_DMA_UNMAP_FLAG_ALL needs IOVA 0 and size 0',
  'unmap-flags': 'the unmap flag is unknown to this kernel',
  // sPAPR dynamic DMA windows
  'ddw-page-size': 'the window IO page size is not one VFIO_IOMMU_SPAPR_TCE_GET_INFO offers',
  'ddw-levels': 'a TCE table has 1 to 5 levels',
  'ddw-window-size': 'a DMA window size must be a power of two',
  'ddw-too-deep': 'the TCE table would address 2^55 bytes or more',
  // queries and options
  'buffer-too-small': 'more IOVA ranges exist than the buffer holds',
  'large-pages-in-use': 'large pages cannot be turned off while domains hold mappings',
  'option-value': 'IOMMU_OPTION_HUGE_PAGES takes 0 or 1',
} as const;

export type RuleId = keyof typeof RULES;
