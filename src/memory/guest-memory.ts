/**
 * Guest physical memory: RAM regions over ArrayBuffers (fast path) and optional on-demand backings
 * (e.g. a multi-hundred-MiB memory image read through a file descriptor). Little-endian.
 *
 * No access throws: outside RAM a scalar read returns -1 and anything else returns false, which
 * callers turn into the architected external abort. An access must lie within one region for
 * scalars; byte-range accesses may span adjacent regions.
 */
import { endianness } from 'node:os';
import type { PhysMemory, RamWords, U64 } from './types.js';

/** Word views of RAM (ramWords) read host byte order: offered on little-endian hosts only. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** On-demand storage for a region (not on the DMA fast path). */
export interface RegionBacking {
  readonly size: number;
  readAt(offset: number, dst: Uint8Array): void;
  /** Absent for read-only backings: writes then abort. */
  writeAt?(offset: number, src: Uint8Array): void;
}

interface Region {
  readonly base: number;
  readonly end: number; // exclusive
  readonly bytes: Uint8Array | null;
  readonly view: DataView | null;
  /** The bytes as 32-bit words, when they start 4-byte aligned in their buffer on a little-endian host. */
  readonly words: Uint32Array | null;
  readonly backing: RegionBacking | null;
  readonly name: string;
}

export interface RamRegionInfo {
  readonly base: number;
  readonly size: number;
  readonly name: string;
}

const scratch8 = new Uint8Array(8);
const scratchView = new DataView(scratch8.buffer);

export class GuestMemory implements PhysMemory {
  private regions: Region[] = [];
  private last: Region | null = null;

  /** Adds RAM at `base`: a fresh zeroed buffer of `size` bytes, or an existing buffer. Returns its bytes. */
  addRam(base: number, sizeOrBuffer: number | ArrayBuffer | Uint8Array, name = 'ram'): Uint8Array {
    const bytes =
      typeof sizeOrBuffer === 'number'
        ? new Uint8Array(sizeOrBuffer)
        : sizeOrBuffer instanceof Uint8Array
          ? sizeOrBuffer
          : new Uint8Array(sizeOrBuffer);
    this.insert({
      base,
      end: base + bytes.length,
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      words: LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : null,
      backing: null,
      name,
    });
    return bytes;
  }

  /** Adds a region served by an on-demand backing (slower; for tools such as `inspect`). */
  addBacking(base: number, backing: RegionBacking, name = 'image'): void {
    this.insert({ base, end: base + backing.size, bytes: null, view: null, words: null, backing, name });
  }

  get ramRegions(): RamRegionInfo[] {
    return this.regions.map((r) => ({ base: r.base, size: r.end - r.base, name: r.name }));
  }

