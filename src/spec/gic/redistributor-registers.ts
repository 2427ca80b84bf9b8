// GICv3 redistributor registers used by the LPI path: RD_base frame offsets and fields.
// IHI 0069 §12.10 (GICR_* descriptions), §5.1 (LPIs: PROPBASER/PENDBASER tables), §9.11
// (redistributor frames). Layout only; behaviour is src/intc/redistributor.ts.

import { bit, field, reg32Field } from '../bits.js';

/** A GICv3 redistributor is two 64 KiB frames: RD_base then SGI_base (GICv4 adds two more). */
export const GICR_FRAME_STRIDE = 0x2_0000;
export const GICR_SGI_BASE = 0x1_0000;

export const GICR = Object.freeze({
  CTLR: 0x0000,
  IIDR: 0x0004,
  TYPER: 0x0008, // 64-bit
  STATUSR: 0x0010,
  WAKER: 0x0014,
  MPAMIDR: 0x0018,
  PARTIDR: 0x001c,
  SETLPIR: 0x0040, // 64-bit
  CLRLPIR: 0x0048, // 64-bit
  PROPBASER: 0x0070, // 64-bit
  PENDBASER: 0x0078, // 64-bit
  INVLPIR: 0x00a0, // 64-bit
  INVALLR: 0x00b0, // 64-bit
  SYNCR: 0x00c0,
});

/** GICR_CTLR, IHI 0069 §12.11.2. */
export const GICR_CTLR = Object.freeze({
  EnableLPIs: reg32Field('EnableLPIs', 0, 0),
  CES: reg32Field('CES', 1, 1),
  IR: reg32Field('IR', 2, 2),
  RWP: reg32Field('RWP', 3, 3),
  DPG0: reg32Field('DPG0', 24, 24),
  DPG1NS: reg32Field('DPG1NS', 25, 25),
  DPG1S: reg32Field('DPG1S', 26, 26),
  UWP: reg32Field('UWP', 31, 31),
});

/** GICR_TYPER (64-bit), IHI 0069 §12.11.35. */
export const GICR_TYPER = Object.freeze({
  PLPIS: bit('PLPIS', 0, 0),
  VLPIS: bit('VLPIS', 0, 1),
  Dirty: bit('Dirty', 0, 2),
  DirectLPI: bit('DirectLPI', 0, 3),
  Last: bit('Last', 0, 4),
  DPGS: bit('DPGS', 0, 5),
  Processor_Number: field('Processor_Number', 0, 23, 8),
  CommonLPIAff: field('CommonLPIAff', 0, 25, 24),
  Affinity_Value: field('Affinity_Value', 0, 63, 32), // Aff3.Aff2.Aff1.Aff0
});

/** GICR_WAKER, IHI 0069 §12.11.39. */
export const GICR_WAKER = Object.freeze({
  ProcessorSleep: reg32Field('ProcessorSleep', 1, 1),
  ChildrenAsleep: reg32Field('ChildrenAsleep', 2, 2),
});

/** GICR_PROPBASER (64-bit), IHI 0069 §12.11.29: the LPI configuration table. */
export const GICR_PROPBASER = Object.freeze({
  IDbits: field('IDbits', 0, 4, 0), // LPI INTID bits - 1
  InnerCache: field('InnerCache', 0, 9, 7),
  Shareability: field('Shareability', 0, 11, 10),
  PhysicalAddress: field('Physical_Address', 0, 51, 12),
  OuterCache: field('OuterCache', 0, 58, 56),
});
/** Implemented bits of GICR_PROPBASER (reads return exactly these bits as written). */
export const GICR_PROPBASER_WRITABLE = Object.freeze({ lo: 0xffff_ff9f, hi: 0x070f_ffff });

/** GICR_PENDBASER (64-bit), IHI 0069 §12.11.28: the LPI pending table (64 KiB aligned). */
export const GICR_PENDBASER = Object.freeze({
  InnerCache: field('InnerCache', 0, 9, 7),
  Shareability: field('Shareability', 0, 11, 10),
  PhysicalAddress: field('Physical_Address', 0, 51, 16),
  OuterCache: field('OuterCache', 0, 58, 56),
  /** Pending Table Zero: write-only hint, reads as 0. */
  PTZ: bit('PTZ', 0, 62),
});
/** Bits of GICR_PENDBASER that read back as written (PTZ excluded: it reads as 0). */
export const GICR_PENDBASER_WRITABLE = Object.freeze({ lo: 0xffff_0f80, hi: 0x070f_ffff });

/** GICR_SETLPIR / GICR_CLRLPIR / GICR_INVLPIR: pINTID [31:0]. */
export const GICR_LPIR = Object.freeze({ pINTID: field('pINTID', 0, 31, 0) });

/** GICR_SYNCR: Busy [0]. */
export const GICR_SYNCR = Object.freeze({ Busy: reg32Field('Busy', 0, 0) });
