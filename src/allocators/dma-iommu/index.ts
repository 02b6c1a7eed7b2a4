/** The DMA-API layer over the IOVA allocator: public surface. */
export { DmaIommuDomain } from './domain.js';
export type { DmaIommuDomainOptions, DmaIommuHostOptions } from './domain.js';
export { DmaIommuDevice } from './device.js';
export type { DmaDirection, DmaIommuDeviceOptions, DmaIommuMapping, DmaMapOptions } from './device.js';
export type { DmaIommuReservation, SpaceReservationOptions } from './reservations.js';
