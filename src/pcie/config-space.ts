// One function's 4 KiB configuration space: the register bytes, a write mask (which bits a guest
// may change), a write-1-to-clear mask, and the capability list. Guest accesses go through
// `guestRead`/`guestWrite` (1, 2 or 4 bytes, never throw, out-of-range reads all-ones, writes
// ignored; bits outside the write mask are read-only and unimplemented registers read as zero).
// Host-side setters ignore the masks. Models observe guest writes through `observe()`.
// PCIe Base r5.0 §7.5.1 (header), §7.5.1.1.11 and §7.5.2 (capability list), §7.4 (register
// attributes RO, RW, RW1C).
import { CONFIG_SPACE_BYTES, HDR, STATUS } from '../spec/pcie/config-header.js';
import { CAP_AREA_END, CAP_AREA_START } from '../spec/pcie/capabilities.js';
import { fieldMask32, sizeMask } from '../spec/bits.js';
import { routingChanged } from './routing-epoch.js';

/** Called after a guest write that overlaps [start, end). */
export interface ConfigWriteObserver {
  readonly start: number;
  readonly end: number;
  afterWrite(offset: number, size: number): void;
}

export class ConfigSpace {
  readonly bytes = new Uint8Array(CONFIG_SPACE_BYTES);
  /** Bits the guest may write (RW). */
  readonly wmask = new Uint8Array(CONFIG_SPACE_BYTES);
  /** Bits a guest write of 1 clears (RW1C). */
  readonly w1cmask = new Uint8Array(CONFIG_SPACE_BYTES);
  private readonly observers: ConfigWriteObserver[] = [];
  private lastCapNextPtr = -1;
  private nextCapOffset = CAP_AREA_START;
  private resetImage: Uint8Array | null = null;

  // ------------------------------------------------------------ guest side

  /** Little-endian read of 1, 2 or 4 bytes; all-ones when outside the space. */
  guestRead(offset: number, size: 1 | 2 | 4): number {
    if (!(offset >= 0 && offset + size <= CONFIG_SPACE_BYTES)) return sizeMask(size);
    return this.get(offset, size);
  }

  /** Little-endian write of 1, 2 or 4 bytes through the write masks; outside the space ignored. */
  guestWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!(offset >= 0 && offset + size <= CONFIG_SPACE_BYTES)) return;
    const b = this.bytes;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const v = (value >>> (8 * i)) & 0xff;
      const wm = this.wmask[o]!;
      const cm = this.w1cmask[o]!;
      b[o] = ((b[o]! & ~wm & ~(v & cm)) | (v & wm)) & 0xff;
    }
    routingChanged();
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) {
      const ob = obs[i]!;
      if (offset < ob.end && offset + size > ob.start) ob.afterWrite(offset, size);
    }
  }

  // ------------------------------------------------------------ host side

  get(offset: number, size: 1 | 2 | 4): number {
    const b = this.bytes;
    if (size === 1) return b[offset]!;
    if (size === 2) return b[offset]! | (b[offset + 1]! << 8);
    return (b[offset]! | (b[offset + 1]! << 8) | (b[offset + 2]! << 16) | (b[offset + 3]! << 24)) >>> 0;
  }

  set(offset: number, size: 1 | 2 | 4, value: number): void {
    setLe(this.bytes, offset, size, value);
    routingChanged();
  }

  setWriteMask(offset: number, size: 1 | 2 | 4, mask: number): void {
    setLe(this.wmask, offset, size, mask);
  }

  setW1cMask(offset: number, size: 1 | 2 | 4, mask: number): void {
    setLe(this.w1cmask, offset, size, mask);
  }

  /** Sets (or clears) the bits of `mask` in the register, bypassing the write masks. */
  setBits(offset: number, size: 1 | 2 | 4, mask: number, on: boolean): void {
    const v = this.get(offset, size);
    this.set(offset, size, on ? v | mask : v & ~mask);
  }

  observe(o: ConfigWriteObserver): void {
    this.observers.push(o);
  }

  /**
   * Appends a capability of `length` bytes to the list (dword aligned, within 0x40..0xff) and
   * returns its offset. Host construction only: throws RangeError when the area is full.
   */
  addCapability(id: number, length: number): number {
    const off = this.nextCapOffset;
    if (off + length > CAP_AREA_END) throw new RangeError(`no room for capability 0x${id.toString(16)} in configuration space`);
    this.nextCapOffset = (off + length + 3) & ~3;
    this.bytes[off] = id;
    this.bytes[off + 1] = 0;
    if (this.lastCapNextPtr < 0) {
      this.bytes[HDR.CAPABILITIES_PTR.offset] = off;
      this.setBits(HDR.STATUS.offset, 2, fieldMask32(STATUS.CAPABILITIES_LIST), true);
    } else {
      this.bytes[this.lastCapNextPtr] = off;
    }
    this.lastCapNextPtr = off + 1;
    return off;
  }

  /** Offset of the first capability with `id` by walking the list (bounded), or -1. */
  findCapability(id: number): number {
    let p = this.bytes[HDR.CAPABILITIES_PTR.offset]! & ~3;
    for (let n = 0; n < 48 && p >= CAP_AREA_START && p < CAP_AREA_END; n++) {
      if (this.bytes[p] === id) return p;
      p = this.bytes[p + 1]! & ~3;
    }
    return -1;
  }

  /** Records the current contents as the reset state (call once construction is complete). */
  captureResetState(): void {
    this.resetImage = this.bytes.slice();
  }

  /** Replaces the register contents (restore); masks and observers are unchanged, none is called. */
  load(bytes: Uint8Array): void {
    if (bytes.length !== CONFIG_SPACE_BYTES) throw new RangeError(`configuration space image must be ${CONFIG_SPACE_BYTES} bytes`);
    this.bytes.set(bytes);
    routingChanged();
  }

  /** Restores the captured reset state (conventional reset / FLR of the register file). */
  reset(): void {
    if (this.resetImage) this.bytes.set(this.resetImage);
    routingChanged();
  }
}

function setLe(arr: Uint8Array, offset: number, size: number, value: number): void {
  for (let i = 0; i < size; i++) arr[offset + i] = (value >>> (8 * i)) & 0xff;
}
