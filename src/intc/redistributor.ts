// GICv3 redistributor, LPI side (one per PE): GICR_CTLR.EnableLPIs, GICR_WAKER, GICR_TYPER,
// PROPBASER/PENDBASER, the LPI configuration and pending tables in guest memory, and the
// DirectLPI registers (SETLPIR/CLRLPIR/INVLPIR/INVALLR/SYNCR) when advertised.
// IHI 0069 §5.1 (LPIs), §12.11 (GICR_* registers).
//
// Model choices (docs/intc.md): the pending state lives in the guest's pending table (read-
// modify-write of one bit, as QEMU does); while EnableLPIs = 1 a host-side index (lpi-index.ts)
// mirrors the bits this redistributor set, so INVALL, MOVALL and clearing EnableLPIs visit the
// pending LPIs, not the INTID space (software must not write the table while EnableLPIs = 1,
// IHI 0069 §5.1.2). The LPI configuration byte is read when an LPI becomes pending (no
// configuration cache); LPIs that are pending but were disabled are re-examined only by
// INV/INVALL/INVLPIR/INVALLR and EnableLPIs 0 -> 1. Whole-table work (importing the pending table
// at EnableLPIs 0 -> 1, INVALL, MOVALL, clearing EnableLPIs) runs in bounded slices: one from the
// register access that starts it, the rest from service() (GICR_SYNCR.Busy and GICR_CTLR.RWP read
// 1 meanwhile). The SGI_base frame (SGI/PPI configuration) is RAZ/WI: SGIs and PPIs belong to the VMM.

import { addrOf, get64, mask32 } from '../spec/bits.js';
import { LPI_CONFIG, LPI_INTID_BASE } from '../spec/gic/gic-common.js';
import { readIdRegister } from './id-registers.js';
import {
  GICR,
  GICR_CTLR,
  GICR_FRAME_STRIDE,
  GICR_PENDBASER,
  GICR_PENDBASER_WRITABLE,
  GICR_PROPBASER,
  GICR_PROPBASER_WRITABLE,
  GICR_SGI_BASE,
  GICR_TYPER,
  GICR_WAKER,
} from '../spec/gic/redistributor-registers.js';
import type { PhysMemory, U64 } from '../memory/types.js';
import type { LpiSink } from './sinks.js';
import { checkBool, checkObject, checkPair, type RedistributorState } from './state.js';
import { LpiIndex } from './lpi-index.js';

export type LpiOutcome = 'delivered' | 'dropped' | 'aborted';

export interface RedistributorParams {
  /** Processor number (GICR_TYPER.Processor_Number) and index of the PE. */
  readonly pe: number;
  /** MPIDR affinity Aff3.Aff2.Aff1.Aff0 as GICR_TYPER[63:32]. */
  readonly affinity: number;
  readonly last: boolean;
  /** GICR_TYPER.PLPIS: physical LPIs supported. */
  readonly lpis: boolean;
  /** GICR_TYPER.DirectLPI: SETLPIR/CLRLPIR/INVLPIR/INVALLR/SYNCR implemented. */
  readonly directLpi: boolean;
  /** LPI INTID bits implemented (GICD_TYPER.IDbits + 1). */
  readonly lpiIdBits: number;
  readonly iidr: number;
  /** PIDR0..PIDR4 of the RD_base frame. */
  readonly pidr: readonly [number, number, number, number, number];
}

const SCAN_CHUNK = 4096;
/**
 * Work units per slice of deferred LPI work: one unit per pending LPI visited (two for one
 * moved), per 64 bytes of pending table imported and per 32,768 INTIDs of index skipped.
 */
export const LPI_SLICE = 1024;
const IMPORT_BYTES = 64;
const LPI_CONFIG_ENABLE = 1 << LPI_CONFIG.Enable.lsb;
const LPI_CONFIG_PRIORITY = (mask32(LPI_CONFIG.Priority.width) << LPI_CONFIG.Priority.lsb) >>> 0;

