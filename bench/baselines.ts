// Minimal JavaScript implementations of the benchmarked operations, on the same workload, for the
// ratios `npm run bench` prints: what the operation costs in V8 with nothing but the operation.
//  - MinimalTlb: one probe in an open-addressing typed-array hash of page -> frame (the least an
//    IOTLB hit can do: hash the page number, compare one key, add the offset).
//  - minimalWalk: a 4-level, 4 KiB-granule walk reading the descriptors straight out of the RAM
//    buffer (no translation-engine checks: valid bit only).
// Neither is a correct SMMU; both are lower bounds for one.
const TWO32 = 0x1_0000_0000;

export class MinimalTlb {
  private readonly keys: Float64Array;
  private readonly vals: Float64Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(iovas: Float64Array, pas: Float64Array) {
    let bits = 4;
    while (1 << bits < 2 * iovas.length) bits++;
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.vals = new Float64Array(1 << bits);
    for (let i = 0; i < iovas.length; i++) {
      const page = Math.floor(iovas[i]! / 4096);
      let h = this.hash(page);
      while (this.keys[h] !== -1) h = (h + 1) & this.mask;
      this.keys[h] = page;
      this.vals[h] = pas[i]!;
    }
  }

  private hash(page: number): number {
    return Math.imul((page >>> 0) ^ ((page / TWO32) | 0), 0x9e37_79b1) >>> this.shift;
  }

  /** PA of `iova` (which must be mapped). */
  lookup(iova: number): number {
    const lo = iova >>> 0;
    const page = ((iova / TWO32) >>> 0) * 0x10_0000 + (lo >>> 12);
    let h = this.hash(page);
    const keys = this.keys;
    while (keys[h] !== page) h = (h + 1) & this.mask;
    return this.vals[h]! + (lo & 0xfff);
  }
}

/** A 4-level walk (4 KiB granule, 48-bit VA) over `ram` (little-endian words) mapped at `ramBase`. */
export function minimalWalk(words: Uint32Array, ramBase: number, pgd: number, iova: number): number {
  const lo = iova >>> 0;
  const hi = (iova / TWO32) >>> 0;
  let table = pgd;
  for (let level = 0; level < 4; level++) {
    const idx =
      level === 0 ? (hi >>> 7) & 511 : level === 1 ? ((hi & 0x7f) << 2) | (lo >>> 30) : level === 2 ? (lo >>> 21) & 511 : (lo >>> 12) & 511;
    const w = (table - ramBase + idx * 8) >>> 2;
    const dlo = words[w]!;
    if ((dlo & 1) === 0) return -1;
    table = (words[w + 1]! & 0xffff) * TWO32 + ((dlo & 0xffff_f000) >>> 0);
  }
  return table + (lo & 0xfff);
}
