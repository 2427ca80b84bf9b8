// IORT encoder (DEN 0049 E.d for table revision 5, E.b for revision 3) from explicit node
// structures. Node order is the order given; mapping targets are resolved by node key.
// Host misuse (unknown target, bad index, RMR at revision 3) throws RangeError.
import {
  IORT_ID_MAPPING,
  IORT_ID_MAPPING_FLAGS,
  IORT_ID_MAPPING_SIZE,
  IORT_ITS_GROUP,
  IORT_ITS_GROUP_IDS_OFFSET,
  IORT_ITS_ID,
  IORT_MEMORY_PROPERTIES,
  IORT_NAMED_COMPONENT,
  IORT_NAMED_COMPONENT_NAME_OFFSET,
  IORT_NODE,
  IORT_NODE_HEADER_SIZE,
  IORT_NODE_REVISIONS,
  IORT_RC_ATS,
  IORT_RMR,
  IORT_RMR_FLAGS,
  IORT_RMR_RANGE,
  IORT_RMR_RANGE_SIZE,
  IORT_RMR_SIZE,
  IORT_ROOT_COMPLEX,
  IORT_ROOT_COMPLEX_SIZE,
  IORT_SIGNATURE,
  IORT_SMMU_V3,
  IORT_SMMU_V3_FLAGS,
  IORT_SMMU_V3_MODEL,
  IORT_SMMU_V3_SIZE,
  IORT_TABLE,
  IORT_TABLE_HEADER_SIZE,
  IortNodeType,
  type IortTableRevision,
} from '../../spec/acpi/iort.js';
import { putU, withBits } from './bytes.js';
import type { IortMappingSpec, IortNodeSpec } from './iort-types.js';
import { finishTable, type OemInfo } from './sdt.js';

