// ITS table access in guest memory: GITS_BASER<n> state (flat or two-level tables, 4/16/64 KiB
// pages), device table entries, collection table entries (plus HCC collections held in the ITS)
// and interrupt translation entries. IHI 0069 §5.3.4 (ITS tables), §12.19.1 (GITS_BASER<n>).
// Entry formats: src/spec/gic/its-tables.ts. No allocation after construction; every lookup is
// bounded (at most one level-1 read per access); nothing here throws on guest values.

import { addrOf, get64, rd, wr } from '../spec/bits.js';
import { BASER_PAGE_BYTES, BASER_TYPE, GITS_BASER, ITS_L1_ENTRY, ITS_L1_ENTRY_BYTES } from '../spec/gic/its-registers.js';
import { CTE, CTE_BYTES, DTE, DTE_BYTES, DTE_ITT_UNIT, ITE, ITE_DOORBELL_NONE } from '../spec/gic/its-tables.js';
import type { PhysMemory, U64 } from '../memory/types.js';
import type { ItsConfig } from './its-config.js';

/** Table access status. */
export const TABLE_OK = 0;
/** No table entry backs this ID (beyond the table, invalid level-1 entry, BASER not valid). */
export const TABLE_NO_ENTRY = 1;
/** External abort reading or writing guest memory. */
export const TABLE_ABORT = 2;
export type TableStatus = typeof TABLE_OK | typeof TABLE_NO_ENTRY | typeof TABLE_ABORT;

/** Index of the device and collection tables among GITS_BASER0..7. */
export const BASER_DEVICES = 0;
export const BASER_COLLECTIONS = 1;

export class ItsTables {
  /** GITS_BASER<n> values as stored (lo/hi halves). */
  readonly baserLo = new Uint32Array(8);
  readonly baserHi = new Uint32Array(8);
  /** HCC collections: target PE per ICID < HCC, -1 when unmapped. */
  private readonly hccTarget: Int32Array;

  // Results of the last successful read (valid only after TABLE_OK).
  dteValid = false;
  dteSize = 0;
  dteItt = 0;
  cteValid = false;
  ctePe = 0;
  iteValid = false;
  itePhysical = false;
  iteIntid = 0;
  iteIcid = 0;

  private readonly w = new Uint32Array(4);
  private readonly u: U64 = { lo: 0, hi: 0 };

  constructor(
    private readonly memory: PhysMemory,
    private readonly cfg: ItsConfig,
  ) {
    this.hccTarget = new Int32Array(cfg.hcc).fill(-1);
    this.reset();
  }

  /** Reset values: BASER0 = device table, BASER1 = collection table, 8-byte entries, 64 KiB pages. */
  reset(): void {
    this.baserLo.fill(0);
    this.baserHi.fill(0);
    this.hccTarget.fill(-1);
    this.setResetBaser(BASER_DEVICES, BASER_TYPE.Devices, DTE_BYTES);
    this.setResetBaser(BASER_COLLECTIONS, BASER_TYPE.Collections, CTE_BYTES);
  }

  /** HCC collection targets (-1 = unmapped), for save/restore. */
  hccTargets(): number[] {
    return Array.from(this.hccTarget);
  }

  restoreHcc(targets: readonly number[]): void {
    for (let i = 0; i < this.hccTarget.length; i++) this.hccTarget[i] = targets[i] ?? -1;
  }

  private setResetBaser(n: number, type: number, esz: number): void {
    const w = this.w;
    w[0] = w[1] = 0;
    wr(w, GITS_BASER.Type, type);
    wr(w, GITS_BASER.Entry_Size, esz - 1);
    wr(w, GITS_BASER.Page_Size, 2);
    this.baserLo[n] = w[0]!;
    this.baserHi[n] = w[1]!;
  }

  /**
   * Address of entry `id` of the table described by GITS_BASER<n>, or -TABLE_NO_ENTRY /
   * -TABLE_ABORT. `esz` is the entry size of that table.
   */
  entryAddress(n: number, id: number, esz: number): number {
    const lo = this.baserLo[n]!;
    const hi = this.baserHi[n]!;
    if (get64(lo, hi, GITS_BASER.Valid) === 0) return -TABLE_NO_ENTRY;
    const page = BASER_PAGE_BYTES[get64(lo, hi, GITS_BASER.Page_Size)]!;
    const tableBytes = (get64(lo, hi, GITS_BASER.Size) + 1) * page;
    // Physical_Address [47:12]; with 64 KiB pages, bits [15:12] carry PA[51:48] (IHI 0069 §12.19.1).
    let base = addrOf(lo, hi, GITS_BASER.PhysicalAddress);
    base -= base % page;
    if (page === 0x1_0000) base += get64(lo, hi, GITS_BASER.PhysicalAddress_51_48) * 2 ** 48;
    if (get64(lo, hi, GITS_BASER.Indirect) === 0 || !this.cfg.indirect) {
      const off = id * esz;
      return off + esz <= tableBytes ? base + off : -TABLE_NO_ENTRY;
    }
    const perPage = Math.floor(page / esz);
    const l1 = Math.floor(id / perPage);
    if ((l1 + 1) * ITS_L1_ENTRY_BYTES > tableBytes) return -TABLE_NO_ENTRY;
    const u = this.u;
    if (!this.memory.read64(base + l1 * ITS_L1_ENTRY_BYTES, u)) return -TABLE_ABORT;
    if (get64(u.lo, u.hi, ITS_L1_ENTRY.Valid) === 0) return -TABLE_NO_ENTRY;
    let l2 = addrOf(u.lo, u.hi, ITS_L1_ENTRY.PhysicalAddress);
    l2 -= l2 % page;
    return l2 + (id % perPage) * esz;
  }

