// The reference guest's physical page allocator: a bump allocator over one RAM window it owns
// (like a kernel's memblock/CMA carve-out), handing out zeroed, naturally aligned blocks. Host-side
// code: sizes come from the guest driver, never from device state.
import type { PhysMemory } from '../memory/types.js';

export class GuestOutOfMemory extends Error {
  override readonly name = 'GuestOutOfMemory';
}

export class PageAllocator {
  private next: number;
  /** Bytes handed out so far. */
  used = 0;

  constructor(
    private readonly mem: PhysMemory,
    readonly base: number,
    readonly size: number,
  ) {
    this.next = base;
  }

  /** A zeroed block of `bytes`, aligned to `align` (a power of two, default 4 KiB). */
  alloc(bytes: number, align = 0x1000): number {
    const a = Math.ceil(this.next / align) * align;
    if (!(bytes > 0) || a + bytes > this.base + this.size) {
      throw new GuestOutOfMemory(`guest allocator: cannot allocate ${bytes} bytes (window ${this.base.toString(16)}+${this.size.toString(16)})`);
    }
    this.next = a + bytes;
    this.used = this.next - this.base;
    // RAM is zero at boot, but a block may be reused after a scenario rewrote memory: clear it.
    const zero = new Uint8Array(Math.min(bytes, 0x10000));
    for (let off = 0; off < bytes; off += zero.length) {
      this.mem.writeBytes(a + off, off + zero.length <= bytes ? zero : zero.subarray(0, bytes - off));
    }
    return a;
  }

  /** A zeroed 4 KiB page. */
  page(): number {
    return this.alloc(0x1000, 0x1000);
  }
}