export class GicRedistributor {
  private enableLpis = false;
  private processorSleep = true;
  private propLo = 0;
  private propHi = 0;
  private pendLo = 0;
  private pendHi = 0;
  private ptz = false;
  private readonly scan = new Uint8Array(SCAN_CHUNK);
  private readonly chunk = new Uint8Array(IMPORT_BYTES);
  /** Pending LPIs set through this redistributor (while EnableLPIs = 1 or being cleared). */
  private index: LpiIndex | null = null;
  // Deferred whole-table work; -1 = none. Order of execution: drop, import, move, re-forward.
  private dropNext = -1;
  private importNext = -1;
  private importAnnounce = false;
  private moveNext = -1;
  private moveTo: GicRedistributor | null = null;
  private fwdNext = -1;
  private fwdAgain = false;
  private readonly visits = { n: 0 };
  /** Work units done by the last slice (tests count them). */
  lastSliceWork = 0;

  constructor(
    readonly params: RedistributorParams,
    private readonly memory: PhysMemory,
    private readonly sink: LpiSink,
    /** Where this redistributor registers itself while it has deferred work (its GIC's service list). */
    private readonly workList: Set<GicRedistributor> | null = null,
  ) {}

  get pe(): number {
    return this.params.pe;
  }

  get lpisEnabled(): boolean {
    return this.enableLpis;
  }

  /** Back to the reset state (EnableLPIs = 0, ProcessorSleep = 1, base registers 0). */
  reset(): void {
    this.enableLpis = false;
    this.processorSleep = true;
    this.propLo = this.propHi = this.pendLo = this.pendHi = 0;
    this.ptz = false;
    this.cancelWork();
    this.dropNext = -1;
    this.index?.clear();
  }

  saveState(): RedistributorState {
    return {
      enableLpis: this.enableLpis,
      processorSleep: this.processorSleep,
      propbaser: [this.propLo, this.propHi],
      pendbaser: [this.pendLo, this.pendHi],
      ptz: this.ptz,
    };
  }

  /**
   * Restores registers (the tables are guest memory). The sink is not told anything: call
   * `invalidateAll()` afterwards to re-announce pending LPIs to a fresh CPU interface.
   */
  restoreState(state: unknown, where = 'redistributor state'): void {
    const o = checkObject(state, where);
    const enable = checkBool(o.enableLpis, `${where}.enableLpis`);
    const sleep = checkBool(o.processorSleep, `${where}.processorSleep`);
    const prop = checkPair(o.propbaser, `${where}.propbaser`);
    const pend = checkPair(o.pendbaser, `${where}.pendbaser`);
    const ptz = checkBool(o.ptz, `${where}.ptz`);
    this.enableLpis = enable && this.params.lpis;
    this.processorSleep = sleep;
    this.propLo = (prop[0] & GICR_PROPBASER_WRITABLE.lo) >>> 0;
    this.propHi = (prop[1] & GICR_PROPBASER_WRITABLE.hi) >>> 0;
    this.pendLo = (pend[0] & GICR_PENDBASER_WRITABLE.lo) >>> 0;
    this.pendHi = (pend[1] & GICR_PENDBASER_WRITABLE.hi) >>> 0;
    this.ptz = ptz;
    this.cancelWork();
    this.dropNext = -1;
    this.index?.clear();
    // Rebuild the index from the restored pending table (without telling the sink). A host
    // operation: it reads the whole table now, in slices.
    if (this.enableLpis) {
      this.startImport(false);
      while (this.importNext >= 0) this.step();
    }
  }

  // ------------------------------------------------------------------ LPI state

  /**
   * Number of INTID bits the LPI tables cover: min(PROPBASER.IDbits + 1, implemented bits);
   * fewer than 14 means no LPIs (IHI 0069 §12.11.29).
   */
  private idBits(): number {
    const b = Math.min(get64(this.propLo, this.propHi, GICR_PROPBASER.IDbits) + 1, this.params.lpiIdBits);
    return b < 14 ? 0 : b;
  }

  /** One past the highest LPI INTID the current tables cover (LPI_INTID_BASE when none). */
  lpiLimit(): number {
    const b = this.idBits();
    return b === 0 ? LPI_INTID_BASE : 2 ** b;
  }

  private inRange(intid: number): boolean {
    return intid >= LPI_INTID_BASE && intid < this.lpiLimit();
  }

