// The reference guest's driver for the queue test device (src/platform/devices/queue-device.ts),
// NVMe-like: a submission ring and a completion ring in DMA-mapped guest memory, an SQ tail
// doorbell, completions recognised by their phase bit and acknowledged through the CQ head.
import { QDEV_CQE, QDEV_OP, QDEV_REG, QDEV_SC, QDEV_SQE } from '../platform/devices/queue-device.js';
import { hex } from '../util/hex.js';
import type { DeviceDriverContext } from './device-driver.js';

/** Entries per ring. */
export const QUEUE_ENTRIES = 16;
export const SQ_BYTES = QUEUE_ENTRIES * QDEV_SQE.BYTES;
export const CQ_BYTES = QUEUE_ENTRIES * QDEV_CQE.BYTES;

/** A ring: its physical address (what the CPU writes) and its IOVA (what the device is given). */
export interface QueueRing {
  readonly pa: number;
  readonly iova: number;
}

export interface QueueCommand {
  readonly op: 'read' | 'write';
  readonly iova: number;
  readonly lba: number;
  readonly length: number;
}

export interface QueueOutcome {
  readonly ok: boolean;
  readonly text: string;
}

export class QueueDriver {
  private tail = 0;
  private head = 0;
  private phase = 1;
  private cid = 0;
  /** Status of the last command (null before the first). */
  last: 'ok' | 'error' | null = null;

  /** Programs the rings and enables the device whose BAR 0 is at `bar`. */
  constructor(
    private readonly ctx: DeviceDriverContext,
    bar: number,
    private readonly sq: QueueRing,
    private readonly cq: QueueRing,
  ) {
    const w = (o: number, v: number): void => ctx.bus.write(bar + o, 4, v >>> 0);
    w(QDEV_REG.SQ_BASE_LO, sq.iova);
    w(QDEV_REG.SQ_BASE_HI, Math.floor(sq.iova / 0x1_0000_0000));
    w(QDEV_REG.CQ_BASE_LO, cq.iova);
    w(QDEV_REG.CQ_BASE_HI, Math.floor(cq.iova / 0x1_0000_0000));
    w(QDEV_REG.QSIZE, QUEUE_ENTRIES);
    w(QDEV_REG.CTRL, 1);
  }

  /** Submits one command through the device at `bar` and polls for its completion. */
  submit(bar: number, c: QueueCommand): QueueOutcome {
    const { bus, memory } = this.ctx;
    const sqe = new Uint8Array(QDEV_SQE.BYTES);
    const v = new DataView(sqe.buffer);
    const cid = (this.cid = (this.cid + 1) & 0xffff);
    v.setUint8(QDEV_SQE.OPCODE, c.op === 'write' ? QDEV_OP.WRITE : QDEV_OP.READ);
    v.setUint16(QDEV_SQE.CID, cid, true);
    v.setBigUint64(QDEV_SQE.BUFFER, BigInt(c.iova), true);
    v.setUint32(QDEV_SQE.LBA, c.lba, true);
    v.setUint32(QDEV_SQE.LENGTH, c.length, true);
    memory.writeBytes(this.sq.pa + this.tail * QDEV_SQE.BYTES, sqe);
    this.tail = (this.tail + 1) % QUEUE_ENTRIES;
    bus.write(bar + QDEV_REG.SQ_TAIL, 4, this.tail);
    // The guest polls its completion queue while the VMM services the device (a doorbell only
    // starts the queue; large transfers finish in later slices).
    this.ctx.settle();
    // Completion: the entry at the CQ head carries the current phase once posted.
    const cqe = new Uint8Array(QDEV_CQE.BYTES);
    memory.readBytes(this.cq.pa + this.head * QDEV_CQE.BYTES, cqe);
    const cv = new DataView(cqe.buffer);
    if ((cv.getUint32(QDEV_CQE.PHASE, true) & 1) !== this.phase || cv.getUint16(QDEV_CQE.CID, true) !== cid) {
      this.last = 'error';
      return { ok: false, text: 'no completion (device fault)' };
    }
    const sc = cv.getUint16(QDEV_CQE.STATUS, true);
    this.last = sc === QDEV_SC.OK ? 'ok' : 'error';
    this.head = (this.head + 1) % QUEUE_ENTRIES;
    if (this.head === 0) this.phase ^= 1;
    bus.write(bar + QDEV_REG.CQ_HEAD, 4, this.head);
    return { ok: this.last === 'ok', text: sc === QDEV_SC.OK ? 'completed' : `completed with status ${hex(sc)}` };
  }
}
