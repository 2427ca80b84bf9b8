// IO Remapping Table (IORT), Arm DEN 0049. Layout and encodings only.
//
// Table revisions we emit and the node revisions that go with them:
// - table revision 5 = DEN 0049 issue E.d (adds RMR nodes; Linux parses RMR only when the table
//   revision is >= 5). Node revisions as Arm's reference generator (edk2 DynamicTablesPkg
//   IortGenerator) emits for E.d: ITS group 1, named component 4, root complex 4, SMMUv3 4,
//   PMCG 2, RMR 3. The E.d root-complex node is 36 bytes (memory address size limit, PASID
//   capabilities, one reserved byte; ACPICA's E.d update); the 4-byte root-complex Flags at 36
//   belongs to later issues and is not emitted.
// - table revision 3 = issue E.b, what QEMU 7.2 emits: ITS group 1, named component 4,
//   root complex 3, SMMUv3 4. No RMR nodes.
// Every node header carries an Identifier since E.b (revision 0 tables left it reserved).
import { reg32Field } from '../bits.js';
import { u16, u32, u64, u8 } from './layout.js';

export const IORT_SIGNATURE = 'IORT';

/** Table-level fields after the 36-byte SDT header (§3.2 Table 2). */
export const IORT_TABLE = Object.freeze({
  nodeCount: u32('Number of IORT Nodes', 36),
  nodeOffset: u32('Offset to Array of IORT Nodes', 40),
  reserved: u32('Reserved', 44),
});
export const IORT_TABLE_HEADER_SIZE = 48;

/** Node types (§3.3 Table 3). */
export const IortNodeType = Object.freeze({
  ITS_GROUP: 0,
  NAMED_COMPONENT: 1,
  ROOT_COMPLEX: 2,
  SMMU_V1_V2: 3,
  SMMU_V3: 4,
  PMCG: 5,
  RMR: 6,
});
export type IortNodeTypeValue = (typeof IortNodeType)[keyof typeof IortNodeType];

export const IORT_NODE_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'ITS Group',
  1: 'Named Component',
  2: 'Root Complex',
  3: 'SMMUv1/v2',
  4: 'SMMUv3',
  5: 'PMCG',
  6: 'RMR',
});

/** Header common to every node (§3.3 Table 4). */
export const IORT_NODE = Object.freeze({
  type: u8('Type', 0),
  length: u16('Length', 1),
  revision: u8('Revision', 3),
  identifier: u32('Identifier', 4),
  mappingCount: u32('Number of ID mappings', 8),
  mappingOffset: u32('Reference to ID Array', 12),
});
export const IORT_NODE_HEADER_SIZE = 16;

/** One ID mapping (§3.4 Table 5). `idCount` is the number of IDs in the range MINUS ONE. */
export const IORT_ID_MAPPING = Object.freeze({
  inputBase: u32('Input base', 0),
  idCount: u32('Number of IDs', 4),
  outputBase: u32('Output base', 8),
  /** Byte offset of the target node from the start of the table. */
  outputReference: u32('Output reference', 12),
  flags: u32('Flags', 16),
});
export const IORT_ID_MAPPING_SIZE = 20;
/** ID mapping flags: bit 0 = single mapping (the input ID is ignored; output_base is the result). */
export const IORT_ID_MAPPING_FLAGS = Object.freeze({ single: reg32Field('Single Mapping', 0, 0) });

/** ITS group node (§3.5). */
export const IORT_ITS_GROUP = Object.freeze({ itsCount: u32('ITS count', 16) });
export const IORT_ITS_GROUP_IDS_OFFSET = 20;
/** One entry of the ITS identifier array (offset relative to the entry). */
export const IORT_ITS_ID = u32('GIC ITS Identifier', 0);

/** Memory access properties shared by named-component and root-complex nodes (§3.6/§3.7, Table 16). */
export const IORT_MEMORY_PROPERTIES = Object.freeze({
  /** Offsets relative to the start of the 8-byte memory access properties field. */
  cacheCoherency: u32('Cache Coherent Attribute', 0),
  allocationHints: u8('Allocation Hints', 4),
  reserved: u16('Reserved', 5),
  memoryAccessFlags: u8('Memory Access Flags', 7),
});
/** Cache coherency attribute values. */
export const IORT_CCA = Object.freeze({ NOT_COHERENT: 0, COHERENT: 1 });
/** Memory access flags: bit0 CPM (coherent path to memory), bit1 DACS (device attributes are cacheable and inner shareable), bit2 CANWBS. */
export const IORT_MEMORY_ACCESS_FLAGS = Object.freeze({
  cpm: reg32Field('CPM', 0, 0),
  dacs: reg32Field('DACS', 1, 1),
  canwbs: reg32Field('CANWBS', 2, 2),
});

/** Named component node (§3.6). The device object name starts at 29, NUL terminated. */
export const IORT_NAMED_COMPONENT = Object.freeze({
  nodeFlags: u32('Node Flags', 16),
  memoryProperties: u64('Memory access properties', 20),
  addressSizeLimit: u8('Device memory address size limit', 28),
});
export const IORT_NAMED_COMPONENT_NAME_OFFSET = 29;

