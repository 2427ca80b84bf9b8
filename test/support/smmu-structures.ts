// Test support for the translation engine's tests (outside the build): builds SMMU structures
// (stream tables, STEs, CDs, page tables) in a GuestMemory with bigint encodings from the spec
// layer, and TLBI operands from number addresses.
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { encodeFields } from '../../src/spec/bits.js';
import { STE } from '../../src/spec/smmuv3/ste.js';
import { CD } from '../../src/spec/smmuv3/cd.js';
import { encodeTable } from '../../src/spec/smmuv3/pagetable.js';
import type { TlbiOperand } from '../../src/smmu/translation/types.js';

export const RAM_BASE = 0x4000_0000;

export class Arena {
  readonly mem = new GuestMemory();
  private next: number;
  readonly le: boolean;
  constructor(
    readonly base = RAM_BASE,
    readonly size = 64 << 20,
    opts: { bigEndianTables?: boolean } = {},
  ) {
    this.mem.addRam(base, size);
    this.next = base;
    this.le = !opts.bigEndianTables;
  }

  /** Zeroed, `align`-aligned block. */
  alloc(size: number, align = 4096): number {
    const a = Math.ceil(this.next / align) * align;
    this.next = a + size;
    if (this.next > this.base + this.size) throw new RangeError('arena exhausted');
    return a;
  }

  write64(addr: number, v: bigint, bigEndian = false): void {
    const x = BigInt.asUintN(64, v);
    let lo = Number(x & 0xffff_ffffn);
    let hi = Number(x >> 32n);
    if (bigEndian) {
      const sw = (n: number): number => (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
      const l = lo;
      lo = sw(hi);
      hi = sw(l);
    }
    if (!this.mem.write64(addr, lo, hi)) throw new RangeError(`write64 outside RAM at 0x${addr.toString(16)}`);
  }

  read64(addr: number, bigEndian = false): bigint {
    const o = { lo: 0, hi: 0 };
    if (!this.mem.read64(addr, o)) throw new RangeError('read64 outside RAM');
    let v = (BigInt(o.hi) << 32n) | BigInt(o.lo);
    if (bigEndian) {
      let r = 0n;
      for (let i = 0; i < 8; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
      v = r;
    }
    return v;
  }

  writeWords(addr: number, words: readonly bigint[]): void {
    words.forEach((w, i) => this.write64(addr + 8 * i, w));
  }

  ste(fields: Parameters<typeof encodeFields>[1]): bigint[] {
    return encodeFields(STE, fields, 8);
  }

  cd(fields: Parameters<typeof encodeFields>[1]): bigint[] {
    return encodeFields(CD, fields, 8);
  }
}

/** A VMSAv8-64 table tree (stage 1 or 2) built in an Arena. */
export class PageTables {
  readonly root: number;
  readonly stride: number;
  constructor(
    readonly arena: Arena,
    readonly shift: 12 | 14 | 16,
    readonly ia: number,
    readonly startLevel: number,
    readonly bigEndian = false,
  ) {
    this.stride = shift - 3;
    const bits = ia - (shift + this.stride * (3 - startLevel));
    const bytes = 2 ** (bits + 3);
    this.root = arena.alloc(Math.max(bytes, 64), Math.max(bytes, 64));
  }

  private index(va: bigint, level: number, bitsOverride?: number): number {
    const lsb = this.shift + this.stride * (3 - level);
    const bits = bitsOverride ?? (level === this.startLevel ? this.ia - lsb : this.stride);
    return Number((va >> BigInt(lsb)) & ((1n << BigInt(bits)) - 1n));
  }

  /** Installs `leaf` (a full descriptor) for `va` at `level`, creating tables on the way. */
  map(va: bigint, leaf: bigint, level: number, tableAttrs: { apTable?: number; xnTable?: boolean; pxnTable?: boolean } = {}): number {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const a = table + this.index(va, l) * 8;
      const d = this.arena.read64(a, this.bigEndian);
      const existing = Number(d & ((1n << 48n) - 1n) & ~((1n << BigInt(this.shift)) - 1n)) + Number(this.shift === 16 ? ((d >> 12n) & 0xfn) << 48n : 0n);
      if ((d & 3n) === 3n && this.arena.mem.contains(existing, 2 ** this.shift)) {
        table = existing;
      } else {
        const size = 2 ** this.shift;
        const next = this.arena.alloc(size, size);
        this.arena.write64(a, encodeTable(next, this.shift, tableAttrs), this.bigEndian);
        table = next;
      }
    }
    const addr = table + this.index(va, level) * 8;
    this.arena.write64(addr, leaf, this.bigEndian);
    return addr;
  }

  /** Address of the leaf descriptor slot for `va` at `level` (tables must exist). */
  slot(va: bigint, level: number): number {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const d = this.arena.read64(table + this.index(va, l) * 8, this.bigEndian);
      table = Number(d & ((1n << 48n) - 1n) & ~((1n << BigInt(this.shift)) - 1n));
    }
    return table + this.index(va, level) * 8;
  }
}

/** Stage-1 start level for `ia` input bits (same formula as Linux io-pgtable). */
export function s1Start(ia: number, shift: number): number {
  return 4 - Math.ceil((ia - shift) / (shift - 3));
}

/** TG0 encoding of a granule shift. */
export function tg0(shift: number): number {
  return shift === 12 ? 0 : shift === 16 ? 1 : 2;
}

/**
 * A TLBI operand for a number address (bits [11:0] ignored by the engine) and an optional range
 * (null: a single-address invalidation), as the command queue would decode it.
 */
export function tlbiOp(vmid: number, asid: number, addr: number, leaf: boolean, range: { tg: number; num: number; scale: number; ttl: number } | null): TlbiOperand {
  return {
    vmid, asid, leaf,
    addrLo: addr % 0x1_0000_0000 >>> 0,
    addrHi: Math.floor(addr / 0x1_0000_0000) >>> 0,
    tg: range?.tg ?? 0, num: range?.num ?? 0, scale: range?.scale ?? 0, ttl: range?.ttl ?? 0,
  };
}
