// A test NVMe-like queue device: one submission queue and one completion queue in guest memory
// (reached by DMA through the SMMU, like NVMe I/O queues), a small internal disk, doorbells in
// BAR0, completion entries with a phase bit, and an MSI-X interrupt per completion batch. Its
// registers and queue entries are this project's own layout (not NVMe's), defined once here.
// Guest-controlled values are bounded: queue size <= QDEV_MAX_ENTRIES, one doorbell processes at
// most one queue's worth of entries, transfers are chunked through one preallocated buffer.
import type { DmaFault } from '../../memory/types.js';
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

export class QueueDevice implements BarHandler {
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

  constructor(name: string) {
    this.fn = new EndpointFunction(name, {
      vendorId: 0x1b36,
      deviceId: 0x0010,
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
        return;
      case R.SQ_TAIL:
        if (this.enabled && !this.fatal && v < this.qsize) {
          this.sqTail = v;
          this.process();
        }
        return;
      case R.CQ_HEAD: if (v < this.qsize) this.cqHead = v; return;
      default: return;
    }
  }

  private process(): void {
    const dma = this.fn.dma;
    let posted = 0;
    // At most one queue's worth of entries per doorbell.
    for (let n = 0; n < this.qsize && this.sqHead !== this.sqTail; n++) {
      const f = dma.read(this.sqBase + this.sqHead * QDEV_SQE.BYTES, this.sqe);
      if (f !== null) return this.fail(f);
      this.sqHead = (this.sqHead + 1) % this.qsize;
      const sc = this.runCommand();
      const cq = this.cqeView;
      cq.setUint16(QDEV_CQE.CID, this.sqeView.getUint16(QDEV_SQE.CID, true), true);
      cq.setUint16(QDEV_CQE.STATUS, sc, true);
      cq.setUint32(QDEV_CQE.SQ_HEAD, this.sqHead, true);
      cq.setUint32(QDEV_CQE.PHASE, this.phase, true);
      const g = dma.write(this.cqBase + this.cqTail * QDEV_CQE.BYTES, this.cqe);
      if (g !== null) return this.fail(g);
      this.cqTail = (this.cqTail + 1) % this.qsize;
      if (this.cqTail === 0) this.phase ^= 1;
      this.stats.commands++;
      if (sc !== QDEV_SC.OK) this.stats.errors++;
      posted++;
    }
    if (posted > 0) {
      this.stats.interrupts++;
      this.fn.signal(0);
    }
  }

  private fail(f: DmaFault): void {
    this.lastFault = f;
    this.fatal = true;
  }

  private runCommand(): number {
    const s = this.sqeView;
    const op = s.getUint8(QDEV_SQE.OPCODE);
    const buffer = Number(s.getBigUint64(QDEV_SQE.BUFFER, true) & 0x1f_ffff_ffff_ffffn);
    const off = s.getUint32(QDEV_SQE.LBA, true) * QDEV_SECTOR;
    const len = s.getUint32(QDEV_SQE.LENGTH, true);
    if (op !== QDEV_OP.READ && op !== QDEV_OP.WRITE) return QDEV_SC.INVALID_OPCODE;
    if (off + len > QDEV_DISK_BYTES) return QDEV_SC.LBA_RANGE;
    const dma = this.fn.dma;
    for (let done = 0; done < len; done += CHUNK) {
      const n = Math.min(CHUNK, len - done);
      const b = n === CHUNK ? this.buf : this.buf.subarray(0, n);
      if (op === QDEV_OP.READ) {
        b.set(this.disk.subarray(off + done, off + done + n));
        const f = dma.write(buffer + done, b);
        if (f !== null) {
          this.lastFault = f;
          return QDEV_SC.DATA_TRANSFER_ERROR;
        }
      } else {
        const f = dma.read(buffer + done, b);
        if (f !== null) {
          this.lastFault = f;
          return QDEV_SC.DATA_TRANSFER_ERROR;
        }
        this.disk.set(b, off + done);
      }
    }
    return QDEV_SC.OK;
  }
}
