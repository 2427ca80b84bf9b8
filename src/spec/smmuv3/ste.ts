// SMMUv3 Stream Table Entry (STE): 64 bytes, 8 doublewords. Layout and encodings only.
// IHI 0070 §5.2 (STE) — field names and bit positions as the specification gives them
// (STE bit n = doubleword n/64, bit n%64). Which combinations are ILLEGAL is decided in
// src/smmu/translation/ste-config.ts.
import { encodeFields, field, bit, type Field, type FieldValues } from '../bits.js';

export const STE_BYTES = 64;
export const STE_DWORDS = 8;

export const STE = Object.freeze({
  // ---- doubleword 0
  V: bit('V', 0, 0),
  CONFIG: field('Config', 0, 3, 1),
  S1FMT: field('S1Fmt', 0, 5, 4),
  /** S1ContextPtr = address bits [55:6] (field value = address >> 6; the engine reads it in place). */
  S1_CONTEXT_PTR: field('S1ContextPtr', 0, 55, 6),
  S1CDMAX: field('S1CDMax', 0, 63, 59),
  // ---- doubleword 1
  S1DSS: field('S1DSS', 1, 1, 0),
  S1CIR: field('S1CIR', 1, 3, 2),
  S1COR: field('S1COR', 1, 5, 4),
  S1CSH: field('S1CSH', 1, 7, 6),
  S2HWU59: bit('S2HWU59', 1, 8),
  S2HWU60: bit('S2HWU60', 1, 9),
  S2HWU61: bit('S2HWU61', 1, 10),
  S2HWU62: bit('S2HWU62', 1, 11),
  DRE: bit('DRE', 1, 12),
  CONT: field('CONT', 1, 16, 13),
  DCP: bit('DCP', 1, 17),
  PPAR: bit('PPAR', 1, 18),
  MEV: bit('MEV', 1, 19),
  SW_RESERVED: field('SW_RESERVED', 1, 23, 20),
  S1PIE: bit('S1PIE', 1, 24),
  S2FWB: bit('S2FWB', 1, 25),
  S1MPAM: bit('S1MPAM', 1, 26),
  S1STALLD: bit('S1STALLD', 1, 27),
  EATS: field('EATS', 1, 29, 28),
  STRW: field('STRW', 1, 31, 30),
  MEMATTR: field('MemAttr', 1, 35, 32),
  MTCFG: bit('MTCFG', 1, 36),
  ALLOCCFG: field('ALLOCCFG', 1, 40, 37),
  SHCFG: field('SHCFG', 1, 45, 44),
  NSCFG: field('NSCFG', 1, 47, 46),
  PRIVCFG: field('PRIVCFG', 1, 49, 48),
  INSTCFG: field('INSTCFG', 1, 51, 50),
  // ---- doubleword 2
  S2VMID: field('S2VMID', 2, 15, 0),
  S2T0SZ: field('S2T0SZ', 2, 37, 32),
  S2SL0: field('S2SL0', 2, 39, 38),
  S2IR0: field('S2IR0', 2, 41, 40),
  S2OR0: field('S2OR0', 2, 43, 42),
  S2SH0: field('S2SH0', 2, 45, 44),
  S2TG: field('S2TG', 2, 47, 46),
  S2PS: field('S2PS', 2, 50, 48),
  S2AA64: bit('S2AA64', 2, 51),
  S2ENDI: bit('S2ENDI', 2, 52),
  S2AFFD: bit('S2AFFD', 2, 53),
  S2PTW: bit('S2PTW', 2, 54),
  S2HD: bit('S2HD', 2, 55),
  S2HA: bit('S2HA', 2, 56),
  S2S: bit('S2S', 2, 57),
  S2R: bit('S2R', 2, 58),
  S2HAFT: bit('S2HAFT', 2, 59),
  S2PIE: bit('S2PIE', 2, 60),
  S2POE: bit('S2POE', 2, 61),
  DPT_VMATCH: field('DPT_VMATCH', 2, 63, 62),
  // ---- doubleword 3
  S2NSW: bit('S2NSW', 3, 0),
  S2NSA: bit('S2NSA', 3, 1),
  S2SL0_2: bit('S2SL0_2', 3, 2),
  S2DS: bit('S2DS', 3, 3),
  /** S2TTB = address bits [55:4] (field value = address >> 4). */
  S2TTB: field('S2TTB', 3, 55, 4),
  S2SKL: field('S2SKL', 3, 62, 61),
  // ---- doubleword 4
  PARTID: field('PARTID', 4, 31, 16),
  S_S2T0SZ: field('S_S2T0SZ', 4, 37, 32),
  S_S2SL0: field('S_S2SL0', 4, 39, 38),
  S_S2TG: field('S_S2TG', 4, 47, 46),
  MECID: field('MECID', 4, 63, 48),
  // ---- doubleword 5
  PMG: field('PMG', 5, 7, 0),
  MPAM_NS: bit('MPAM_NS', 5, 8),
  ASSURED_ONLY: bit('AssuredOnly', 5, 9),
  TL0: bit('TL0', 5, 10),
  TL1: bit('TL1', 5, 11),
  VMSPTR: field('VMSPtr', 5, 55, 12),
  // ---- doubleword 6
  S2SW: bit('S2SW', 6, 0),
  S2SA: bit('S2SA', 6, 1),
  S_S2SL0_2: bit('S_S2SL0_2', 6, 2),
  S_S2TTB: field('S_S2TTB', 6, 55, 4),
  S_S2SKL: field('S_S2SKL', 6, 62, 61),
  // ---- doubleword 7
  S2POI: field('S2POI', 7, 63, 0),
} satisfies Record<string, Field>);

export type SteFieldName = keyof typeof STE;

/** STE.Config values (§5.2). 0b001-0b011 are Reserved and behave as 0b000 (abort). */
export const STE_CONFIG = Object.freeze({ ABORT: 0b000, BYPASS: 0b100, S1: 0b101, S2: 0b110, NESTED: 0b111 });
/** STE.S1Fmt: linear, 2-level with 4 KiB leaves (64 CDs), 2-level with 64 KiB leaves (1024 CDs). 0b11 behaves as linear. */
export const STE_S1FMT = Object.freeze({ LINEAR: 0, L2_4K: 1, L2_64K: 2 });
/** STE.S1DSS: untagged traffic when substreams are enabled. 0b11 behaves as TERMINATE. */
export const STE_S1DSS = Object.freeze({ TERMINATE: 0, BYPASS: 1, SSID0: 2 });
/** STE.STRW: StreamWorld. */
export const STE_STRW = Object.freeze({ NSEL1: 0, EL3: 1, EL2: 2 });
/** STE.PRIVCFG / INSTCFG overrides (0b01 behaves as 0b00 = use incoming). */
export const STE_PRIVCFG = Object.freeze({ INCOMING: 0, UNPRIV: 2, PRIV: 3 });
export const STE_INSTCFG = Object.freeze({ INCOMING: 0, DATA: 2, INSTR: 3 });
/** STE.EATS. */
export const STE_EATS = Object.freeze({ ABORT: 0, TRANS: 1, SPLIT: 2 });

/**
 * Encodes an STE into its eight doublewords from field values (address fields take the field
 * value: use `inPlace(STE.S1_CONTEXT_PTR, address)`). Unknown names throw (host misuse).
 */
export function encodeSte(values: FieldValues<typeof STE>): bigint[] {
  return encodeFields(STE, values, STE_DWORDS);
}
