// GICv3 ITS (physical LPIs): the 128 KiB MMIO window (control frame + translation frame with
// GITS_TRANSLATER), the command queue in guest memory, and MSI translation DeviceID/EventID ->
// LPI INTID + collection -> redistributor. IHI 0069 chapter 5.3 (ITS), chapter 6 (commands),
// §12.19 (GITS_* registers). Model choices are listed in docs/intc.md; in short:
// - commands run in bounded slices: at most ITS_SLICE from the GITS_CWRITER (or GITS_CTLR.Enabled)
//   write, the rest from service(); GITS_CREADR advances as they complete and GITS_CTLR.Quiescent
//   reads 0 while commands wait (software polls GITS_CREADR, IHI 0069 §6.2.2);
// - no ITS caches: DTE/CTE/ITE are read from guest memory on every translation;
// - SEIS = 0: command errors are recorded (`commandErrors`, `lastCommandError`, `onCommandError`)
//   and skip the command or stall the queue per ItsConfig; memory errors stall
//   (GITS_CREADR.Stalled = 1) until a GITS_CWRITER write with Retry = 1 or re-enable.

import { get32, get64, rd, wr } from '../spec/bits.js';
import { readIdRegister } from './id-registers.js';
import { ITS_COMMAND_BYTES, ITS_CMD, ITS_OPCODE_NAME, itsErrorCode } from '../spec/gic/its-commands.js';
import {
  BASER_TYPE,
  GITS,
  GITS_BASER,
  GITS_CBASER,
  GITS_CREADR,
  GITS_CTLR,
  GITS_CWRITER,
  GITS_TYPER,
  ITS_FRAME_SIZE,
  ITS_TRANSLATION_FRAME,
} from '../spec/gic/its-registers.js';
import type { Field } from '../spec/bits.js';
import type { DoorbellSink, MmioDevice, MsiOutcome, PhysMemory, Serviceable, U64 } from '../memory/types.js';
import type { GicV3 } from './gicv3.js';
import { resolveItsConfig, type ItsConfig, type ItsOptions } from './its-config.js';
import { CMD_ABORT, CMD_DONE, CMD_WAIT, ItsCommandProcessor } from './its-commands.js';
import { ItsTables, TABLE_ABORT, TABLE_OK } from './its-tables.js';
import { LPI_SLICE } from './redistributor.js';
import { checkBool, checkObject, checkPair, checkU32, type GicItsState } from './state.js';
import { UserInputError } from '../util/errors.js';

/** Why the last MSI translation did not deliver (or 'delivered'). String constants: no allocation. */
export type ItsMsiResult =
  | 'delivered'
  | 'its-disabled'
  | 'no-device-id'
  | 'device-oor'
  | 'unmapped-device'
  | 'event-oor'
  | 'unmapped-interrupt'
  | 'unmapped-collection'
  | 'table-abort'
  | 'lpi-dropped'
  | 'lpi-aborted';

/** A command error as recorded by the ITS (what SEI would report if SEIS were 1). */
export interface ItsCommandError {
  /** Byte offset of the command in the queue. */
  readonly offset: number;
  readonly opcode: number;
  readonly command: string;
  /** IHI 0069 §6.3.2 style code: 0x01 << 16 | opcode << 8 | reason; reason 0xff = memory error. */
  readonly code: number;
  readonly kind: 'command-error' | 'memory-error';
}

export interface GicItsOptions extends ItsOptions {
  readonly name?: string;
  /** Called for every command error and command-path memory error (diagnostics). */
  readonly onCommandError?: (e: ItsCommandError) => void;
}

/** Mask of the bits covered by `fields` as lo/hi halves. */
function fieldMask(fields: readonly Field[]): [number, number] {
  const w = new Uint32Array(2);
  for (const f of fields) {
    for (let b = f.lsb; b < f.lsb + f.width; b++) {
      if (b < 32) w[0] = (w[0]! | (1 << b)) >>> 0;
      else w[1] = (w[1]! | (1 << (b - 32))) >>> 0;
    }
  }
  return [w[0]!, w[1]!];
}

