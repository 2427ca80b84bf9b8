// Address fields of GIC registers and table entries hold address bits in place (e.g.
// Physical_Address [51:12] is PA[51:12]). This reads such a field as an address number from lo/hi
// halves without hard-coding its position (IHI 0069 §12.11.28-29, §12.19.1-2 field layouts).

import { bitsInPlace, type Field } from '../spec/bits.js';

/** The address held in place by `f` of the 64-bit value hi:lo (bits outside the field cleared). */
export function fieldAddress(lo: number, hi: number, f: Field): number {
  return bitsInPlace(lo, hi, f.lsb + f.width - 1, f.lsb);
}
