// ACPI checksums (ACPI 6.5 §5.2.5.3, §5.2.6): the covered bytes sum to zero modulo 256.
import { SDT_HEADER } from '../../spec/acpi/header.js';

/** Sum of `bytes[start, start+length)` modulo 256 (0 means the checksum is correct). */
export function byteSum(bytes: Uint8Array, start = 0, length = bytes.length - start): number {
  let s = 0;
  const end = Math.min(bytes.length, start + length);
  for (let i = Math.max(0, start); i < end; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

/** Sets byte `at` so that `bytes[start, start+length)` sums to zero. */
export function setChecksum(bytes: Uint8Array, at: number, start = 0, length = bytes.length - start): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - byteSum(bytes, start, length)) & 0xff;
}

/** Fixes the checksum byte of a whole System Description Table. */
export function fixTableChecksum(table: Uint8Array): void {
  setChecksum(table, SDT_HEADER.checksum.offset, 0, table.length);
}

/** The checksum byte value that would make the table sum to zero. */
export function expectedTableChecksum(table: Uint8Array, length = table.length): number {
  const cur = table[SDT_HEADER.checksum.offset] ?? 0;
  return (cur - byteSum(table, 0, length) + 0x100) & 0xff;
}