const MEMORY_ERROR_REASON = 0xff;

/** Commands executed per slice (one register access or one service() call); each is bounded. */
export const ITS_SLICE = 64;

/** The doorbell of an ITS whose frame is at `base`: GITS_TRANSLATER in its translation frame (IHI 0069). */
export function itsDoorbell(base: number): number {
  return base + GITS.TRANSLATER;
}

export class GicIts implements MmioDevice, Serviceable {
  readonly name: string;
  readonly mmioSize = ITS_FRAME_SIZE;
  readonly config: ItsConfig;
  readonly tables: ItsTables;

  private enabled = false;
  private cbaserLo = 0;
  private cbaserHi = 0;
  private cwriter = 0;
  private creadr = 0;
  private stalled = false;
  /** Why the queue stalled: an error at CREADR, or a GITS_CWRITER/GITS_CREADR outside the queue. */
  private stallKind: 'error' | 'cwriter' = 'error';
  private processing = false;
  private readonly typerLo: number;
  private readonly typerHi: number;
  private readonly cbaserMask: [number, number];
  private readonly baserMask: [number, number];
  private readonly commands: ItsCommandProcessor;
  private readonly cmd = new Uint32Array(8);
  private readonly u: U64 = { lo: 0, hi: 0 };
  private readonly onCommandError: ((e: ItsCommandError) => void) | undefined;

  /** Commands executed by the last slice (tests count them). */
  lastSliceCommands = 0;
  /** Number of command errors and command-path memory errors since reset. */
  commandErrors = 0;
  lastCommandError: ItsCommandError | null = null;
  /** Outcome of the most recent MSI translation. */
  lastMsiResult: ItsMsiResult = 'delivered';

  constructor(
    readonly memory: PhysMemory,
    readonly gic: GicV3,
    opts: GicItsOptions = {},
  ) {
    const { name, onCommandError, ...rest } = opts;
    this.name = name ?? 'its';
    this.onCommandError = onCommandError;
    this.config = resolveItsConfig(rest);
    this.tables = new ItsTables(memory, this.config);
    this.commands = new ItsCommandProcessor(this.config, this.tables, gic);
    const c = this.config;
    const t = new Uint32Array(2);
    wr(t, GITS_TYPER.Physical, 1);
    wr(t, GITS_TYPER.ITT_entry_size, c.ittEntrySize - 1);
    wr(t, GITS_TYPER.IDbits, c.eventIdBits - 1);
    wr(t, GITS_TYPER.Devbits, c.deviceIdBits - 1);
    wr(t, GITS_TYPER.PTA, c.pta ? 1 : 0);
    wr(t, GITS_TYPER.HCC, c.hcc);
    wr(t, GITS_TYPER.CIDbits, c.collectionIdBits - 1);
    wr(t, GITS_TYPER.CIL, 1);
    this.typerLo = t[0]!;
    this.typerHi = t[1]!;
    this.cbaserMask = fieldMask([
      GITS_CBASER.Valid,
      GITS_CBASER.InnerCache,
      GITS_CBASER.OuterCache,
      GITS_CBASER.PhysicalAddress,
      GITS_CBASER.Shareability,
      GITS_CBASER.Size,
    ]);
    this.baserMask = fieldMask([
      GITS_BASER.Valid,
      ...(c.indirect ? [GITS_BASER.Indirect] : []),
      GITS_BASER.InnerCache,
      GITS_BASER.OuterCache,
      GITS_BASER.PhysicalAddress,
      GITS_BASER.Shareability,
      GITS_BASER.Page_Size,
      GITS_BASER.Size,
    ]);
  }

