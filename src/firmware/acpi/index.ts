// ACPI firmware tables: IORT (DEN 0049, revisions 5 = E.d and 3 = E.b) and MADT builders from the
// platform description, explicit-structure encoders, lenient decoders, text/JSON views, the
// RSDP/XSDT wrapper and checksums.
export { buildIort, iortNodesFor, type BuildIortOptions, type RmrDesc } from './iort-build.js';
export { buildMadt, madtEntriesFor, cpuMpidr, type BuildMadtOptions } from './madt-build.js';
export { encodeIort, encodeIdCount, type IortEncodeOptions } from './iort-encode.js';
export { decodeIort } from './iort-decode.js';
export type * from './iort-types.js';
export { encodeMadt, decodeMadt, type MadtTable, type MadtEntry, type MadtEntrySpec } from './madt.js';
export { buildAcpiTableSet, encodeRsdp, encodeXsdt, decodeRsdp, decodeXsdt, type AcpiTableSet } from './rsdp.js';
export { byteSum, setChecksum, fixTableChecksum } from './checksum.js';
export { decodeHeader, finishTable, DEFAULT_OEM, type AcpiHeader, type OemInfo, type DecodeIssue } from './sdt.js';
export { AcpiDecodeError } from './bytes.js';
export { mapId as iortMapId, mapStep as iortMapStep, routeIortRid, linuxIdMappingIndex, SMMU_TYPES, MSI_TYPES, type IortRidRoute } from './iort-resolve.js';
export { IortRangeResolver, pieceId as iortPieceId, type IortRangePiece } from './iort-ranges.js';
export { iortToJson, iortToText, madtToJson, madtToText, type Json } from './format.js';
