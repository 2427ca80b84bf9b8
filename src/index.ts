/**
 * vsmmu library entry point. Subsystems: spec (layouts and encodings only), memory, smmu, intc,
 * pcie, firmware, platform.
 */
export * from './memory/types.js';
export * from './memory/guest-memory.js';
export * from './spec/bits.js';
export { hex } from './util/hex.js';
export { UserInputError, ExpectationError } from './util/errors.js';
