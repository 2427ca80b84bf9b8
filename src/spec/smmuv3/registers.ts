// SMMUv3 register file: offsets, widths, pages, reset values, fields and writable masks.
// Layout only (IHI 0070 chapter 6: 6.2 register map, 6.3.x register descriptions); behaviour is in
// src/smmu/device/. ID register fields live in ./idr.ts.
//
// Offsets are relative to the 128 KiB SMMU window (page 0 at 0x0, page 1 at 0x10000). Registers
// the model does not implement (secure bank, GATOS/VATOS, MPAM, ECMDQ, DPT, Realm) are RAZ/WI
// because the matching IDR bits advertise them as absent (§6.2: SMMU_S_* are RES0 when
// SMMU_S_IDR1.SECURE_IMPL == 0).
import { bit, field, get32, paOf, reg32Field, type Field } from '../bits.js';

export const SMMU_PAGE_SIZE = 0x10000;
export const SMMU_MMIO_SIZE = 0x20000;

/** Register offsets (page 1 registers include the 0x10000 page offset). */
export const REG = Object.freeze({
  IDR0: 0x0000,
  IDR1: 0x0004,
  IDR2: 0x0008,
  IDR3: 0x000c,
  IDR4: 0x0010,
  IDR5: 0x0014,
  IIDR: 0x0018,
  AIDR: 0x001c,
  CR0: 0x0020,
  CR0ACK: 0x0024,
  CR1: 0x0028,
  CR2: 0x002c,
  STATUSR: 0x0040,
  GBPA: 0x0044,
  AGBPA: 0x0048,
  IRQ_CTRL: 0x0050,
  IRQ_CTRLACK: 0x0054,
  GERROR: 0x0060,
  GERRORN: 0x0064,
  GERROR_IRQ_CFG0: 0x0068,
  GERROR_IRQ_CFG1: 0x0070,
  GERROR_IRQ_CFG2: 0x0074,
  STRTAB_BASE: 0x0080,
  STRTAB_BASE_CFG: 0x0088,
  CMDQ_BASE: 0x0090,
  CMDQ_PROD: 0x0098,
  CMDQ_CONS: 0x009c,
  EVENTQ_BASE: 0x00a0,
  EVENTQ_IRQ_CFG0: 0x00b0,
  EVENTQ_IRQ_CFG1: 0x00b8,
  EVENTQ_IRQ_CFG2: 0x00bc,
  PRIQ_BASE: 0x00c0,
  PRIQ_IRQ_CFG0: 0x00d0,
  PRIQ_IRQ_CFG1: 0x00d8,
  PRIQ_IRQ_CFG2: 0x00dc,
  EVENTQ_PROD: 0x100a8,
  EVENTQ_CONS: 0x100ac,
  PRIQ_PROD: 0x100c8,
  PRIQ_CONS: 0x100cc,
});

export type RegName = keyof typeof REG;

export interface RegDef {
  readonly name: RegName;
  readonly offset: number;
  readonly width: 32 | 64;
  /** Read-only: writes are ignored (§6.2 "read-only means that writes are ignored"). */
  readonly ro: boolean;
  /** Writable bits (lo/hi halves for 64-bit registers); other bits are RES0 or read-only. */
  readonly maskLo: number;
  readonly maskHi: number;
  /** Architected or chosen reset value (lo/hi); UNKNOWN resets are modelled as 0. */
  readonly resetLo: number;
  readonly resetHi: number;
  /** Spec section of the register description. */
  readonly section: string;
}

function r32(name: RegName, section: string, mask: number, ro = false, reset = 0): RegDef {
  return Object.freeze({ name, offset: REG[name], width: 32, ro, maskLo: mask >>> 0, maskHi: 0, resetLo: reset >>> 0, resetHi: 0, section });
}
function r64(name: RegName, section: string, maskLo: number, maskHi: number, resetLo = 0, resetHi = 0): RegDef {
  return Object.freeze({ name, offset: REG[name], width: 64, ro: false, maskLo: maskLo >>> 0, maskHi: maskHi >>> 0, resetLo, resetHi, section });
}

