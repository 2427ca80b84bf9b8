// One builder for VMSAv8-64 translation tables (stage 1 or stage 2, 4/16/64 KiB granules, a
// concatenated stage-2 start table): it walks from the start table to the slot of an address at a
// level, creating the tables on the way, and returns the descriptor writes to make as
// (address, value) pairs. It owns no memory: the caller applies the writes (to a GuestMemory, a
// RAM image, or a QEMU guest through its gdbstub), so the reference guest, the test support and
// the interop drivers all build tables the same way. Geometry and descriptor encodings come from
// the spec layer (`spec/smmuv3/pagetable.ts`); how a walk resolves an address is the model's own
// (the walker) and stays independent of this code.
import { DESC, encodeTable, levelShift, nextTableAddress, startLevel, startTableEntries } from '../spec/smmuv3/pagetable.js';
import { getBig } from '../spec/bits.js';

/** A descriptor write to make: 64-bit `value` at `addr`. */
export interface TableWrite {
  readonly addr: number;
  readonly value: bigint;
}

export interface TableAttrs {
  readonly apTable?: number;
  readonly xnTable?: boolean;
  readonly pxnTable?: boolean;
}

export interface TableBuilderOptions {
  readonly granuleShift: 12 | 14 | 16;
  /** Input address bits (stage 1: 64 - T0SZ; stage 2: 64 - S2T0SZ). */
  readonly inputBits: number;
  /** Start level; default the single-table start level for `inputBits` (stage 2 may start lower). */
  readonly startLevel?: number;
  /** An existing start table to build under (default: one is allocated). */
  readonly root?: number;
  /** A zeroed block of `size` bytes aligned to `align` (tables are granule sized and aligned). */
  alloc(size: number, align: number): number;
  /**
   * The descriptor at `addr` as the tables hold it now. Without it the builder follows the tables
   * it created itself. With it, a valid table descriptor is followed and anything else is taken as
   * empty, unless `slot` is asked to stop at a valid block (`stopAtBlock`).
   */
  readonly read?: (addr: number) => bigint;
}

/** What `slot` found in the way: a valid block or page descriptor above the requested level. */
export const SLOT_BLOCKED = -1;
const BLOCK = -2;

export class TableBuilder {
  readonly granuleShift: 12 | 14 | 16;
  readonly inputBits: number;
  readonly startLevel: number;
  /** Entries of the (possibly concatenated) start table. */
  readonly startEntries: number;
  readonly root: number;
  /** Tables allocated, the start table included. */
  tables = 1;
  private readonly stride: number;
  private readonly made = new Map<string, number>();

  constructor(private readonly opts: TableBuilderOptions) {
    const g = opts.granuleShift;
    this.granuleShift = g;
    this.inputBits = opts.inputBits;
    this.stride = g - 3;
    this.startLevel = opts.startLevel ?? startLevel(opts.inputBits, g);
    this.startEntries = startTableEntries(opts.inputBits, g, this.startLevel);
    if (!(this.startLevel >= 0 && this.startLevel <= 3 && this.startEntries >= 1)) throw new RangeError(`no walk of ${opts.inputBits} bits starts at level ${this.startLevel} with a ${2 ** g}-byte granule`);
    if (this.startEntries > 16 * 2 ** this.stride) throw new RangeError(`a start table at level ${this.startLevel} for ${opts.inputBits} bits needs more than 16 concatenated tables`);
    // The start table is aligned to its own size (at least 64 bytes).
    const bytes = Math.max(this.startEntries * 8, 64);
    this.root = opts.root ?? opts.alloc(bytes, bytes);
  }

  /** Bytes one entry at `level` maps. */
  levelSize(level: number): number {
    return 2 ** levelShift(this.granuleShift, level);
  }

  /** Index of `va` in its table at `level`. */
  index(va: bigint | number, level: number): number {
    const bits = level === this.startLevel ? Math.log2(this.startEntries) : this.stride;
    return Number((BigInt(va) >> BigInt(levelShift(this.granuleShift, level))) & ((1n << BigInt(bits)) - 1n));
  }

  /**
   * The address of the descriptor slot for `va` at `level`, creating the tables above it (their
   * descriptor writes are appended to `out`; new tables get `attrs`). With `read` and
   * `stopAtBlock`, a valid block above `level` returns SLOT_BLOCKED instead of being replaced.
   */
  slot(va: bigint | number, level: number, out: TableWrite[], attrs: TableAttrs = {}, stopAtBlock = false): number {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const at = table + this.index(va, l) * 8;
      let next = this.follow(l, at);
      if (next === BLOCK) {
        if (stopAtBlock) return SLOT_BLOCKED;
        next = -1;
      }
      if (next < 0) {
        const size = 2 ** this.granuleShift;
        next = this.opts.alloc(size, size);
        this.tables++;
        this.made.set(`${l}:${at}`, next);
        out.push({ addr: at, value: encodeTable(next, this.granuleShift, attrs) });
      }
      table = next;
    }
    return table + this.index(va, level) * 8;
  }

  /** The slot for `va` at `level` when every table above it exists, else -1 (nothing is created). */
  existingSlot(va: bigint | number, level: number): number {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const next = this.follow(l, table + this.index(va, l) * 8);
      if (next < 0) return -1;
      table = next;
    }
    return table + this.index(va, level) * 8;
  }

  /** The table the entry at `at` (level `l`) points to; -1 when there is none, BLOCK for a valid block. */
  private follow(l: number, at: number): number {
    const read = this.opts.read;
    if (read === undefined) return this.made.get(`${l}:${at}`) ?? -1;
    const d = read(at);
    if (getBig([d], DESC.VALID) !== 1n) return -1;
    return getBig([d], DESC.TYPE) === 1n ? nextTableAddress(d, this.granuleShift) : BLOCK;
  }

  /** The writes that install descriptor `leaf` for `va` at `level` (tables created as needed). */
  map(va: bigint | number, leaf: bigint, level: number, attrs: TableAttrs = {}): TableWrite[] {
    const out: TableWrite[] = [];
    const at = this.slot(va, level, out, attrs);
    // A leaf written over a table the builder made replaces it: forget that table.
    this.made.delete(`${level}:${at}`);
    out.push({ addr: at, value: leaf });
    return out;
  }
}