/** Root complex node (§3.7). */
export const IORT_ROOT_COMPLEX = Object.freeze({
  memoryProperties: u64('Memory access properties', 16),
  atsAttribute: u32('ATS Attribute', 24),
  pciSegment: u32('PCI Segment number', 28),
  /** Node revision >= 1. */
  memoryAddressLimit: u8('Memory address size limit', 32),
  /** Node revision >= 4 (E.c/E.d). */
  pasidCapabilities: u16('PASID capabilities', 33),
  reserved: u8('Reserved', 35),
  /** Issues after E.d only (present when the fixed part is 40 bytes). */
  flags: u32('Flags', 36),
});
/** Fixed part of a root-complex node up to E.d (what we emit). */
export const IORT_ROOT_COMPLEX_SIZE = 36;
/** Fixed part in later issues, with the Flags field. */
export const IORT_ROOT_COMPLEX_SIZE_WITH_FLAGS = 40;
export const IORT_RC_ATS = Object.freeze({ ats: reg32Field('ATS supported', 0, 0), pri: reg32Field('PRI supported', 1, 1), pasidFwd: reg32Field('PASID forwarding', 2, 2) });

/** SMMUv3 node (§3.9 Table 14). */
export const IORT_SMMU_V3 = Object.freeze({
  baseAddress: u64('Base Address', 16),
  flags: u32('Flags', 24),
  reserved: u32('Reserved', 28),
  vatosAddress: u64('VATOS Address', 32),
  model: u32('Model', 40),
  eventGsiv: u32('Event', 44),
  priGsiv: u32('PRI', 48),
  gerrGsiv: u32('GERR', 52),
  syncGsiv: u32('Sync', 56),
  proximityDomain: u32('Proximity domain', 60),
  /** Node revision >= 1 (Linux ignores it otherwise), and ignored when all four GSIVs are non-zero. */
  deviceIdMappingIndex: u32('DeviceID mapping index', 64),
});
export const IORT_SMMU_V3_SIZE = 68;
export const IORT_SMMU_V3_FLAGS = Object.freeze({
  cohaccOverride: reg32Field('COHACC Override', 0, 0),
  httuOverride: reg32Field('HTTU Override', 2, 1),
  proximityValid: reg32Field('Proximity Domain Valid', 3, 3),
  /** DeviceID mapping index valid: defined by later issues (E.e); not emitted at table revision 5. */
  deviceIdValid: reg32Field('DeviceID mapping index valid', 4, 4),
});
export const IORT_SMMU_V3_MODEL = Object.freeze({ GENERIC: 0, HISILICON_HI161X: 1, CAVIUM_CN99XX: 2 });

/** SMMUv1/v2 node (§3.8): the fields we decode. */
export const IORT_SMMU_V1_V2 = Object.freeze({
  baseAddress: u64('Base Address', 16),
  span: u64('Span', 24),
  model: u32('Model', 32),
  flags: u32('Flags', 36),
});
export const IORT_SMMU_V1_V2_MIN_SIZE = 40;

/** PMCG node (§3.10). */
export const IORT_PMCG = Object.freeze({
  page0Base: u64('Page 0 Base Address', 16),
  overflowGsiv: u32('Overflow interrupt GSIV', 24),
  nodeReference: u32('Node reference', 28),
  page1Base: u64('Page 1 Base Address', 32),
});
export const IORT_PMCG_SIZE = 40;

/** RMR node (§3.11, E.d). */
export const IORT_RMR = Object.freeze({
  flags: u32('Flags', 16),
  rangeCount: u32('Number of Memory Range Descriptors', 20),
  rangeOffset: u32('Reference to Memory Range Descriptors', 24),
});
export const IORT_RMR_SIZE = 28;
export const IORT_RMR_FLAGS = Object.freeze({
  remapPermitted: reg32Field('Remapping Permitted', 0, 0),
  accessPrivilege: reg32Field('Access Privilege', 1, 1),
  accessAttributes: reg32Field('Access Attributes', 9, 2),
});
/** RMR memory range descriptor (§3.11.1). */
export const IORT_RMR_RANGE = Object.freeze({
  base: u64('Physical Range offset', 0),
  length: u64('Physical Range length', 8),
  reserved: u32('Reserved', 16),
});
export const IORT_RMR_RANGE_SIZE = 20;
/** RMR access attribute 0x05: normal, inner/outer write-back, inner shareable. */
export const IORT_RMR_ATTR_NORMAL_WB_ISH = 0x05;

/** Table revisions this project emits, with the node revisions that belong to each. */
export type IortTableRevision = 3 | 5;
export interface IortNodeRevisions {
  readonly its: number;
  readonly namedComponent: number;
  readonly rootComplex: number;
  readonly smmuV3: number;
  readonly rmr: number | null;
}
export const IORT_NODE_REVISIONS: Readonly<Record<IortTableRevision, IortNodeRevisions>> = Object.freeze({
  5: Object.freeze({ its: 1, namedComponent: 4, rootComplex: 4, smmuV3: 4, rmr: 3 }),
  3: Object.freeze({ its: 1, namedComponent: 4, rootComplex: 3, smmuV3: 4, rmr: null }),
});
/** DEN 0049 issue for each emitted table revision (shown by decoders). */
export const IORT_REVISION_ISSUE: Readonly<Record<number, string>> = Object.freeze({ 0: 'D', 3: 'E.b', 4: 'E.c', 5: 'E.d', 6: 'E.e', 7: 'E.f' });
