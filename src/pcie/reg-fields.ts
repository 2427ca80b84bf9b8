// Field access on a single configuration register value (a Field of doubleword 0, width <= 32),
// for the PCIe models. Numbers only; no allocation.
import { mask32, type Field } from '../spec/bits.js';

/** Extracts field `f` from a register value. */
export function getField(value: number, f: Field): number {
  return ((value >>> f.lsb) & mask32(f.width)) >>> 0;
}

/** Returns `value` with field `f` replaced by `v` (truncated to the field width). */
export function setField(value: number, f: Field, v: number): number {
  const m = fieldMask(f);
  return ((value & ~m) | ((v << f.lsb) & m)) >>> 0;
}

/** The field's bits in place. */
export function fieldMask(f: Field): number {
  return f.width >= 32 ? 0xffff_ffff : (mask32(f.width) << f.lsb) >>> 0;
}

/** True when single-bit (or any-bit) field `f` is non-zero in `value`. */
export function isSet(value: number, f: Field): boolean {
  return (value & fieldMask(f)) !== 0;
}

/** Mask of the low `size` bytes. */
export function sizeMask(size: number): number {
  return size >= 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
}
