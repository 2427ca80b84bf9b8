// GICv3 redistributor, LPI side (one per PE): GICR_CTLR.EnableLPIs, GICR_WAKER, GICR_TYPER,
// PROPBASER/PENDBASER, the LPI configuration and pending tables in guest memory, and the
// DirectLPI registers (SETLPIR/CLRLPIR/INVLPIR/INVALLR/SYNCR) when advertised.
// IHI 0069 §5.1 (LPIs), §12.11 (GICR_* registers).
//
// Model choices (docs/intc.md): the pending state lives only in the guest's pending table (read-
// modify-write of one bit, as QEMU does), so nothing here is sized by guest input. The LPI
// configuration byte is read when an LPI becomes pending (no configuration cache); LPIs that are
// pending but were disabled are re-examined only by INV/INVALL/INVLPIR/INVALLR and EnableLPIs
// 0 -> 1. The SGI_base frame (SGI/PPI configuration) is RAZ/WI: SGIs and PPIs belong to the VMM.

import { mask32, rdLoHi } from '../spec/bits.js';
import { fieldAddress } from './field-address.js';
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

  constructor(
    readonly params: RedistributorParams,
    private readonly memory: PhysMemory,
    private readonly sink: LpiSink,
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
  }

  // ------------------------------------------------------------------ LPI state

  /**
   * Number of INTID bits the LPI tables cover: min(PROPBASER.IDbits + 1, implemented bits);
   * fewer than 14 means no LPIs (IHI 0069 §12.11.29).
   */
  private idBits(): number {
    const b = Math.min(rdLoHi(this.propLo, this.propHi, GICR_PROPBASER.IDbits.lsb, GICR_PROPBASER.IDbits.width) + 1, this.params.lpiIdBits);
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
    return fieldAddress(this.pendLo, this.pendHi, GICR_PENDBASER.PhysicalAddress) + Math.floor(intid / 8);
  }

  private propAddr(intid: number): number {
    return fieldAddress(this.propLo, this.propHi, GICR_PROPBASER.PhysicalAddress) + (intid - LPI_INTID_BASE);
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
    const c = this.configByte(intid);
    if (c >= 0 && (c & LPI_CONFIG_ENABLE) !== 0) this.sink.lpiPending(this.params.pe, intid, c & LPI_CONFIG_PRIORITY);
    return 'delivered';
  }

  /** Clears the pending state of `intid` (CLEAR, DISCARD, CLRLPIR, MOVI departure). Returns whether it was pending. */
  clearPending(intid: number): boolean {
    if (!this.enableLpis || !this.inRange(intid)) return false;
    const old = this.writePending(intid, false);
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

  /** Calls `fn` for every pending LPI in the table (bounded by the configured INTID space). */
  forEachPending(fn: (intid: number) => void): void {
    if (!this.enableLpis) return;
    const limit = this.lpiLimit();
    const base = fieldAddress(this.pendLo, this.pendHi, GICR_PENDBASER.PhysicalAddress);
    for (let first = LPI_INTID_BASE; first < limit; first += SCAN_CHUNK * 8) {
      const bytes = Math.min(SCAN_CHUNK, (limit - first) / 8);
      const buf = this.scan.subarray(0, bytes);
      // A chunk that is not (entirely) memory reads as nothing pending: an external abort on the
      // pending table loses those LPIs, which is one of the outcomes IHI 0069 permits.
      if (!this.memory.readBytes(base + first / 8, buf)) continue;
      // Snapshot the chunk's set bits before calling out: `fn` may change the table.
      for (let i = 0; i < bytes; i++) {
        const v = buf[i]!;
        if (v === 0) continue;
        for (let j = 0; j < 8; j++) if ((v & (1 << j)) !== 0) fn(first + i * 8 + j);
      }
    }
  }

  /** INVALL / GICR_INVALLR: re-reads the configuration of every pending LPI. */
  invalidateAll(): void {
    this.forEachPending((intid) => this.forward(intid, true));
  }

  /** Pending LPIs, ascending (tools and tests). */
  pendingLpis(): number[] {
    const out: number[] = [];
    this.forEachPending((i) => out.push(i));
    return out;
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
          ((this.enableLpis ? 1 << GICR_CTLR.EnableLPIs.lsb : 0) | (this.params.lpis ? 1 << GICR_CTLR.CES.lsb : 0)) >>> 0
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
        return 0; // Busy = 0: every invalidation completes synchronously
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
      this.enableLpis = true;
      // PTZ = 1 promises a zeroed pending table: nothing can be pending.
      if (!this.ptz) this.invalidateAll();
    } else {
      // GICv3 lets EnableLPIs be cleared (IMPLEMENTATION DEFINED); the sink forgets what it held.
      this.forEachPending((intid) => this.sink.lpiCleared(this.params.pe, intid));
      this.enableLpis = false;
    }
  }
}


function rd1(v: number, pos: number): boolean {
  return ((v >>> pos) & 1) === 1;
}

/** Size of one PE's redistributor frames in the GICR region. */
export const REDISTRIBUTOR_STRIDE = GICR_FRAME_STRIDE;
