// Public API of the SMMUv3 device model (IHI 0070): the SmmuV3 a VMM embeds, its options, outputs
// and state types. See the file headers of smmu-v3.ts and its collaborators.
export { SmmuV3, memoryMsiSink, type SmmuV3Options } from './smmu-v3.js';
export { type SmmuIrqLines } from './interrupts.js';
export { type SmmuDmaPort } from './dma-port.js';
export { type SmmuV3State, SMMU_STATE_VERSION } from './state.js';
export { type PageRequest, type PageRequestOutcome, type PriResponder } from './pri-queue.js';
export { type StallOutcome } from './stall.js';
