// A test NVMe-like queue device: one submission queue and one completion queue in guest memory
// (reached by DMA through the SMMU, like NVMe I/O queues), a small internal disk, doorbells in
// BAR0, completion entries with a phase bit, and an MSI-X interrupt per completion batch. Its
// registers and queue entries are this project's own layout (not NVMe's), defined once here.
// Guest-controlled values are bounded: queue size <= QDEV_MAX_ENTRIES, transfers are chunked
// through one preallocated buffer, and the work of one register access or one service() call is
// one slice (at most QDEV_SLICE_ENTRIES entries fetched and QDEV_SLICE_BYTES moved): a doorbell
// starts the queue, service() continues it, SQ_HEAD shows the progress, and the MSI-X interrupt
// fires when the queue has drained with completions posted.
import type { DmaFault, Serviceable } from '../../memory/types.js';
import { EndpointFunction } from '../../pcie/endpoint.js';
import type { BarHandler } from '../../pcie/types.js';
import { CLASS_CODE } from '../../spec/pcie/config-header.js';

export const QDEV_REG = Object.freeze({
  ID: 0x00,
  SQ_BASE_LO: 0x08,
  SQ_BASE_HI: 0x0c,
  CQ_BASE_LO: 0x10,
  CQ_BASE_HI: 0x14,
  /** Entries per queue (both queues), 2..QDEV_MAX_ENTRIES. */
  QSIZE: 0x18,
  /** bit 0: enable (resets head/tail/phase when set). */
  CTRL: 0x1c,
  SQ_TAIL: 0x20,
  CQ_HEAD: 0x24,
  SQ_HEAD: 0x28,
  /** bit 0 ready, bit 1 fatal (queue fetch or completion write faulted). */
  STATUS: 0x2c,
  DISK_BYTES: 0x30,
});
export const QDEV_ID = 0x4e56_5144; // "DQVN" little-endian "NVQD"
export const QDEV_MAX_ENTRIES = 256;
export const QDEV_DISK_BYTES = 0x1_0000;
export const QDEV_SECTOR = 512;
/** Submission entry: 32 bytes. Completion entry: 16 bytes. */
export const QDEV_SQE = Object.freeze({ BYTES: 32, OPCODE: 0, CID: 2, BUFFER: 8, LBA: 16, LENGTH: 20 });
export const QDEV_CQE = Object.freeze({ BYTES: 16, CID: 0, STATUS: 2, SQ_HEAD: 4, PHASE: 12 });
export const QDEV_OP = Object.freeze({ WRITE: 1, READ: 2 });
export const QDEV_SC = Object.freeze({ OK: 0, INVALID_OPCODE: 1, LBA_RANGE: 0x80, DATA_TRANSFER_ERROR: 4 });
export const QDEV_BAR_SIZE = 0x4000;
export const QDEV_MSIX = Object.freeze({ vectors: 1, tableBar: 0, tableOffset: 0x2000, pbaOffset: 0x3000 });

const CHUNK = 0x1000;
/** Submission entries fetched per slice (one register access or one service() call). */
export const QDEV_SLICE_ENTRIES = 16;
/** Data bytes moved per slice. */
export const QDEV_SLICE_BYTES = 4 * CHUNK;

/** The command being transferred (a slice can end in the middle of one). */
interface Active {
  op: number;
  cid: number;
  buffer: number;
  off: number;
  len: number;
  done: number;
}

export class QueueDevice implements BarHandler, Serviceable {
  readonly fn: EndpointFunction;
  readonly disk = new Uint8Array(QDEV_DISK_BYTES);
  private sqBase = 0;
  private cqBase = 0;
  private qsize = 0;
  private enabled = false;
  private sqHead = 0;
  private sqTail = 0;
  private cqTail = 0;
  private cqHead = 0;
  private phase = 1;
  private fatal = false;
  private readonly sqe = new Uint8Array(QDEV_SQE.BYTES);
  private readonly sqeView = new DataView(this.sqe.buffer);
  private readonly cqe = new Uint8Array(QDEV_CQE.BYTES);
  private readonly cqeView = new DataView(this.cqe.buffer);
  private readonly buf = new Uint8Array(CHUNK);
  readonly stats = { commands: 0, errors: 0, interrupts: 0 };
  lastFault: DmaFault | null = null;
  private active: Active | null = null;
  private readonly activeState: Active = { op: 0, cid: 0, buffer: 0, off: 0, len: 0, done: 0 };
  /** Completions posted since the last interrupt. */
  private posted = 0;
  /** Work of the last slice (bounded-work tests read it). */
  readonly lastSlice = { entries: 0, bytes: 0 };

