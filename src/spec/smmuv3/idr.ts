// SMMUv3 ID registers: IDR0-IDR5, IIDR, AIDR field layouts (IHI 0070 §6.3.1-6.3.8) and their
// encodings. Layout + pure encoding only: the model's feature profile maps to and from these in
// src/smmu/id-registers.ts.
import { decodeFields, reg32Field } from '../bits.js';

/** SMMU_IDR0 (§6.3.1). */
export const IDR0 = Object.freeze({
  S2P: reg32Field('S2P', 0, 0),
  S1P: reg32Field('S1P', 1, 1),
  TTF: reg32Field('TTF', 3, 2),
  COHACC: reg32Field('COHACC', 4, 4),
  BTM: reg32Field('BTM', 5, 5),
  HTTU: reg32Field('HTTU', 7, 6),
  DORMHINT: reg32Field('DORMHINT', 8, 8),
  HYP: reg32Field('HYP', 9, 9),
  ATS: reg32Field('ATS', 10, 10),
  NS1ATS: reg32Field('NS1ATS', 11, 11),
  ASID16: reg32Field('ASID16', 12, 12),
  MSI: reg32Field('MSI', 13, 13),
  SEV: reg32Field('SEV', 14, 14),
  ATOS: reg32Field('ATOS', 15, 15),
  PRI: reg32Field('PRI', 16, 16),
  VMW: reg32Field('VMW', 17, 17),
  VMID16: reg32Field('VMID16', 18, 18),
  CD2L: reg32Field('CD2L', 19, 19),
  VATOS: reg32Field('VATOS', 20, 20),
  TTENDIAN: reg32Field('TTENDIAN', 22, 21),
  ATSRECERR: reg32Field('ATSRECERR', 23, 23),
  STALL_MODEL: reg32Field('STALL_MODEL', 25, 24),
  TERM_MODEL: reg32Field('TERM_MODEL', 26, 26),
  ST_LEVEL: reg32Field('ST_LEVEL', 28, 27),
  RME_IMPL: reg32Field('RME_IMPL', 30, 30),
});

/** SMMU_IDR1 (§6.3.2). */
export const IDR1 = Object.freeze({
  SIDSIZE: reg32Field('SIDSIZE', 5, 0),
  SSIDSIZE: reg32Field('SSIDSIZE', 10, 6),
  PRIQS: reg32Field('PRIQS', 15, 11),
  EVENTQS: reg32Field('EVENTQS', 20, 16),
  CMDQS: reg32Field('CMDQS', 25, 21),
  ATTR_PERMS_OVR: reg32Field('ATTR_PERMS_OVR', 26, 26),
  ATTR_TYPES_OVR: reg32Field('ATTR_TYPES_OVR', 27, 27),
  REL: reg32Field('REL', 28, 28),
  QUEUES_PRESET: reg32Field('QUEUES_PRESET', 29, 29),
  TABLES_PRESET: reg32Field('TABLES_PRESET', 30, 30),
  ECMDQ: reg32Field('ECMDQ', 31, 31),
});

/** SMMU_IDR2 (§6.3.3). */
export const IDR2 = Object.freeze({ BA_VATOS: reg32Field('BA_VATOS', 9, 0) });

/** SMMU_IDR3 (§6.3.4). */
export const IDR3 = Object.freeze({
  HAD: reg32Field('HAD', 2, 2),
  PBHA: reg32Field('PBHA', 3, 3),
  XNX: reg32Field('XNX', 4, 4),
  PPS: reg32Field('PPS', 5, 5),
  MPAM: reg32Field('MPAM', 7, 7),
  FWB: reg32Field('FWB', 8, 8),
  STT: reg32Field('STT', 9, 9),
  RIL: reg32Field('RIL', 10, 10),
  BBML: reg32Field('BBML', 12, 11),
  E0PD: reg32Field('E0PD', 13, 13),
  PTWNNC: reg32Field('PTWNNC', 14, 14),
  DPT: reg32Field('DPT', 15, 15),
});

/** SMMU_IDR4 (§6.3.5): IMPLEMENTATION DEFINED. */
export const IDR4 = Object.freeze({ IMPDEF: reg32Field('IMPDEF', 31, 0) });

/** SMMU_IDR5 (§6.3.6). */
export const IDR5 = Object.freeze({
  OAS: reg32Field('OAS', 2, 0),
  GRAN4K: reg32Field('GRAN4K', 4, 4),
  GRAN16K: reg32Field('GRAN16K', 5, 5),
  GRAN64K: reg32Field('GRAN64K', 6, 6),
  DS: reg32Field('DS', 7, 7),
  VAX: reg32Field('VAX', 11, 10),
  STALL_MAX: reg32Field('STALL_MAX', 31, 16),
});

/** SMMU_IIDR (§6.3.7). */
export const IIDR = Object.freeze({
  IMPLEMENTER: reg32Field('IMPLEMENTER', 11, 0),
  REVISION: reg32Field('REVISION', 15, 12),
  VARIANT: reg32Field('VARIANT', 19, 16),
  PRODUCTID: reg32Field('PRODUCTID', 31, 20),
});

/** SMMU_AIDR (§6.3.8). */
export const AIDR = Object.freeze({
  ARCH_MINOR_REV: reg32Field('ARCH_MINOR_REV', 3, 0),
  ARCH_MAJOR_REV: reg32Field('ARCH_MAJOR_REV', 7, 4),
});

/** The output address sizes IDR5.OAS can advertise, in bits. */
export type OasBits = 32 | 36 | 40 | 42 | 44 | 48 | 52;

/** IDR5.OAS encodings (§6.3.6): 0..6 = 32, 36, 40, 42, 44, 48, 52 bits. */
export const OAS_ENCODINGS: readonly OasBits[] = Object.freeze([32, 36, 40, 42, 44, 48, 52] as OasBits[]);

export function oasEncoding(bits: OasBits): number {
  return OAS_ENCODINGS.indexOf(bits);
}

/** IDR0.TTF: 0b10 = AArch64 translation tables only (the model implements no AArch32 tables). */
export const TTF_AARCH64 = 2;

/** Decodes an IDR value into `{field: number}` (for inspect and tests). */
export function decodeIdr(fields: Parameters<typeof decodeFields>[0], value: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(decodeFields(fields, [BigInt(value >>> 0)]))) out[k] = Number(v);
  return out;
}