export interface IortEncodeOptions {
  readonly revision: IortTableRevision;
  readonly oem?: Partial<OemInfo>;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** Size of the node-specific part before the ID mapping array. */
function fixedSize(n: IortNodeSpec, revision: IortTableRevision): number {
  switch (n.kind) {
    case 'its-group':
      return IORT_ITS_GROUP_IDS_OFFSET + 4 * n.itsIds.length;
    case 'smmuv3':
      return IORT_SMMU_V3_SIZE;
    case 'root-complex':
      return IORT_ROOT_COMPLEX_SIZE;
    case 'named-component':
      return align4(IORT_NAMED_COMPONENT_NAME_OFFSET + n.name.length + 1);
    case 'rmr':
      return IORT_RMR_SIZE;
  }
}

function mappingsOf(n: IortNodeSpec): readonly IortMappingSpec[] {
  return n.kind === 'its-group' ? [] : n.mappings;
}

function nodeSize(n: IortNodeSpec, revision: IortTableRevision): number {
  const rmrRanges = n.kind === 'rmr' ? n.ranges.length * IORT_RMR_RANGE_SIZE : 0;
  return fixedSize(n, revision) + mappingsOf(n).length * IORT_ID_MAPPING_SIZE + rmrRanges;
}

/** The ID count field value for a mapping: number of IDs minus one (DEN 0049 §3.4). */
export function encodeIdCount(m: IortMappingSpec): number {
  if (m.rawIdCount !== undefined) return m.rawIdCount;
  if (!Number.isInteger(m.count) || m.count < 1) throw new RangeError(`ID mapping count ${m.count} must be >= 1`);
  return m.count - 1;
}

function memoryProperties(table: Uint8Array, at: number, coherent: boolean, hints: number, flags: number): void {
  putU(table, at, IORT_MEMORY_PROPERTIES.cacheCoherency, coherent ? 1 : 0);
  putU(table, at, IORT_MEMORY_PROPERTIES.allocationHints, hints);
  putU(table, at, IORT_MEMORY_PROPERTIES.memoryAccessFlags, flags);
}

/** Encodes an IORT from explicit nodes. */
export function encodeIort(nodes: readonly IortNodeSpec[], opts: IortEncodeOptions): Uint8Array {
  const revs = IORT_NODE_REVISIONS[opts.revision];
  if (!revs) throw new RangeError(`unsupported IORT revision ${String(opts.revision)}`);
  const offsets = new Map<string, number>();
  let at = IORT_TABLE_HEADER_SIZE;
  for (const n of nodes) {
    if (offsets.has(n.key)) throw new RangeError(`duplicate IORT node key ${n.key}`);
    if (n.kind === 'rmr' && revs.rmr === null) throw new RangeError(`RMR nodes need IORT table revision 5 (E.d); revision ${opts.revision} has none`);
    offsets.set(n.key, at);
    const size = nodeSize(n, opts.revision);
    if (size > 0xffff) throw new RangeError(`IORT node ${n.key} is ${size} bytes, over the 16-bit length field`);
    at += size;
  }
  const table = new Uint8Array(at);
  putU(table, 0, IORT_TABLE.nodeCount, nodes.length);
  putU(table, 0, IORT_TABLE.nodeOffset, IORT_TABLE_HEADER_SIZE);

  for (const n of nodes) {
    const base = offsets.get(n.key)!;
    const maps = mappingsOf(n);
    const fixed = fixedSize(n, opts.revision);
    const type = {
      'its-group': IortNodeType.ITS_GROUP,
      smmuv3: IortNodeType.SMMU_V3,
      'root-complex': IortNodeType.ROOT_COMPLEX,
      'named-component': IortNodeType.NAMED_COMPONENT,
      rmr: IortNodeType.RMR,
    }[n.kind];
    const revision = {
      'its-group': revs.its,
      smmuv3: revs.smmuV3,
      'root-complex': revs.rootComplex,
      'named-component': revs.namedComponent,
      rmr: revs.rmr ?? 0,
    }[n.kind];
    putU(table, base, IORT_NODE.type, type);
    putU(table, base, IORT_NODE.length, nodeSize(n, opts.revision));
    putU(table, base, IORT_NODE.revision, revision);
    putU(table, base, IORT_NODE.identifier, n.identifier);
    putU(table, base, IORT_NODE.mappingCount, maps.length);
    putU(table, base, IORT_NODE.mappingOffset, maps.length > 0 ? fixed : 0);

    switch (n.kind) {
      case 'its-group':
        putU(table, base, IORT_ITS_GROUP.itsCount, n.itsIds.length);
        n.itsIds.forEach((id, i) => putU(table, base + IORT_ITS_GROUP_IDS_OFFSET + 4 * i, IORT_ITS_ID, id));
        break;
      case 'smmuv3': {
        let flags = withBits(0, IORT_SMMU_V3_FLAGS.cohaccOverride, n.coherent ? 1 : 0);
        flags = withBits(flags, IORT_SMMU_V3_FLAGS.httuOverride, n.httuOverride ?? 0);
        flags = withBits(flags, IORT_SMMU_V3_FLAGS.proximityValid, n.proximityDomain === null ? 0 : 1);
        // An index equal to the mapping count is allowed: "no valid DeviceID mapping" (see iort-build.ts).
        if (n.deviceIdMappingIndex !== null && (n.deviceIdMappingIndex < 0 || n.deviceIdMappingIndex > maps.length)) {
          throw new RangeError(`SMMU ${n.key}: DeviceID mapping index ${n.deviceIdMappingIndex} outside its ${maps.length} mappings`);
        }
        putU(table, base, IORT_SMMU_V3.baseAddress, BigInt(n.baseAddress));
        putU(table, base, IORT_SMMU_V3.flags, flags);
        putU(table, base, IORT_SMMU_V3.model, n.model ?? IORT_SMMU_V3_MODEL.GENERIC);
        putU(table, base, IORT_SMMU_V3.eventGsiv, n.gsiv.event);
        putU(table, base, IORT_SMMU_V3.priGsiv, n.gsiv.pri);
        putU(table, base, IORT_SMMU_V3.gerrGsiv, n.gsiv.gerr);
        putU(table, base, IORT_SMMU_V3.syncGsiv, n.gsiv.sync);
        putU(table, base, IORT_SMMU_V3.proximityDomain, n.proximityDomain ?? 0);
        putU(table, base, IORT_SMMU_V3.deviceIdMappingIndex, n.deviceIdMappingIndex ?? 0);
        break;
      }
      case 'root-complex': {
        memoryProperties(table, base + IORT_ROOT_COMPLEX.memoryProperties.offset, n.cacheCoherent, n.allocationHints ?? 0, n.memoryAccessFlags);
        putU(table, base, IORT_ROOT_COMPLEX.atsAttribute, withBits(0, IORT_RC_ATS.ats, n.ats ? 1 : 0));
        putU(table, base, IORT_ROOT_COMPLEX.pciSegment, n.segment);
        putU(table, base, IORT_ROOT_COMPLEX.memoryAddressLimit, n.memoryAddressLimit);
        break;
      }
      case 'named-component': {
        putU(table, base, IORT_NAMED_COMPONENT.nodeFlags, n.nodeFlags ?? 0);
        memoryProperties(table, base + IORT_NAMED_COMPONENT.memoryProperties.offset, n.cacheCoherent, n.allocationHints ?? 0, n.memoryAccessFlags);
        putU(table, base, IORT_NAMED_COMPONENT.addressSizeLimit, n.addressSizeLimit);
        if (!/^[\x20-\x7e]*$/.test(n.name)) throw new RangeError(`named component name ${JSON.stringify(n.name)} is not printable ASCII`);
        for (let i = 0; i < n.name.length; i++) table[base + IORT_NAMED_COMPONENT_NAME_OFFSET + i] = n.name.charCodeAt(i);
        break;
      }
      case 'rmr': {
        let flags = withBits(0, IORT_RMR_FLAGS.remapPermitted, n.remapPermitted ? 1 : 0);
        flags = withBits(flags, IORT_RMR_FLAGS.accessPrivilege, n.privileged ? 1 : 0);
        flags = withBits(flags, IORT_RMR_FLAGS.accessAttributes, n.accessAttributes);
        putU(table, base, IORT_RMR.flags, flags);
        putU(table, base, IORT_RMR.rangeCount, n.ranges.length);
        const rangesAt = fixed + maps.length * IORT_ID_MAPPING_SIZE;
        putU(table, base, IORT_RMR.rangeOffset, n.ranges.length > 0 ? rangesAt : 0);
        n.ranges.forEach((r, i) => {
          const ra = base + rangesAt + i * IORT_RMR_RANGE_SIZE;
          putU(table, ra, IORT_RMR_RANGE.base, BigInt(r.base));
          putU(table, ra, IORT_RMR_RANGE.length, BigInt(r.length));
        });
        break;
      }
    }

    maps.forEach((m, i) => {
      const ma = base + fixed + i * IORT_ID_MAPPING_SIZE;
      const ref = offsets.get(m.target);
      if (ref === undefined) throw new RangeError(`IORT node ${n.key}: mapping target ${m.target} is not a node of this table`);
      putU(table, ma, IORT_ID_MAPPING.inputBase, m.inputBase);
      putU(table, ma, IORT_ID_MAPPING.idCount, encodeIdCount(m));
      putU(table, ma, IORT_ID_MAPPING.outputBase, m.outputBase);
      putU(table, ma, IORT_ID_MAPPING.outputReference, ref);
      putU(table, ma, IORT_ID_MAPPING.flags, withBits(0, IORT_ID_MAPPING_FLAGS.single, m.single ? 1 : 0));
    });
  }
  return finishTable(table, IORT_SIGNATURE, opts.revision, { oemTableId: 'VSMMUIRT', ...opts.oem });
}
