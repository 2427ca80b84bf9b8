// Requester ID -> stream ID (and which SMMU) and -> ITS DeviceID for one root complex, driven by
// the same IdMapping[] the firmware tables are generated from (pcie/id-map.ts,
// platform/derive-ids.ts: RcIdMaps.toSmmu / RcIdMaps.toMsi). Lookups use the first full match,
// as mapId and Linux do, and allocate nothing (they run at every DMA and MSI).
//
// - toSmmu: RID -> stream ID on the SMMU named by the mapping's target. A RID no mapping covers
//   has no IOMMU (what the DT iommu-map / IORT tell the guest too): its DMA goes to memory.
// - toMsi: RID -> ITS DeviceID. When the root complex is given no toMsi at all, the DeviceID is
//   the default (segment << 16) | RID; when it is given a list (possibly empty: GICv2m, no ITS),
//   a RID no mapping covers carries no DeviceID (null), which an ITS drops.
import type { IdMapping } from './id-map.js';
import type { IommuAttachment } from './types.js';
import { routingChanged } from './routing-epoch.js';

export interface RootComplexIdMaps {
  readonly toSmmu: readonly IdMapping[];
  /** Omit for the default DeviceID (segment << 16) | RID. */
  readonly toMsi?: readonly IdMapping[] | undefined;
}

export class IdRouting {
  private readonly toSmmu: readonly IdMapping[];
  private readonly toMsi: readonly IdMapping[] | null;
  /** The IOMMU of each toSmmu entry (null until attached). */
  private readonly iommuOf: (IommuAttachment | null)[];

  constructor(
    readonly segment: number,
    maps: RootComplexIdMaps,
  ) {
    for (const [what, list] of [['toSmmu', maps.toSmmu], ['toMsi', maps.toMsi ?? []]] as const) {
      for (const m of list) {
        const ok = [m.inputBase, m.count, m.outputBase].every((v) => Number.isSafeInteger(v) && v >= 0) && m.count >= 1 && m.outputBase + m.count <= 2 ** 32;
        if (!ok) throw new RangeError(`bad ${what} mapping ${JSON.stringify(m)}`);
      }
    }
    this.toSmmu = maps.toSmmu.slice();
    this.toMsi = maps.toMsi === undefined ? null : maps.toMsi.slice();
    this.iommuOf = this.toSmmu.map(() => null);
  }

  /** Names of the SMMUs the mappings refer to. */
  get smmuNames(): string[] {
    return [...new Set(this.toSmmu.map((m) => m.target))];
  }

  get hasIommuMappings(): boolean {
    return this.toSmmu.length > 0;
  }

  attachIommu(name: string, iommu: IommuAttachment | null): number {
    let n = 0;
    for (let i = 0; i < this.toSmmu.length; i++) {
      if (this.toSmmu[i]!.target === name) {
        this.iommuOf[i] = iommu;
        n++;
      }
    }
    routingChanged();
    return n;
  }

  /** Index of the toSmmu mapping covering `rid`, or -1. */
  streamIndex(rid: number): number {
    const maps = this.toSmmu;
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i]!;
      if (rid >= m.inputBase && rid < m.inputBase + m.count) return i;
    }
    return -1;
  }

  streamId(index: number, rid: number): number {
    const m = this.toSmmu[index]!;
    return m.outputBase + (rid - m.inputBase);
  }

  smmuName(index: number): string {
    return this.toSmmu[index]!.target;
  }

  iommu(index: number): IommuAttachment | null {
    return this.iommuOf[index] ?? null;
  }

  /** ITS DeviceID for `rid`, or null when the mappings give none. */
  deviceId(rid: number): number | null {
    const maps = this.toMsi;
    if (maps === null) return this.segment * 0x1_0000 + rid;
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i]!;
      if (rid >= m.inputBase && rid < m.inputBase + m.count) return m.outputBase + (rid - m.inputBase);
    }
    return null;
  }
}