  reset(): void {
    this.enabled = false;
    this.cbaserLo = this.cbaserHi = 0;
    this.cwriter = this.creadr = 0;
    this.stalled = false;
    this.stallKind = 'error';
    this.tables.reset();
    this.commandErrors = 0;
    this.lastCommandError = null;
    this.lastMsiResult = 'delivered';
  }

  saveState(): GicItsState {
    const t = this.tables;
    return {
      version: 1,
      enabled: this.enabled,
      cbaser: [this.cbaserLo, this.cbaserHi],
      cwriter: this.cwriter,
      creadr: this.creadr,
      stalled: this.stalled,
      baser: Array.from({ length: GITS.BASER_COUNT }, (_, n) => [t.baserLo[n]!, t.baserHi[n]!] as const),
      hcc: t.hccTargets(),
    };
  }

  /**
   * Restores a snapshot (registers only; the tables are in guest memory). Commands between
   * CREADR and CWRITER are not run until the next CWRITER write. Malformed snapshots raise
   * UserInputError and change nothing.
   */
  restoreState(state: unknown): void {
    const w = 'its state';
    const o = checkObject(state, w);
    const enabled = checkBool(o.enabled, `${w}.enabled`);
    const cbaser = checkPair(o.cbaser, `${w}.cbaser`);
    const cwriter = checkU32(o.cwriter, `${w}.cwriter`);
    const creadr = checkU32(o.creadr, `${w}.creadr`);
    const stalled = checkBool(o.stalled, `${w}.stalled`);
    if (!Array.isArray(o.baser) || o.baser.length !== GITS.BASER_COUNT) throw new UserInputError(`must list ${GITS.BASER_COUNT} registers`, `${w}.baser`);
    const baser = (o.baser as unknown[]).map((b, i) => checkPair(b, `${w}.baser[${i}]`));
    if (!Array.isArray(o.hcc) || o.hcc.length !== this.config.hcc) throw new UserInputError(`must list ${this.config.hcc} collections`, `${w}.hcc`);
    const hcc = (o.hcc as unknown[]).map((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v >= this.gic.peCount) throw new UserInputError('must be -1 or a PE index', `${w}.hcc[${i}]`);
      return v;
    });
    const offset = (v: number): number => get32(v, GITS_CREADR.Offset) << GITS_CREADR.Offset.lsb;
    this.enabled = enabled;
    this.cbaserLo = (cbaser[0] & this.cbaserMask[0]) >>> 0;
    this.cbaserHi = (cbaser[1] & this.cbaserMask[1]) >>> 0;
    this.cwriter = offset(cwriter);
    this.creadr = offset(creadr);
    this.stalled = stalled;
    // A snapshot does not say why the queue stalled: pointers outside the queue mean a CWRITER
    // stall (cleared by the next CWRITER write), anything else an error stall (needs Retry).
    this.stallKind = this.cwriter >= this.queueBytes() || this.creadr >= this.queueBytes() ? 'cwriter' : 'error';
    const t = this.tables;
    t.reset();
    baser.forEach(([lo, hi], n) => {
      // Type and Entry_Size stay as implemented; unimplemented registers stay 0.
      if (get64(t.baserLo[n]!, t.baserHi[n]!, GITS_BASER.Type) === BASER_TYPE.Unimplemented) return;
      t.baserLo[n] = ((t.baserLo[n]! & ~this.baserMask[0]) | (lo & this.baserMask[0])) >>> 0;
      t.baserHi[n] = ((t.baserHi[n]! & ~this.baserMask[1]) | (hi & this.baserMask[1])) >>> 0;
    });
    t.restoreHcc(hcc);
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  // ------------------------------------------------------------------ MSI translation (fast path)

