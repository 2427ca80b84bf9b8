// VMSAv8-64 translation table descriptors (stage 1 and stage 2) for the 4 KiB, 16 KiB and
// 64 KiB granules, and the geometry of each granule. Layout and encodings only.
// Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats"; as used by SMMUv3
// (IHI 0070 §3.4 address sizes, §5.4 CD, §5.2 STE stage-2 fields).
import { field, bit, getBig, setBigWord, type Field } from '../bits.js';

/** Fields common to every descriptor. */
export const DESC = Object.freeze({
  VALID: bit('Valid', 0, 0),
  /** 1 = table (levels < 3) or page (level 3); 0 = block (levels < 3) or Reserved (level 3). */
  TYPE: bit('Type', 0, 1),
} satisfies Record<string, Field>);

/** Stage-1 block/page descriptor (lower and upper attributes). */
export const S1_LEAF = Object.freeze({
  ATTR_INDX: field('AttrIndx', 0, 4, 2),
  NS: bit('NS', 0, 5),
  /** AP[1]: 1 = unprivileged access allowed (EL0). */
  AP1: bit('AP[1]', 0, 6),
  /** AP[2]: 1 = read-only. */
  AP2: bit('AP[2]', 0, 7),
  SH: field('SH', 0, 9, 8),
  AF: bit('AF', 0, 10),
  NG: bit('nG', 0, 11),
  /** OA[51:48] with the 64 KiB granule and 52-bit output (FEAT_LPA). */
  OA_HI_64K: field('OA[51:48]', 0, 15, 12),
  GP: bit('GP', 0, 50),
  DBM: bit('DBM', 0, 51),
  CONTIGUOUS: bit('Contiguous', 0, 52),
  PXN: bit('PXN', 0, 53),
  /** UXN (XN at EL2 without E2H). */
  UXN: bit('UXN', 0, 54),
  SW: field('Software', 0, 58, 55),
} satisfies Record<string, Field>);

/** Stage-2 block/page descriptor. */
export const S2_LEAF = Object.freeze({
  MEM_ATTR: field('MemAttr', 0, 5, 2),
  /** S2AP[0]: read allowed. */
  S2AP_R: bit('S2AP[0]', 0, 6),
  /** S2AP[1]: write allowed. */
  S2AP_W: bit('S2AP[1]', 0, 7),
  SH: field('SH', 0, 9, 8),
  AF: bit('AF', 0, 10),
  OA_HI_64K: field('OA[51:48]', 0, 15, 12),
  DBM: bit('DBM', 0, 51),
  CONTIGUOUS: bit('Contiguous', 0, 52),
  /** XN[1:0] (FEAT_XNX: bit 53 is the second XN bit; without it only bit 54 matters). */
  XN: field('XN', 0, 54, 53),
  SW: field('Software', 0, 58, 55),
} satisfies Record<string, Field>);

/** Stage-1 table descriptor hierarchical attributes (ignored at stage 2). */
export const S1_TABLE = Object.freeze({
  OA_HI_64K: field('NLTA[51:48]', 0, 15, 12),
  PXN_TABLE: bit('PXNTable', 0, 59),
  /** UXNTable (XNTable at EL2 without E2H). */
  XN_TABLE: bit('XNTable', 0, 60),
  /** APTable[0] (bit 61): no EL0 access below; APTable[1] (bit 62): read-only below. */
  AP_TABLE: field('APTable', 0, 62, 61),
  NS_TABLE: bit('NSTable', 0, 63),
} satisfies Record<string, Field>);

/** Output/next-level address bits [47:granuleShift] live in place in the descriptor. */
export const DESC_OA_MSB = 47;

/** Translation granule geometry (VMSAv8-64). */
export interface GranuleGeometry {
  /** log2 of the granule size: 12, 14 or 16. */
  readonly shift: number;
  /** Bits resolved per level: shift - 3. */
  readonly stride: number;
  /** Levels at which a block descriptor is legal (without FEAT_LPA2/DS). */
  readonly blockLevels: readonly number[];
  /** Whether 52-bit output addresses are encodable (64 KiB with FEAT_LPA). */
  readonly oa52: boolean;
}

export const GRANULES: Readonly<Record<12 | 14 | 16, GranuleGeometry>> = Object.freeze({
  12: { shift: 12, stride: 9, blockLevels: [1, 2], oa52: false },
  14: { shift: 14, stride: 11, blockLevels: [2], oa52: false },
  16: { shift: 16, stride: 13, blockLevels: [1, 2], oa52: true },
});

/** STE.S2TG / CD.TG0 encoding -> granule shift (0 = Reserved). */
export const TG0_SHIFT: readonly number[] = Object.freeze([12, 16, 14, 0]);

/** STE.S2TG / CD.TG0 encoding of a granule shift (inverse of TG0_SHIFT). */
export function tg0Of(granuleShift: 12 | 14 | 16): number {
  return TG0_SHIFT.indexOf(granuleShift);
}

/** The lowest address bit a level's index resolves: each entry at `level` maps 2^levelShift bytes. */
export function levelShift(granuleShift: number, level: number): number {
  return granuleShift + (granuleShift - 3) * (3 - level);
}

/**
 * The level a walk of `inputBits` input address bits starts at with a single start table:
 * 4 - ceil((inputBits - granuleShift) / (granuleShift - 3)). Stage 1 always starts there; stage 2
 * may start one or more levels lower with concatenated start tables (STE.S2SL0).
 */
export function startLevel(inputBits: number, granuleShift: number): number {
  return 4 - Math.ceil((inputBits - granuleShift) / (granuleShift - 3));
}