  private pendAddr(intid: number): number {
    return addrOf(this.pendLo, this.pendHi, GICR_PENDBASER.PhysicalAddress) + Math.floor(intid / 8);
  }

  private propAddr(intid: number): number {
    return addrOf(this.propLo, this.propHi, GICR_PROPBASER.PhysicalAddress) + (intid - LPI_INTID_BASE);
  }

  /** The LPI configuration byte, or -1 on an external abort. */
  configByte(intid: number): number {
    return this.memory.read8(this.propAddr(intid));
  }

  /** Sets or clears one pending bit in the guest's pending table; returns the old bit or -1 on abort. */
  private writePending(intid: number, on: boolean): number {
    const a = this.pendAddr(intid);
    const b = this.memory.read8(a);
    if (b < 0) return -1;
    const m = 1 << (intid & 7);
    const old = (b & m) !== 0 ? 1 : 0;
    if ((old === 1) !== on && !this.memory.write8(a, on ? b | m : b & ~m)) return -1;
    return old;
  }

  /** Tells the sink what the LPI's state is now (pending+enabled, or not forwardable). */
  private forward(intid: number, pending: boolean): void {
    if (pending) {
      const c = this.configByte(intid);
      if (c >= 0 && (c & LPI_CONFIG_ENABLE) !== 0) {
        this.sink.lpiPending(this.params.pe, intid, c & LPI_CONFIG_PRIORITY);
        return;
      }
    }
    this.sink.lpiCleared(this.params.pe, intid);
  }

  /**
   * Makes LPI `intid` pending (ITS translation, INT, SETLPIR, MOVI/MOVALL arrival). Dropped when
   * EnableLPIs = 0 or the INTID is beyond the tables; 'aborted' when the pending table is not
   * memory. No allocation.
   */
  setPending(intid: number): LpiOutcome {
    if (!this.enableLpis || !this.inRange(intid)) return 'dropped';
    const old = this.writePending(intid, true);
    if (old < 0) return 'aborted';
    this.index?.add(intid);
    const c = this.configByte(intid);
    if (c >= 0 && (c & LPI_CONFIG_ENABLE) !== 0) this.sink.lpiPending(this.params.pe, intid, c & LPI_CONFIG_PRIORITY);
    return 'delivered';
  }

  /** Clears the pending state of `intid` (CLEAR, DISCARD, CLRLPIR, MOVI departure). Returns whether it was pending. */
  clearPending(intid: number): boolean {
    if (!this.enableLpis || !this.inRange(intid)) return false;
    const old = this.writePending(intid, false);
    if (old >= 0) this.index?.delete(intid);
    if (old === 1) this.sink.lpiCleared(this.params.pe, intid);
    return old === 1;
  }

  /** Whether the pending table says `intid` is pending (false when out of range or on abort). */
  isPending(intid: number): boolean {
    if (!this.enableLpis || !this.inRange(intid)) return false;
    const b = this.memory.read8(this.pendAddr(intid));
    return b >= 0 && (b & (1 << (intid & 7))) !== 0;
  }

  /**
   * The CPU interface acknowledged `intid` (LPIs have no active state: acknowledge clears pending,
   * IHI 0069 §5.1). Returns whether it was pending.
   */
  acknowledge(intid: number): boolean {
    return this.clearPending(intid);
  }

  /** INV / GICR_INVLPIR: re-reads the configuration of one LPI. */
  invalidate(intid: number): void {
    if (!this.enableLpis || !this.inRange(intid)) return;
    this.forward(intid, this.isPending(intid));
  }

  /** Calls `fn` for every pending LPI of the guest's table (tools: scans the configured INTID space). */
  private forEachInTable(fn: (intid: number) => void): void {
    if (!this.enableLpis) return;
    const limit = this.lpiLimit();
    const base = addrOf(this.pendLo, this.pendHi, GICR_PENDBASER.PhysicalAddress);
    for (let first = LPI_INTID_BASE; first < limit; first += SCAN_CHUNK * 8) {
      const bytes = Math.min(SCAN_CHUNK, (limit - first) / 8);
      const buf = this.scan.subarray(0, bytes);
      // A chunk that is not (entirely) memory reads as nothing pending.
      if (!this.memory.readBytes(base + first / 8, buf)) continue;
      for (let i = 0; i < bytes; i++) {
        const v = buf[i]!;
        if (v === 0) continue;
        for (let j = 0; j < 8; j++) if ((v & (1 << j)) !== 0) fn(first + i * 8 + j);
      }
    }
  }

