// Physical memory as `inspect` reads it: every read counted, and the addresses of reads that
// aborted (outside every RAM image, or unreadable through a debugger) remembered so that the
// report can warn about them. Reads only: inspect never writes guest memory.
import type { PhysMemory, U64 } from '../../memory/types.js';

const MAX_REMEMBERED = 8;

export class WatchedMemory implements PhysMemory {
  /** Number of reads served (any size). */
  reads = 0;
  /** Aborted reads as address ranges (reads within 4 KiB of a range join it), at most 8 remembered. */
  readonly aborted: { first: number; last: number }[] = [];
  abortCount = 0;

  constructor(readonly inner: PhysMemory) {}

  private fail(addr: number): void {
    this.abortCount++;
    const near = this.aborted.find((r) => addr >= r.first - 4096 && addr <= r.last + 4096);
    if (near !== undefined) {
      near.first = Math.min(near.first, addr);
      near.last = Math.max(near.last, addr + 7);
    } else if (this.aborted.length < MAX_REMEMBERED) this.aborted.push({ first: addr, last: addr + 7 });
  }

  read8(addr: number): number {
    this.reads++;
    const v = this.inner.read8(addr);
    if (v < 0) this.fail(addr);
    return v;
  }
  read16(addr: number): number {
    this.reads++;
    const v = this.inner.read16(addr);
    if (v < 0) this.fail(addr);
    return v;
  }
  read32(addr: number): number {
    this.reads++;
    const v = this.inner.read32(addr);
    if (v < 0) this.fail(addr);
    return v;
  }
  read64(addr: number, out: U64): boolean {
    this.reads++;
    const ok = this.inner.read64(addr, out);
    if (!ok) this.fail(addr);
    return ok;
  }
  readBytes(addr: number, dst: Uint8Array): boolean {
    this.reads++;
    const ok = this.inner.readBytes(addr, dst);
    if (!ok) this.fail(addr);
    return ok;
  }
  write8(): boolean {
    return false;
  }
  write16(): boolean {
    return false;
  }
  write32(): boolean {
    return false;
  }
  write64(): boolean {
    return false;
  }
  writeBytes(): boolean {
    return false;
  }
}