// ------------------------------------------------------------------ fields (32-bit registers)

/** SMMU_CR0 / SMMU_CR0ACK (§6.3.9, §6.3.10). */
export const CR0 = Object.freeze({
  SMMUEN: reg32Field('SMMUEN', 0, 0),
  PRIQEN: reg32Field('PRIQEN', 1, 1),
  EVENTQEN: reg32Field('EVENTQEN', 2, 2),
  CMDQEN: reg32Field('CMDQEN', 3, 3),
  ATSCHK: reg32Field('ATSCHK', 4, 4),
  VMW: reg32Field('VMW', 8, 6),
});

/** SMMU_CR1 (§6.3.11): table and queue access attributes. */
export const CR1 = Object.freeze({
  QUEUE_IC: reg32Field('QUEUE_IC', 1, 0),
  QUEUE_OC: reg32Field('QUEUE_OC', 3, 2),
  QUEUE_SH: reg32Field('QUEUE_SH', 5, 4),
  TABLE_IC: reg32Field('TABLE_IC', 7, 6),
  TABLE_OC: reg32Field('TABLE_OC', 9, 8),
  TABLE_SH: reg32Field('TABLE_SH', 11, 10),
});

/** SMMU_CR2 (§6.3.12). */
export const CR2 = Object.freeze({
  E2H: reg32Field('E2H', 0, 0),
  RECINVSID: reg32Field('RECINVSID', 1, 1),
  PTM: reg32Field('PTM', 2, 2),
  REC_CFG_ATS: reg32Field('REC_CFG_ATS', 3, 3),
});

/** SMMU_STATUSR (§6.3.13). */
export const STATUSR = Object.freeze({ DORMANT: reg32Field('DORMANT', 0, 0) });

/** SMMU_GBPA (§6.3.14): global bypass attributes, applied while SMMUEN == 0. */
export const GBPA = Object.freeze({
  MEMATTR: reg32Field('MEMATTR', 3, 0),
  MTCFG: reg32Field('MTCFG', 4, 4),
  ALLOCCFG: reg32Field('ALLOCCFG', 11, 8),
  SHCFG: reg32Field('SHCFG', 13, 12),
  PRIVCFG: reg32Field('PRIVCFG', 17, 16),
  INSTCFG: reg32Field('INSTCFG', 19, 18),
  ABORT: reg32Field('ABORT', 20, 20),
  UPDATE: reg32Field('UPDATE', 31, 31),
});

/** SMMU_IRQ_CTRL / SMMU_IRQ_CTRLACK (§6.3.16, §6.3.18). */
export const IRQ_CTRL = Object.freeze({
  GERROR_IRQEN: reg32Field('GERROR_IRQEN', 0, 0),
  PRIQ_IRQEN: reg32Field('PRIQ_IRQEN', 1, 1),
  EVENTQ_IRQEN: reg32Field('EVENTQ_IRQEN', 2, 2),
});

/** SMMU_GERROR / SMMU_GERRORN (§6.3.19, §6.3.20): an error is active while the bits differ. */
export const GERROR = Object.freeze({
  CMDQ_ERR: reg32Field('CMDQ_ERR', 0, 0),
  EVENTQ_ABT_ERR: reg32Field('EVENTQ_ABT_ERR', 2, 2),
  PRIQ_ABT_ERR: reg32Field('PRIQ_ABT_ERR', 3, 3),
  MSI_CMDQ_ABT_ERR: reg32Field('MSI_CMDQ_ABT_ERR', 4, 4),
  MSI_EVENTQ_ABT_ERR: reg32Field('MSI_EVENTQ_ABT_ERR', 5, 5),
  MSI_PRIQ_ABT_ERR: reg32Field('MSI_PRIQ_ABT_ERR', 6, 6),
  MSI_GERROR_ABT_ERR: reg32Field('MSI_GERROR_ABT_ERR', 7, 7),
  SFM_ERR: reg32Field('SFM_ERR', 8, 8),
});

