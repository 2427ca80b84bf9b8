// GICv3 distributor registers the ITS/LPI path depends on (GICD_CTLR, GICD_TYPER, GICD_IIDR,
// GICD_TYPER2, identification). IHI 0069 §12.9. Layout only; behaviour is src/intc/distributor.ts.

import { reg32Field } from '../bits.js';

export const GICD_FRAME_SIZE = 0x1_0000;

export const GICD = Object.freeze({
  CTLR: 0x0000,
  TYPER: 0x0004,
  IIDR: 0x0008,
  TYPER2: 0x000c,
  STATUSR: 0x0010,
  /** GICD_ISPENDR<n> (n = INTID / 32): write 1 to a bit to make that interrupt pending (§12.9.20). */
  ISPENDR0: 0x0200,
});

/** GICD_CTLR when GICD_CTLR.DS = 1 (single security state), IHI 0069 §12.9.4. */
export const GICD_CTLR = Object.freeze({
  EnableGrp0: reg32Field('EnableGrp0', 0, 0),
  EnableGrp1: reg32Field('EnableGrp1', 1, 1),
  ARE: reg32Field('ARE', 4, 4),
  DS: reg32Field('DS', 6, 6),
  E1NWF: reg32Field('E1NWF', 7, 7),
  RWP: reg32Field('RWP', 31, 31),
});

/** GICD_TYPER, IHI 0069 §12.9.38. */
export const GICD_TYPER = Object.freeze({
  ITLinesNumber: reg32Field('ITLinesNumber', 4, 0), // SPI INTIDs up to 32 * (N + 1) - 1
  CPUNumber: reg32Field('CPUNumber', 7, 5),
  ESPI: reg32Field('ESPI', 8, 8),
  NMI: reg32Field('NMI', 9, 9),
  SecurityExtn: reg32Field('SecurityExtn', 10, 10),
  num_LPIs: reg32Field('num_LPIs', 15, 11),
  MBIS: reg32Field('MBIS', 16, 16),
  LPIS: reg32Field('LPIS', 17, 17),
  DVIS: reg32Field('DVIS', 18, 18),
  IDbits: reg32Field('IDbits', 23, 19), // INTID bits - 1
  A3V: reg32Field('A3V', 24, 24),
  No1N: reg32Field('No1N', 25, 25),
  RSS: reg32Field('RSS', 26, 26),
});