  /**
   * Re-reads the configuration of every pending LPI (INVALL, GICR_INVALLR, a host re-announcing
   * after a restore): one slice now, the rest from the GIC's service(). Returns true while work
   * remains.
   */
  invalidateAll(): boolean {
    this.scheduleInvalidateAll();
    return this.step();
  }

  /** Schedules {@link invalidateAll} without doing any of it (a request while one runs restarts it once it completes). */
  scheduleInvalidateAll(): void {
    if (!this.enableLpis) return;
    if (this.fwdNext >= 0) this.fwdAgain = true;
    else this.fwdNext = LPI_INTID_BASE;
    this.markBusy();
  }

  /** MOVALL: moves every pending LPI to `to` (scheduled like {@link invalidateAll}). */
  moveAllTo(to: GicRedistributor): void {
    if (to === this || !this.enableLpis) return;
    this.moveTo = to;
    this.moveNext = LPI_INTID_BASE;
    this.markBusy();
  }

  /** Pending LPIs, ascending, as the guest's pending table says (tools and tests; scans the table). */
  pendingLpis(): number[] {
    const out: number[] = [];
    this.forEachInTable((i) => out.push(i));
    return out;
  }

  /** Number of LPIs in the pending index (tests). */
  get indexedPending(): number {
    return this.index?.size ?? 0;
  }

  // ------------------------------------------------------------------ deferred work

  /** True while whole-table work (import, INVALL, MOVALL, clearing EnableLPIs) is unfinished. */
  get busy(): boolean {
    return this.dropNext >= 0 || this.importNext >= 0 || this.moveNext >= 0 || this.fwdNext >= 0;
  }

  private markBusy(): void {
    this.workList?.add(this);
  }

  private cancelWork(): void {
    this.importNext = this.moveNext = this.fwdNext = -1;
    this.fwdAgain = false;
    this.moveTo = null;
  }

  private startImport(announce: boolean): void {
    const limit = this.lpiLimit();
    if (limit <= LPI_INTID_BASE) return;
    if (this.index === null || this.index.limit !== limit) this.index = new LpiIndex(limit);
    else this.index.clear();
    if (this.ptz) return; // PTZ = 1 promises a zeroed pending table: nothing can be pending
    this.importNext = LPI_INTID_BASE;
    this.importAnnounce = announce;
    this.markBusy();
  }

