/**
 * iova-solver: place I/O virtual addresses in IOMMU address spaces, explain why a placement or
 * a DMA map is impossible, and allocate IOVAs like the Linux DMA API.
 *
 * Importing this module starts nothing: Z3 is loaded only when a solver call needs it. Addresses
 * and sizes are `bigint` bytes everywhere. This file is the public API, listed by name and
 * grouped by topic; everything else is internal and may change without notice.
 *
 * @packageDocumentation
 */

// Addresses, sizes and ranges.
export {
  type AddressInput,
  alignDown,
  alignUp,
  formatSize,
  hex,
  hexGrouped,
  MAX_ADDRESS,
  parseAddress,
  parseSize,
} from './model/address.js';
export {
  containsAddress,
  containsRange,
  describeRange,
  formatRange,
  intersection,
  type IovaRange,
  overlaps,
  range,
  rangeOfSize,
  sizeOf,
} from './model/range.js';
export { type FitOptions, RangeSet } from './model/rangeset.js';

// Errors.
export { InputError, type InputLocation } from './model/errors.js';

// Warnings: facts an answer rests on that were skipped or assumed, and the one escaping function.
export { factWarnings, formatWarning, spaceWarnings, type Warning, warningJson } from './model/warnings.js';
export { escapeControls } from './model/escape.js';

// Host facts: the model, reading and writing it.
export {
  type AcsFlags,
  type Bar,
  BRIDGE_ROLES,
  type BridgeRole,
  type BridgeWindow,
  type Device,
  emptyHost,
  type HostBridge,
  type HostBridgeWindow,
  type HostFacts,
  type ImportWarning,
  type IommuGeometry,
  type IommuGroup,
  type PciBridge,
  type PlatformSpec,
  PROFILE_NAMES,
  type ProfileName,
  RESERVED_REGION_TYPES,
  type ReservedRegion,
  type ReservedRegionType,
} from './model/host.js';
export { describeProvenance, type Provenance } from './model/provenance.js';
export { loadHostFile } from './model/load.js';
export { parseHostFacts } from './model/schema.js';
export { HOST_FORMAT, hostToJson } from './model/serialise.js';
export { type Bdf, formatBdf, isBdf, normaliseBdf, parseBdf } from './model/pci.js';

// Importers: sysfs trees and captured command output to host facts.
export { importSources, importText, type ImportOptions, readSysfsRoot, type SysfsOptions } from './model/import/index.js';

// Address spaces: usable ranges and holes under a consumer policy.
export { AddressSpace, type AddressSpaceOptions, type Attachment } from './model/address-space.js';
export { HOLE_KINDS, type Hole, type HoleKind, type HoleType } from './model/hole.js';
export { isPolicy, POLICIES, type Policy } from './model/policy.js';

// Placement: specs, the solver, layouts and offline verification.
export { loadPlacementSpec, parsePlacementSpec, type PlacementSpecInput, SPEC_FORMAT } from './solver/spec.js';
export {
  type ApertureWindow,
  type Constraint,
  type ConstraintKind,
  type ExistingMapping,
  OBJECTIVES,
  type Objective,
  type PlacementRequest,
  type Problem,
} from './solver/problem.js';
export { type Placement, type Repair, solve, type SolveAnswer, type SolveOptions, type SolvePhase, type SolveProgress, type SolveResult } from './solver/solve.js';
export type { CapacityBound, Cut as CapacityCut } from './solver/capacity.js';
export type { Conflict, ExplainedConstraint } from './solver/explain.js';
export { REPAIR_KINDS, type RepairChange, type RepairKind } from './solver/repair.js';
export type { ExactOracle, OracleAnswer } from './solver/oracle.js';
export { LAYOUT_FORMAT, layoutOf, layoutToJson, loadLayout, parseLayout } from './solver/layout.js';
export {
  type HostVerdict,
  type Layout,
  type LayoutPlacement,
  verifyLayout,
  verifyOnHost,
  type VerifyReport,
  type Violation,
  VIOLATION_KINDS,
  type ViolationKind,
} from './explain/verify.js';
export { type Advertisement, advertise, type NegotiationOptions, requestWindow, type WindowAnswer, type WindowRequest } from './solver/negotiate.js';
export { checkHotplug, type HotplugCheck, type HotplugCollision } from './ioas/hotplug.js';

