// A scatter-gather list for vectored DMA: segments of (IOVA, buffer). The IOVA is kept as 32-bit
// halves so that filling and reading the list never boxes a 64-bit address; each segment moves the
// whole of its buffer, so a copy of a segment that lies in one page is a single
// TypedArray.prototype.set with no view created. Owned and reused by a device (one per queue, say,
// with buffers it also reuses); its capacity is the device's choice, never a guest value.

export class DmaSegments {
  /** IOVA bits [31:0] and [63:32] of each segment (int32 storage; read them with `>>> 0`). */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** The buffer each segment reads into or writes from (its whole length is transferred). */
  readonly bufs: (Uint8Array | null)[];
  /** Segments in use. */
  count = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= 1 << 20)) throw new RangeError(`bad segment list capacity ${capacity}`);
    this.lo = new Int32Array(capacity);
    this.hi = new Int32Array(capacity);
    this.bufs = new Array<Uint8Array | null>(capacity).fill(null);
  }

  /** Empties the list (and drops its references to the buffers). */
  clear(): this {
    for (let i = 0; i < this.count; i++) this.bufs[i] = null;
    this.count = 0;
    return this;
  }

  /** Appends a segment at IOVA `lo`/`hi` moving all of `buf`; false (nothing appended) when full. */
  push(lo: number, hi: number, buf: Uint8Array): boolean {
    if (this.count === this.capacity) return false;
    const i = this.count++;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.bufs[i] = buf;
    return true;
  }

  /** Total bytes of the segments in use. */
  totalBytes(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.bufs[i]!.length;
    return n;
  }
}
