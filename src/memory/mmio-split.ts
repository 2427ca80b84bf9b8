// A 64-bit MMIO access taken as two 32-bit accesses, low word first: what a device does whose
// registers are all 32 bits wide, and what a 64-bit device does for a pair of 32-bit registers.
import type { U64 } from './types.js';

/** The 32-bit access methods of a device. */
export interface Mmio32 {
  read(offset: number, size: 4): number;
  write(offset: number, size: 4, value: number): void;
}

/** Reads `offset` and `offset + 4` as 32-bit accesses into `out`. */
export function read64As32(dev: Mmio32, offset: number, out: U64): void {
  out.lo = dev.read(offset, 4) >>> 0;
  out.hi = dev.read(offset + 4, 4) >>> 0;
}

/** Writes `lo` to `offset`, then `hi` to `offset + 4`, as 32-bit accesses. */
export function write64As32(dev: Mmio32, offset: number, lo: number, hi: number): void {
  dev.write(offset, 4, lo);
  dev.write(offset + 4, 4, hi);
}