/** SMMU_STRTAB_BASE_CFG (§6.3.25). */
export const STRTAB_BASE_CFG = Object.freeze({
  LOG2SIZE: reg32Field('LOG2SIZE', 5, 0),
  SPLIT: reg32Field('SPLIT', 10, 6),
  FMT: reg32Field('FMT', 17, 16),
});

/** SMMU_CMDQ_PROD / SMMU_EVENTQ_PROD / SMMU_PRIQ_PROD (§6.3.27, §6.3.95, §6.3.97). WR holds index + wrap bit. */
export const QUEUE_PROD = Object.freeze({
  WR: reg32Field('WR', 19, 0),
  OVFLG: reg32Field('OVFLG', 31, 31),
});

/** SMMU_CMDQ_CONS / SMMU_EVENTQ_CONS / SMMU_PRIQ_CONS (§6.3.28, §6.3.96, §6.3.98). */
export const QUEUE_CONS = Object.freeze({
  RD: reg32Field('RD', 19, 0),
  ERR: reg32Field('ERR', 30, 24),
  OVACKFLG: reg32Field('OVACKFLG', 31, 31),
});

/** SMMU_CMDQ_CONS.ERR codes (§7.1). */
export const CERROR = Object.freeze({ NONE: 0, ILL: 1, ABT: 2, ATC_INV_SYNC: 3 });

/** SMMU_*_IRQ_CFG1 (§6.3.22): MSI payload. */
export const IRQ_CFG1 = Object.freeze({ DATA: reg32Field('DATA', 31, 0) });
/** SMMU_*_IRQ_CFG2 (§6.3.23): MSI write attributes. */
export const IRQ_CFG2 = Object.freeze({ MEMATTR: reg32Field('MEMATTR', 3, 0), SH: reg32Field('SH', 5, 4) });
/** SMMU_PRIQ_IRQ_CFG2 (§6.3.36): also LO (Last Only: interrupt only for a PRI message with Last = 1). */
export const PRIQ_IRQ_CFG2 = Object.freeze({ ...IRQ_CFG2, LO: reg32Field('LO', 31, 31) });

// ------------------------------------------------------------------ fields (64-bit registers)

/** SMMU_STRTAB_BASE (§6.3.24). */
export const STRTAB_BASE = Object.freeze({
  ADDR: field('ADDR', 0, 55, 6),
  RA: bit('RA', 0, 62),
});

/** SMMU_CMDQ_BASE / SMMU_EVENTQ_BASE / SMMU_PRIQ_BASE (§6.3.26, §6.3.29, §6.3.33). RA for CMDQ, WA for the others. */
export const QUEUE_BASE = Object.freeze({
  LOG2SIZE: field('LOG2SIZE', 0, 4, 0),
  ADDR: field('ADDR', 0, 55, 5),
  RWA: bit('RWA', 0, 62),
});

/** SMMU_*_IRQ_CFG0 (§6.3.21): MSI target address. */
export const IRQ_CFG0 = Object.freeze({ ADDR: field('ADDR', 0, 55, 2) });

// ------------------------------------------------------------------ typed decodes

/** SMMU_STRTAB_BASE and SMMU_STRTAB_BASE_CFG decoded (§6.3.24-25), fields as stored (not yet validated). */
export interface StreamTableRegs {
  /** STRTAB_BASE.ADDR as a PA (bits [51:6]). */
  readonly base: number;
  readonly log2Size: number;
  /** 0 linear, 1 2-level. */
  readonly fmt: number;
  readonly split: number;
}

