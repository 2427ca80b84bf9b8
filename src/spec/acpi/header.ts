// ACPI System Description Table header, RSDP and XSDT (ACPI 6.5 §5.2.5 RSDP, §5.2.6 SDT header,
// §5.2.8 XSDT). Layout only.
import { chars, u32, u64, u8 } from './layout.js';

/** The 36-byte header every System Description Table starts with (§5.2.6). */
export const SDT_HEADER = Object.freeze({
  signature: chars('Signature', 0, 4),
  length: u32('Length', 4),
  revision: u8('Revision', 8),
  /** The whole table (Length bytes) sums to 0 modulo 256. */
  checksum: u8('Checksum', 9),
  oemId: chars('OEMID', 10, 6),
  oemTableId: chars('OEM Table ID', 16, 8),
  oemRevision: u32('OEM Revision', 24),
  creatorId: chars('Creator ID', 28, 4),
  creatorRevision: u32('Creator Revision', 32),
});
export const SDT_HEADER_SIZE = 36;

/** Root System Description Pointer, ACPI 2.0+ form (§5.2.5.3). */
export const RSDP = Object.freeze({
  signature: chars('Signature', 0, 8),
  /** Sum of bytes 0..19 is 0 (ACPI 1.0 checksum). */
  checksum: u8('Checksum', 8),
  oemId: chars('OEMID', 9, 6),
  revision: u8('Revision', 15),
  rsdtAddress: u32('RsdtAddress', 16),
  length: u32('Length', 20),
  xsdtAddress: u64('XsdtAddress', 24),
  /** Sum of all 36 bytes is 0. */
  extendedChecksum: u8('Extended Checksum', 32),
});
export const RSDP_SIGNATURE = 'RSD PTR ';
export const RSDP_SIZE = 36;
/** RSDP revision 2 = ACPI 2.0 or later (has XsdtAddress). */
export const RSDP_REVISION = 2;
/** Bytes covered by the ACPI 1.0 checksum. */
export const RSDP_V1_SIZE = 20;

/** XSDT: the header followed by 64-bit table addresses (§5.2.8). */
export const XSDT_SIGNATURE = 'XSDT';
export const XSDT_REVISION = 1;
export const XSDT_ENTRY_SIZE = 8;