  constructor(name: string) {
    this.fn = new EndpointFunction(name, {
      vendorId: 0x1b36,
      pciDeviceId: 0x0010,
      classCode: CLASS_CODE.OTHER,
      bars: [{ index: 0, size: QDEV_BAR_SIZE }],
      msix: QDEV_MSIX,
      handler: this,
    });
  }

  read(bar: number, offset: number, size: 1 | 2 | 4): number {
    if (bar !== 0 || size !== 4) return 0;
    const R = QDEV_REG;
    switch (offset) {
      case R.ID: return QDEV_ID;
      case R.SQ_BASE_LO: return this.sqBase >>> 0;
      case R.SQ_BASE_HI: return Math.floor(this.sqBase / 0x1_0000_0000) >>> 0;
      case R.CQ_BASE_LO: return this.cqBase >>> 0;
      case R.CQ_BASE_HI: return Math.floor(this.cqBase / 0x1_0000_0000) >>> 0;
      case R.QSIZE: return this.qsize;
      case R.CTRL: return this.enabled ? 1 : 0;
      case R.SQ_TAIL: return this.sqTail;
      case R.CQ_HEAD: return this.cqHead;
      case R.SQ_HEAD: return this.sqHead;
      case R.STATUS: return (this.enabled ? 1 : 0) | (this.fatal ? 2 : 0);
      case R.DISK_BYTES: return QDEV_DISK_BYTES;
      default: return 0;
    }
  }

  write(bar: number, offset: number, size: 1 | 2 | 4, value: number): void {
    if (bar !== 0 || size !== 4) return;
    const R = QDEV_REG;
    const v = value >>> 0;
    const hi = (lo: number, h: number): number => (h & 0x1f_ffff) * 0x1_0000_0000 + (lo >>> 0);
    switch (offset) {
      case R.SQ_BASE_LO: this.sqBase = hi(v, Math.floor(this.sqBase / 0x1_0000_0000)); return;
      case R.SQ_BASE_HI: this.sqBase = hi(this.sqBase, v); return;
      case R.CQ_BASE_LO: this.cqBase = hi(v, Math.floor(this.cqBase / 0x1_0000_0000)); return;
      case R.CQ_BASE_HI: this.cqBase = hi(this.cqBase, v); return;
      case R.QSIZE: if (!this.enabled) this.qsize = Math.max(2, Math.min(QDEV_MAX_ENTRIES, v)); return;
      case R.CTRL:
        this.enabled = (v & 1) === 1;
        this.sqHead = this.sqTail = this.cqTail = this.cqHead = 0;
        this.phase = 1;
        this.fatal = false;
        this.active = null;
        this.posted = 0;
        return;
      case R.SQ_TAIL:
        if (this.enabled && !this.fatal && v < this.qsize) {
          this.sqTail = v;
          this.service();
        }
        return;
      case R.CQ_HEAD: if (v < this.qsize) this.cqHead = v; return;
      default: return;
    }
  }

