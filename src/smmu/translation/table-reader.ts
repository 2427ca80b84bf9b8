// Memory access for the SMMU's own table walks (stream table, CDs, translation tables):
// little- or big-endian 64-bit descriptors (CD.ENDI / STE.S2ENDI, §5.2/§5.4), external aborts
// as `false`, OAS range checks (§3.4.3), read counting and an optional trace for the inspector.
import type { PhysMemory, RamWords, U64 } from '../../memory/types.js';
import type { WalkStep } from './types.js';

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** The address whose bits [31:0] and [63:32] are the int32 values `lo` and `hi`. */
function joinHalves(lo: number, hi: number): number {
  return (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
}

/** RAM regions whose word views a reader keeps (regions are added by the VMM, never by a guest). */
const VIEWS = 4;

/** The 32-bit word index of 4-byte aligned byte offset `off` (a shift below 4 GiB: no division on the walk's critical path). */
function wordIndex(off: number): number {
  return off < 0x1_0000_0000 ? off >>> 2 : off / 4;
}

export class TableReader {
  /** Descriptor/structure reads performed (for stats and the fuzz tests' bound). */
  reads = 0;
  writes = 0;
  /** When non-null, every access is appended here (inspector verbose walks only). */
  trace: WalkStep[] | null = null;
  /** 2^OAS: a table or structure read at or beyond it aborts. */
  readonly limit: number;

  constructor(
    readonly mem: PhysMemory,
    /** Output address size in bits (IDR5.OAS): addresses at or beyond 2^oas abort. */
    oasBits: number,
  ) {
    this.limit = 2 ** oasBits;
    this.direct = typeof mem.ramWords === 'function';
  }

  /** Whether `mem` offers word views of its RAM (PhysMemory.ramWords). */
  private readonly direct: boolean;
  /**
   * The RAM region last read through its word view (end -1: none yet): one of `views`. The table
   * walks read little-endian descriptors in it directly when they are not traced (walker.ts).
   */
  view: RamWords = { words: null, base: 0, end: -1 };
  /**
   * Word views of the RAM regions read so far, up to VIEWS of them (then the oldest is replaced):
   * a walk whose tables lie in two regions (RAM below and above 4 GiB) finds each region's view
   * here, without asking the memory again (a call that takes the address as a number).
   */
  private readonly views: RamWords[] = [];
  private nextView = 0;

  /** Reads a 64-bit value; big-endian when `be`. False on external abort or out-of-range address. */
  read64(addr: number, be: boolean, out: U64): boolean {
    this.pa = addr;
    return this.readPa(be, out);
  }

  /**
   * The address of the next {@link readPa} or {@link writePa}: a field, so that the table walks
   * pass no address as an argument (V8 boxes a number of 2^31 or more passed to a call it does
   * not inline, and which calls it inlines depends on what else it compiled into the caller).
   */
  pa = 0;

  /** {@link read64} at the address in {@link pa}. No call on the way takes or returns an address unless the RAM region changes or the address is not RAM. */
  readPa(be: boolean, out: U64): boolean {
    this.reads++;
    const addr = this.pa;
    if (!(addr >= 0 && addr + 8 <= this.limit)) return false;
    const inView = (addr >= this.view.base && addr + 8 <= this.view.end) || this.viewAt(8);
    const r = this.view;
    const off = addr - r.base;
    if (inView && (off & 3) === 0) {
      // wordIndex, written out (it takes the offset as a number).
      const k = off < 0x1_0000_0000 ? off >>> 2 : off / 4;
      const w = r.words!;
      out.lo = w[k]!;
      out.hi = w[k + 1]!;
    } else if (!this.mem.read64(addr, out)) return false;
    if (be) {
      const lo = out.lo;
      out.lo = bswap32(out.hi);
      out.hi = bswap32(lo);
    }
    return true;
  }

  /**
   * {@link read64} at the address whose bits [31:0] and [63:32] are `lo` and `hi` (int32 values),
   * for callers that hold an address as halves (locating an STE or CD through an L1 descriptor).
   */
  read64At(lo: number, hi: number, be: boolean, out: U64): boolean {
    this.pa = joinHalves(lo, hi);
    return this.readPa(be, out);
  }

  /**
   * Whether [addr, addr+len) can be read from the word view of the last RAM region (looked up
   * again when it is elsewhere): RAM held in memory, 4-byte aligned. Regions never move, so the
   * view stays valid; writes through the memory are seen by it.
   */
  private inWords(addr: number, len: number): boolean {
    const r = this.view;
    if (!(addr >= r.base && addr + len <= r.end)) {
      this.pa = addr;
      if (!this.viewAt(len)) return false;
    }
    return ((addr - this.view.base) & 3) === 0;
  }

  /**
   * Makes `view` the word view of the RAM region holding [pa, pa + len): one of `views`, or a new
   * one from the memory. False when the range is not in one RAM region with a word view.
   */
  private viewAt(len: number): boolean {
    const addr = this.pa;
    const views = this.views;
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      if (addr >= v.base && addr + len <= v.end) {
        this.view = v;
        return true;
      }
    }
    if (!this.direct) return false;
    const v: RamWords = views.length < VIEWS ? { words: null, base: 0, end: -1 } : views[this.nextView]!;
    if (!this.mem.ramWords!(addr, len, v)) {
      // The view passed in may have been changed: forget it.
      v.end = -1;
      return false;
    }
    if (views.length < VIEWS) views.push(v);
    else this.nextView = (this.nextView + 1) % VIEWS;
    this.view = v;
    return true;
  }

  /** Writes a 64-bit value (hardware table update); false on abort. */
  write64(addr: number, be: boolean, lo: number, hi: number): boolean {
    this.pa = addr;
    return this.writePa(be, lo, hi);
  }

  /** {@link write64} at the address in {@link pa}; `lo` / `hi` are the value's 32-bit halves (int32 or uint32). */
  writePa(be: boolean, lo: number, hi: number): boolean {
    this.writes++;
    const addr = this.pa;
    if (!(addr >= 0 && addr + 8 <= this.limit)) return false;
    return be ? this.mem.write64(addr, bswap32(hi), bswap32(lo)) : this.mem.write64(addr, lo >>> 0, hi >>> 0);
  }

  /**
   * Whether the `n` doublewords at the address whose bits [31:0] and [63:32] are `lo` and `hi`
   * (int32 values, as for {@link touchWord}) begin with the little-endian words `ref[at]`,
   * `ref[at + 1]`, ... (`compare` of them, at most 2n), compared where they lie in a RAM word
   * view; then they count as `n` reads, as {@link readWords} would count them (the caller compares
   * only the words that decide what it does with the structure). False when they differ or cannot
   * be read from a word view (counting nothing): the caller then reads them with {@link readWords}.
   */
  sameWords(lo: number, hi: number, n: number, compare: number, ref: Uint32Array, at: number): boolean {
    const addr = joinHalves(lo, hi);
    if (!(addr + 8 * n <= this.limit)) return false;
    // inWords, written out (it takes the address as a number).
    if (!(addr >= this.view.base && addr + 8 * n <= this.view.end)) {
      this.pa = addr;
      if (!this.viewAt(8 * n)) return false;
    }
    const off = addr - this.view.base;
    if ((off & 3) !== 0) return false;
    const w = this.view.words!;
    const k = off < 0x1_0000_0000 ? off >>> 2 : off / 4;
    for (let i = 0; i < compare; i++) if (w[k + i] !== ref[at + i]) return false;
    this.reads += n;
    return true;
  }

  /**
   * The word at the address whose bits [31:0] and [63:32] are `lo` and `hi` (int32 values: a larger
   * number passed to a call is boxed) when it lies in the word view of the last RAM region, else 0:
   * a load the caller makes early so that its cache miss overlaps others. Not an access of the
   * SMMU's (not counted, not traced); the caller must use the value, or the compiler drops the load.
   */
  touchWord(lo: number, hi: number): number {
    const addr = joinHalves(lo, hi);
    const r = this.view;
    // An int32 value: a word of 2^31 or more returned from a call that is not inlined would be boxed.
    return addr >= r.base && addr + 4 <= r.end ? r.words![wordIndex(addr - r.base)]! | 0 : 0;
  }

  /**
   * Reads `n` doublewords (a 64-byte STE/CD: n = 8) little-endian into lo/hi halves: at once from
   * the word view of RAM when the range lies in one region, else doubleword by doubleword (so that
   * an abort part-way is reported as those reads report it).
   */
  readWords(addr: number, n: number, dst: Uint32Array, tmp: U64): boolean {
    if (addr >= 0 && addr + 8 * n <= this.limit && this.inWords(addr, 8 * n)) {
      const w = this.view.words!;
      const k = wordIndex(addr - this.view.base);
      for (let i = 0; i < 2 * n; i++) dst[i] = w[k + i]!;
      this.reads += n;
      return true;
    }
    for (let i = 0; i < n; i++) {
      if (!this.read64(addr + 8 * i, false, tmp)) return false;
      dst[2 * i] = tmp.lo;
      dst[2 * i + 1] = tmp.hi;
    }
    return true;
  }

  /**
   * Appends one access to the trace. Callers test `trace !== null` first: evaluating the
   * arguments of a call that is not inlined boxes addresses and descriptor words of 2^31 and
   * above, which would allocate on every walk.
   */
  step(kind: string, stage: number, level: number, tableBase: number, index: number, address: number, lo: number, hi: number, ok: boolean): void {
    if (this.trace === null) return;
    const value = ok ? (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0) : null;
    this.trace.push({ kind, stage, level, tableBase, index, address, value, valueHex: value === null ? null : '0x' + value.toString(16).padStart(16, '0') });
  }
}
