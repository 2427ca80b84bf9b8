// Test support for the translation engine's tests (outside the build): builds SMMU structures
// (stream tables, STEs, CDs, page tables) in a GuestMemory with bigint encodings from the spec
// layer, and TLBI operands from number addresses.
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { FieldValues } from '../../src/spec/bits.js';
import { encodeSte, STE } from '../../src/spec/smmuv3/ste.js';
import { CD, encodeCd } from '../../src/spec/smmuv3/cd.js';
import { nextTableAddress } from '../../src/spec/smmuv3/pagetable.js';
import { TableBuilder, type TableAttrs, type TableWrite } from '../../src/guest/table-builder.js';
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

  ste(fields: FieldValues<typeof STE>): bigint[] {
    return encodeSte(fields);
  }

  cd(fields: FieldValues<typeof CD>): bigint[] {
    return encodeCd(fields);
  }
}

/** A VMSAv8-64 table tree (stage 1 or 2) built in an Arena with the guest's table builder. */
export class PageTables {
  readonly root: number;
  readonly stride: number;
  private readonly builder: TableBuilder;
  constructor(
    readonly arena: Arena,
    readonly shift: 12 | 14 | 16,
    readonly ia: number,
    readonly startLevel: number,
    readonly bigEndian = false,
  ) {
    this.stride = shift - 3;
    this.builder = new TableBuilder({
      granuleShift: shift,
      inputBits: ia,
      startLevel,
      alloc: (size, align) => arena.alloc(size, align),
      // A table descriptor is followed only while it points into RAM (tests overwrite them).
      read: (addr) => {
        const d = arena.read64(addr, bigEndian);
        return (d & 3n) === 3n && arena.mem.contains(nextTableAddress(d, shift), 2 ** shift) ? d : 0n;
      },
    });
    this.root = this.builder.root;
  }

  private apply(writes: readonly TableWrite[]): void {
    for (const w of writes) this.arena.write64(w.addr, w.value, this.bigEndian);
  }

  /** Installs `leaf` (a full descriptor) for `va` at `level`, creating tables on the way. */
  map(va: bigint, leaf: bigint, level: number, tableAttrs: TableAttrs = {}): number {
    const writes = this.builder.map(va, leaf, level, tableAttrs);
    this.apply(writes);
    return writes.at(-1)!.addr;
  }

  /** Address of the leaf descriptor slot for `va` at `level` (tables are created if missing). */
  slot(va: bigint, level: number): number {
    const writes: TableWrite[] = [];
    const at = this.builder.slot(va, level, writes);
    this.apply(writes);
    return at;
  }
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
