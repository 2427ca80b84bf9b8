// virtio-mmio transport register layout, modern interface (virtio 1.2 §4.2.2, Version 2).
// Layout only; behaviour is src/virtio/mmio-transport.ts.

/** "virt" in little-endian ASCII (§4.2.2 MagicValue). */
export const VIRTIO_MMIO_MAGIC = 0x7472_6976;
/** Version of the modern (non-legacy) virtio-mmio interface. */
export const VIRTIO_MMIO_VERSION = 2;
/** Offset of the device-specific configuration space. */
export const VIRTIO_MMIO_CONFIG = 0x100;
/** Register window of one virtio-mmio device: control registers + up to 256 bytes of config. */
export const VIRTIO_MMIO_WINDOW_SIZE = 0x200;

/** Control register offsets (§4.2.2 table "MMIO Device Register Layout"). All are 32-bit. */
export const VIRTIO_MMIO = Object.freeze({
  MagicValue: 0x000,
  Version: 0x004,
  DeviceID: 0x008,
  VendorID: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptACK: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  QueueReset: 0x0c0,
  ConfigGeneration: 0x0fc,
});

export type VirtioMmioRegister = keyof typeof VIRTIO_MMIO;

/**
 * Access direction of each control register as the specification lists it (R: the device
 * provides the value; W: the driver writes it and reads are not defined; RW: both). A bridge that
 * mirrors registers into shared memory writes back only R and RW registers.
 */
export const VIRTIO_MMIO_ACCESS: Readonly<Record<VirtioMmioRegister, 'R' | 'W' | 'RW'>> = Object.freeze({
  MagicValue: 'R',
  Version: 'R',
  DeviceID: 'R',
  VendorID: 'R',
  DeviceFeatures: 'R',
  DeviceFeaturesSel: 'W',
  DriverFeatures: 'W',
  DriverFeaturesSel: 'W',
  QueueSel: 'W',
  QueueNumMax: 'R',
  QueueNum: 'W',
  QueueReady: 'RW',
  QueueNotify: 'W',
  InterruptStatus: 'R',
  InterruptACK: 'W',
  Status: 'RW',
  QueueDescLow: 'W',
  QueueDescHigh: 'W',
  QueueDriverLow: 'W',
  QueueDriverHigh: 'W',
  QueueDeviceLow: 'W',
  QueueDeviceHigh: 'W',
  SHMSel: 'W',
  SHMLenLow: 'R',
  SHMLenHigh: 'R',
  SHMBaseLow: 'R',
  SHMBaseHigh: 'R',
  QueueReset: 'RW',
  ConfigGeneration: 'R',
});

/** InterruptStatus / InterruptACK bits (§4.2.2). */
export const VIRTIO_MMIO_INT = Object.freeze({
  /** Used Buffer Notification: the device used a buffer in at least one active virtqueue. */
  VRING: 1 << 0,
  /** Configuration Change Notification. */
  CONFIG: 1 << 1,
});
