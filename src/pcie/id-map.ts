/**
 * ID mappings: the one definition of how requester IDs become SMMU stream IDs and ITS device IDs.
 * The runtime routing (pcie, platform) and the firmware generators (IORT, DT iommu-map/msi-map)
 * both consume these objects, so they cannot disagree.
 *
 * `count` is the number of IDs in the range. IORT stores count - 1 ("number of IDs minus one",
 * DEN 0049 §3.4), a device tree `*-map` stores the count itself; the encoders do that conversion.
 */

export interface IdMapping {
  /** First input ID of the range. */
  readonly inputBase: number;
  /** Number of IDs in the range (>= 1). */
  readonly count: number;
  /** Output ID for `inputBase`. */
  readonly outputBase: number;
  /** Name of the target node: an SMMU instance name or an MSI controller name. */
  readonly target: string;
}

/** Maps `id` through `maps` (first full match wins, as Linux does); null when no range matches. */
export function mapId(maps: readonly IdMapping[], id: number): { target: string; id: number } | null {
  for (const m of maps) {
    if (id >= m.inputBase && id < m.inputBase + m.count) return { target: m.target, id: m.outputBase + (id - m.inputBase) };
  }
  return null;
}

/** Requester ID of a PCI function: (bus << 8) | (device << 3) | function. */
export function rid(bus: number, device: number, fn: number): number {
  return ((bus & 0xff) << 8) | ((device & 0x1f) << 3) | (fn & 7);
}

export function formatBdf(r: number, segment = 0): string {
  const b = (r >> 8) & 0xff;
  const d = (r >> 3) & 0x1f;
  const f = r & 7;
  return `${segment.toString(16).padStart(4, '0')}:${b.toString(16).padStart(2, '0')}:${d.toString(16).padStart(2, '0')}.${f}`;
}