  /**
   * One bounded slice of deferred work (at most `budget` units, see {@link LPI_SLICE}). Returns
   * true while work remains.
   */
  step(budget = LPI_SLICE): boolean {
    let work = 0;
    const idx = this.index;
    const v = this.visits;
    // Clearing EnableLPIs: the sink forgets every LPI it held.
    while (this.dropNext >= 0 && work < budget) {
      v.n = 0;
      const i = idx === null ? -1 : idx.next(this.dropNext, v);
      work += v.n + 1;
      if (i < 0) {
        this.dropNext = -1;
        break;
      }
      idx!.delete(i);
      this.sink.lpiCleared(this.params.pe, i);
      this.dropNext = i + 1;
    }
    // Importing the guest's pending table after EnableLPIs 0 -> 1 (or a restore).
    const limit = this.lpiLimit();
    const base = addrOf(this.pendLo, this.pendHi, GICR_PENDBASER.PhysicalAddress);
    while (this.importNext >= 0 && work < budget && idx !== null) {
      const first = this.importNext;
      if (first >= limit) {
        this.importNext = -1;
        break;
      }
      // No more bytes than the budget left can take if every bit is set (8 LPIs a byte, plus the
      // read itself): a slice overruns its budget by at most one byte's 8 LPIs.
      const bytes = Math.min(IMPORT_BYTES, (limit - first) / 8, Math.max(1, Math.floor((budget - work - 1) / 8)));
      const buf = bytes === IMPORT_BYTES ? this.chunk : this.chunk.subarray(0, bytes);
      work++;
      // A chunk that is not (entirely) memory reads as nothing pending: an external abort on the
      // pending table loses those LPIs, which is one of the outcomes IHI 0069 permits.
      if (this.memory.readBytes(base + first / 8, buf)) {
        for (let b = 0; b < bytes; b++) {
          const x = buf[b]!;
          if (x === 0) continue;
          for (let j = 0; j < 8; j++) {
            if ((x & (1 << j)) === 0) continue;
            const intid = first + b * 8 + j;
            idx.add(intid);
            if (this.importAnnounce) this.forward(intid, true);
            work++;
          }
        }
      }
      this.importNext = first + bytes * 8;
    }
    // MOVALL: every pending LPI moves to the target redistributor.
    while (this.moveNext >= 0 && work < budget) {
      v.n = 0;
      const i = idx === null || !this.enableLpis ? -1 : idx.next(this.moveNext, v);
      work += v.n + 1;
      if (i < 0) {
        this.moveNext = -1;
        this.moveTo = null;
        break;
      }
      if (this.clearPending(i)) {
        this.moveTo!.setPending(i);
        work++; // two pending-table writes
      } else idx!.delete(i);
      this.moveNext = i + 1;
    }
    // INVALL: every pending LPI's configuration is read again.
    while (this.fwdNext >= 0 && work < budget) {
      v.n = 0;
      const i = idx === null || !this.enableLpis ? -1 : idx.next(this.fwdNext, v);
      work += v.n + 1;
      if (i < 0) {
        this.fwdNext = this.fwdAgain ? LPI_INTID_BASE : -1;
        this.fwdAgain = false;
        if (this.fwdNext < 0) break;
        continue;
      }
      const pending = this.isPending(i);
      if (!pending) idx!.delete(i);
      this.forward(i, pending);
      this.fwdNext = i + 1;
    }
    this.lastSliceWork = work;
    const more = this.busy;
    if (!more) this.workList?.delete(this);
    return more;
  }

  // ------------------------------------------------------------------ register file

  private typerLo(): number {
    const p = this.params;
    let v = 0;
    if (p.lpis) v |= 1 << GICR_TYPER.PLPIS.lsb;
    if (p.directLpi && p.lpis) v |= 1 << GICR_TYPER.DirectLPI.lsb;
    if (p.last) v |= 1 << GICR_TYPER.Last.lsb;
    v |= (p.pe & 0xffff) << GICR_TYPER.Processor_Number.lsb;
    return v >>> 0;
  }

  /** A 32-bit read of the RD_base / SGI_base frames (offset within this PE's 128 KiB). */
  read32(offset: number): number {
    if (offset >= GICR_SGI_BASE) return 0; // SGI/PPI registers: not modelled here (RAZ)
    switch (offset) {
      case GICR.CTLR:
        // CES = 1: EnableLPIs can be cleared once set (IHI 0069 §12.11.2; with CES = 0 software
        // could not rely on it). RWP, UWP always 0: every change completes synchronously.
        return (
          ((this.enableLpis ? 1 << GICR_CTLR.EnableLPIs.lsb : 0) |
            (this.params.lpis ? 1 << GICR_CTLR.CES.lsb : 0) |
            (this.dropNext >= 0 ? 1 << GICR_CTLR.RWP.lsb : 0)) >>>
          0
        );
      case GICR.IIDR:
        return this.params.iidr >>> 0;
      case GICR.TYPER:
        return this.typerLo();
      case GICR.TYPER + 4:
        return this.params.affinity >>> 0;
      case GICR.WAKER:
        return this.processorSleep ? (1 << GICR_WAKER.ProcessorSleep.lsb) | (1 << GICR_WAKER.ChildrenAsleep.lsb) : 0;
      case GICR.PROPBASER:
        return this.params.lpis ? this.propLo : 0;
      case GICR.PROPBASER + 4:
        return this.params.lpis ? this.propHi : 0;
      case GICR.PENDBASER:
        return this.params.lpis ? this.pendLo : 0;
      case GICR.PENDBASER + 4:
        return this.params.lpis ? this.pendHi : 0;
      case GICR.SYNCR:
        return this.busy ? 1 : 0; // Busy while INVALL / MOVALL / an import or disable is unfinished
      default: {
        const id = readIdRegister(offset, this.params.pidr);
        return id >= 0 ? id : 0;
      }
    }
  }