  /** One slice of queue work; returns true while entries or a transfer remain. */
  service(): boolean {
    this.lastSlice.entries = 0;
    this.lastSlice.bytes = 0;
    if (!this.enabled || this.fatal) return false;
    const dma = this.fn.dma;
    while (this.lastSlice.bytes < QDEV_SLICE_BYTES) {
      if (this.active === null) {
        if (this.sqHead === this.sqTail || this.lastSlice.entries >= QDEV_SLICE_ENTRIES) break;
        const f = dma.read(this.sqBase + this.sqHead * QDEV_SQE.BYTES, this.sqe);
        if (f !== null) return this.fail(f);
        this.lastSlice.entries++;
        this.sqHead = (this.sqHead + 1) % this.qsize;
        const sc = this.startCommand();
        if (sc !== QDEV_SC.OK) {
          if (!this.complete(this.sqeView.getUint16(QDEV_SQE.CID, true), sc)) return false;
          continue;
        }
      }
      const a = this.active!;
      const sc = this.transfer(a, QDEV_SLICE_BYTES - this.lastSlice.bytes);
      if (sc === null) break; // the slice's bytes are spent; the command continues next time
      this.active = null;
      if (!this.complete(a.cid, sc)) return false;
    }
    const more = this.active !== null || this.sqHead !== this.sqTail;
    if (!more && this.posted > 0) {
      this.posted = 0;
      this.stats.interrupts++;
      this.fn.signal(0);
    }
    return more;
  }

  /** Posts a completion entry; false when its write faulted (the device stops, fatal). */
  private complete(cid: number, sc: number): boolean {
    const cq = this.cqeView;
    cq.setUint16(QDEV_CQE.CID, cid, true);
    cq.setUint16(QDEV_CQE.STATUS, sc, true);
    cq.setUint32(QDEV_CQE.SQ_HEAD, this.sqHead, true);
    cq.setUint32(QDEV_CQE.PHASE, this.phase, true);
    const g = this.fn.dma.write(this.cqBase + this.cqTail * QDEV_CQE.BYTES, this.cqe);
    if (g !== null) {
      this.fail(g);
      return false;
    }
    this.cqTail = (this.cqTail + 1) % this.qsize;
    if (this.cqTail === 0) this.phase ^= 1;
    this.stats.commands++;
    if (sc !== QDEV_SC.OK) this.stats.errors++;
    this.posted++;
    return true;
  }

  private fail(f: DmaFault): false {
    this.lastFault = f;
    this.fatal = true;
    this.active = null;
    return false;
  }

  /** Decodes the fetched entry; OK makes it the active command, anything else is its completion status. */
  private startCommand(): number {
    const s = this.sqeView;
    const op = s.getUint8(QDEV_SQE.OPCODE);
    const off = s.getUint32(QDEV_SQE.LBA, true) * QDEV_SECTOR;
    const len = s.getUint32(QDEV_SQE.LENGTH, true);
    if (op !== QDEV_OP.READ && op !== QDEV_OP.WRITE) return QDEV_SC.INVALID_OPCODE;
    if (off + len > QDEV_DISK_BYTES) return QDEV_SC.LBA_RANGE;
    const a = this.activeState;
    a.op = op;
    a.cid = s.getUint16(QDEV_SQE.CID, true);
    a.buffer = Number(s.getBigUint64(QDEV_SQE.BUFFER, true) & 0x1f_ffff_ffff_ffffn);
    a.off = off;
    a.len = len;
    a.done = 0;
    this.active = a;
    return QDEV_SC.OK;
  }

  /** Moves up to `budget` bytes of the active command: its status when it ended, null when bytes remain. */
  private transfer(a: Active, budget: number): number | null {
    const dma = this.fn.dma;
    const end = Math.min(a.len, a.done + budget);
    while (a.done < end) {
      const n = Math.min(CHUNK, end - a.done);
      const b = n === CHUNK ? this.buf : this.buf.subarray(0, n);
      const at = a.off + a.done;
      if (a.op === QDEV_OP.READ) {
        b.set(this.disk.subarray(at, at + n));
        const f = dma.write(a.buffer + a.done, b);
        if (f !== null) {
          this.lastFault = f;
          return QDEV_SC.DATA_TRANSFER_ERROR;
        }
      } else {
        const f = dma.read(a.buffer + a.done, b);
        if (f !== null) {
          this.lastFault = f;
          return QDEV_SC.DATA_TRANSFER_ERROR;
        }
        this.disk.set(b, at);
      }
      a.done += n;
      this.lastSlice.bytes += n;
    }
    return a.done < a.len ? null : QDEV_SC.OK;
  }
}
