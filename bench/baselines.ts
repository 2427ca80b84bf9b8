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

/** Words of MinimalSmmuWalk's per-stream state: the STE's and the CD's first 8 words, then MW_*. */
const MW_STRIDE = 20;
const MW_STE_AT = 16;
const MW_CD_AT = 17;
const MW_TTB_AT = 18;
const MW_VALID = 19;
/** Words of an STE and of a CD a decoder reads (their first four doublewords). */
const DECODED_WORDS = 8;

/**
 * The least a correct translation with caches disabled does for an untagged stage-1 data access,
 * in minimal JavaScript, as one function. Without caches nothing read before may be trusted, so
 * the stream's STE (the words its decode depends on) is read from the stream table and compared
 * with the words it was decoded from, and likewise its CD at the address that decode gave; then
 * the address is checked against TTB0's input range and the 4-level walk starts from TTB0. At
 * each level the walk checks what the architecture makes a fault there: an invalid descriptor, a
 * table outside RAM, an output address beyond a 48-bit OAS, a block at level 0; at the leaf, the
 * Access flag and the access against AP[2:1] and the APTable bits gathered on the way. What it
 * leaves out of a correct SMMU: decoding a changed STE or CD (it declines), every granule, input
 * size and start level but one, TTB1, stage 2, HTTU, TBI, XN, attributes, events, statistics.
 * The model's `walk` row measured against it is how much the model spends beyond these.
 */
export class MinimalSmmuWalk {
  private readonly words: Int32Array;
  private readonly memo: Int32Array;
  private readonly base: number;
  private readonly bytes: number;
  /** SMMUEN. */
  enabled = true;
  /** The PA of the last translation. */
  pa = 0;

