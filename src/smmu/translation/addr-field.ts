// Reading address fields of SMMU structures and descriptors "in place" (the field's bits keep
// their position, e.g. STE.S2TTB[55:4] gives a 16-byte aligned address) as plain numbers.
// Addresses are at most 52 bits here (OAS <= 52); set bits above 52 make the address out of range.
import { bitsInPlace, rdLoHi, type Field } from '../../spec/bits.js';

/** The address held by field `f` of a 64-bit value (lo/hi), or -1 when bits above 52 are set. */
export function addrOfLoHi(lo: number, hi: number, f: Field): number {
  const msb = f.lsb + f.width - 1;
  if (msb > 52 && rdLoHi(lo, hi, 53, msb - 52) !== 0) return -1;
  return bitsInPlace(lo, hi, msb > 52 ? 52 : msb, f.lsb);
}

/** The address held by field `f` of a structure in lo/hi words. */
export function addrOf(w: Uint32Array, f: Field): number {
  return addrOfLoHi(w[2 * f.dw]!, w[2 * f.dw + 1]!, f);
}