export function decodeStreamTableRegs(baseLo: number, baseHi: number, cfg: number): StreamTableRegs {
  return {
    base: paOf(baseLo, baseHi, STRTAB_BASE.ADDR),
    log2Size: get32(cfg, STRTAB_BASE_CFG.LOG2SIZE),
    fmt: get32(cfg, STRTAB_BASE_CFG.FMT),
    split: get32(cfg, STRTAB_BASE_CFG.SPLIT),
  };
}

/** SMMU_*_IRQ_CFG0.ADDR as a PA (bits [51:2]); 0 means no MSI is configured. */
export function irqCfg0Addr(lo: number, hi: number): number {
  return paOf(lo, hi, IRQ_CFG0.ADDR);
}

/** Effective LOG2SIZE of SMMU_{CMDQ,EVENTQ,PRIQ}_BASE: the register value capped at the advertised maximum (§6.3.26). */
export function queueLog2(baseLo: number, maxLog2: number): number {
  const l = get32(baseLo, QUEUE_BASE.LOG2SIZE);
  return l > maxLog2 ? maxLog2 : l;
}

/** Effective queue base address: ADDR (bits [51:5]) aligned down to max(32, entries * entryBytes) (§6.3.26). */
export function queueBaseAddr(baseLo: number, baseHi: number, log2: number, entryBytes: number): number {
  const sizeLog2 = Math.max(QUEUE_BASE.ADDR.lsb, log2 + Math.log2(entryBytes));
  return paOf(baseLo, baseHi, QUEUE_BASE.ADDR, sizeLog2);
}

// ------------------------------------------------------------------ the register table

/** Bits [55:32] of a 64-bit address register; bits above the implemented PA size are not stored. */
const ADDR_HI = 0x00ff_ffff;
const BIT62 = 0x4000_0000;

/**
 * Every architected register the model implements, with writable masks and reset values.
 * GBPA resets to bypass with SHCFG = "use incoming" (0x1000; §6.3.14 leaves it IMPLEMENTATION
 * DEFINED). UNKNOWN resets are modelled as 0.
 */
export const REGISTERS: readonly RegDef[] = Object.freeze([
  r32('IDR0', '6.3.1', 0, true),
  r32('IDR1', '6.3.2', 0, true),
  r32('IDR2', '6.3.3', 0, true),
  r32('IDR3', '6.3.4', 0, true),
  r32('IDR4', '6.3.5', 0, true),
  r32('IDR5', '6.3.6', 0, true),
  r32('IIDR', '6.3.7', 0, true),
  r32('AIDR', '6.3.8', 0, true),
  r32('CR0', '6.3.9', 0x0000_01df),
  r32('CR0ACK', '6.3.10', 0, true),
  r32('CR1', '6.3.11', 0x0000_0fff),
  r32('CR2', '6.3.12', 0x0000_000f),
  r32('STATUSR', '6.3.13', 0, true),
  r32('GBPA', '6.3.14', 0x801f_3f1f, false, 0x0000_1000),
  r32('AGBPA', '6.3.15', 0),
  r32('IRQ_CTRL', '6.3.16', 0x0000_0007),
  r32('IRQ_CTRLACK', '6.3.18', 0, true),
  r32('GERROR', '6.3.19', 0, true),
  r32('GERRORN', '6.3.20', 0x0000_01fd),
  r64('GERROR_IRQ_CFG0', '6.3.21', 0xffff_fffc, ADDR_HI),
  r32('GERROR_IRQ_CFG1', '6.3.22', 0xffff_ffff),
  r32('GERROR_IRQ_CFG2', '6.3.23', 0x0000_003f),
  r64('STRTAB_BASE', '6.3.24', 0xffff_ffc0, ADDR_HI | BIT62),
  r32('STRTAB_BASE_CFG', '6.3.25', 0x0003_07ff),
  r64('CMDQ_BASE', '6.3.26', 0xffff_ffff, ADDR_HI | BIT62),
  r32('CMDQ_PROD', '6.3.27', 0x000f_ffff),
  r32('CMDQ_CONS', '6.3.28', 0x7f0f_ffff),
  r64('EVENTQ_BASE', '6.3.29', 0xffff_ffff, ADDR_HI | BIT62),
  r32('EVENTQ_PROD', '6.3.95', 0x800f_ffff),
  r32('EVENTQ_CONS', '6.3.96', 0x800f_ffff),
  r64('EVENTQ_IRQ_CFG0', '6.3.30', 0xffff_fffc, ADDR_HI),
  r32('EVENTQ_IRQ_CFG1', '6.3.31', 0xffff_ffff),
  r32('EVENTQ_IRQ_CFG2', '6.3.32', 0x0000_003f),
  r64('PRIQ_BASE', '6.3.33', 0xffff_ffff, ADDR_HI | BIT62),
  r32('PRIQ_PROD', '6.3.97', 0x800f_ffff),
  r32('PRIQ_CONS', '6.3.98', 0x800f_ffff),
  r64('PRIQ_IRQ_CFG0', '6.3.34', 0xffff_fffc, ADDR_HI),
  r32('PRIQ_IRQ_CFG1', '6.3.35', 0xffff_ffff),
  r32('PRIQ_IRQ_CFG2', '6.3.36', 0x8000_003f),
]);

