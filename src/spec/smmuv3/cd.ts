// SMMUv3 Context Descriptor (CD): 64 bytes, 8 doublewords. Layout and encodings only.
// IHI 0070 §5.4 (CD). Illegal combinations are decided in src/smmu/translation/cd-config.ts.
import { field, bit, type Field, encodeFields, type FieldValues } from '../bits.js';

export const CD_BYTES = 64;
export const CD_DWORDS = 8;

export const CD = Object.freeze({
  // ---- doubleword 0
  T0SZ: field('T0SZ', 0, 5, 0),
  TG0: field('TG0', 0, 7, 6),
  IR0: field('IR0', 0, 9, 8),
  OR0: field('OR0', 0, 11, 10),
  SH0: field('SH0', 0, 13, 12),
  EPD0: bit('EPD0', 0, 14),
  ENDI: bit('ENDI', 0, 15),
  T1SZ: field('T1SZ', 0, 21, 16),
  TG1: field('TG1', 0, 23, 22),
  IR1: field('IR1', 0, 25, 24),
  OR1: field('OR1', 0, 27, 26),
  SH1: field('SH1', 0, 29, 28),
  EPD1: bit('EPD1', 0, 30),
  V: bit('V', 0, 31),
  IPS: field('IPS', 0, 34, 32),
  AFFD: bit('AFFD', 0, 35),
  WXN: bit('WXN', 0, 36),
  UWXN: bit('UWXN', 0, 37),
  TBI0: bit('TBI0', 0, 38),
  TBI1: bit('TBI1', 0, 39),
  PAN: bit('PAN', 0, 40),
  AA64: bit('AA64', 0, 41),
  HD: bit('HD', 0, 42),
  HA: bit('HA', 0, 43),
  S: bit('S', 0, 44),
  R: bit('R', 0, 45),
  A: bit('A', 0, 46),
  ASET: bit('ASET', 0, 47),
  ASID: field('ASID', 0, 63, 48),
  // ---- doubleword 1
  NSCFG0: bit('NSCFG0', 1, 0),
  HAD0: bit('HAD0', 1, 1),
  E0PD0: bit('E0PD0', 1, 2),
  HAFT: bit('HAFT', 1, 3),
  /** TTB0 = address bits [55:4] (field value = address >> 4). */
  TTB0: field('TTB0', 1, 55, 4),
  PNCH: bit('PnCH', 1, 58),
  EPAN: bit('EPAN', 1, 59),
  HWU059: bit('HWU059', 1, 60),
  HWU060: bit('HWU060', 1, 61),
  HWU061: bit('HWU061', 1, 62),
  HWU062: bit('HWU062', 1, 63),
  // ---- doubleword 2
  NSCFG1: bit('NSCFG1', 2, 0),
  HAD1: bit('HAD1', 2, 1),
  E0PD1: bit('E0PD1', 2, 2),
  AIE: bit('AIE', 2, 3),
  /** TTB1 = address bits [55:4] (field value = address >> 4). */
  TTB1: field('TTB1', 2, 55, 4),
  DS: bit('DS', 2, 58),
  PIE: bit('PIE', 2, 59),
  HWU159: bit('HWU159', 2, 60),
  HWU160: bit('HWU160', 2, 61),
  HWU161: bit('HWU161', 2, 62),
  HWU162: bit('HWU162', 2, 63),
  // ---- doubleword 3
  MAIR0: field('MAIR0', 3, 31, 0),
  MAIR1: field('MAIR1', 3, 63, 32),
  // ---- doubleword 4
  AMAIR0: field('AMAIR0', 4, 31, 0),
  AMAIR1: field('AMAIR1', 4, 63, 32),
  // ---- doubleword 5
  IMPDEF: field('IMPLEMENTATION_DEFINED', 5, 31, 0),
  PARTID: field('PARTID', 5, 47, 32),
  PMG: field('PMG', 5, 55, 48),
  // ---- doubleword 6/7
  PIIU: field('PIIU', 6, 47, 0),
  PIIP: field('PIIP', 7, 47, 0),
} satisfies Record<string, Field>);

export type CdFieldName = keyof typeof CD;

// CD.TG0 uses the same encoding as STE.S2TG: see TG0_SHIFT in pagetable.ts.
/** CD.TG1 encoding -> granule log2 (0b00 Reserved, 0b01 16K, 0b10 4K, 0b11 64K). */
export const CD_TG1_SHIFT: readonly number[] = Object.freeze([0, 14, 12, 16]);
/** CD.IPS / STE.S2PS encoding -> address bits (0b111 = 56 is beyond this model's OAS and behaves as the cap). */
export const PS_BITS: readonly number[] = Object.freeze([32, 36, 40, 42, 44, 48, 52, 56]);

/**
 * Encodes a CD into its eight doublewords from field values (address fields take the field value:
 * use `inPlace(CD.TTB0, address)`). Unknown names throw (host misuse).
 */
export function encodeCd(values: FieldValues<typeof CD>): bigint[] {
  return encodeFields(CD, values, CD_DWORDS);
}
