// IORT decoder (DEN 0049, any table revision). Lenient where the data allows: structural
// problems (lengths, overruns, checksum) are recorded as issues for the linter and decoding goes
// on; only input with no decodable IORT at all (not an IORT, shorter than 48 bytes) throws
// AcpiDecodeError. Every loop is bounded by the data size, never by a count field.
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
  IORT_PMCG,
  IORT_PMCG_SIZE,
  IORT_RMR,
  IORT_RMR_RANGE,
  IORT_RMR_RANGE_SIZE,
  IORT_RMR_SIZE,
  IORT_ROOT_COMPLEX,
  IORT_ROOT_COMPLEX_SIZE,
  IORT_ROOT_COMPLEX_SIZE_WITH_FLAGS,
  IORT_SIGNATURE,
  IORT_SMMU_V1_V2,
  IORT_SMMU_V1_V2_MIN_SIZE,
  IORT_SMMU_V3,
  IORT_SMMU_V3_SIZE,
  IORT_TABLE,
  IORT_TABLE_HEADER_SIZE,
  IortNodeType,
} from '../../spec/acpi/iort.js';
import { hex } from '../../util/hex.js';
import { bits, getU, getU64 } from './bytes.js';
import type { IortIdMap, IortMemoryProperties, IortNode, IortRmrRange, IortTable } from './iort-types.js';
import { checkTableFrame, type DecodeIssue } from './sdt.js';

/** Minimum fixed size per node type (before which the node cannot be decoded as that type). */
function minSize(type: number, revision: number): number {
  switch (type) {
    case IortNodeType.ITS_GROUP:
      return IORT_ITS_GROUP_IDS_OFFSET;
    case IortNodeType.NAMED_COMPONENT:
      return IORT_NAMED_COMPONENT_NAME_OFFSET;
    case IortNodeType.ROOT_COMPLEX:
      return revision >= 1 ? IORT_ROOT_COMPLEX_SIZE : IORT_ROOT_COMPLEX.memoryAddressLimit.offset;
    case IortNodeType.SMMU_V1_V2:
      return IORT_SMMU_V1_V2_MIN_SIZE;
    case IortNodeType.SMMU_V3:
      return revision >= 1 ? IORT_SMMU_V3_SIZE : IORT_SMMU_V3.deviceIdMappingIndex.offset;
    case IortNodeType.PMCG:
      return IORT_PMCG.page1Base.offset;
    case IortNodeType.RMR:
      return IORT_RMR_SIZE;
    default:
      return IORT_NODE_HEADER_SIZE;
  }
}

function memoryProps(t: Uint8Array, at: number): IortMemoryProperties {
  return {
    cacheCoherency: getU(t, at, IORT_MEMORY_PROPERTIES.cacheCoherency),
    allocationHints: getU(t, at, IORT_MEMORY_PROPERTIES.allocationHints),
    memoryAccessFlags: getU(t, at, IORT_MEMORY_PROPERTIES.memoryAccessFlags),
  };
}

