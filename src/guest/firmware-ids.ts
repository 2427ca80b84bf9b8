// How the reference guest learns a PCI function's IDs: from the firmware tables it boots with,
// the way Linux does (iort_pmsi_get_dev_id / iort_node_map_id for ACPI, of_map_id for a device
// tree), not from the description the hardware was wired from. A table that disagrees with the
// wiring therefore shows as failed DMA or MSIs, as it would on a real machine.
// - IORT: the root-complex node of the PCI segment, walked to an SMMUv3 node (StreamID) and to an
//   ITS group (DeviceID); an SMMUv3 node's own MSIs use its DeviceID mapping (DEN 0049 §3.1.1.3).
// - Device tree: the host bridge of the segment (linux,pci-domain), iommu-map to the SMMU node and
//   msi-map to the ITS (the RID itself with msi-parent = ITS and no msi-map); an SMMU node's own
//   MSIs use the specifier of its msi-parent = <&its DeviceID>.
import { decodeIort } from '../firmware/acpi/iort-decode.js';
import { linuxIdMappingIndex, nodeByOffset, routeIortRid } from '../firmware/acpi/iort-resolve.js';
import type { IortNode, IortTable } from '../firmware/acpi/iort-types.js';
import { parseDtb } from '../firmware/fdt/reader.js';
import { propCells, propStrings, walk } from '../firmware/fdt/tree.js';
import { dtHostBridges, dtMapRid, isItsNode, type DtHostBridge } from '../firmware/lint/dt-maps.js';

/** The firmware the guest boots with: a flattened device tree or an IORT (the ACPI table that carries the IDs). */
export type GuestFirmware = { readonly kind: 'dt'; readonly dtb: Uint8Array } | { readonly kind: 'acpi'; readonly iort: Uint8Array };

export interface FirmwareIds {
  /** Base address of the SMMU and the StreamID a RID of PCI segment `segment` is given; null: not behind an SMMU. */
  stream(segment: number, rid: number): { readonly smmuBase: number; readonly sid: number } | null;
  /** ITS DeviceID of a RID; null when its MSIs reach no ITS. */
  deviceId(segment: number, rid: number): number | null;
  /** DeviceID of the SMMU's own MSIs (event queue, GERROR); null when the firmware gives none. */
  smmuDeviceId(smmuBase: number): number | null;
}

/** Reads the ID translations out of the firmware. Malformed firmware throws (the guest cannot boot). */
export function firmwareIds(fw: GuestFirmware): FirmwareIds {
  return fw.kind === 'acpi' ? iortIds(decodeIort(fw.iort)) : dtIds(fw.dtb);
}

function iortIds(t: IortTable): FirmwareIds {
  const nodes = nodeByOffset(t);
  const rcOf = (segment: number): IortNode | undefined => t.nodes.find((n) => n.kind === 'root-complex' && n.segment === segment);
  return {
    stream(segment, rid) {
      const rc = rcOf(segment);
      const r = rc ? routeIortRid(t, rc, rid, nodes) : null;
      if (!r || r.streamId === null || r.smmu?.kind !== 'smmuv3') return null;
      return { smmuBase: Number(r.smmu.baseAddress), sid: r.streamId };
    },
    deviceId(segment, rid) {
      const rc = rcOf(segment);
      return rc ? routeIortRid(t, rc, rid, nodes).deviceId : null;
    },
    smmuDeviceId(smmuBase) {
      const n = t.nodes.find((x) => x.kind === 'smmuv3' && Number(x.baseAddress) === smmuBase);
      const i = n ? linuxIdMappingIndex(n) : null;
      const m = n && i !== null ? n.mappings[i] : undefined;
      return m && m.single && nodes.get(m.outputReference)?.kind === 'its-group' ? m.outputBase : null;
    },
  };
}

function dtIds(dtb: Uint8Array): FirmwareIds {
  const fdt = parseDtb(dtb);
  const bridges = dtHostBridges(fdt);
  const bridgeOf = (segment: number): DtHostBridge | undefined => bridges.find((b) => (b.segment ?? 0) === segment);
  const smmuMsi = new Map<number, number>();
  for (const { node } of walk(fdt.root)) {
    if (!(propStrings(node, 'compatible') ?? []).includes('arm,smmu-v3')) continue;
    const reg = propCells(node, 'reg');
    const mp = propCells(node, 'msi-parent');
    if (reg && reg.length >= 2 && mp && mp.length === 2) smmuMsi.set(reg[0]! * 0x1_0000_0000 + reg[1]!, mp[1]!);
  }
  return {
    stream(segment, rid) {
      const b = bridgeOf(segment);
      const m = b?.iommuMap ? dtMapRid(b.iommuMap, b.iommuMapMask, rid) : null;
      if (!m || m.target === null || m.target.base === null || !m.target.compatible.includes('arm,smmu-v3')) return null;
      return { smmuBase: m.target.base, sid: m.id };
    },
    deviceId(segment, rid) {
      const b = bridgeOf(segment);
      if (!b) return null;
      if (b.msiMap) {
        const m = dtMapRid(b.msiMap, b.msiMapMask, rid);
        return m && isItsNode(m.target) ? m.id : null;
      }
      return isItsNode(b.msiParent) ? rid : null;
    },
    smmuDeviceId(smmuBase) {
      return smmuMsi.get(smmuBase) ?? null;
    },
  };
}
