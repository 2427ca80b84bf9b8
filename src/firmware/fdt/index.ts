// Public API of the flattened device tree toolkit: tree model and helpers, DTB v17 writer,
// DTB reader (untrusted input -> FdtError), DTS text as dtc prints it.
export * from './tree.js';
export { writeDtb } from './writer.js';
export { parseDtb, isDtb, FdtError, FDT_MAX_DEPTH } from './reader.js';
export { toDts, formatPropValue, guessValueType } from './dts.js';
export { fdtToJson, type FdtJson } from './json.js';