/** Entries of the start table at `level` for `inputBits` (more than one table's worth: concatenated). */
export function startTableEntries(inputBits: number, granuleShift: number, level: number): number {
  return 2 ** (inputBits - levelShift(granuleShift, level));
}

/** STE.S2SL0 for a stage-2 start level (IHI 0070 §5.2, without FEAT_LPA2): 4 KiB 2 - level, else 3 - level. */
export function s2Sl0Of(granuleShift: 12 | 14 | 16, level: number): number {
  return granuleShift === 12 ? 2 - level : 3 - level;
}

/** The next-level table address a table descriptor holds (bits [47:g], and [51:48] from [15:12] with 64 KiB). */
export function nextTableAddress(d: bigint, granuleShift: 12 | 14 | 16): number {
  let a = d & ((1n << BigInt(DESC_OA_MSB + 1)) - 1n) & ~((1n << BigInt(granuleShift)) - 1n);
  if (granuleShift === 16) a |= getBig([d], S1_TABLE.OA_HI_64K) << 48n;
  return Number(a);
}

/** S2 MemAttr / MAIR helpers: MAIR attribute byte for index `i` of a 64-bit MAIR given as lo/hi halves. */
export function mairByte(mairLo: number, mairHi: number, index: number): number {
  return index < 4 ? (mairLo >>> (index * 8)) & 0xff : (mairHi >>> ((index - 4) * 8)) & 0xff;
}

/** Valid + Type and the output (or next-table) address: bits [47:g], and [51:48] in bits [15:12] with 64 KiB. */
function descriptorBase(oaIn: bigint | number, level3: boolean, granuleShift: 12 | 14 | 16): bigint {
  const oa = BigInt(oaIn);
  let d = oa & ((1n << BigInt(DESC_OA_MSB + 1)) - 1n) & ~((1n << BigInt(granuleShift)) - 1n);
  d = setBigWord(d, DESC.VALID, 1);
  d = setBigWord(d, DESC.TYPE, level3 ? 1 : 0);
  if (granuleShift === 16) d = setBigWord(d, S1_LEAF.OA_HI_64K, (oa >> 48n) & 0xfn);
  return d;
}

/** Encodes a stage-1 leaf descriptor (tools/tests). `level3` selects page (0b11) vs block (0b01). */
export function encodeS1Leaf(opts: {
  oa: bigint | number;
  level3: boolean;
  attrIndx?: number;
  ap?: number; // AP[2:1]
  sh?: number;
  af?: boolean;
  ng?: boolean;
  dbm?: boolean;
  pxn?: boolean;
  uxn?: boolean;
  granuleShift?: 12 | 14 | 16;
}): bigint {
  let d = descriptorBase(opts.oa, opts.level3, opts.granuleShift ?? 12);
  const ap = opts.ap ?? 0;
  d = setBigWord(d, S1_LEAF.ATTR_INDX, opts.attrIndx ?? 0);
  d = setBigWord(d, S1_LEAF.AP1, ap & 1);
  d = setBigWord(d, S1_LEAF.AP2, (ap >> 1) & 1);
  d = setBigWord(d, S1_LEAF.SH, opts.sh ?? 0);
  d = setBigWord(d, S1_LEAF.AF, (opts.af ?? true) ? 1 : 0);
  d = setBigWord(d, S1_LEAF.NG, opts.ng ? 1 : 0);
  d = setBigWord(d, S1_LEAF.DBM, opts.dbm ? 1 : 0);
  d = setBigWord(d, S1_LEAF.PXN, opts.pxn ? 1 : 0);
  d = setBigWord(d, S1_LEAF.UXN, opts.uxn ? 1 : 0);
  return d;
}

/** Encodes a stage-2 leaf descriptor (tools/tests). */
export function encodeS2Leaf(opts: {
  oa: bigint | number;
  level3: boolean;
  memAttr?: number;
  s2ap?: number; // bit0 read, bit1 write
  sh?: number;
  af?: boolean;
  dbm?: boolean;
  xn?: number;
  granuleShift?: 12 | 14 | 16;
}): bigint {
  let d = descriptorBase(opts.oa, opts.level3, opts.granuleShift ?? 12);
  const s2ap = opts.s2ap ?? 3;
  d = setBigWord(d, S2_LEAF.MEM_ATTR, opts.memAttr ?? 0xf);
  d = setBigWord(d, S2_LEAF.S2AP_R, s2ap & 1);
  d = setBigWord(d, S2_LEAF.S2AP_W, (s2ap >> 1) & 1);
  d = setBigWord(d, S2_LEAF.SH, opts.sh ?? 0);
  d = setBigWord(d, S2_LEAF.AF, (opts.af ?? true) ? 1 : 0);
  d = setBigWord(d, S2_LEAF.DBM, opts.dbm ? 1 : 0);
  d = setBigWord(d, S2_LEAF.XN, opts.xn ?? 0);
  return d;
}

/** Encodes a table descriptor pointing at `next` (tools/tests). */
export function encodeTable(next: bigint | number, granuleShift: 12 | 14 | 16 = 12, attrs: { apTable?: number; xnTable?: boolean; pxnTable?: boolean } = {}): bigint {
  // A table descriptor carries its next-level address like a level-3 page (Valid = Type = 1).
  let d = descriptorBase(next, true, granuleShift);
  d = setBigWord(d, S1_TABLE.AP_TABLE, attrs.apTable ?? 0);
  d = setBigWord(d, S1_TABLE.XN_TABLE, attrs.xnTable ? 1 : 0);
  d = setBigWord(d, S1_TABLE.PXN_TABLE, attrs.pxnTable ? 1 : 0);
  return d;
}