/** Decodes IORT bytes (e.g. /sys/firmware/acpi/tables/IORT). */
export function decodeIort(bytes: Uint8Array): IortTable {
  const { header, table: t, issues } = checkTableFrame(bytes, IORT_SIGNATURE, IORT_TABLE_HEADER_SIZE);
  const nodeCount = getU(t, 0, IORT_TABLE.nodeCount);
  const nodeOffset = getU(t, 0, IORT_TABLE.nodeOffset);
  const nodes: IortNode[] = [];
  const issue = (kind: DecodeIssue['kind'], offset: number, message: string): void => {
    issues.push({ kind, offset, message });
  };

  if (nodeOffset < IORT_TABLE_HEADER_SIZE && nodeCount > 0) issue('structure', 40, `node array offset ${hex(nodeOffset)} overlaps the table header`);
  let at = nodeOffset;
  for (let i = 0; i < nodeCount; i++) {
    if (at + IORT_NODE_HEADER_SIZE > t.length) {
      issue('length', at, `node ${i} of ${nodeCount} at ${hex(at)} lies beyond the end of the table (${t.length} bytes)`);
      break;
    }
    const type = getU(t, at, IORT_NODE.type);
    const length = getU(t, at, IORT_NODE.length);
    const revision = getU(t, at, IORT_NODE.revision);
    const identifier = getU(t, at, IORT_NODE.identifier);
    const mappingCount = getU(t, at, IORT_NODE.mappingCount);
    const mappingOffset = getU(t, at, IORT_NODE.mappingOffset);
    if (length < IORT_NODE_HEADER_SIZE) {
      issue('length', at + 1, `node ${i} at ${hex(at)} has length ${length}, less than its 16-byte header; stopping`);
      break;
    }
    let end = at + length;
    if (end > t.length) {
      issue('length', at + 1, `node ${i} at ${hex(at)} (length ${length}) runs past the end of the table (${t.length} bytes)`);
      end = t.length;
    }
    const nodeBytes = end - at;
    const common = { offset: at, type, length, revision, identifier, mappingCount, mappingOffset };

    // ID mappings: must lie within the node.
    const mappings: IortIdMap[] = [];
    if (mappingCount > 0) {
      if (mappingOffset < IORT_NODE_HEADER_SIZE) {
        issue('structure', at + 12, `node at ${hex(at)}: ID mapping array offset ${hex(mappingOffset)} points into the node header`);
      } else {
        const fit = Math.max(0, Math.floor((nodeBytes - mappingOffset) / IORT_ID_MAPPING_SIZE));
        if (fit < mappingCount) {
          issue('length', at + 8, `node at ${hex(at)}: ${mappingCount} ID mappings at +${hex(mappingOffset)} do not fit in the node (room for ${fit})`);
        }
        for (let k = 0; k < Math.min(fit, mappingCount); k++) {
          const ma = at + mappingOffset + k * IORT_ID_MAPPING_SIZE;
          const flags = getU(t, ma, IORT_ID_MAPPING.flags);
          mappings.push({
            offset: ma,
            inputBase: getU(t, ma, IORT_ID_MAPPING.inputBase),
            idCount: getU(t, ma, IORT_ID_MAPPING.idCount),
            outputBase: getU(t, ma, IORT_ID_MAPPING.outputBase),
            outputReference: getU(t, ma, IORT_ID_MAPPING.outputReference),
            flags,
            single: bits(flags, IORT_ID_MAPPING_FLAGS.single) === 1,
          });
        }
      }
    }

    const min = minSize(type, revision);
    if (nodeBytes < min) {
      issue('length', at + 1, `node at ${hex(at)} (${typeLabel(type)}) is ${nodeBytes} bytes, shorter than its ${min}-byte fixed part`);
      nodes.push({ ...common, mappings, kind: 'unknown' });
    } else {
      nodes.push(decodeBody(t, at, nodeBytes, common, mappings, issue));
    }
    at += length;
  }
  return { header, nodeCount, nodeOffset, nodes, issues };
}

function typeLabel(type: number): string {
  return ['ITS group', 'named component', 'root complex', 'SMMUv1/v2', 'SMMUv3', 'PMCG', 'RMR'][type] ?? `type ${type}`;
}

type Common = Omit<IortNode, 'kind' | 'mappings'>;

