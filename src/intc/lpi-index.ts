// A host-side index of the LPIs a redistributor holds pending, so that INV/INVALL/MOVALL and
// disabling LPIs visit the pending LPIs rather than the whole INTID space. Two-level bitmap: one
// bit per INTID plus one summary bit per 32-bit word of it, so finding the next pending LPI skips
// 1024 empty INTIDs per summary bit (32,768 per summary word). Sized by the LPI space the
// redistributor's tables cover (host configuration caps it), never by a count the guest chooses.

export class LpiIndex {
  private readonly bits: Uint32Array;
  private readonly summary: Uint32Array;
  /** Number of INTIDs marked. */
  size = 0;

  /** Covers INTIDs 0 .. `limit` - 1 (a power of two >= 8192). */
  constructor(readonly limit: number) {
    this.bits = new Uint32Array(Math.ceil(limit / 32));
    this.summary = new Uint32Array(Math.ceil(this.bits.length / 32));
  }

  has(intid: number): boolean {
    if (intid < 0 || intid >= this.limit) return false;
    return (this.bits[intid >>> 5]! & (1 << (intid & 31))) !== 0;
  }

  add(intid: number): void {
    if (intid < 0 || intid >= this.limit) return;
    const w = intid >>> 5;
    const m = 1 << (intid & 31);
    const old = this.bits[w]!;
    if ((old & m) !== 0) return;
    this.bits[w] = old | m;
    this.summary[w >>> 5] = this.summary[w >>> 5]! | (1 << (w & 31));
    this.size++;
  }

  delete(intid: number): void {
    if (intid < 0 || intid >= this.limit) return;
    const w = intid >>> 5;
    const m = 1 << (intid & 31);
    const old = this.bits[w]!;
    if ((old & m) === 0) return;
    const v = old & ~m;
    this.bits[w] = v;
    if (v === 0) this.summary[w >>> 5] = this.summary[w >>> 5]! & ~(1 << (w & 31));
    this.size--;
  }

  clear(): void {
    this.bits.fill(0);
    this.summary.fill(0);
    this.size = 0;
  }

  /**
   * The first marked INTID >= `from`, or -1. `visits` (if given) is incremented once per summary
   * word examined, so callers can bound the scan cost.
   */
  next(from: number, visits?: { n: number }): number {
    if (from < 0) from = 0;
    if (from >= this.limit) return -1;
    let w = from >>> 5;
    // Rest of the first word.
    const first = this.bits[w]! & (~0 << (from & 31));
    if (first !== 0) return (w << 5) + ctz(first);
    w++;
    let s = w >>> 5;
    let sw = s < this.summary.length ? this.summary[s]! & (w & 31 ? ~0 << (w & 31) : ~0) : 0;
    while (s < this.summary.length) {
      if (visits) visits.n++;
      if (sw !== 0) {
        const word = (s << 5) + ctz(sw);
        return (word << 5) + ctz(this.bits[word]!);
      }
      s++;
      sw = s < this.summary.length ? this.summary[s]! : 0;
    }
    return -1;
  }
}

function ctz(v: number): number {
  return 31 - Math.clz32(v & -v);
}