  /**
   * An MSI write to GITS_TRANSLATER with its DeviceID sideband: EventID = the data. Looks up
   * DTE -> ITE -> CTE in guest memory and makes the LPI pending on the collection's
   * redistributor. No allocation, no BigInt; never throws.
   */
  signalMsi(deviceId: number, eventId: number): MsiOutcome {
    const r = this.translate(deviceId, eventId >>> 0);
    this.lastMsiResult = r;
    return r === 'delivered' ? 'delivered' : r === 'table-abort' || r === 'lpi-aborted' ? 'aborted' : 'dropped';
  }

  private translate(deviceId: number, eventId: number): ItsMsiResult {
    if (!this.enabled) return 'its-disabled';
    if (!(deviceId >= 0 && deviceId < 2 ** this.config.deviceIdBits) || deviceId !== Math.floor(deviceId)) return 'device-oor';
    const t = this.tables;
    let st = t.readDte(deviceId);
    if (st === TABLE_ABORT) return 'table-abort';
    if (st !== TABLE_OK || !t.dteValid) return 'unmapped-device';
    if (eventId >= 2 ** (t.dteSize + 1)) return 'event-oor';
    if (t.readIte(t.dteItt, eventId) !== TABLE_OK) return 'table-abort';
    if (!t.iteValid || !t.itePhysical) return 'unmapped-interrupt';
    const intid = t.iteIntid;
    st = t.readCte(t.iteIcid);
    if (st === TABLE_ABORT) return 'table-abort';
    if (st !== TABLE_OK || !t.cteValid) return 'unmapped-collection';
    const rdist = this.gic.redistributors[t.ctePe];
    if (rdist === undefined) return 'unmapped-collection';
    const o = rdist.setPending(intid);
    return o === 'delivered' ? 'delivered' : o === 'aborted' ? 'lpi-aborted' : 'lpi-dropped';
  }

  /**
   * This ITS's MSI input when its frame is at `base`: the doorbell is GITS_TRANSLATER
   * (`base` + 0x10040); writes elsewhere or without a DeviceID are 'dropped'.
   */
  msiSink(base: number): DoorbellSink {
    const doorbell = itsDoorbell(base);
    return {
      doorbell,
      msiWrite: (address: number, data: number, deviceId: number | null): MsiOutcome => {
        if (address !== doorbell) return 'dropped';
        if (deviceId === null) {
          this.lastMsiResult = 'no-device-id';
          return 'dropped';
        }
        return this.signalMsi(deviceId, data);
      },
    };
  }

  // ------------------------------------------------------------------ registers

  private baserIndex(offset: number): number {
    const n = (offset - GITS.BASER0) >> 3;
    return offset >= GITS.BASER0 && n < GITS.BASER_COUNT ? n : -1;
  }

  private reg32(offset: number): number {
    switch (offset) {
      case GITS.CTLR:
        // Quiescent = 0 while commands wait to be processed (translations complete at once).
        return ((this.enabled ? 1 << GITS_CTLR.Enabled.lsb : 0) | (this.commandsPending() ? 0 : 1 << GITS_CTLR.Quiescent.lsb)) >>> 0;
      case GITS.IIDR:
        return this.config.iidr >>> 0;
      case GITS.TYPER:
        return this.typerLo;
      case GITS.TYPER + 4:
        return this.typerHi;
      case GITS.CBASER:
        return this.cbaserLo;
      case GITS.CBASER + 4:
        return this.cbaserHi;
      case GITS.CWRITER:
        return this.cwriter;
      case GITS.CREADR:
        return (this.creadr | (this.stalled ? 1 << GITS_CREADR.Stalled.lsb : 0)) >>> 0;
      default: {
        const id = readIdRegister(offset, this.config.pidr);
        if (id >= 0) return id;
        const n = this.baserIndex(offset & ~7);
        if (n < 0) return 0;
        return (offset & 4) === 0 ? this.tables.baserLo[n]! : this.tables.baserHi[n]!;
      }
    }
  }