export const REG_BY_NAME: Readonly<Record<RegName, RegDef>> = Object.freeze(
  Object.fromEntries(REGISTERS.map((r) => [r.name, r])) as Record<RegName, RegDef>,
);

/** Field tables by register name, for decoders (inspect, tests). */
export const REG_FIELDS: Readonly<Partial<Record<RegName, Readonly<Record<string, Field>>>>> = Object.freeze({
  CR0,
  CR0ACK: CR0,
  CR1,
  CR2,
  STATUSR,
  GBPA,
  IRQ_CTRL,
  IRQ_CTRLACK: IRQ_CTRL,
  GERROR,
  GERRORN: GERROR,
  GERROR_IRQ_CFG0: IRQ_CFG0,
  GERROR_IRQ_CFG1: IRQ_CFG1,
  GERROR_IRQ_CFG2: IRQ_CFG2,
  STRTAB_BASE,
  STRTAB_BASE_CFG,
  CMDQ_BASE: QUEUE_BASE,
  CMDQ_PROD: QUEUE_PROD,
  CMDQ_CONS: QUEUE_CONS,
  EVENTQ_BASE: QUEUE_BASE,
  EVENTQ_PROD: QUEUE_PROD,
  EVENTQ_CONS: QUEUE_CONS,
  EVENTQ_IRQ_CFG0: IRQ_CFG0,
  EVENTQ_IRQ_CFG1: IRQ_CFG1,
  EVENTQ_IRQ_CFG2: IRQ_CFG2,
  PRIQ_BASE: QUEUE_BASE,
  PRIQ_PROD: QUEUE_PROD,
  PRIQ_CONS: QUEUE_CONS,
  PRIQ_IRQ_CFG0: IRQ_CFG0,
  PRIQ_IRQ_CFG1: IRQ_CFG1,
  PRIQ_IRQ_CFG2,
});

/** A guard: while any of `enables` is 1 in `reg`, the register's `bits` are read-only. */
export interface RegGuard {
  readonly reg: 'CR0' | 'IRQ_CTRL';
  readonly enables: number;
  /** Guarded bits of bits [31:0]; a guarded 64-bit register is guarded whole. */
  readonly bits: number;
}

const ALL = 0xffff_ffff;
const en = (f: Field): number => 1 << f.lsb;
const QUEUE_ENABLES = en(CR0.CMDQEN) | en(CR0.EVENTQEN) | en(CR0.PRIQEN);
const CR1_TABLE = 0x0000_0fc0;
const CR1_QUEUE = 0x0000_003f;
const guard = (reg: RegGuard['reg'], enables: number, bits = ALL): readonly RegGuard[] => Object.freeze([{ reg, enables, bits }]);

