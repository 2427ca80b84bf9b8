// A device's staging buffer between guest buffers (through the DmaPort) and its backend, sized
// once by the device. Views of common lengths (multiples of 512 bytes) are created once and
// reused, so moving data does not allocate per request.
const VIEW_UNIT = 512;

export class BounceBuffer {
  readonly bytes: Uint8Array;
  private readonly views: (Uint8Array | undefined)[];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= VIEW_UNIT && size % VIEW_UNIT === 0)) throw new RangeError(`bounce buffer size ${size} is not a multiple of ${VIEW_UNIT}`);
    this.bytes = new Uint8Array(size);
    this.views = new Array<Uint8Array | undefined>(size / VIEW_UNIT + 1);
  }

  /** The first `n` bytes (0 < n <= size). */
  view(n: number): Uint8Array {
    if (n === this.size) return this.bytes;
    if (n % VIEW_UNIT !== 0) return this.bytes.subarray(0, n);
    const k = n / VIEW_UNIT;
    let v = this.views[k];
    if (v === undefined) {
      v = this.bytes.subarray(0, n);
      this.views[k] = v;
    }
    return v;
  }
}