  private writeReg32(offset: number, value: number): void {
    value >>>= 0;
    switch (offset) {
      case GITS.CTLR:
        this.setEnabled(((value >>> GITS_CTLR.Enabled.lsb) & 1) === 1);
        return;
      case GITS.CBASER:
      case GITS.CBASER + 4:
        // Writable only while the ITS is disabled (IHI 0069 §12.19.2: otherwise UNPREDICTABLE; WI here).
        if (this.enabled) return;
        if (offset === GITS.CBASER) this.cbaserLo = (value & this.cbaserMask[0]) >>> 0;
        else this.cbaserHi = (value & this.cbaserMask[1]) >>> 0;
        this.creadr = 0; // a CBASER write resets GITS_CREADR
        this.stalled = false;
        return;
      case GITS.CWRITER: {
        this.cwriter = get32(value, GITS_CWRITER.Offset) << GITS_CWRITER.Offset.lsb;
        // IHI 0069 §12.19.5 GITS_CWRITER.Retry: 0 has no effect on command processing, 1 restarts
        // a queue stalled by an error (the failing command is retried). A stall caused only by a
        // CWRITER outside the queue is re-evaluated on every CWRITER write. (QEMU 7.2 restarts on
        // any write; we follow the architecture.)
        if (get32(value, GITS_CWRITER.Retry) === 1 || this.stallKind === 'cwriter') this.stalled = false;
        this.process();
        return;
      }
      default: {
        const n = this.baserIndex(offset & ~7);
        if (n < 0 || this.enabled) return; // GITS_BASER<n> WI while enabled
        const t = this.tables;
        const lo = t.baserLo[n]!;
        const hi = t.baserHi[n]!;
        if (get64(lo, hi, GITS_BASER.Type) === BASER_TYPE.Unimplemented) return;
        // Every writable field keeps exactly the value written (Linux checks the read-back).
        if ((offset & 4) === 0) t.baserLo[n] = ((lo & ~this.baserMask[0]) | (value & this.baserMask[0])) >>> 0;
        else t.baserHi[n] = ((hi & ~this.baserMask[1]) | (value & this.baserMask[1])) >>> 0;
      }
    }
  }

