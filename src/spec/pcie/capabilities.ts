// PCI capability list entries other than the PCI Express capability: IDs, the header, MSI and
// MSI-X (capability registers, MSI-X table entry and PBA). Layout and encodings only.
// PCI Express Base Specification r5.0 §7.5.1.1.11 (Capabilities Pointer), §7.7.1 (MSI),
// §7.7.2 (MSI-X); capability IDs from the PCI Code and ID Assignment Specification.
import { bit, reg32Field } from '../bits.js';

export const CAP_ID = Object.freeze({
  POWER_MANAGEMENT: 0x01,
  MSI: 0x05,
  VENDOR_SPECIFIC: 0x09,
  PCI_EXPRESS: 0x10,
  MSIX: 0x11,
});

/** Every capability starts with ID (byte 0) and next pointer (byte 1). */
export const CAP_HEADER = Object.freeze({
  ID: reg32Field('ID', 7, 0),
  NEXT: reg32Field('NEXT', 15, 8),
});
/** Capabilities live in 0x40..0xff; next pointers are dword aligned (low two bits reserved). */
export const CAP_AREA_START = 0x40;
export const CAP_AREA_END = 0x100;

/** MSI capability (§7.7.1): register offsets from the capability start. */
export const MSI_CAP = Object.freeze({
  MESSAGE_CONTROL: 0x02,
  ADDRESS_LO: 0x04,
  /** 64-bit capable layout. */
  ADDRESS_HI: 0x08,
  DATA_64: 0x0c,
  MASK_64: 0x10,
  PENDING_64: 0x14,
  /** 32-bit layout. */
  DATA_32: 0x08,
  MASK_32: 0x0c,
  PENDING_32: 0x10,
});

/** Capability length for each layout. */
export function msiCapLength(addr64: boolean, perVectorMask: boolean): number {
  if (perVectorMask) return addr64 ? 0x18 : 0x14;
  return addr64 ? 0x0e : 0x0a;
}

/** MSI Message Control (§7.7.1.2), a 16-bit register at +2. */
export const MSI_CONTROL = Object.freeze({
  ENABLE: bit('ENABLE', 0, 0),
  /** log2 of the number of vectors requested (read-only). */
  MULTIPLE_MESSAGE_CAPABLE: reg32Field('MULTIPLE_MESSAGE_CAPABLE', 3, 1),
  /** log2 of the number of vectors allocated by software. */
  MULTIPLE_MESSAGE_ENABLE: reg32Field('MULTIPLE_MESSAGE_ENABLE', 6, 4),
  ADDR64_CAPABLE: bit('ADDR64_CAPABLE', 0, 7),
  PER_VECTOR_MASK_CAPABLE: bit('PER_VECTOR_MASK_CAPABLE', 0, 8),
  EXTENDED_DATA_CAPABLE: bit('EXTENDED_DATA_CAPABLE', 0, 9),
  EXTENDED_DATA_ENABLE: bit('EXTENDED_DATA_ENABLE', 0, 10),
});
/** MSI Message Address bits [1:0] are reserved (dword aligned). */
export const MSI_ADDRESS_LO_MASK = 0xffff_fffc;
/** Message data is 16 bits without extended message data. */
export const MSI_DATA_MASK = 0xffff;
/** Largest MSI vector count (MMC = 5). */
export const MSI_MAX_VECTORS = 32;

/** MSI-X capability (§7.7.2): register offsets from the capability start. */
export const MSIX_CAP = Object.freeze({
  MESSAGE_CONTROL: 0x02,
  TABLE: 0x04,
  PBA: 0x08,
  LENGTH: 0x0c,
});

/** MSI-X Message Control (§7.7.2.2). */
export const MSIX_CONTROL = Object.freeze({
  /** Number of table entries minus one (read-only). */
  TABLE_SIZE: reg32Field('TABLE_SIZE', 10, 0),
  FUNCTION_MASK: bit('FUNCTION_MASK', 0, 14),
  ENABLE: bit('ENABLE', 0, 15),
});

/** MSI-X Table Offset/Table BIR and PBA Offset/PBA BIR (§7.7.2.3, §7.7.2.4). */
export const MSIX_LOCATION = Object.freeze({
  BIR: reg32Field('BIR', 2, 0),
  /** Offset within the BAR, qword aligned, in place (bits [31:3]). */
  OFFSET: reg32Field('OFFSET', 31, 3),
});
export const MSIX_MAX_VECTORS = 2048;

/** MSI-X table entry (§7.7.2.5-§7.7.2.8): 16 bytes. */
export const MSIX_ENTRY = Object.freeze({
  BYTES: 16,
  ADDRESS_LO: 0x0,
  ADDRESS_HI: 0x4,
  DATA: 0x8,
  VECTOR_CONTROL: 0xc,
});
/** Vector Control: bit 0 masks the vector; the rest is reserved or TPH steering (not implemented). */
export const MSIX_VECTOR_CONTROL = Object.freeze({
  MASK: bit('MASK', 0, 0),
});
/** Pending Bit Array: one bit per vector, in qwords. */
export const MSIX_PBA_BITS_PER_QWORD = 64;