// IOAS: what iommufd and VFIO type1 would answer to a map, an unmap, an attach or a detach.
export {
  type Accepted,
  type AttachInfo,
  type DetachInfo,
  describeStep,
  type ErrnoName,
  ERRNOS,
  type FactKind,
  type InvolvedFact,
  Ioas,
  type IoasOperation,
  type IoasOptions,
  type IoasPolicy,
  IOAS_POLICIES,
  type IoasResult,
  type IoasStep,
  type IoasWarning,
  type MapInfo,
  type MapRequest,
  type RangesInfo,
  type Rejected,
  type RuleId,
  RULES,
  type Suggestion,
  type UnmapInfo,
} from './ioas/index.js';
export type { AllowedRange } from './ioas/state.js';
export { explainJson, explainText } from './ioas/index.js';
export type { AttachAnswer, MapAnswer, Tabulate } from './explain/render.js';
export { type Backing, BACKINGS } from './model/ioas-state.js';
export { BOUNDARIES, DEFAULT_KERNEL, formatKernel, type KernelFeature, type KernelVersion, NEWEST_MODELLED, NotModelledError, parseKernel } from './ioas/kernel.js';

export { type IoasMapping, type IoasState, loadIoasStateFile, parseIoasState } from './model/ioas-state.js';

// DMA API: the kernel's IOVA allocator (iova.c) and the dma-iommu layer on a host.
export {
  type CacheBinState,
  type CursorState,
  DmaIovaDomain,
  type DmaIovaDomainOptions,
  type DmaIovaPolicyName,
  type DomainState,
  type PfnRange,
  replayTrace,
} from './allocators/dma-iova/index.js';
export {
  type DmaDirection,
  DmaIommuDevice,
  type DmaIommuDeviceOptions,
  DmaIommuDomain,
  type DmaIommuDomainOptions,
  type DmaIommuHostOptions,
  type DmaIommuMapping,
  type DmaIommuReservation,
  type DmaMapOptions,
  type SpaceReservationOptions,
} from './allocators/dma-iommu/index.js';

// Pictures: address maps as SVG or HTML.
export {
  type LayoutSceneOptions,
  renderHtml,
  type RenderOptions,
  renderSvg,
  type Scene,
  type SceneConflict,
  type SceneHole,
  type SceneMapping,
  type SceneOptions,
  sceneOfLayout,
  sceneOfIoasAnswer,
  sceneOfSolution,
  sceneOfSpace,
  type IoasQuestion,
  type IoasSceneOptions,
  type ScenePlacement,
  type SceneWindow,
  type Verdict,
} from './render/index.js';

// Migration pools, split requests, the guest memory map and the host check.
export { countVerdicts, DOCTOR_CHECKS, diagnose, type DoctorInput, type DoctorReport, type Evidence, type Finding, type Verdict as DoctorVerdict, VERDICTS as DOCTOR_VERDICTS } from './doctor/index.js';
export {
  checkGuestMap,
  type E820Entry,
  type E820Type,
  formatAcpiReserved,
  formatE820,
  type GuestMapCheck,
  type GuestMapDifference,
  guestMapJson,
  type GuestMemoryMap,
  guestMemoryMap,
  type ObservedEntry,
  parseGuestMap,
  ramPlacements,
} from './guest/memory-map.js';
export { describeHosts, type HostClass, hostClasses, type PoolAnswer, type PoolSpec, parsePoolSpec, poolSpace, solvePool } from './solver/pool.js';
export { planPieces, type SplitRequest, solveWithSplits } from './solver/split.js';
