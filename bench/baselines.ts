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

/**
 * The least a correct IOTLB hit for an untagged DMA access does, in minimal JavaScript, as one
 * function: the stream's state (translation enabled, the input range of TTB0, the tag of its
 * ASID) read by StreamID, the address checked against that range, the entry probed with the tag
 * compared along with the page, the access's permission checked, the offset added. The entries
 * live in a hash of 16-byte slots (page, key with tag, output frame, frame high bits with
 * permissions), one cache line read per hit as the model's IOTLB does. What it leaves out of a
 * correct SMMU: several page and block sizes, TTB1, global entries, invalidation, statistics,
 * STE.PRIVCFG/INSTCFG. Measured against {@link MinimalTlb}, it is what those checks cost; the
 * model measured against it, how close the model comes to them.
 */
export class MinimalSmmuHit {
  /** Per StreamID: enabled (bit 0), the mask of address bits [63:32] that must be zero, the tag. */
  private readonly streams: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  /** The PA of the last hit. */
  pa = 0;

  /** Page i (IOVA iovas[i], PA pas[i], read-write) belongs to stream sidOf(i), whose tag is its StreamID + 1; IOVAs have 48 bits. */
  constructor(streamCount: number, iovas: Float64Array, pas: Float64Array, sidOf: (page: number) => number) {
    this.streams = new Int32Array(streamCount * 3);
    for (let s = 0; s < streamCount; s++) {
      this.streams[s * 3] = 1;
      this.streams[s * 3 + 1] = 0xffff_0000 | 0;
      this.streams[s * 3 + 2] = s + 1;
    }
    let bits = 4;
    while (1 << bits < 2 * iovas.length) bits++;
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.slots = new Int32Array(4 << bits);
    for (let i = 0; i < iovas.length; i++) {
      const lo = iovas[i]! >>> 0;
      const hi = Math.floor(iovas[i]! / TWO32);
      const tag = sidOf(i) + 1;
      const pageLo = (lo >>> 12) | (hi << 20);
      const key = 1 | ((hi >>> 12) << 1) | (tag << 9);
      let h = this.home(pageLo, key);
      while (this.slots[h * 4 + 1] !== 0) h = (h + 1) & this.mask;
      const frame = pas[i]! / 4096;
      this.slots[h * 4] = pageLo;
      this.slots[h * 4 + 1] = key;
      this.slots[h * 4 + 2] = frame | 0;
      this.slots[h * 4 + 3] = Math.floor(frame / TWO32) | (3 << 8);
    }
  }

  private home(pageLo: number, key: number): number {
    return Math.imul(pageLo ^ Math.imul(key, 0x85eb_ca77), 0x9e37_79b1) >>> this.shift;
  }

  /** 12 (log2 of the page size) on a permitted hit, its PA in {@link pa}; else -1. `lo`/`hi`: the IOVA's int32 halves. */
  lookup(sid: number, lo: number, hi: number, write: boolean): number {
    const s = sid * 3;
    const streams = this.streams;
    if ((streams[s]! & 1) === 0 || (hi & streams[s + 1]!) !== 0) return -1;
    const pageLo = (lo >>> 12) | (hi << 20);
    const key = 1 | (((hi >>> 12) & 0xff) << 1) | (streams[s + 2]! << 9);
    const slots = this.slots;
    let h = this.home(pageLo, key);
    for (;;) {
      const k = slots[h * 4 + 1]!;
      if (k === key && slots[h * 4] === pageLo) break;
      if (k === 0) return -1;
      h = (h + 1) & this.mask;
    }
    const outHi = slots[h * 4 + 3]!;
    if (((outHi >>> 8) & (write ? 2 : 1)) === 0) return -1;
    this.pa = ((outHi & 0xff) * TWO32 + (slots[h * 4 + 2]! >>> 0)) * 4096 + (lo & 0xfff);
    return 12;
  }
}
