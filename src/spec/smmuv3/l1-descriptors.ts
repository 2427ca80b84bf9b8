// SMMUv3 level-1 descriptors: L1STD (2-level stream table) and L1CD (2-level CD table).
// Layout and encodings only. IHI 0070 §5.1 (Level 1 Stream Table Descriptor), §5.3 (L1CD).
import { encodeFields, field, bit, type Field, type FieldValues } from '../bits.js';

/** L1STD: 8 bytes. Span[4:0]: the L2 table holds 2^(Span-1) STEs (0 = invalid, 12..31 Reserved = invalid). */
export const L1STD = Object.freeze({
  SPAN: field('Span', 0, 4, 0),
  /** L2Ptr = address bits [55:6] (field value = address >> 6). */
  L2PTR: field('L2Ptr', 0, 55, 6),
} satisfies Record<string, Field>);

export const L1STD_BYTES = 8;
/** Largest architected Span value (§5.1: 0 invalid, 1..11 valid, 12..31 Reserved, behaving as 0). */
export const L1STD_SPAN_MAX = 11;

/** L1CD: 8 bytes. V[0], L2Ptr[55:12]. */
export const L1CD = Object.freeze({
  V: bit('V', 0, 0),
  /** L2Ptr = address bits [55:12] (field value = address >> 12). */
  L2PTR: field('L2Ptr', 0, 55, 12),
} satisfies Record<string, Field>);

export const L1CD_BYTES = 8;

/** Encodes an L1STD (one doubleword) from field values (`L2PTR`: `inPlace(L1STD.L2PTR, address)`). */
export function encodeL1Std(values: FieldValues<typeof L1STD>): bigint {
  return encodeFields(L1STD, values, 1)[0]!;
}

/** Encodes an L1CD (one doubleword) from field values (`L2PTR`: `inPlace(L1CD.L2PTR, address)`). */
export function encodeL1Cd(values: FieldValues<typeof L1CD>): bigint {
  return encodeFields(L1CD, values, 1)[0]!;
}