/**
 * Registers "Guarded by" an enable (§6.3.11 CR1 fields, §6.3.12 CR2, §6.3.21 *_IRQ_CFG0-2, §6.3.24-
 * 6.3.26, 6.3.28, 6.3.29, 6.3.33, 6.3.95, 6.3.97): read-only while the enable (in CR0 / CR0ACK, or
 * IRQ_CTRL / IRQ_CTRLACK) is 1. In SMMUv3.2 and later a write to them then is IGNORED (the one
 * behaviour also permitted for SMMUv3.0/3.1).
 */
export const REGISTER_GUARDS: Readonly<Partial<Record<RegName, readonly RegGuard[]>>> = Object.freeze({
  CR1: Object.freeze<RegGuard[]>([
    { reg: 'CR0', enables: en(CR0.SMMUEN), bits: CR1_TABLE },
    { reg: 'CR0', enables: QUEUE_ENABLES, bits: CR1_QUEUE },
  ]),
  CR2: guard('CR0', en(CR0.SMMUEN)),
  STRTAB_BASE: guard('CR0', en(CR0.SMMUEN)),
  STRTAB_BASE_CFG: guard('CR0', en(CR0.SMMUEN)),
  CMDQ_BASE: guard('CR0', en(CR0.CMDQEN)),
  CMDQ_CONS: guard('CR0', en(CR0.CMDQEN)),
  EVENTQ_BASE: guard('CR0', en(CR0.EVENTQEN)),
  EVENTQ_PROD: guard('CR0', en(CR0.EVENTQEN)),
  PRIQ_BASE: guard('CR0', en(CR0.PRIQEN)),
  PRIQ_PROD: guard('CR0', en(CR0.PRIQEN)),
  GERROR_IRQ_CFG0: guard('IRQ_CTRL', en(IRQ_CTRL.GERROR_IRQEN)),
  GERROR_IRQ_CFG1: guard('IRQ_CTRL', en(IRQ_CTRL.GERROR_IRQEN)),
  GERROR_IRQ_CFG2: guard('IRQ_CTRL', en(IRQ_CTRL.GERROR_IRQEN)),
  EVENTQ_IRQ_CFG0: guard('IRQ_CTRL', en(IRQ_CTRL.EVENTQ_IRQEN)),
  EVENTQ_IRQ_CFG1: guard('IRQ_CTRL', en(IRQ_CTRL.EVENTQ_IRQEN)),
  EVENTQ_IRQ_CFG2: guard('IRQ_CTRL', en(IRQ_CTRL.EVENTQ_IRQEN)),
  PRIQ_IRQ_CFG0: guard('IRQ_CTRL', en(IRQ_CTRL.PRIQ_IRQEN)),
  PRIQ_IRQ_CFG1: guard('IRQ_CTRL', en(IRQ_CTRL.PRIQ_IRQEN)),
  PRIQ_IRQ_CFG2: guard('IRQ_CTRL', en(IRQ_CTRL.PRIQ_IRQEN)),
});

/** Size in bytes of one command / event record / PRI request queue entry (§3.5). */
export const CMDQ_ENTRY_BYTES = 16;
export const EVENTQ_ENTRY_BYTES = 32;
export const PRIQ_ENTRY_BYTES = 16;

/** Page 0 offsets of the optional page-1 aliases (§6.2.1): this model makes them RAZ/WI. */
export const PAGE0_ALIAS_RAZWI = Object.freeze([0x00a8, 0x00ac, 0x00c8, 0x00cc]);

/** PIDR/CIDR identification registers (0xFD0-0xFFC) are IMPLEMENTATION DEFINED; the model reads them as 0. */
export const ID_REGS_BASE = 0x0fd0;
