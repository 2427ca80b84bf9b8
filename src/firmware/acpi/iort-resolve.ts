// Follows IORT ID mappings the way Linux 6.1 does (drivers/acpi/arm64/iort.c, summarised in
// Linux 6.1): id_count is inclusive (number of IDs minus one); a single mapping applies
// only to named-component and root-complex nodes; on an SMMUv3 node the entry at the DeviceID
// mapping index is skipped (when that index is valid); a match on the LAST ID of a range lets a
// later range starting there win (the off-by-one workaround); walks stop at a node of the wanted
// type. Walks are bounded by the node count (a reference cycle ends as a failure, not a hang).
import { IortNodeType } from '../../spec/acpi/iort.js';
import type { IortIdMap, IortNode, IortTable } from './iort-types.js';

export type NodeTypeMask = number;
export const SMMU_TYPES: NodeTypeMask = (1 << IortNodeType.SMMU_V1_V2) | (1 << IortNodeType.SMMU_V3);
export const MSI_TYPES: NodeTypeMask = 1 << IortNodeType.ITS_GROUP;

export function nodeByOffset(t: IortTable): Map<number, IortNode> {
  return new Map(t.nodes.map((n) => [n.offset, n]));
}

/**
 * The DeviceID mapping index Linux honours for an SMMUv3 node, or null (node revision 0, all four
 * GSIVs wired, or index beyond the mappings) — iort_get_id_mapping_index.
 */
export function linuxIdMappingIndex(n: IortNode): number | null {
  if (n.kind !== 'smmuv3') return null;
  if (n.revision < 1) return null;
  if (n.eventGsiv && n.priGsiv && n.gerrGsiv && n.syncGsiv) return null;
  if (n.deviceIdMappingIndex >= n.mappingCount) return null;
  return n.deviceIdMappingIndex;
}

/** One mapping step through a node: the output ID and the referenced node offset, or null. */
export function mapStep(n: IortNode, id: number): { id: number; ref: number; mapping: IortIdMap } | null {
  const skip = linuxIdMappingIndex(n);
  let pending: { id: number; ref: number; mapping: IortIdMap } | null = null;
  for (let i = 0; i < n.mappings.length; i++) {
    if (i === skip) continue;
    const m = n.mappings[i]!;
    if (m.single) {
      if (n.type === IortNodeType.NAMED_COMPONENT || n.type === IortNodeType.ROOT_COMPLEX) return { id: m.outputBase, ref: m.outputReference, mapping: m };
      continue; // Linux: "SINGLE MAPPING flag not allowed for node type", mapping skipped
    }
    if (id < m.inputBase || id > m.inputBase + m.idCount) continue;
    if (pending && id !== m.inputBase) continue;
    const out = { id: (m.outputBase + (id - m.inputBase)) >>> 0, ref: m.outputReference, mapping: m };
    if (id === m.inputBase + m.idCount && !pending) {
      pending = out; // possible off-by-one: a later range starting here would win
      continue;
    }
    return out;
  }
  return pending;
}

export interface MapResult {
  readonly node: IortNode;
  readonly id: number;
}

/**
 * Maps `id` from node `start` until a node whose type is in `mask` is reached (iort_node_map_id).
 * Returns null when a mapping is missing, references nothing, or the walk does not end.
 */
export function mapId(t: IortTable, start: IortNode, id: number, mask: NodeTypeMask, nodes = nodeByOffset(t)): MapResult | null {
  let node: IortNode | undefined = start;
  let cur = id;
  for (let hops = 0; node && hops <= t.nodes.length; hops++) {
    if ((1 << node.type) & mask) return { node, id: cur };
    const step = mapStep(node, cur);
    if (!step || step.ref === 0) return null;
    node = nodes.get(step.ref);
    cur = step.id;
  }
  return null;
}

/** Where one requester ID of a root-complex node ends up according to the IORT. */
export interface IortRidRoute {
  readonly smmu: IortNode | null;
  readonly streamId: number | null;
  readonly its: IortNode | null;
  readonly deviceId: number | null;
}

export function routeIortRid(t: IortTable, rc: IortNode, rid: number, nodes = nodeByOffset(t)): IortRidRoute {
  const s = mapId(t, rc, rid, SMMU_TYPES, nodes);
  const m = mapId(t, rc, rid, MSI_TYPES, nodes);
  return { smmu: s?.node ?? null, streamId: s?.id ?? null, its: m?.node ?? null, deviceId: m?.id ?? null };
}
