/**
 * vsmmu's package root (`vsmmu`): the interfaces every device model shares — guest memory, MMIO,
 * interrupt lines, MSI sinks, DMA ports — and the error types. The models and tools live in the
 * subsystem entry points: `vsmmu/smmu`, `vsmmu/intc`, `vsmmu/pcie`, `vsmmu/virtio`,
 * `vsmmu/firmware`, `vsmmu/platform` and `vsmmu/spec` (layouts and encodings only).
 */
export * from './memory/types.js';
export * from './memory/guest-memory.js';
export { DmaSegments } from './memory/dma-segments.js';
export { FileBacking } from './memory/file-backing.js';
export { hex } from './util/hex.js';
export { UserInputError, ExpectationError } from './util/errors.js';
