// IORT data model (DEN 0049): what the decoder returns and the explicit node structures the
// encoder takes. 64-bit addresses are bigint (codec side); IDs and 32-bit fields are numbers.
import type { AcpiHeader, DecodeIssue } from './sdt.js';

/** An ID mapping as stored: `idCount` is the raw field (number of IDs minus one). */
export interface IortIdMap {
  /** Byte offset of this mapping in the table. */
  readonly offset: number;
  readonly inputBase: number;
  readonly idCount: number;
  readonly outputBase: number;
  readonly outputReference: number;
  readonly flags: number;
  readonly single: boolean;
}

export interface IortMemoryProperties {
  readonly cacheCoherency: number;
  readonly allocationHints: number;
  readonly memoryAccessFlags: number;
}

interface NodeCommon {
  /** Byte offset of the node in the table. */
  readonly offset: number;
  readonly type: number;
  readonly length: number;
  readonly revision: number;
  readonly identifier: number;
  readonly mappingCount: number;
  readonly mappingOffset: number;
  /** The mappings that could be decoded (fewer than mappingCount when the node is truncated). */
  readonly mappings: readonly IortIdMap[];
}

export interface IortItsGroup extends NodeCommon {
  readonly kind: 'its-group';
  readonly itsIds: readonly number[];
}
export interface IortNamedComponent extends NodeCommon {
  readonly kind: 'named-component';
  readonly nodeFlags: number;
  readonly memory: IortMemoryProperties;
  readonly addressSizeLimit: number;
  readonly name: string;
}
export interface IortRootComplex extends NodeCommon {
  readonly kind: 'root-complex';
  readonly memory: IortMemoryProperties;
  readonly atsAttribute: number;
  readonly segment: number;
  /** Present from node revision 1. */
  readonly memoryAddressLimit: number | null;
  /** Present from node revision 4. */
  readonly pasidCapabilities: number | null;
  /** Present only in post-E.d nodes with a 40-byte fixed part. */
  readonly rcFlags: number | null;
}
export interface IortSmmuV3 extends NodeCommon {
  readonly kind: 'smmuv3';
  readonly baseAddress: bigint;
  readonly flags: number;
  readonly vatosAddress: bigint;
  readonly model: number;
  readonly eventGsiv: number;
  readonly priGsiv: number;
  readonly gerrGsiv: number;
  readonly syncGsiv: number;
  readonly proximityDomain: number;
  readonly deviceIdMappingIndex: number;
}
export interface IortSmmuV1V2 extends NodeCommon {
  readonly kind: 'smmuv1v2';
  readonly baseAddress: bigint;
  readonly span: bigint;
  readonly model: number;
  readonly flags: number;
}
export interface IortPmcg extends NodeCommon {
  readonly kind: 'pmcg';
  readonly page0Base: bigint;
  readonly overflowGsiv: number;
  readonly nodeReference: number;
  readonly page1Base: bigint;
}
export interface IortRmrRange {
  readonly base: bigint;
  readonly length: bigint;
}
export interface IortRmr extends NodeCommon {
  readonly kind: 'rmr';
  readonly flags: number;
  readonly rangeCount: number;
  readonly rangeOffset: number;
  readonly ranges: readonly IortRmrRange[];
}
/** A node of an unknown type, or too short for its type's fixed part. */
export interface IortOpaqueNode extends NodeCommon {
  readonly kind: 'unknown';
}

export type IortNode = IortItsGroup | IortNamedComponent | IortRootComplex | IortSmmuV3 | IortSmmuV1V2 | IortPmcg | IortRmr | IortOpaqueNode;

export interface IortTable {
  readonly header: AcpiHeader;
  readonly nodeCount: number;
  readonly nodeOffset: number;
  readonly nodes: readonly IortNode[];
  /** Structural problems (lengths, checksum) found while decoding; the linter reports them. */
  readonly issues: readonly DecodeIssue[];
}

// ------------------------------------------------------------------ encoder input

/** A mapping to encode. `count` is the number of IDs (the encoder stores count - 1). */
export interface IortMappingSpec {
  readonly inputBase: number;
  readonly count: number;
  readonly outputBase: number;
  /** `key` of the target node. */
  readonly target: string;
  readonly single?: boolean;
  /**
   * Raw value to store in the "number of IDs" field instead of count - 1. Only for reproducing
   * other producers' tables (e.g. QEMU 7.2's raw count) in tests.
   */
  readonly rawIdCount?: number;
}

interface SpecCommon {
  /** Name other nodes' mappings use as `target`. */
  readonly key: string;
  readonly identifier: number;
}

export interface IortItsGroupSpec extends SpecCommon {
  readonly kind: 'its-group';
  readonly itsIds: readonly number[];
}
export interface IortSmmuV3Spec extends SpecCommon {
  readonly kind: 'smmuv3';
  readonly baseAddress: number;
  /** COHACC override: the SMMU's table walks and queue accesses are coherent. */
  readonly coherent: boolean;
  readonly httuOverride?: number;
  readonly model?: number;
  /** GSIVs (INTIDs) of the wired interrupts; 0 = not wired (signalled by MSI). */
  readonly gsiv: { readonly event: number; readonly pri: number; readonly gerr: number; readonly sync: number };
  readonly proximityDomain: number | null;
  readonly mappings: readonly IortMappingSpec[];
  /**
   * Index in `mappings` of the single mapping giving the SMMU's own MSI DeviceID; mappings.length
   * to say "none" explicitly; null writes 0.
   */
  readonly deviceIdMappingIndex: number | null;
}
export interface IortRootComplexSpec extends SpecCommon {
  readonly kind: 'root-complex';
  readonly cacheCoherent: boolean;
  readonly allocationHints?: number;
  readonly memoryAccessFlags: number;
  readonly ats: boolean;
  readonly segment: number;
  readonly memoryAddressLimit: number;
  readonly mappings: readonly IortMappingSpec[];
}
export interface IortNamedComponentSpec extends SpecCommon {
  readonly kind: 'named-component';
  readonly nodeFlags?: number;
  readonly cacheCoherent: boolean;
  readonly allocationHints?: number;
  readonly memoryAccessFlags: number;
  readonly addressSizeLimit: number;
  /** Full ACPI namespace path of the device, e.g. "\\_SB.DMA0". */
  readonly name: string;
  readonly mappings: readonly IortMappingSpec[];
}
export interface IortRmrSpec extends SpecCommon {
  readonly kind: 'rmr';
  readonly remapPermitted: boolean;
  readonly privileged: boolean;
  /** Access attributes (e.g. IORT_RMR_ATTR_NORMAL_WB_ISH). */
  readonly accessAttributes: number;
  /** Stream IDs (on an SMMU node) the reserved ranges apply to. */
  readonly mappings: readonly IortMappingSpec[];
  readonly ranges: readonly { readonly base: number; readonly length: number }[];
}

export type IortNodeSpec = IortItsGroupSpec | IortSmmuV3Spec | IortRootComplexSpec | IortNamedComponentSpec | IortRmrSpec;
