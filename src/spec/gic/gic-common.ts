// GICv3 architecture constants shared by the distributor, redistributor, ITS and GICv2m layouts.
// IHI 0069 (GICv3/v4 architecture specification): §1.2 INTID ranges, §12.1.2 identification
// registers (PIDR/CIDR at the top of every 64 KiB frame), §5.1.1 LPI configuration table entry.
// Layout only, no behaviour.

import { reg32Field } from '../bits.js';

/** First LPI INTID (IHI 0069 §2.2.1): INTIDs 8192 and up are LPIs. */
export const LPI_INTID_BASE = 8192;
/** SPIs are INTIDs 32..1019. */
export const SPI_INTID_BASE = 32;
export const SPI_INTID_LIMIT = 1020;

/** Identification registers, offsets within a 64 KiB frame (IHI 0069 §12.1.2). */
export const ID_REGS = Object.freeze({
  PIDR4: 0xffd0,
  PIDR5: 0xffd4,
  PIDR6: 0xffd8,
  PIDR7: 0xffdc,
  PIDR0: 0xffe0,
  PIDR1: 0xffe4,
  PIDR2: 0xffe8,
  PIDR3: 0xffec,
  CIDR0: 0xfff0,
  CIDR1: 0xfff4,
  CIDR2: 0xfff8,
  CIDR3: 0xfffc,
});

/** PIDR2.ArchRev [7:4]: 3 = GICv3, 4 = GICv4 (Linux accepts 3 or 4). */
export const PIDR2 = Object.freeze({
  ArchRev: reg32Field('ArchRev', 7, 4),
  JEDEC: reg32Field('JEDEC', 3, 3),
  DES_1: reg32Field('DES_1', 2, 0),
});

/**
 * One byte of the LPI configuration table (GICR_PROPBASER), IHI 0069 §5.1.1:
 * priority [7:2], bit 1 RES1 (Linux writes Group1), Enable [0].
 */
export const LPI_CONFIG = Object.freeze({
  Priority: reg32Field('Priority', 7, 2),
  Res1: reg32Field('RES1', 1, 1),
  Enable: reg32Field('Enable', 0, 0),
});

/** Cacheability/shareability attribute fields as they appear in the *BASER registers. */
export const SHAREABILITY = Object.freeze({ NonShareable: 0, InnerShareable: 1, OuterShareable: 2 });

/** CoreSight component identification bytes (CIDR0..3) common to all GIC frames. */
export const GIC_CIDR: readonly [number, number, number, number] = Object.freeze([0x0d, 0xf0, 0x05, 0xb1]) as readonly [
  number,
  number,
  number,
  number,
];