  /**
   * Over `ram` at `ramBase` holding a linear stream table at `strtab` whose first `streamCount`
   * STEs are valid stage-1 STEs with a linear CD table, each CD 4 KiB-granule with T0SZ 16 (the
   * bench fixture's). Throws if they are not: this is the decode that the lookups re-validate.
   */
  constructor(ram: Uint8Array, ramBase: number, strtab: number, streamCount: number) {
    if (!(ram.byteLength < TWO32)) throw new RangeError('MinimalSmmuWalk: RAM of 4 GiB or more');
    this.words = new Int32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2);
    this.base = ramBase;
    this.bytes = ram.byteLength;
    this.memo = new Int32Array(streamCount * MW_STRIDE);
    const w = this.words;
    const at = (pa: number): number => {
      const off = pa - ramBase;
      if (!(off >= 0 && off + 64 <= ram.byteLength && off % 8 === 0)) throw new RangeError(`MinimalSmmuWalk: 0x${pa.toString(16)} is not in RAM`);
      return off / 4;
    };
    for (let sid = 0; sid < streamCount; sid++) {
      const m = sid * MW_STRIDE;
      const ste = at(strtab + sid * 64);
      // STE.V, Config = 0b101 (stage 1 only), S1Fmt linear, S1CDMax 0.
      if ((w[ste]! & 0xf) !== 0xb || (w[ste + 1]! >>> 27) !== 0) throw new RangeError(`MinimalSmmuWalk: STE ${sid} is not a one-CD stage-1 STE`);
      const cd = at((w[ste + 1]! & 0xfffff) * TWO32 + ((w[ste]! & ~63) >>> 0));
      // CD: T0SZ 16, TG0 4 KiB, EPD0 0, V, AA64, IPS 48 bits.
      const cd0 = w[cd]!;
      if ((cd0 & 0x3f) !== 16 || ((cd0 >>> 6) & 3) !== 0 || ((cd0 >>> 14) & 1) !== 0 || ((cd0 >>> 31) & 1) !== 1 || ((w[cd + 1]! >>> 9) & 1) !== 1 || (w[cd + 1]! & 7) !== 5) {
        throw new RangeError(`MinimalSmmuWalk: the CD of stream ${sid} is not the one it assumes`);
      }
      for (let j = 0; j < DECODED_WORDS; j++) {
        this.memo[m + j] = w[ste + j]!;
        this.memo[m + DECODED_WORDS + j] = w[cd + j]!;
      }
      this.memo[m + MW_STE_AT] = ste;
      this.memo[m + MW_CD_AT] = cd;
      this.memo[m + MW_TTB_AT] = at((w[cd + 3]! & 0xfffff) * TWO32 + ((w[cd + 2]! & ~0xfff) >>> 0));
      this.memo[m + MW_VALID] = 1;
    }
  }

  /**
   * The log2 size of the page or block (12, 21 or 30) of a permitted unprivileged data access by
   * stream `sid` at the address whose int32 halves are `lo` / `hi`, its PA in {@link pa}; -1 for
   * a fault, or a changed STE or CD.
   */
  lookup(sid: number, lo: number, hi: number, write: boolean): number {
    if (!this.enabled) return -1;
    const s = sid * MW_STRIDE;
    const memo = this.memo;
    const w = this.words;
    if (memo[s + MW_VALID] !== 1) return -1;
    // The eight words of each, compared without a loop (unrolled: about 10% faster in V8).
    const a = memo[s + MW_STE_AT]!;
    const c = memo[s + MW_CD_AT]!;
    if (((w[a]! ^ memo[s]!) | (w[a + 1]! ^ memo[s + 1]!) | (w[a + 2]! ^ memo[s + 2]!) | (w[a + 3]! ^ memo[s + 3]!) |
      (w[a + 4]! ^ memo[s + 4]!) | (w[a + 5]! ^ memo[s + 5]!) | (w[a + 6]! ^ memo[s + 6]!) | (w[a + 7]! ^ memo[s + 7]!)) !== 0) return -1;
    if (((w[c]! ^ memo[s + 8]!) | (w[c + 1]! ^ memo[s + 9]!) | (w[c + 2]! ^ memo[s + 10]!) | (w[c + 3]! ^ memo[s + 11]!) |
      (w[c + 4]! ^ memo[s + 12]!) | (w[c + 5]! ^ memo[s + 13]!) | (w[c + 6]! ^ memo[s + 14]!) | (w[c + 7]! ^ memo[s + 15]!)) !== 0) return -1;
    return this.walk(memo[s + MW_TTB_AT]!, lo, hi, write);
  }

  /**
   * {@link lookup} with the stream's configuration held, not read again (as with caches enabled):
   * the checked walk alone, the least an IOTLB miss does before it probes and refills.
   */
  lookupHeldConfig(sid: number, lo: number, hi: number, write: boolean): number {
    if (!this.enabled) return -1;
    const s = sid * MW_STRIDE;
    if (this.memo[s + MW_VALID] !== 1) return -1;
    return this.walk(this.memo[s + MW_TTB_AT]!, lo, hi, write);
  }

  /** The checked walk from the level-0 table at word `t` of RAM. */
  private walk(t: number, lo: number, hi: number, write: boolean): number {
    if ((hi & 0xffff_0000) !== 0) return -1; // T0SZ 16: VA[63:48] must be zero
    const w = this.words;
    let tableHi = 0;
    for (let level = 0; level < 4; level++) {
      const idx = level === 0 ? (hi >>> 7) & 511 : level === 1 ? ((hi & 0x7f) << 2) | (lo >>> 30) : level === 2 ? (lo >>> 21) & 511 : (lo >>> 12) & 511;
      const d = t + idx * 2;
      const dlo = w[d]!;
      const dhi = w[d + 1]!;
      if ((dlo & 1) === 0) return -1; // translation fault
      if ((dhi & 0xf_0000) !== 0) return -1; // address size fault: OA[51:48] beyond a 48-bit OAS
      if (level < 3 && (dlo & 2) !== 0) {
        tableHi |= dhi;
        const off = (dhi & 0xffff) * TWO32 + ((dlo & ~0xfff) >>> 0) - this.base;
        if (!(off >= 0 && off < this.bytes)) return -1; // the next table is not in RAM: external abort
        t = off >>> 2; // below 2^32: the RAM is smaller (constructor)
        continue;
      }
      // A block at level 1 or 2, a page at level 3; anything else is a translation fault.
      if (level === 0 || (level === 3) !== ((dlo & 2) !== 0)) return -1;
      if ((dlo & 0x400) === 0) return -1; // access flag fault
      // Unprivileged: AP[1] set and APTable[0] clear; a write: AP[2] and APTable[1] clear.
      const apTable = (tableHi >>> 29) & 3;
      if ((dlo & 0x40) === 0 || (apTable & 1) !== 0) return -1;
      if (write && ((dlo & 0x80) !== 0 || (apTable & 2) !== 0)) return -1;
      const shift = 39 - 9 * level;
      this.pa = (dhi & 0xffff) * TWO32 + ((dlo & (-1 << shift)) >>> 0) + (lo & ((1 << shift) - 1));
      return shift;
    }
    return -1;
  }
}
