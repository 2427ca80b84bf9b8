// Split virtqueue layout (virtio 1.2 §2.7). Offsets are relative to the area the driver gives the
// device (QueueDesc, QueueDriver = available ring, QueueDevice = used ring); all little-endian.

/** The largest queue size a split virtqueue may have (§2.7). */
export const VIRTQ_MAX_SIZE = 32768;

/** struct virtq_desc (§2.7.5): addr le64 @0, len le32 @8, flags le16 @12, next le16 @14. */
export const VIRTQ_DESC = Object.freeze({
  SIZE: 16,
  ALIGN: 16,
  ADDR: 0,
  LEN: 8,
  FLAGS: 12,
  NEXT: 14,
});

/** virtq_desc.flags (§2.7.5). */
export const VIRTQ_DESC_F = Object.freeze({
  /** The buffer continues via the next field. */
  NEXT: 1,
  /** Device-writable (otherwise device-readable). */
  WRITE: 2,
  /** The buffer holds a table of descriptors (§2.7.5.3). */
  INDIRECT: 4,
});

/** struct virtq_avail (§2.7.6): flags le16, idx le16, ring[size] le16, used_event le16 (EVENT_IDX). */
export const VIRTQ_AVAIL = Object.freeze({
  ALIGN: 2,
  FLAGS: 0,
  IDX: 2,
  RING: 4,
  ENTRY_SIZE: 2,
  /** VIRTQ_AVAIL_F_NO_INTERRUPT: the driver does not want used-buffer notifications (no EVENT_IDX). */
  F_NO_INTERRUPT: 1,
});

/** struct virtq_used (§2.7.8): flags le16, idx le16, ring[size] {id le32, len le32}, avail_event le16. */
export const VIRTQ_USED = Object.freeze({
  ALIGN: 4,
  FLAGS: 0,
  IDX: 2,
  RING: 4,
  ENTRY_SIZE: 8,
  /** VIRTQ_USED_F_NO_NOTIFY: the device does not want available-buffer notifications. */
  F_NO_NOTIFY: 1,
});

/** Bytes of the descriptor table for `size` entries. */
export function descTableBytes(size: number): number {
  return VIRTQ_DESC.SIZE * size;
}

/** Bytes of the available ring for `size` entries, including used_event. */
export function availRingBytes(size: number): number {
  return VIRTQ_AVAIL.RING + VIRTQ_AVAIL.ENTRY_SIZE * size + 2;
}

/** Bytes of the used ring for `size` entries, including avail_event. */
export function usedRingBytes(size: number): number {
  return VIRTQ_USED.RING + VIRTQ_USED.ENTRY_SIZE * size + 2;
}

/** Offset of used_event (after the available ring's entries). */
export function usedEventOffset(size: number): number {
  return VIRTQ_AVAIL.RING + VIRTQ_AVAIL.ENTRY_SIZE * size;
}

/** Offset of avail_event (after the used ring's entries). */
export function availEventOffset(size: number): number {
  return VIRTQ_USED.RING + VIRTQ_USED.ENTRY_SIZE * size;
}

/**
 * vring_need_event (§2.7.10): with VIRTIO_F_RING_EVENT_IDX, a notification is due when the index
 * moved from `oldIdx` to `newIdx` past `eventIdx`. All three are 16-bit ring indexes.
 */
export function needEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
