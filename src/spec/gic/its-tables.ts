// In-memory formats of the ITS tables this model keeps in guest memory. The GICv3 architecture
// leaves them IMPLEMENTATION DEFINED (IHI 0069 §5.3.4 "ITS tables"); we use QEMU 7.2's layouts
// (hw/intc/gicv3_internal.h) so a guest image can be compared with QEMU byte for byte.
// Documented in docs/intc.md. Layout only.

import { bit, field } from '../bits.js';

/** Device table entry (GITS_BASER Type 1), 8 bytes. */
export const DTE = Object.freeze({
  Valid: bit('Valid', 0, 0),
  /** Number of EventID bits - 1 (the MAPD Size). */
  Size: field('Size', 0, 5, 1),
  /** ITT address >> 8 (ITT_addr[51:8]). */
  ITT_addr: field('ITT_addr', 0, 49, 6),
});
export const DTE_BYTES = 8;
/** DTE.ITT_addr holds the ITT address divided by this (ITTs are 256-byte aligned). */
export const DTE_ITT_UNIT = 256;

/** Collection table entry (GITS_BASER Type 4), 8 bytes. RDbase holds the processor number. */
export const CTE = Object.freeze({
  Valid: bit('Valid', 0, 0),
  RDbase: field('RDbase', 0, 16, 1),
});
export const CTE_BYTES = 8;

/**
 * Interrupt translation entry, GITS_TYPER.ITT_entry_size bytes at ITT + EventID * size (at least
 * 8 bytes; with 12 or more the doorbell word of QEMU's format is written too).
 */
export const ITE = Object.freeze({
  Valid: bit('Valid', 0, 0),
  /** 1 = physical LPI. */
  IntType: bit('IntType', 0, 1),
  INTID: field('INTID', 0, 25, 2),
  ICID: field('ICID', 0, 47, 32),
  vPEID: field('vPEID', 0, 63, 48),
  /** Doorbell INTID (GICv4); 0x3ff ("none") for physical ITEs. */
  Doorbell: field('Doorbell', 1, 23, 0),
});
export const ITE_MIN_BYTES = 8;
export const ITE_DOORBELL_NONE = 0x3ff;
