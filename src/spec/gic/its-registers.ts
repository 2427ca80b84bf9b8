// GICv3 ITS register file layout: offsets and fields of the control frame (ITS_base) and the
// translation frame (ITS_base + 64 KiB). IHI 0069 §12.19 (GITS_* register descriptions), §5.3
// (ITS overview). Layout and encodings only; behaviour lives in src/intc/its.ts.

import { bit, field, reg32Field } from '../bits.js';

/** Size of the ITS MMIO window: 64 KiB control frame + 64 KiB translation frame. */
export const ITS_FRAME_SIZE = 0x2_0000;
/** Offset of the translation frame within the window. */
export const ITS_TRANSLATION_FRAME = 0x1_0000;

/** Register offsets from ITS_base (control frame) unless noted. */
export const GITS = Object.freeze({
  CTLR: 0x0000,
  IIDR: 0x0004,
  TYPER: 0x0008, // 64-bit
  MPAMIDR: 0x0010,
  PARTIDR: 0x0014,
  MPIDR: 0x0018,
  STATUSR: 0x0040,
  UMSIR: 0x0048, // 64-bit
  CBASER: 0x0080, // 64-bit
  CWRITER: 0x0088, // 64-bit
  CREADR: 0x0090, // 64-bit
  BASER0: 0x0100, // GITS_BASER<n> at 0x100 + 8n, n = 0..7
  BASER_COUNT: 8,
  /** GITS_TRANSLATER, offset within the whole 128 KiB window (translation frame + 0x40). */
  TRANSLATER: 0x1_0040,
});

/** GITS_CTLR (32-bit), IHI 0069 §12.19.6. */
export const GITS_CTLR = Object.freeze({
  Enabled: reg32Field('Enabled', 0, 0),
  ImDe: reg32Field('ImDe', 1, 1),
  ITS_Number: reg32Field('ITS_Number', 7, 4),
  UMSIirq: reg32Field('UMSIirq', 8, 8),
  Quiescent: reg32Field('Quiescent', 31, 31),
});

/** GITS_TYPER (64-bit), IHI 0069 §12.19.30. */
export const GITS_TYPER = Object.freeze({
  Physical: bit('Physical', 0, 0),
  Virtual: bit('Virtual', 0, 1),
  CCT: bit('CCT', 0, 2),
  ITT_entry_size: field('ITT_entry_size', 0, 7, 4), // bytes - 1
  IDbits: field('IDbits', 0, 12, 8), // EventID bits - 1
  Devbits: field('Devbits', 0, 17, 13), // DeviceID bits - 1
  SEIS: bit('SEIS', 0, 18),
  PTA: bit('PTA', 0, 19),
  HCC: field('HCC', 0, 31, 24),
  CIDbits: field('CIDbits', 0, 35, 32), // collection ID bits - 1 (when CIL = 1)
  CIL: bit('CIL', 0, 36),
  VMOVP: bit('VMOVP', 0, 37),
  MPAM: bit('MPAM', 0, 38),
  VSGI: bit('VSGI', 0, 39),
  VMAPP: bit('VMAPP', 0, 40),
  SVPET: field('SVPET', 0, 42, 41),
  nID: bit('nID', 0, 43),
  UMSI: bit('UMSI', 0, 44),
  UMSIirq: bit('UMSIirq', 0, 45),
  INV: bit('INV', 0, 46),
});

/** GITS_CBASER (64-bit), IHI 0069 §12.19.2. */
export const GITS_CBASER = Object.freeze({
  Valid: bit('Valid', 0, 63),
  InnerCache: field('InnerCache', 0, 61, 59),
  OuterCache: field('OuterCache', 0, 55, 53),
  /** Physical_Address [51:12]: 4 KiB aligned base of the command queue. */
  PhysicalAddress: field('Physical_Address', 0, 51, 12),
  Shareability: field('Shareability', 0, 11, 10),
  Size: field('Size', 0, 7, 0), // number of 4 KiB pages - 1
});
/** Bits of GITS_CBASER that exist (all others RES0): used to keep written values exactly. */
export const GITS_CBASER_WRITABLE = Object.freeze({ lo: 0xffff_fcff, hi: 0xb8ef_ffff });

/** GITS_CWRITER / GITS_CREADR (64-bit), IHI 0069 §12.19.5, §12.19.4. */
export const GITS_CWRITER = Object.freeze({
  Retry: bit('Retry', 0, 0),
  Offset: field('Offset', 0, 19, 5), // in 32-byte commands
});
export const GITS_CREADR = Object.freeze({
  Stalled: bit('Stalled', 0, 0),
  Offset: field('Offset', 0, 19, 5),
});

/** GITS_BASER<n> (64-bit), IHI 0069 §12.19.1. */
export const GITS_BASER = Object.freeze({
  Valid: bit('Valid', 0, 63),
  Indirect: bit('Indirect', 0, 62),
  InnerCache: field('InnerCache', 0, 61, 59),
  Type: field('Type', 0, 58, 56),
  OuterCache: field('OuterCache', 0, 55, 53),
  Entry_Size: field('Entry_Size', 0, 52, 48), // bytes - 1
  /** Physical_Address [47:12]; with 64 KiB pages bits [15:12] hold PA[51:48]. */
  PhysicalAddress: field('Physical_Address', 0, 47, 12),
  /** With 64 KiB pages: PA[51:48] (and PA[47:16] in bits [47:16]). */
  PhysicalAddress_51_48: field('Physical_Address_51_48', 0, 15, 12),
  Shareability: field('Shareability', 0, 11, 10),
  Page_Size: field('Page_Size', 0, 9, 8),
  Size: field('Size', 0, 7, 0), // pages - 1
});

/** GITS_BASER<n>.Type encodings. */
export const BASER_TYPE = Object.freeze({
  Unimplemented: 0,
  Devices: 1,
  VPEs: 2,
  Collections: 4,
});

/** GITS_BASER<n>.Page_Size encodings and the page sizes they select (3 is reserved). */
export const BASER_PAGE_SIZE = Object.freeze({ SZ_4K: 0, SZ_16K: 1, SZ_64K: 2 });
export const BASER_PAGE_BYTES: readonly number[] = Object.freeze([0x1000, 0x4000, 0x1_0000, 0x1_0000]);

/** Level-1 entry of an indirect (two-level) ITS table, IHI 0069 §12.19.1 (Indirect). 8 bytes. */
export const ITS_L1_ENTRY = Object.freeze({
  Valid: bit('Valid', 0, 63),
  /** Level-2 page address [51:12]; bits below the page size are ignored. */
  PhysicalAddress: field('Physical_Address', 0, 51, 12),
});
export const ITS_L1_ENTRY_BYTES = 8;

/** GITS_TRANSLATER (32-bit, write-only): EventID of the MSI. */
export const GITS_TRANSLATER = Object.freeze({ EventID: reg32Field('EventID', 31, 0) });
