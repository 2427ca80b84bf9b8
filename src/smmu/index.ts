// `vsmmu/smmu`: the SMMUv3 device (MMIO, queues, interrupts, DMA ports), its translation engine
// and the feature profiles its ID registers are derived from.
export * from './features.js';
export * from './translation/index.js';
export * from './device/index.js';