  /** A 32-bit write of the RD_base / SGI_base frames. Unknown offsets are WI. */
  write32(offset: number, value: number): void {
    value >>>= 0;
    if (offset >= GICR_SGI_BASE) return;
    const p = this.params;
    switch (offset) {
      case GICR.CTLR: {
        const on = p.lpis && rd1(value, GICR_CTLR.EnableLPIs.lsb);
        this.setEnableLpis(on);
        return;
      }
      case GICR.WAKER:
        this.processorSleep = rd1(value, GICR_WAKER.ProcessorSleep.lsb);
        return;
      // PROPBASER/PENDBASER: WI while EnableLPIs = 1 (IHI 0069 §12.11.28/29 make such writes
      // UNPREDICTABLE; ignoring them is one of the permitted behaviours).
      case GICR.PROPBASER:
        if (p.lpis && !this.enableLpis) this.propLo = (value & GICR_PROPBASER_WRITABLE.lo) >>> 0;
        return;
      case GICR.PROPBASER + 4:
        if (p.lpis && !this.enableLpis) this.propHi = (value & GICR_PROPBASER_WRITABLE.hi) >>> 0;
        return;
      case GICR.PENDBASER:
        if (p.lpis && !this.enableLpis) this.pendLo = (value & GICR_PENDBASER_WRITABLE.lo) >>> 0;
        return;
      case GICR.PENDBASER + 4:
        if (p.lpis && !this.enableLpis) {
          this.pendHi = (value & GICR_PENDBASER_WRITABLE.hi) >>> 0;
          this.ptz = rd1(value, GICR_PENDBASER.PTZ.lsb - 32);
        }
        return;
      default:
        if (p.directLpi && p.lpis) this.writeDirect(offset, value);
    }
  }

  private writeDirect(offset: number, value: number): void {
    switch (offset) {
      case GICR.SETLPIR:
        this.setPending(value);
        return;
      case GICR.CLRLPIR:
        this.clearPending(value);
        return;
      case GICR.INVLPIR:
        this.invalidate(value);
        return;
      case GICR.INVALLR:
        this.invalidateAll();
        return;
      default:
    }
  }

  read64(offset: number, out: U64): void {
    out.lo = this.read32(offset);
    out.hi = this.read32(offset + 4);
  }

  write64(offset: number, lo: number, hi: number): void {
    // The DirectLPI registers act on the low word (pINTID); writing the high word separately
    // would act twice, so 64-bit writes to them are taken as one operation.
    if (offset === GICR.SETLPIR || offset === GICR.CLRLPIR || offset === GICR.INVLPIR || offset === GICR.INVALLR) {
      this.write32(offset, lo);
      return;
    }
    this.write32(offset, lo);
    this.write32(offset + 4, hi);
  }

  private setEnableLpis(on: boolean): void {
    if (on === this.enableLpis) return;
    if (on) {
      // Setting EnableLPIs while the previous clear is in progress (RWP = 1) is ignored: software
      // waits for RWP = 0 first (IHI 0069 §12.11.2).
      if (this.dropNext >= 0) return;
      this.enableLpis = true;
      // The pending table is read in slices; every LPI found pending and enabled is forwarded.
      this.startImport(true);
    } else {
      // GICv3 lets EnableLPIs be cleared (IMPLEMENTATION DEFINED); the sink forgets what it held,
      // in slices (GICR_CTLR.RWP = 1 until done).
      this.enableLpis = false;
      this.cancelWork();
      this.dropNext = LPI_INTID_BASE;
      this.markBusy();
    }
    this.step();
  }
}


function rd1(v: number, pos: number): boolean {
  return ((v >>> pos) & 1) === 1;
}

/** Size of one PE's redistributor frames in the GICR region. */
export const REDISTRIBUTOR_STRIDE = GICR_FRAME_STRIDE;
