// A test DMA-engine endpoint: copy or fill between IOVAs on command, then raise an MSI-X (or MSI)
// vector. Its registers are this project's own (not an architected device); they are laid out
// once here. All guest-controlled lengths are bounded (transfers run in 4 KiB chunks through one
// preallocated buffer, at most MAX_LEN bytes per command), and faults end in an error status.
// A transfer runs in slices of DMA_ENGINE_SLICE bytes: the first from the CMD write, the rest from
// service(); STATUS reads BUSY until it completes (the guest polls STATUS or takes the MSI).
import type { DmaFault, Serviceable } from '../../memory/types.js';
import { EndpointFunction } from '../../pcie/endpoint.js';
import type { BarHandler } from '../../pcie/types.js';
import { CLASS_CODE } from '../../spec/pcie/config-header.js';

/** Register map of BAR0 (32-bit registers). */
export const DMA_ENGINE_REG = Object.freeze({
  ID: 0x00,
  SRC_LO: 0x08,
  SRC_HI: 0x0c,
  DST_LO: 0x10,
  DST_HI: 0x14,
  LEN: 0x18,
  PATTERN: 0x1c,
  /** Write: bits [3:0] operation (1 copy, 2 fill), bit 8 interrupt on completion. */
  CMD: 0x20,
  /** 0 idle, 1 done, 2 error, 3 busy. */
  STATUS: 0x24,
  FAULT_LO: 0x28,
  FAULT_HI: 0x2c,
  /** Bytes transferred by the last command. */
  DONE: 0x30,
  /** Commands completed (wraps at 2^32). */
  COUNT: 0x34,
});
export const DMA_ENGINE_ID = 0x444d_4145; // "DMAE"
export const DMA_ENGINE_OP = Object.freeze({ COPY: 1, FILL: 2 });
export const DMA_ENGINE_CMD_IRQ = 0x100;
export const DMA_ENGINE_STATUS = Object.freeze({ IDLE: 0, DONE: 1, ERROR: 2, BUSY: 3 });
/** Largest transfer one command may ask for. */
export const DMA_ENGINE_MAX_LEN = 0x100_0000;
/** BAR0 layout: registers at 0, MSI-X table at 0x2000, PBA at 0x3000. */
export const DMA_ENGINE_BAR_SIZE = 0x4000;
export const DMA_ENGINE_MSIX = Object.freeze({ vectors: 2, tableBar: 0, tableOffset: 0x2000, pbaOffset: 0x3000 });
/** Vector 0: completion; vector 1: error. */
export const DMA_ENGINE_VECTOR = Object.freeze({ DONE: 0, ERROR: 1 });

const CHUNK = 0x1000;
/** Bytes transferred per slice (one register access or one service() call). */
export const DMA_ENGINE_SLICE = 4 * CHUNK;

export interface DmaEngineResult {
  readonly ok: boolean;
  readonly done: number;
  readonly fault: DmaFault | null;
}

export class DmaEngine implements BarHandler, Serviceable {
  readonly fn: EndpointFunction;
  private src = 0;
  private dst = 0;
  private len = 0;
  private pattern = 0;
  private status = DMA_ENGINE_STATUS.IDLE as number;
  private faultAddr = 0;
  private doneBytes = 0;
  private count = 0;
  private readonly buf = new Uint8Array(CHUNK);
  // The transfer in progress (operands latched by the CMD write); op 0 = none.
  private xOp = 0;
  private xIrq = false;
  private xSrc = 0;
  private xDst = 0;
  private xLen = 0;
  /** Bytes moved by the last slice (tests count them). */
  lastSliceBytes = 0;
  /** The last fault (host-side diagnostics). */
  lastFault: DmaFault | null = null;

  constructor(name: string, opts: { pciDeviceId?: number } = {}) {
    this.fn = new EndpointFunction(name, {
      vendorId: 0x1b36,
      pciDeviceId: opts.pciDeviceId ?? 0x0005,
      classCode: CLASS_CODE.OTHER,
      bars: [{ index: 0, size: DMA_ENGINE_BAR_SIZE }],
      msix: DMA_ENGINE_MSIX,
      msi: { vectors: 2 },
      handler: this,
    });
  }

