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
export { ERRNOS, errnoCode } from '../explain/errno.js';
export type { ErrnoName } from '../explain/errno.js';
export { describeFact } from '../explain/explanation.js';
export type { Accepted, FactKind, InvolvedFact, IoasOperation, IoasResult, IoasStep, IoasWarning, Rejected, Suggestion } from '../explain/explanation.js';
export { RULES } from '../explain/rules.js';
export type { RuleId } from '../explain/rules.js';
export { describeStep, explainJson, explainText, summary } from '../explain/render.js';
export type { Tabulate } from '../explain/render.js';
export { BOUNDARIES, DEFAULT_KERNEL, formatKernel, NEWEST_MODELLED, NotModelledError, parseKernel } from './kernel.js';
export type { KernelFeature, KernelVersion } from './kernel.js';
export { checkDdwCreate, fewestLevels } from './spapr-ddw.js';
export type { DdwAnswer, DdwInfo, DdwRequest } from './spapr-ddw.js';
export { msiReachabilityWarnings } from './msi.js';