function decodeBody(
  t: Uint8Array,
  at: number,
  nodeBytes: number,
  c: Common,
  mappings: IortIdMap[],
  issue: (kind: DecodeIssue['kind'], offset: number, message: string) => void,
): IortNode {
  switch (c.type) {
    case IortNodeType.ITS_GROUP: {
      const count = getU(t, at, IORT_ITS_GROUP.itsCount);
      const fit = Math.floor((nodeBytes - IORT_ITS_GROUP_IDS_OFFSET) / 4);
      if (fit < count) issue('length', at + 16, `ITS group at ${hex(at)}: ${count} ITS identifiers do not fit in the node (room for ${fit})`);
      const itsIds: number[] = [];
      for (let k = 0; k < Math.min(fit, count); k++) itsIds.push(getU(t, at + IORT_ITS_GROUP_IDS_OFFSET + 4 * k, IORT_ITS_ID));
      return { ...c, mappings, kind: 'its-group', itsIds };
    }
    case IortNodeType.NAMED_COMPONENT: {
      let name = '';
      let k = at + IORT_NAMED_COMPONENT_NAME_OFFSET;
      const stop = at + nodeBytes;
      while (k < stop && t[k] !== 0) name += String.fromCharCode(t[k++]!);
      if (k >= stop) issue('structure', at + IORT_NAMED_COMPONENT_NAME_OFFSET, `named component at ${hex(at)}: device name is not NUL terminated within the node`);
      return {
        ...c,
        mappings,
        kind: 'named-component',
        nodeFlags: getU(t, at, IORT_NAMED_COMPONENT.nodeFlags),
        memory: memoryProps(t, at + IORT_NAMED_COMPONENT.memoryProperties.offset),
        addressSizeLimit: getU(t, at, IORT_NAMED_COMPONENT.addressSizeLimit),
        name,
      };
    }
    case IortNodeType.ROOT_COMPLEX: {
      const hasLimit = c.revision >= 1 && nodeBytes >= IORT_ROOT_COMPLEX_SIZE;
      const hasPasid = c.revision >= 4 && nodeBytes >= IORT_ROOT_COMPLEX_SIZE;
      // The Flags field (after E.d) exists when the fixed part, before the mappings, is 40 bytes.
      const fixedPart = c.mappingCount > 0 ? Math.min(c.mappingOffset, nodeBytes) : nodeBytes;
      const hasFlags = c.revision >= 4 && fixedPart >= IORT_ROOT_COMPLEX_SIZE_WITH_FLAGS;
      return {
        ...c,
        mappings,
        kind: 'root-complex',
        memory: memoryProps(t, at + IORT_ROOT_COMPLEX.memoryProperties.offset),
        atsAttribute: getU(t, at, IORT_ROOT_COMPLEX.atsAttribute),
        segment: getU(t, at, IORT_ROOT_COMPLEX.pciSegment),
        memoryAddressLimit: hasLimit ? getU(t, at, IORT_ROOT_COMPLEX.memoryAddressLimit) : null,
        pasidCapabilities: hasPasid ? getU(t, at, IORT_ROOT_COMPLEX.pasidCapabilities) : null,
        rcFlags: hasFlags ? getU(t, at, IORT_ROOT_COMPLEX.flags) : null,
      };
    }
    case IortNodeType.SMMU_V3: {
      const hasIndex = nodeBytes >= IORT_SMMU_V3_SIZE;
      return {
        ...c,
        mappings,
        kind: 'smmuv3',
        baseAddress: getU64(t, at, IORT_SMMU_V3.baseAddress),
        flags: getU(t, at, IORT_SMMU_V3.flags),
        vatosAddress: getU64(t, at, IORT_SMMU_V3.vatosAddress),
        model: getU(t, at, IORT_SMMU_V3.model),
        eventGsiv: getU(t, at, IORT_SMMU_V3.eventGsiv),
        priGsiv: getU(t, at, IORT_SMMU_V3.priGsiv),
        gerrGsiv: getU(t, at, IORT_SMMU_V3.gerrGsiv),
        syncGsiv: getU(t, at, IORT_SMMU_V3.syncGsiv),
        proximityDomain: getU(t, at, IORT_SMMU_V3.proximityDomain),
        deviceIdMappingIndex: hasIndex ? getU(t, at, IORT_SMMU_V3.deviceIdMappingIndex) : 0,
      };
    }
    case IortNodeType.SMMU_V1_V2:
      return {
        ...c,
        mappings,
        kind: 'smmuv1v2',
        baseAddress: getU64(t, at, IORT_SMMU_V1_V2.baseAddress),
        span: getU64(t, at, IORT_SMMU_V1_V2.span),
        model: getU(t, at, IORT_SMMU_V1_V2.model),
        flags: getU(t, at, IORT_SMMU_V1_V2.flags),
      };
    case IortNodeType.PMCG:
      return {
        ...c,
        mappings,
        kind: 'pmcg',
        page0Base: getU64(t, at, IORT_PMCG.page0Base),
        overflowGsiv: getU(t, at, IORT_PMCG.overflowGsiv),
        nodeReference: getU(t, at, IORT_PMCG.nodeReference),
        page1Base: nodeBytes >= IORT_PMCG_SIZE ? getU64(t, at, IORT_PMCG.page1Base) : 0n,
      };
    case IortNodeType.RMR: {
      const rangeCount = getU(t, at, IORT_RMR.rangeCount);
      const rangeOffset = getU(t, at, IORT_RMR.rangeOffset);
      const ranges: IortRmrRange[] = [];
      if (rangeCount > 0) {
        const fit = rangeOffset < IORT_RMR_SIZE ? 0 : Math.max(0, Math.floor((nodeBytes - rangeOffset) / IORT_RMR_RANGE_SIZE));
        if (fit < rangeCount) issue('length', at + 20, `RMR at ${hex(at)}: ${rangeCount} memory range descriptors at +${hex(rangeOffset)} do not fit in the node (room for ${fit})`);
        for (let k = 0; k < Math.min(fit, rangeCount); k++) {
          const ra = at + rangeOffset + k * IORT_RMR_RANGE_SIZE;
          ranges.push({ base: getU64(t, ra, IORT_RMR_RANGE.base), length: getU64(t, ra, IORT_RMR_RANGE.length) });
        }
      }
      return { ...c, mappings, kind: 'rmr', flags: getU(t, at, IORT_RMR.flags), rangeCount, rangeOffset, ranges };
    }
    default:
      return { ...c, mappings, kind: 'unknown' };
  }
}
