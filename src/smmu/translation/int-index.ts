// A fixed-capacity map from non-negative integer keys (up to 2^53) to int32 values, stored in typed
// arrays: open addressing with linear probing and backward-shift deletion, so that adding and
// removing keys allocates nothing (a Map allocates as keys come and go). Used by the IOTLB for its
// tag and VM indexes, where keys churn with every refill when many streams share a small IOTLB.

const TWO32 = 2 ** 32;

export class IntIndex {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  size = 0;

  constructor(readonly capacity: number) {
    let bits = 4;
    while (2 ** bits < 2 * capacity) bits++;
    this.mask = 2 ** bits - 1;
    this.shift = 32 - bits;
    this.keys = new Float64Array(2 ** bits).fill(-1);
    this.vals = new Int32Array(2 ** bits);
  }

  private home(key: number): number {
    const h = Math.imul((key >>> 0) ^ (key < TWO32 ? 0 : (key / TWO32) | 0), 0x9e37_79b1);
    return h >>> this.shift;
  }

  private slotOf(key: number): number {
    const keys = this.keys;
    let i = this.home(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k < 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** The value of `key`, or -1 when absent. */
  get(key: number): number {
    const i = this.slotOf(key);
    return i < 0 ? -1 : this.vals[i]!;
  }

  /** Adds or replaces `key`; the caller never holds more than `capacity` keys. */
  set(key: number, value: number): void {
    const keys = this.keys;
    let i = this.home(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) break;
      if (k < 0) {
        if (this.size >= this.capacity) throw new RangeError('IntIndex full');
        keys[i] = key;
        this.size++;
        break;
      }
      i = (i + 1) & this.mask;
    }
    this.vals[i] = value;
  }

  delete(key: number): void {
    let gap = this.slotOf(key);
    if (gap < 0) return;
    const keys = this.keys;
    const mask = this.mask;
    keys[gap] = -1;
    this.size--;
    let j = gap;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k < 0) return;
      const h = this.home(k);
      // The key at j may stay when its home lies cyclically in (gap, j].
      if (gap <= j ? gap < h && h <= j : gap < h || h <= j) continue;
      keys[gap] = k;
      this.vals[gap] = this.vals[j]!;
      keys[j] = -1;
      gap = j;
    }
  }
}