  // ------------------------------------------------------------------ device table

  readDte(deviceId: number): TableStatus {
    const a = this.entryAddress(BASER_DEVICES, deviceId, DTE_BYTES);
    if (a < 0) return -a as TableStatus;
    const u = this.u;
    if (!this.memory.read64(a, u)) return TABLE_ABORT;
    const w = this.w;
    w[0] = u.lo;
    w[1] = u.hi;
    this.dteValid = rd(w, DTE.Valid) === 1;
    this.dteSize = rd(w, DTE.Size);
    this.dteItt = rd(w, DTE.ITT_addr) * DTE_ITT_UNIT;
    return TABLE_OK;
  }

  writeDte(deviceId: number, valid: boolean, size: number, ittAddr: number): TableStatus {
    const a = this.entryAddress(BASER_DEVICES, deviceId, DTE_BYTES);
    if (a < 0) return -a as TableStatus;
    const w = this.w;
    w[0] = w[1] = 0;
    if (valid) {
      wr(w, DTE.Valid, 1);
      wr(w, DTE.Size, size);
      wrWide(w, DTE.ITT_addr, Math.floor(ittAddr / DTE_ITT_UNIT));
    }
    return this.memory.write64(a, w[0]!, w[1]!) ? TABLE_OK : TABLE_ABORT;
  }

  // ------------------------------------------------------------------ collections

  readCte(icid: number): TableStatus {
    if (icid < this.hccTarget.length) {
      const t = this.hccTarget[icid]!;
      this.cteValid = t >= 0;
      this.ctePe = Math.max(t, 0);
      return TABLE_OK;
    }
    const a = this.entryAddress(BASER_COLLECTIONS, icid, CTE_BYTES);
    if (a < 0) return -a as TableStatus;
    const u = this.u;
    if (!this.memory.read64(a, u)) return TABLE_ABORT;
    const w = this.w;
    w[0] = u.lo;
    w[1] = u.hi;
    this.cteValid = rd(w, CTE.Valid) === 1;
    this.ctePe = rd(w, CTE.RDbase);
    return TABLE_OK;
  }

  writeCte(icid: number, valid: boolean, pe: number): TableStatus {
    if (icid < this.hccTarget.length) {
      this.hccTarget[icid] = valid ? pe : -1;
      return TABLE_OK;
    }
    const a = this.entryAddress(BASER_COLLECTIONS, icid, CTE_BYTES);
    if (a < 0) return -a as TableStatus;
    const w = this.w;
    w[0] = w[1] = 0;
    if (valid) {
      wr(w, CTE.Valid, 1);
      wr(w, CTE.RDbase, pe);
    }
    return this.memory.write64(a, w[0]!, w[1]!) ? TABLE_OK : TABLE_ABORT;
  }

  // ------------------------------------------------------------------ interrupt translation table

  readIte(itt: number, eventId: number): TableStatus {
    const u = this.u;
    if (!this.memory.read64(itt + eventId * this.cfg.ittEntrySize, u)) return TABLE_ABORT;
    const w = this.w;
    w[0] = u.lo;
    w[1] = u.hi;
    this.iteValid = rd(w, ITE.Valid) === 1;
    this.itePhysical = rd(w, ITE.IntType) === 1;
    this.iteIntid = rd(w, ITE.INTID);
    this.iteIcid = rd(w, ITE.ICID);
    return TABLE_OK;
  }

  writeIte(itt: number, eventId: number, valid: boolean, intid: number, icid: number): TableStatus {
    const a = itt + eventId * this.cfg.ittEntrySize;
    const w = this.w;
    w.fill(0);
    if (valid) {
      wr(w, ITE.Valid, 1);
      wr(w, ITE.IntType, 1);
      wr(w, ITE.INTID, intid);
      wr(w, ITE.ICID, icid);
      wr(w, ITE.Doorbell, ITE_DOORBELL_NONE);
    }
    if (!this.memory.write64(a, w[0]!, w[1]!)) return TABLE_ABORT;
    if (this.cfg.ittEntrySize >= 12 && !this.memory.write32(a + 8, w[2]!)) return TABLE_ABORT;
    return TABLE_OK;
  }
}

/** Writes a field wider than 32 bits or crossing bit 32 (the DTE ITT address) into lo/hi halves. */
function wrWide(w: Uint32Array, f: { dw: number; lsb: number; width: number }, value: number): void {
  const v = value % 2 ** f.width;
  const shifted = v * 2 ** f.lsb; // < 2^53 for DTE.ITT_addr ([49:6])
  w[f.dw * 2] = (w[f.dw * 2]! | shifted % 2 ** 32) >>> 0;
  w[f.dw * 2 + 1] = (w[f.dw * 2 + 1]! | Math.floor(shifted / 2 ** 32)) >>> 0;
}
