// Feature bits (virtio 1.2 §6 "Reserved Feature Bits" and the device sections). Numbers are bit
// positions in the 64-bit feature space; DeviceFeaturesSel/DriverFeaturesSel pick 32-bit words.

/** Device-independent feature bits (§6). */
export const VIRTIO_F = Object.freeze({
  /** Indirect descriptor tables (§2.7.5.3). */
  INDIRECT_DESC: 28,
  /** used_event / avail_event notification suppression (§2.7.7, §2.7.10). */
  RING_EVENT_IDX: 29,
  /** Compliance with this (modern) specification. */
  VERSION_1: 32,
  /** The device's memory accesses go through the platform's IOMMU (bus addresses, not guest-physical). */
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
  IN_ORDER: 35,
  ORDER_PLATFORM: 36,
  SR_IOV: 37,
  NOTIFICATION_DATA: 38,
  NOTIF_CONFIG_DATA: 39,
  RING_RESET: 40,
});

/**
 * VIRTIO_F_ACCESS_PLATFORM: a device whose DMA is translated by an IOMMU must offer it, otherwise
 * the driver may bypass its DMA API and hand the device guest-physical addresses (§6.1).
 */
export const VIRTIO_F_ACCESS_PLATFORM = VIRTIO_F.ACCESS_PLATFORM;

/** virtio-blk feature bits (§5.2.3); BARRIER and SCSI are legacy-interface bits. */
export const VIRTIO_BLK_F = Object.freeze({
  BARRIER: 0,
  SIZE_MAX: 1,
  SEG_MAX: 2,
  GEOMETRY: 4,
  RO: 5,
  BLK_SIZE: 6,
  SCSI: 7,
  FLUSH: 9,
  TOPOLOGY: 10,
  CONFIG_WCE: 11,
  MQ: 12,
  DISCARD: 13,
  WRITE_ZEROES: 14,
  LIFETIME: 15,
  SECURE_ERASE: 16,
});

/** A feature set (lo = bits 31:0, hi = bits 63:32) from bit numbers. */
export function featureSet(...bitNumbers: number[]): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const b of bitNumbers) {
    if (!(Number.isInteger(b) && b >= 0 && b < 64)) throw new RangeError(`bad feature bit ${b}`);
    if (b >= 32) hi = (hi | (1 << (b - 32))) >>> 0;
    else lo = (lo | (1 << b)) >>> 0;
  }
  return { lo, hi };
}
