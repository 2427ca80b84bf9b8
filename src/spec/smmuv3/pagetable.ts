// VMSAv8-64 translation table descriptors (stage 1 and stage 2) for the 4 KiB, 16 KiB and
// 64 KiB granules, and the geometry of each granule. Layout and encodings only.
// Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats"; as used by SMMUv3
// (IHI 0070 §3.4 address sizes, §5.4 CD, §5.2 STE stage-2 fields).
import { field, bit, type Field } from '../bits.js';

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

/** S2 MemAttr / MAIR helpers: MAIR attribute byte for index `i` of a 64-bit MAIR given as lo/hi halves. */
export function mairByte(mairLo: number, mairHi: number, index: number): number {
  return index < 4 ? (mairLo >>> (index * 8)) & 0xff : (mairHi >>> ((index - 4) * 8)) & 0xff;
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
  const oa = BigInt(opts.oa);
  const g = opts.granuleShift ?? 12;
  let d = (oa & ((1n << 48n) - 1n) & ~((1n << BigInt(g)) - 1n)) | (opts.level3 ? 3n : 1n);
  if (g === 16) d |= ((oa >> 48n) & 0xfn) << 12n;
  d |= BigInt(opts.attrIndx ?? 0) << 2n;
  d |= BigInt(opts.ap ?? 0) << 6n;
  d |= BigInt(opts.sh ?? 0) << 8n;
  if (opts.af ?? true) d |= 1n << 10n;
  if (opts.ng) d |= 1n << 11n;
  if (opts.dbm) d |= 1n << 51n;
  if (opts.pxn) d |= 1n << 53n;
  if (opts.uxn) d |= 1n << 54n;
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
  const oa = BigInt(opts.oa);
  const g = opts.granuleShift ?? 12;
  let d = (oa & ((1n << 48n) - 1n) & ~((1n << BigInt(g)) - 1n)) | (opts.level3 ? 3n : 1n);
  if (g === 16) d |= ((oa >> 48n) & 0xfn) << 12n;
  d |= BigInt(opts.memAttr ?? 0xf) << 2n;
  d |= BigInt(opts.s2ap ?? 3) << 6n;
  d |= BigInt(opts.sh ?? 0) << 8n;
  if (opts.af ?? true) d |= 1n << 10n;
  if (opts.dbm) d |= 1n << 51n;
  d |= BigInt(opts.xn ?? 0) << 53n;
  return d;
}

/** Encodes a table descriptor pointing at `next` (tools/tests). */
export function encodeTable(next: bigint | number, granuleShift: 12 | 14 | 16 = 12, attrs: { apTable?: number; xnTable?: boolean; pxnTable?: boolean } = {}): bigint {
  const a = BigInt(next);
  let d = (a & ((1n << 48n) - 1n) & ~((1n << BigInt(granuleShift)) - 1n)) | 3n;
  if (granuleShift === 16) d |= ((a >> 48n) & 0xfn) << 12n;
  d |= BigInt(attrs.apTable ?? 0) << 61n;
  if (attrs.xnTable) d |= 1n << 60n;
  if (attrs.pxnTable) d |= 1n << 59n;
  return d;
}
