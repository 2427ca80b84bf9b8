// The virtio rule for devices behind an IOMMU: a virtio device whose DMA is translated by an
// IOMMU must offer VIRTIO_F_ACCESS_PLATFORM (feature bit 33), otherwise the driver may bypass the
// DMA API and hand the device guest-physical addresses that the SMMU would fault on.
// Virtio 1.2 §6.1 (Reserved Feature Bits: VIRTIO_F_ACCESS_PLATFORM); Linux virtio_ring uses the
// DMA API only when the device offers it (vring_use_dma_api).
import type { IdMapping } from './id-map.js';
import { VIRTIO_F_ACCESS_PLATFORM } from '../spec/virtio/features.js';
import type { PciFunction } from './function.js';

export { VIRTIO_F_ACCESS_PLATFORM };

/**
 * Whether a requester with `rid` (or, when its bus number is not assigned yet, any requester of
 * the root complex: null) is behind an IOMMU according to the root complex's RID -> stream ID
 * mappings — the same mappings the runtime routing and the firmware tables use.
 */
export function accessPlatformRequired(toSmmu: readonly IdMapping[], rid: number | null): boolean {
  if (rid === null) return toSmmu.length > 0;
  return toSmmu.some((m) => rid >= m.inputBase && rid < m.inputBase + m.count);
}

/**
 * True when the virtio function `fn` must offer VIRTIO_F_ACCESS_PLATFORM: its RID is translated by
 * an SMMU. Before enumeration (no bus number yet) the answer is conservative: true when its root
 * complex translates any RID, since offering the bit without an IOMMU is harmless (the DMA API is
 * then the identity) while omitting it behind one breaks DMA. A detached function: false.
 */
export function mustOfferAccessPlatform(fn: PciFunction): boolean {
  const rc = fn.bus?.rc ?? null;
  if (rc === null) return false;
  const rid = fn.requesterId();
  if (rid < 0) return rc.routing.hasIommuMappings;
  return rc.routing.streamIndex(rid) >= 0;
}

/** `features` (a virtio feature bitmap) with VIRTIO_F_ACCESS_PLATFORM set when `fn` must offer it. */
export function withAccessPlatform(features: bigint, fn: PciFunction): bigint {
  return mustOfferAccessPlatform(fn) ? features | (1n << BigInt(VIRTIO_F_ACCESS_PLATFORM)) : features;
}
