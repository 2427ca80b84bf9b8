// Byte-offset field descriptors for ACPI tables (ACPI 6.x §5.2: little-endian, packed structures).
// ACPI structures are byte-addressed records, so their fields are described by offset and size
// rather than by the 64-bit doubleword Field of spec/bits.ts; bit fields inside a flags word use
// `reg32Field` from spec/bits.ts. Layout only: readers/writers live in src/firmware/acpi/bytes.ts.

export type ByteFieldKind = 'uint' | 'chars';

export interface ByteField {
  readonly name: string;
  /** Byte offset from the start of the enclosing structure. */
  readonly offset: number;
  /** Size in bytes: 1, 2, 4 or 8 for integers; the character count for `chars`. */
  readonly size: number;
  readonly kind: ByteFieldKind;
}

function mk(name: string, offset: number, size: number, kind: ByteFieldKind): ByteField {
  return Object.freeze({ name, offset, size, kind });
}

export const u8 = (name: string, offset: number): ByteField => mk(name, offset, 1, 'uint');
export const u16 = (name: string, offset: number): ByteField => mk(name, offset, 2, 'uint');
export const u32 = (name: string, offset: number): ByteField => mk(name, offset, 4, 'uint');
export const u64 = (name: string, offset: number): ByteField => mk(name, offset, 8, 'uint');
/** A fixed-length ASCII field (space padded by convention, e.g. OEM ID). */
export const chars = (name: string, offset: number, length: number): ByteField => mk(name, offset, length, 'chars');

/** End offset (exclusive) of a field. */
export function fieldEnd(f: ByteField): number {
  return f.offset + f.size;
}
