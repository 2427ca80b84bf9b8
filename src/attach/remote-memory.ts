// Guest-physical memory of a stopped virtual machine, read through its GDB stub. The inspector
// reads memory synchronously, the stub answers asynchronously, so reads are served from a page
// cache: a read of a page not yet fetched aborts and records the page as missing; the caller
// fetches the missing pages and runs the (deterministic, read-only) query again, until one run
// needs nothing new. The cache is valid only while the machine stays stopped.
import type { PhysMemory, U64 } from '../memory/types.js';
import type { GdbRemote } from './gdb-remote.js';

export const PAGE = 4096;

export class RemoteMemory implements PhysMemory {
  /** Fetched pages; null: the stub could not read it (no RAM there). */
  readonly pages = new Map<number, Uint8Array | null>();
  readonly missing = new Set<number>();
  private readonly scratch = new Uint8Array(8);
  private readonly view = new DataView(this.scratch.buffer);

  private read(addr: number, dst: Uint8Array): boolean {
    let ok = true;
    let off = 0;
    while (off < dst.length) {
      const a = addr + off;
      const pn = Math.floor(a / PAGE);
      const inPage = a - pn * PAGE;
      const n = Math.min(PAGE - inPage, dst.length - off);
      const p = this.pages.get(pn);
      if (p === undefined) {
        this.missing.add(pn);
        ok = false;
      } else if (p === null) ok = false;
      else if (ok) dst.set(p.subarray(inPage, inPage + n), off);
      off += n;
    }
    return ok;
  }

  private scalar(addr: number, size: number): boolean {
    return addr >= 0 && Number.isSafeInteger(addr + size) && this.read(addr, this.scratch.subarray(0, size));
  }

  read8(addr: number): number {
    return this.scalar(addr, 1) ? this.scratch[0]! : -1;
  }
  read16(addr: number): number {
    return this.scalar(addr, 2) ? this.view.getUint16(0, true) : -1;
  }
  read32(addr: number): number {
    return this.scalar(addr, 4) ? this.view.getUint32(0, true) : -1;
  }
  read64(addr: number, out: U64): boolean {
    if (!this.scalar(addr, 8)) return false;
    out.lo = this.view.getUint32(0, true);
    out.hi = this.view.getUint32(4, true);
    return true;
  }
  readBytes(addr: number, dst: Uint8Array): boolean {
    return addr >= 0 && Number.isSafeInteger(addr + dst.length) && this.read(addr, dst);
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

  /** Fetches the missing pages (at most `maxPages` cached in all); returns how many were fetched. */
  async fetchMissing(gdb: GdbRemote, maxPages: number): Promise<number> {
    const want = [...this.missing].sort((a, b) => a - b);
    this.missing.clear();
    let n = 0;
    for (const pn of want) {
      if (this.pages.size >= maxPages) throw new Error(`more than ${maxPages} pages of guest memory needed; narrow the query (--limit, SID ranges)`);
      this.pages.set(pn, await gdb.readMemory(pn * PAGE, PAGE));
      n++;
    }
    return n;
  }

  /** Contiguous runs of fetched pages: [address, bytes]. */
  *runs(): Generator<[number, Uint8Array]> {
    const pns = [...this.pages.keys()].filter((p) => this.pages.get(p) !== null).sort((a, b) => a - b);
    let i = 0;
    while (i < pns.length) {
      let j = i;
      while (j + 1 < pns.length && pns[j + 1] === pns[j]! + 1) j++;
      const buf = new Uint8Array((j - i + 1) * PAGE);
      for (let k = i; k <= j; k++) buf.set(this.pages.get(pns[k]!)!, (k - i) * PAGE);
      yield [pns[i]! * PAGE, buf];
      i = j + 1;
    }
  }
}