  /** True if [addr, addr+len) lies entirely in RAM. */
  contains(addr: number, len = 1): boolean {
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const r = this.find(a);
      if (!r) return false;
      a = r.end;
    }
    return true;
  }

  private insert(r: Region): void {
    if (!(Number.isSafeInteger(r.base) && r.base >= 0 && r.end > r.base && Number.isSafeInteger(r.end))) {
      throw new RangeError(`bad RAM region ${r.name} at ${r.base}`);
    }
    for (const o of this.regions) {
      if (r.base < o.end && o.base < r.end) {
        throw new RangeError(`RAM region ${r.name} overlaps ${o.name}`);
      }
    }
    this.regions.push(r);
    this.regions.sort((a, b) => a.base - b.base);
  }

  private find(addr: number): Region | null {
    const l = this.last;
    if (l !== null && addr >= l.base && addr < l.end) return l;
    const rs = this.regions;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (addr >= r.base && addr < r.end) {
        this.last = r;
        return r;
      }
    }
    return null;
  }

  /** Region holding [addr, addr+len) entirely, or null. */
  private span(addr: number, len: number): Region | null {
    const r = this.find(addr);
    return r !== null && addr + len <= r.end ? r : null;
  }

  private slowRead(r: Region, addr: number, len: number): DataView {
    r.backing!.readAt(addr - r.base, scratch8.subarray(0, len));
    return scratchView;
  }

  read8(addr: number): number {
    const r = this.span(addr, 1);
    if (r === null) return -1;
    return r.view !== null ? r.view.getUint8(addr - r.base) : this.slowRead(r, addr, 1).getUint8(0);
  }

  read16(addr: number): number {
    const r = this.span(addr, 2);
    if (r === null) return -1;
    return r.view !== null ? r.view.getUint16(addr - r.base, true) : this.slowRead(r, addr, 2).getUint16(0, true);
  }

  read32(addr: number): number {
    const r = this.span(addr, 4);
    if (r === null) return -1;
    return r.view !== null ? r.view.getUint32(addr - r.base, true) : this.slowRead(r, addr, 4).getUint32(0, true);
  }

  read64(addr: number, out: U64): boolean {
    const r = this.span(addr, 8);
    if (r === null) return false;
    if (r.view !== null) {
      const o = addr - r.base;
      out.lo = r.view.getUint32(o, true);
      out.hi = r.view.getUint32(o + 4, true);
    } else {
      const v = this.slowRead(r, addr, 8);
      out.lo = v.getUint32(0, true);
      out.hi = v.getUint32(4, true);
    }
    return true;
  }

  private slowWrite(r: Region, addr: number, len: number): boolean {
    if (!r.backing?.writeAt) return false;
    r.backing.writeAt(addr - r.base, scratch8.subarray(0, len));
    return true;
  }

  write8(addr: number, value: number): boolean {
    const r = this.span(addr, 1);
    if (r === null) return false;
    if (r.view !== null) {
      r.view.setUint8(addr - r.base, value);
      return true;
    }
    scratchView.setUint8(0, value);
    return this.slowWrite(r, addr, 1);
  }

  write16(addr: number, value: number): boolean {
    const r = this.span(addr, 2);
    if (r === null) return false;
    if (r.view !== null) {
      r.view.setUint16(addr - r.base, value, true);
      return true;
    }
    scratchView.setUint16(0, value, true);
    return this.slowWrite(r, addr, 2);
  }

  write32(addr: number, value: number): boolean {
    const r = this.span(addr, 4);
    if (r === null) return false;
    if (r.view !== null) {
      r.view.setUint32(addr - r.base, value >>> 0, true);
      return true;
    }
    scratchView.setUint32(0, value >>> 0, true);
    return this.slowWrite(r, addr, 4);
  }

  write64(addr: number, lo: number, hi: number): boolean {
    const r = this.span(addr, 8);
    if (r === null) return false;
    if (r.view !== null) {
      const o = addr - r.base;
      r.view.setUint32(o, lo >>> 0, true);
      r.view.setUint32(o + 4, hi >>> 0, true);
      return true;
    }
    scratchView.setUint32(0, lo >>> 0, true);
    scratchView.setUint32(4, hi >>> 0, true);
    return this.slowWrite(r, addr, 8);
  }

  /** See PhysMemory.ramWords: the word view of the RAM region holding [addr, addr+len). */
  ramWords(addr: number, len: number, out: RamWords): boolean {
    const r = this.span(addr, len);
    if (r === null || r.words === null) return false;
    out.words = r.words;
    out.base = r.base;
    out.end = r.base + r.words.length * 4;
    return true;
  }

  readBytes(addr: number, dst: Uint8Array): boolean {
    let done = 0;
    const n = dst.length;
    while (done < n) {
      const a = addr + done;
      const r = this.find(a);
      if (r === null) return false;
      const chunk = Math.min(n - done, r.end - a);
      const part = dst.subarray(done, done + chunk);
      if (r.bytes !== null) part.set(r.bytes.subarray(a - r.base, a - r.base + chunk));
      else r.backing!.readAt(a - r.base, part);
      done += chunk;
    }
    return true;
  }

  writeBytes(addr: number, src: Uint8Array): boolean {
    if (!this.contains(addr, src.length)) return false;
    let done = 0;
    const n = src.length;
    while (done < n) {
      const a = addr + done;
      const r = this.find(a)!;
      const chunk = Math.min(n - done, r.end - a);
      const part = src.subarray(done, done + chunk);
      if (r.bytes !== null) r.bytes.set(part, a - r.base);
      else if (r.backing?.writeAt) r.backing.writeAt(a - r.base, part);
      else return false;
      done += chunk;
    }
    return true;
  }

  /**
   * Allocation-free variant of {@link bytesAt} for per-access DMA copies: when [addr, addr+len)
   * lies inside one ArrayBuffer region, stores that region's whole byte array and the offset of
   * `addr` in it into `out` and returns true; otherwise returns false.
   */
  ramSlice(addr: number, len: number, out: { bytes: Uint8Array | null; offset: number }): boolean {
    const r = this.span(addr, len);
    if (r === null || r.bytes === null) return false;
    out.bytes = r.bytes;
    out.offset = addr - r.base;
    return true;
  }

  /** Direct view of RAM bytes for [addr, addr+len) when inside one ArrayBuffer region (fast DMA copy), else null. */
  bytesAt(addr: number, len: number): Uint8Array | null {
    const r = this.span(addr, len);
    if (r === null || r.bytes === null) return null;
    return r.bytes.subarray(addr - r.base, addr - r.base + len);
  }
}