  private setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    if (on) {
      this.stalled = false;
      this.process();
    }
  }

  read(offset: number, size: 1 | 2 | 4): number {
    // Control frame: 32-bit accesses (64-bit registers by halves); everything else RAZ.
    if (size !== 4 || (offset & 3) !== 0 || offset < 0 || offset >= ITS_TRANSLATION_FRAME) return 0;
    return this.reg32(offset);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset === GITS.TRANSLATER) {
      // A CPU (or any writer without a DeviceID) writing GITS_TRANSLATER: no DeviceID, so the
      // write is ignored. Device MSIs arrive through signalMsi / msiSink with their DeviceID.
      if (size === 2 || size === 4) this.lastMsiResult = 'no-device-id';
      return;
    }
    if (size !== 4 || (offset & 3) !== 0 || offset < 0 || offset >= ITS_TRANSLATION_FRAME) return;
    this.writeReg32(offset, value);
  }

  read64(offset: number, out: U64): void {
    if ((offset & 7) !== 0 || offset < 0 || offset >= ITS_TRANSLATION_FRAME) {
      out.lo = out.hi = 0;
      return;
    }
    out.lo = this.reg32(offset);
    out.hi = this.reg32(offset + 4);
  }

  write64(offset: number, lo: number, hi: number): void {
    if ((offset & 7) !== 0 || offset < 0 || offset >= ITS_TRANSLATION_FRAME) return;
    if (offset === GITS.CWRITER) {
      this.writeReg32(offset, lo); // the high half is RES0
      return;
    }
    if (offset === GITS.CTLR) {
      this.writeReg32(offset, lo);
      return;
    }
    // Store both halves before anything acts on them (CBASER, BASER<n>).
    this.writeReg32(offset + 4, hi);
    this.writeReg32(offset, lo);
  }

  // ------------------------------------------------------------------ command queue

  private queueBytes(): number {
    return (get64(this.cbaserLo, this.cbaserHi, GITS_CBASER.Size) + 1) * 0x1000;
  }

  /** True while commands between GITS_CREADR and GITS_CWRITER wait to be processed. */
  private commandsPending(): boolean {
    return this.enabled && !this.stalled && this.creadr !== this.cwriter && get64(this.cbaserLo, this.cbaserHi, GITS_CBASER.Valid) === 1;
  }

  /**
   * Deferred work: the next bounded slice of the command queue, and of the redistributors' LPI
   * work it depends on. Returns true while work remains; call after each vCPU exit or on a timer.
   */
  service(): boolean {
    const gicBusy = this.gic.service();
    this.process();
    return gicBusy || this.commandsPending();
  }

  /**
   * Runs commands from GITS_CREADR towards GITS_CWRITER: at most ITS_SLICE per call; stops
   * (Stalled) on a memory error or, with the 'stall' policy, on a command error, and pauses on a
   * command that waits for a redistributor.
   */
  private process(): void {
    // A sink callback that writes GITS_CWRITER while commands run just moves the write pointer:
    // the running loop picks the new commands up.
    this.lastSliceCommands = 0;
    if (!this.enabled || this.stalled || this.processing) return;
    this.processing = true;
    try {
      this.runQueue();
    } finally {
      this.processing = false;
    }
  }

  private runQueue(): void {
    if (get64(this.cbaserLo, this.cbaserHi, GITS_CBASER.Valid) === 0) return;
    const size = this.queueBytes();
    const base = get64(this.cbaserLo, this.cbaserHi, GITS_CBASER.PhysicalAddress) * 0x1000;
    if (this.cwriter >= size || this.creadr >= size) {
      // CWRITER (or a restored CREADR) beyond the queue: UNPREDICTABLE (IHI 0069 §12.19.5,
      // §12.19.4); this model stalls until a CWRITER write, without reading outside the queue.
      this.stalled = true;
      this.stallKind = 'cwriter';
      return;
    }
    const w = this.cmd;
    const u = this.u;
    this.commands.workBudget = LPI_SLICE;
    for (let n = 0; n < ITS_SLICE && this.creadr !== this.cwriter; n++) {
      const at = base + this.creadr;
      let ok = true;
      for (let i = 0; i < 4 && ok; i++) {
        ok = this.memory.read64(at + i * 8, u);
        w[2 * i] = u.lo;
        w[2 * i + 1] = u.hi;
      }
      if (!ok) {
        this.recordError(0, MEMORY_ERROR_REASON, 'memory-error');
        this.stalled = true;
        this.stallKind = 'error';
        return;
      }
      const st = this.commands.execute(w);
      if (st === CMD_WAIT) return; // retried by a later slice
      this.lastSliceCommands++;
      if (st !== CMD_DONE) {
        const op = rd(w, ITS_CMD.Opcode);
        if (st === CMD_ABORT) {
          this.recordError(op, MEMORY_ERROR_REASON, 'memory-error');
          this.stalled = true;
          this.stallKind = 'error';
          return;
        }
        this.recordError(op, this.commands.lastReason, 'command-error');
        if (this.config.commandErrorPolicy === 'stall') {
          this.stalled = true;
          this.stallKind = 'error';
          return;
        }
      }
      this.creadr = (this.creadr + ITS_COMMAND_BYTES) % size;
    }
  }

  private recordError(opcode: number, reason: number, kind: ItsCommandError['kind']): void {
    this.commandErrors++;
    const e: ItsCommandError = {
      offset: this.creadr,
      opcode,
      command: ITS_OPCODE_NAME[opcode] ?? `opcode 0x${opcode.toString(16)}`,
      code: itsErrorCode(opcode, reason),
      kind,
    };
    this.lastCommandError = e;
    this.onCommandError?.(e);
  }
}
