// virtio 1.2 layouts and encodings: virtio-mmio registers, status, feature bits, split
// virtqueues, virtio-blk. Layout only; behaviour is src/virtio/.
export * from './mmio.js';
export * from './status.js';
export * from './features.js';
export * from './virtqueue.js';
export * from './blk.js';
