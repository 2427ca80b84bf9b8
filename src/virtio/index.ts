// virtio devices behind an IOMMU: the virtio-mmio transport, split virtqueues over a DmaPort,
// virtio-blk with file and memory backends, virtio-rng.
export { VirtioMmioTransport, type VirtioMmioOptions, type VirtioMmioStats } from './mmio-transport.js';
export type { VirtioDevice } from './device.js';
export { SplitVirtqueue, DescriptorChain, OUT_OF_CHAIN, QUEUE_IDLE, QUEUE_MORE, QUEUE_ERROR, type ChainHandler, type VirtqueueStats } from './virtqueue.js';
export { VirtioBlk, type VirtioBlkOptions, type VirtioBlkStats } from './blk.js';
export { MemoryBlockBackend, FileBlockBackend, type BlockBackend, type FileBlockBackendOptions } from './block-backend.js';
export { VirtioRng, type VirtioRngOptions, type VirtioRngStats } from './rng.js';
