// A minimal RSDP + XSDT wrapper (ACPI 6.5 §5.2.5, §5.2.8) so a set of generated tables can be
// placed in guest memory and found: RSDP at `base`, XSDT after it, then each table, 8-byte aligned.
import { RSDP, RSDP_REVISION, RSDP_SIGNATURE, RSDP_SIZE, RSDP_V1_SIZE, SDT_HEADER_SIZE, XSDT_ENTRY_SIZE, XSDT_REVISION, XSDT_SIGNATURE } from '../../spec/acpi/header.js';
import { hex } from '../../util/hex.js';
import { AcpiDecodeError, getChars, getU, getU64, need, putChars, putU } from './bytes.js';
import { byteSum, setChecksum } from './checksum.js';
import { checkTableFrame, DEFAULT_OEM, finishTable, type DecodeIssue, type OemInfo } from './sdt.js';

export interface AcpiTableSet {
  /** Bytes to place at `base`: RSDP, XSDT, then the tables. */
  readonly blob: Uint8Array;
  readonly base: number;
  readonly rsdpAddress: number;
  readonly xsdtAddress: number;
  /** Guest physical address of each input table, in input order. */
  readonly tableAddresses: readonly number[];
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Encodes an RSDP (revision 2) pointing at `xsdtAddress`. */
export function encodeRsdp(xsdtAddress: number, oemId = DEFAULT_OEM.oemId): Uint8Array {
  const r = new Uint8Array(RSDP_SIZE);
  putChars(r, 0, RSDP.signature, RSDP_SIGNATURE);
  putChars(r, 0, RSDP.oemId, oemId);
  putU(r, 0, RSDP.revision, RSDP_REVISION);
  putU(r, 0, RSDP.rsdtAddress, 0);
  putU(r, 0, RSDP.length, RSDP_SIZE);
  putU(r, 0, RSDP.xsdtAddress, BigInt(xsdtAddress));
  setChecksum(r, RSDP.checksum.offset, 0, RSDP_V1_SIZE);
  setChecksum(r, RSDP.extendedChecksum.offset, 0, RSDP_SIZE);
  return r;
}

/** Encodes an XSDT listing `addresses`. */
export function encodeXsdt(addresses: readonly number[], oem: Partial<OemInfo> = {}): Uint8Array {
  const t = new Uint8Array(SDT_HEADER_SIZE + XSDT_ENTRY_SIZE * addresses.length);
  const dv = new DataView(t.buffer);
  addresses.forEach((a, i) => dv.setBigUint64(SDT_HEADER_SIZE + XSDT_ENTRY_SIZE * i, BigInt(a), true));
  return finishTable(t, XSDT_SIGNATURE, XSDT_REVISION, { oemTableId: 'VSMMUXST', ...oem });
}

/** Lays out RSDP, XSDT and `tables` contiguously from guest physical address `base` (8-aligned). */
export function buildAcpiTableSet(tables: readonly Uint8Array[], base: number, oem: Partial<OemInfo> = {}): AcpiTableSet {
  if (base % 16 !== 0) throw new RangeError(`RSDP base ${hex(base)} must be 16-byte aligned`);
  const xsdtOff = align8(RSDP_SIZE);
  const xsdtLen = SDT_HEADER_SIZE + XSDT_ENTRY_SIZE * tables.length;
  const offs: number[] = [];
  let at = align8(xsdtOff + xsdtLen);
  for (const t of tables) {
    offs.push(at);
    at = align8(at + t.length);
  }
  const blob = new Uint8Array(at);
  const addrs = offs.map((o) => base + o);
  blob.set(encodeRsdp(base + xsdtOff, oem.oemId ?? DEFAULT_OEM.oemId), 0);
  blob.set(encodeXsdt(addrs, oem), xsdtOff);
  tables.forEach((t, i) => blob.set(t, offs[i]!));
  return { blob, base, rsdpAddress: base, xsdtAddress: base + xsdtOff, tableAddresses: addrs };
}

export interface RsdpInfo {
  readonly oemId: string;
  readonly revision: number;
  readonly rsdtAddress: number;
  readonly length: number;
  readonly xsdtAddress: bigint;
  readonly issues: readonly DecodeIssue[];
}

export function decodeRsdp(bytes: Uint8Array): RsdpInfo {
  need(bytes, 0, RSDP_V1_SIZE, 'RSDP');
  if (getChars(bytes, 0, RSDP.signature) !== RSDP_SIGNATURE) throw new AcpiDecodeError('not an RSDP (signature is not "RSD PTR ")');
  const issues: DecodeIssue[] = [];
  if (byteSum(bytes, 0, RSDP_V1_SIZE) !== 0) issues.push({ kind: 'checksum', offset: 8, message: 'RSDP checksum (bytes 0..19) is wrong' });
  const revision = getU(bytes, 0, RSDP.revision);
  if (revision < 2) return { oemId: getChars(bytes, 0, RSDP.oemId), revision, rsdtAddress: getU(bytes, 0, RSDP.rsdtAddress), length: RSDP_V1_SIZE, xsdtAddress: 0n, issues };
  need(bytes, 0, RSDP_SIZE, 'RSDP (revision 2)');
  if (byteSum(bytes, 0, RSDP_SIZE) !== 0) issues.push({ kind: 'checksum', offset: 32, message: 'RSDP extended checksum is wrong' });
  return {
    oemId: getChars(bytes, 0, RSDP.oemId),
    revision,
    rsdtAddress: getU(bytes, 0, RSDP.rsdtAddress),
    length: getU(bytes, 0, RSDP.length),
    xsdtAddress: getU64(bytes, 0, RSDP.xsdtAddress),
    issues,
  };
}

export interface XsdtInfo {
  readonly entries: readonly bigint[];
  readonly issues: readonly DecodeIssue[];
}

export function decodeXsdt(bytes: Uint8Array): XsdtInfo {
  const { table, issues } = checkTableFrame(bytes, XSDT_SIGNATURE, SDT_HEADER_SIZE);
  const n = Math.floor((table.length - SDT_HEADER_SIZE) / XSDT_ENTRY_SIZE);
  const entries: bigint[] = [];
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let i = 0; i < n; i++) entries.push(dv.getBigUint64(SDT_HEADER_SIZE + XSDT_ENTRY_SIZE * i, true));
  if ((table.length - SDT_HEADER_SIZE) % XSDT_ENTRY_SIZE !== 0) issues.push({ kind: 'length', offset: 4, message: 'XSDT length is not a whole number of 8-byte entries' });
  return { entries, issues };
}
