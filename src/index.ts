/**
 * iova-solver: place I/O virtual addresses in IOMMU address spaces, explain why a placement or
 * a DMA map is impossible, and allocate IOVAs like the Linux DMA API.
 *
 * Importing this module starts nothing: Z3 is loaded only when a solver call needs it.
 */
export * from './model/address.js';
export * from './model/address-space.js';
export * from './model/errors.js';
export * from './model/hole.js';
export * from './model/host.js';
export * from './model/ioas-state.js';
export { loadHostFile, parseJsonText, readJsonFile } from './model/load.js';
export * from './model/p2p.js';
export * from './model/pages.js';
export * from './model/pci.js';
export * from './model/policy.js';
export * from './model/profiles.js';
export * from './model/provenance.js';
export * from './model/range.js';
export * from './model/rangeset.js';
export { parseHostFacts, zHostFacts } from './model/schema.js';
export * from './model/serialise.js';
export { PciTopology } from './model/topology.js';
export * from './render/index.js';
export * from './solver/problem.js';
export { loadPlacementSpec, parsePlacementSpec, SPEC_FORMAT, zPlacementSpec } from './solver/spec.js';
export type { PlacementSpecInput } from './solver/spec.js';
export * from './solver/solve.js';
export * from './explain/verify.js';
export { certify } from './solver/certify.js';
export * from './solver/layout.js';
export * from './solver/negotiate.js';
export type { Conflict, ExplainedConstraint } from './solver/explain.js';
export type { ExactOracle, OracleAnswer } from './solver/oracle.js';
export type { RepairChange, RepairKind } from './solver/repair.js';
export * from './allocators/index.js';
export * from './ioas/index.js';
export * from './ioas/hotplug.js';
