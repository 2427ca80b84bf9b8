// Little-endian readers/writers for ACPI byte-field layouts (src/spec/acpi/layout.ts).
// Decoders read guest- or file-provided bytes: every read is bounds-checked by the caller through
// `need`, which throws AcpiDecodeError (a UserInputError) naming what is truncated.
import type { ByteField } from '../../spec/acpi/layout.js';
import type { Field } from '../../spec/bits.js';
import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';

/** Truncated or malformed table bytes (bad user input: the CLI prints one line and exits 2). */
export class AcpiDecodeError extends UserInputError {}

/** Throws AcpiDecodeError unless `size` bytes at `offset` lie within `bytes`. */
export function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (offset < 0 || size < 0 || offset + size > bytes.length) {
    throw new AcpiDecodeError(`${what} at offset ${hex(offset)} (${size} bytes) runs past the end of the data (${bytes.length} bytes)`);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads an integer field of up to 4 bytes at `base + f.offset` (caller has checked bounds). */
export function getU(bytes: Uint8Array, base: number, f: ByteField): number {
  const v = view(bytes);
  const at = base + f.offset;
  switch (f.size) {
    case 1:
      return v.getUint8(at);
    case 2:
      return v.getUint16(at, true);
    case 4:
      return v.getUint32(at, true);
    default:
      throw new RangeError(`getU on ${f.size}-byte field ${f.name}`);
  }
}

/** Reads an 8-byte field as a bigint. */
export function getU64(bytes: Uint8Array, base: number, f: ByteField): bigint {
  if (f.size !== 8) throw new RangeError(`getU64 on ${f.size}-byte field ${f.name}`);
  return view(bytes).getBigUint64(base + f.offset, true);
}

/** Reads a `chars` field as a string (NUL bytes kept visible as \0 only if inside; trailing NULs trimmed). */
export function getChars(bytes: Uint8Array, base: number, f: ByteField): string {
  let s = '';
  for (let i = 0; i < f.size; i++) s += String.fromCharCode(bytes[base + f.offset + i] ?? 0);
  return s.replace(/\0+$/, '');
}

/** Writes an integer field (1..8 bytes); throws RangeError if the value does not fit (host misuse). */
export function putU(bytes: Uint8Array, base: number, f: ByteField, value: number | bigint): void {
  const v = BigInt(value);
  const max = (1n << BigInt(8 * f.size)) - 1n;
  if (v < 0n || v > max) throw new RangeError(`value ${hex(v)} does not fit ${f.name} (${f.size} bytes)`);
  const dv = view(bytes);
  const at = base + f.offset;
  switch (f.size) {
    case 1:
      dv.setUint8(at, Number(v));
      return;
    case 2:
      dv.setUint16(at, Number(v), true);
      return;
    case 4:
      dv.setUint32(at, Number(v), true);
      return;
    case 8:
      dv.setBigUint64(at, v, true);
      return;
    default:
      throw new RangeError(`putU on ${f.size}-byte field ${f.name}`);
  }
}

/** Writes a `chars` field, space padded; throws RangeError on a too-long or non-ASCII string. */
export function putChars(bytes: Uint8Array, base: number, f: ByteField, s: string): void {
  if (s.length > f.size || !/^[\x20-\x7e]*$/.test(s)) throw new RangeError(`bad ${f.name} ${JSON.stringify(s)}`);
  const padded = s.padEnd(f.size, ' ');
  for (let i = 0; i < f.size; i++) bytes[base + f.offset + i] = padded.charCodeAt(i);
}

/** Value of a bit field (spec/bits.ts reg32Field) within a 32-bit word. */
export function bits(word: number, f: Field): number {
  return (word >>> f.lsb) & (f.width >= 32 ? 0xffff_ffff : (1 << f.width) - 1);
}

/** `word` with bit field `f` set to `value`. */
export function withBits(word: number, f: Field, value: number): number {
  const m = (f.width >= 32 ? 0xffff_ffff : (1 << f.width) - 1) >>> 0;
  if (value < 0 || value > m) throw new RangeError(`value ${value} does not fit ${f.name}`);
  return ((word & ~(m << f.lsb)) | (value << f.lsb)) >>> 0;
}
