// GICv3 ITS command encodings: 32-byte commands (four little-endian doublewords), opcode in
// DW0[7:0]. IHI 0069 §6.3 (ITS command descriptions), §6.3.2 command errors (SEI error codes).
// Layout and encodings only; the command executor is src/intc/its-commands.ts.

import { decodeFields, encodeFields, field } from '../bits.js';

export const ITS_COMMAND_BYTES = 32;

/** Physical-LPI command opcodes (IHI 0069 §6.3). GICv4 commands are these | 0x20 (not modelled). */
export const ITS_OPCODE = Object.freeze({
  MOVI: 0x01,
  INT: 0x03,
  CLEAR: 0x04,
  SYNC: 0x05,
  MAPD: 0x08,
  MAPC: 0x09,
  MAPTI: 0x0a,
  MAPI: 0x0b,
  INV: 0x0c,
  INVALL: 0x0d,
  MOVALL: 0x0e,
  DISCARD: 0x0f,
});

export const ITS_OPCODE_NAME: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(ITS_OPCODE).map(([k, v]) => [v, k])),
);

/**
 * Command fields. Every command uses a subset; positions are the same wherever a field appears
 * (IHI 0069 §6.3.x field tables; Linux 6.1 its_encode_* agrees).
 */
export const ITS_CMD = Object.freeze({
  Opcode: field('Opcode', 0, 7, 0),
  DeviceID: field('DeviceID', 0, 63, 32),
  EventID: field('EventID', 1, 31, 0),
  pINTID: field('pINTID', 1, 63, 32),
  /** MAPD: number of EventID bits - 1. */
  Size: field('Size', 1, 4, 0),
  ICID: field('ICID', 2, 15, 0),
  /** MAPC/SYNC/MOVALL RDbase: processor number (GITS_TYPER.PTA = 0) or address >> 16 (PTA = 1). */
  RDbase: field('RDbase', 2, 51, 16),
  /** MAPD: ITT address [51:8] (256-byte aligned). */
  ITT_addr: field('ITT_addr', 2, 51, 8),
  V: field('V', 2, 63, 63),
  /** MOVALL: the destination redistributor, DW3[51:16]. */
  RDbase2: field('RDbase2', 3, 51, 16),
});

/**
 * Command error codes as reported through SEI when GITS_TYPER.SEIS = 1 (IHI 0069 §6.3.2):
 * 0x01 in [23:16], the opcode in [15:8], the reason in [7:0]. This model has SEIS = 0 and records
 * the code for the host (see docs/intc.md).
 */
export const ITS_ERROR_REASON = Object.freeze({
  /** No such command (or a GICv4 command on a GICv3 ITS). */
  UNSUPPORTED: 0x00,
  /** DeviceID out of range / no device-table entry for it; MOVALL: an RDbase is not a redistributor. */
  DEVICE_OOR: 0x01,
  /** MAPD: Size exceeds GITS_TYPER.IDbits; MAPC: RDbase is not a redistributor. */
  SIZE_OR_PROCNUM_OOR: 0x02,
  /** ICID out of range. */
  COLLECTION_OOR: 0x03,
  /** The DeviceID has no valid device-table entry. */
  UNMAPPED_DEVICE: 0x04,
  /** EventID beyond the device's ITT size. */
  ID_OOR: 0x05,
  /** pINTID is not an implemented LPI. */
  PHYSICALID_OOR: 0x06,
  /** No valid ITE for (DeviceID, EventID). */
  UNMAPPED_INTERRUPT: 0x07,
  /** The collection is not mapped. */
  UNMAPPED_COLLECTION: 0x09,
});

/** The 24-bit SEI-style error code for a command error. */
export function itsErrorCode(opcode: number, reason: number): number {
  return (0x01_0000 | ((opcode & 0xff) << 8) | (reason & 0xff)) >>> 0;
}

export type ItsCommandFieldName = keyof typeof ITS_CMD;

/**
 * Encodes a command (codec style, for guest drivers, tools and tests): opcode plus named fields,
 * as four bigint doublewords. Throws RangeError when a value does not fit its field (caller bug).
 */
export function encodeItsCommand(
  opcode: number,
  fields: Partial<Record<Exclude<ItsCommandFieldName, 'Opcode'>, bigint | number | boolean>> = {},
): bigint[] {
  return encodeFields(ITS_CMD, { ...fields, Opcode: opcode }, 4);
}

/** Decodes a command into its opcode name and every field (tools). */
export function decodeItsCommand(words: readonly bigint[]): { name: string } & Record<ItsCommandFieldName, bigint> {
  const f = decodeFields(ITS_CMD, words);
  return { name: ITS_OPCODE_NAME[Number(f.Opcode)] ?? `0x${f.Opcode.toString(16)}`, ...f };
}
