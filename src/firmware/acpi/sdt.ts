// System Description Table header encode/decode (ACPI 6.5 §5.2.6).
import { SDT_HEADER, SDT_HEADER_SIZE } from '../../spec/acpi/header.js';
import { AcpiDecodeError, getChars, getU, need, putChars, putU } from './bytes.js';
import { byteSum, fixTableChecksum } from './checksum.js';

export interface AcpiHeader {
  readonly signature: string;
  readonly length: number;
  readonly revision: number;
  readonly checksum: number;
  readonly oemId: string;
  readonly oemTableId: string;
  readonly oemRevision: number;
  readonly creatorId: string;
  readonly creatorRevision: number;
}

/** OEM identification written into every table we generate (overridable per table). */
export interface OemInfo {
  readonly oemId: string;
  readonly oemTableId: string;
  readonly oemRevision: number;
  readonly creatorId: string;
  readonly creatorRevision: number;
}

export const DEFAULT_OEM: OemInfo = Object.freeze({
  oemId: 'VSMMU',
  oemTableId: 'VSMMU',
  oemRevision: 1,
  creatorId: 'VSMU',
  creatorRevision: 1,
});

/** Writes the header of `table` (Length = table.length) and fixes its checksum. Call last. */
export function finishTable(table: Uint8Array, signature: string, revision: number, oem: Partial<OemInfo> = {}): Uint8Array {
  const o = { ...DEFAULT_OEM, ...oem };
  putChars(table, 0, SDT_HEADER.signature, signature);
  putU(table, 0, SDT_HEADER.length, table.length);
  putU(table, 0, SDT_HEADER.revision, revision);
  putChars(table, 0, SDT_HEADER.oemId, o.oemId);
  putChars(table, 0, SDT_HEADER.oemTableId, o.oemTableId);
  putU(table, 0, SDT_HEADER.oemRevision, o.oemRevision);
  putChars(table, 0, SDT_HEADER.creatorId, o.creatorId);
  putU(table, 0, SDT_HEADER.creatorRevision, o.creatorRevision);
  fixTableChecksum(table);
  return table;
}

/** Decodes the 36-byte header (throws AcpiDecodeError when fewer than 36 bytes are given). */
export function decodeHeader(bytes: Uint8Array): AcpiHeader {
  need(bytes, 0, SDT_HEADER_SIZE, 'ACPI table header');
  return {
    signature: getChars(bytes, 0, SDT_HEADER.signature),
    length: getU(bytes, 0, SDT_HEADER.length),
    revision: getU(bytes, 0, SDT_HEADER.revision),
    checksum: getU(bytes, 0, SDT_HEADER.checksum),
    oemId: getChars(bytes, 0, SDT_HEADER.oemId),
    oemTableId: getChars(bytes, 0, SDT_HEADER.oemTableId),
    oemRevision: getU(bytes, 0, SDT_HEADER.oemRevision),
    creatorId: getChars(bytes, 0, SDT_HEADER.creatorId),
    creatorRevision: getU(bytes, 0, SDT_HEADER.creatorRevision),
  };
}

/** A structural problem found while decoding (decoding continues where it safely can). */
export interface DecodeIssue {
  /** 'checksum' | 'length' | 'structure' — the lint rule that reports it. */
  readonly kind: 'checksum' | 'length' | 'structure';
  /** Byte offset in the table the problem concerns. */
  readonly offset: number;
  readonly message: string;
  /** Set on the Length issue of a table whose header claims more bytes than are present. */
  readonly truncated?: true;
}

/**
 * Checks header Length against the data and the checksum; returns the bytes of the table proper
 * (clipped to Length when the data is longer) and the issues found. Throws when the signature
 * is not `signature` (wrong file for this decoder).
 */
export function checkTableFrame(bytes: Uint8Array, signature: string, minLength: number): { header: AcpiHeader; table: Uint8Array; issues: DecodeIssue[] } {
  const header = decodeHeader(bytes);
  if (header.signature !== signature) throw new AcpiDecodeError(`not an ${signature} table (signature ${JSON.stringify(header.signature)})`);
  const issues: DecodeIssue[] = [];
  let table = bytes;
  if (header.length > bytes.length) {
    issues.push({ kind: 'length', offset: 4, message: `header Length ${header.length} exceeds the ${bytes.length} bytes present (truncated table)`, truncated: true });
  } else if (header.length < bytes.length) {
    issues.push({ kind: 'length', offset: 4, message: `header Length ${header.length} is shorter than the ${bytes.length} bytes present (trailing data ignored)` });
    table = bytes.subarray(0, Math.max(header.length, SDT_HEADER_SIZE));
  }
  if (table.length < minLength) throw new AcpiDecodeError(`${signature} table is ${table.length} bytes, shorter than its fixed ${minLength}-byte header`);
  if (header.length <= bytes.length && byteSum(bytes, 0, header.length) !== 0) {
    const expected = (header.checksum - byteSum(bytes, 0, header.length) + 0x100) & 0xff;
    issues.push({ kind: 'checksum', offset: 9, message: `checksum 0x${header.checksum.toString(16).padStart(2, '0')} is wrong (expected 0x${expected.toString(16).padStart(2, '0')})` });
  }
  return { header, table, issues };
}
