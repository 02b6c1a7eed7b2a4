/**
 * The IOAS model: iommufd and VFIO type1 semantics for user-managed IOVA spaces, with an
 * explanation for every refused map, unmap, attach and allowed-range change.
 */
export { Ioas, DEFAULT_DMA_ENTRY_LIMIT, DEFAULT_HUGE_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './ioas.js';
export type { AttachInfo, DetachInfo, IoasOptions, MapInfo, MapRequest, RangesInfo, UnmapInfo } from './ioas.js';
export { defaultAttachmentIds, HOST_ATTACHMENT, IOAS_POLICIES, isIoasPolicy } from './attachment.js';
export type { IoasPolicy } from './attachment.js';
export { autoAlignment, autoIova } from './auto-iova.js';
export type { AutoIovaInput, AutoIovaOutcome } from './auto-iova.js';
export { ERRNOS, errnoCode } from './errno.js';
export type { ErrnoName } from './errno.js';
export { describeFact } from './explanation.js';
export type { Accepted, FactKind, InvolvedFact, IoasOperation, IoasResult, IoasStep, IoasWarning, Rejected, Suggestion } from './explanation.js';
export { RULES } from './rules.js';
export type { RuleId } from './rules.js';
export { describeStep } from './suggest.js';
