// Public API of the SMMUv3 translation engine (IHI 0070 chapters 3-5, 7): the Translator with
// its configuration cache and IOTLB, request/result types, the inspector views. See docs/translation.md.
export { Translator, type TranslatorState } from './translator.js';
export { type Invalidator } from './invalidation.js';
export { decodeStream, translateVerbose, mappings } from './inspect.js';
export {
  newRequest, setAddress, makeRequest, newResult,
  PERM_R, PERM_W, PERM_X, XLATE_KIND,
  type TranslationRequest, type TranslationResult, type StreamTableConfig, type TranslatorOptions, type TlbiOperand,
  type TranslatorStats, type WalkStep, type WalkTrace, type CdReport, type StreamReport, type MappedRange,
} from './types.js';
export { permsString } from './format.js';
