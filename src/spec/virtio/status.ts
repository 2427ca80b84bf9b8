// Device status field bits (virtio 1.2 §2.1).

export const VIRTIO_STATUS = Object.freeze({
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  /** Set by the device when it has hit an error it cannot recover from (§2.1.2). */
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
});

/** Device IDs (§5). */
export const VIRTIO_ID = Object.freeze({
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
});

/** The vendor ID this project's devices report in VendorID ("VSMU" is not registered anywhere; any value is allowed). */
export const VIRTIO_VENDOR_VSMMU = 0x554d_5356;