  read(bar: number, offset: number, size: 1 | 2 | 4): number {
    if (bar !== 0 || size !== 4) return 0;
    const R = DMA_ENGINE_REG;
    switch (offset) {
      case R.ID: return DMA_ENGINE_ID;
      case R.SRC_LO: return this.src >>> 0;
      case R.SRC_HI: return Math.floor(this.src / 0x1_0000_0000) >>> 0;
      case R.DST_LO: return this.dst >>> 0;
      case R.DST_HI: return Math.floor(this.dst / 0x1_0000_0000) >>> 0;
      case R.LEN: return this.len;
      case R.PATTERN: return this.pattern;
      case R.STATUS: return this.status;
      case R.FAULT_LO: return this.faultAddr >>> 0;
      case R.FAULT_HI: return Math.floor(this.faultAddr / 0x1_0000_0000) >>> 0;
      case R.DONE: return this.doneBytes >>> 0;
      case R.COUNT: return this.count >>> 0;
      default: return 0;
    }
  }

  write(bar: number, offset: number, size: 1 | 2 | 4, value: number): void {
    if (bar !== 0 || size !== 4) return;
    const R = DMA_ENGINE_REG;
    const v = value >>> 0;
    const hi = (x: number, h: number): number => (h & 0x1f_ffff) * 0x1_0000_0000 + (x >>> 0);
    switch (offset) {
      case R.SRC_LO: this.src = hi(v, Math.floor(this.src / 0x1_0000_0000)); return;
      case R.SRC_HI: this.src = hi(this.src, v); return;
      case R.DST_LO: this.dst = hi(v, Math.floor(this.dst / 0x1_0000_0000)); return;
      case R.DST_HI: this.dst = hi(this.dst, v); return;
      case R.LEN: this.len = v; return;
      case R.PATTERN: this.pattern = v; return;
      case R.CMD: this.execute(v); return;
      default: return;
    }
  }

  private execute(cmd: number): void {
    if (this.xOp !== 0) return; // busy: a new command is ignored until the current one completes
    const op = cmd & 0xf;
    const irq = (cmd & DMA_ENGINE_CMD_IRQ) !== 0;
    if (this.len > DMA_ENGINE_MAX_LEN || (op !== DMA_ENGINE_OP.COPY && op !== DMA_ENGINE_OP.FILL)) {
      this.finish({ ok: false, done: 0, fault: null }, irq);
      return;
    }
    this.xOp = op;
    this.xIrq = irq;
    this.xSrc = this.src;
    this.xDst = this.dst;
    this.xLen = this.len;
    this.doneBytes = 0;
    this.status = DMA_ENGINE_STATUS.BUSY;
    if (op === DMA_ENGINE_OP.FILL) {
      const p = this.pattern;
      for (let i = 0; i < CHUNK; i++) this.buf[i] = (p >>> ((i & 3) * 8)) & 0xff;
    }
    this.service();
  }

  /** Moves the next slice of the transfer in progress; returns true while it is unfinished. */
  service(): boolean {
    this.lastSliceBytes = 0;
    if (this.xOp === 0) return false;
    const dma = this.fn.dma;
    const end = Math.min(this.xLen, this.doneBytes + DMA_ENGINE_SLICE);
    while (this.doneBytes < end) {
      const done = this.doneBytes;
      const n = Math.min(CHUNK, this.xLen - done);
      const b = n === CHUNK ? this.buf : this.buf.subarray(0, n);
      let f: DmaFault | null;
      if (this.xOp === DMA_ENGINE_OP.COPY) {
        f = dma.read(this.xSrc + done, b);
        if (f === null) f = dma.write(this.xDst + done, b);
      } else f = dma.write(this.xDst + done, b);
      if (f !== null) {
        this.finish({ ok: false, done, fault: f }, this.xIrq);
        return false;
      }
      this.doneBytes = done + n;
      this.lastSliceBytes += n;
    }
    if (this.doneBytes < this.xLen) return true;
    this.finish({ ok: true, done: this.doneBytes, fault: null }, this.xIrq);
    return false;
  }

  private finish(r: DmaEngineResult, irq: boolean): void {
    this.xOp = 0;
    this.doneBytes = r.done;
    this.lastFault = r.fault;
    this.faultAddr = r.fault?.iova ?? 0;
    this.status = r.ok ? DMA_ENGINE_STATUS.DONE : DMA_ENGINE_STATUS.ERROR;
    this.count = (this.count + 1) >>> 0;
    if (irq) this.fn.signal(r.ok ? DMA_ENGINE_VECTOR.DONE : DMA_ENGINE_VECTOR.ERROR);
  }
}
