// SMMUv3 Event queue producer (IHI 0070 §3.5 queues, §7.2 event queue overflow and aborts, §7.3
// record layout via spec/smmuv3/events.ts). Records are written at EVENTQ_BASE + index * 32.
// A full queue toggles EVENTQ_PROD.OVFLG (only if the previous overflow was acknowledged with
// EVENTQ_CONS.OVACKFLG) and drops the record — it is NOT a global error. A write abort activates
// GERROR.EVENTQ_ABT_ERR. Records are discarded while the queue is not writable (§7.2.1: EVENTQEN = 0,
// full, or an unacknowledged EVENTQ_ABT_ERR) — except stall records, which are never discarded and
// never cause an overflow (§7.4): they are held (at most one per stall slot) and written when the
// queue is next writable (§3.12.2, §7.2.1 "the original fault event record is recorded").
import type { PhysMemory } from '../../memory/types.js';
import { get32 } from '../../spec/bits.js';
import { copyEvent, decodeEvent, emptyEvent, encodeEvent, encodeEventWords, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { CR0, EVENTQ_ENTRY_BYTES, GERROR, QUEUE_CONS, QUEUE_PROD, queueBaseAddr, queueLog2 } from '../../spec/smmuv3/registers.js';
import type { SmmuFeatures } from '../features.js';
import type { SmmuInterrupts } from './interrupts.js';
import { ptrInc, ptrIndex, queueFull } from './queue.js';
import type { RegisterState } from './register-state.js';

const OVF = QUEUE_PROD.OVFLG.lsb; // same bit position as QUEUE_CONS.OVACKFLG
const WR_MASK = 0x000f_ffff;

export class EventQueue {
  private readonly words = new Uint32Array(8);
  /** Records written, dropped because of overflow, dropped because the queue was disabled. */
  readonly stats = { written: 0, overflowed: 0, discarded: 0, aborted: 0 };
  /** Stall records waiting for the queue to become writable (bounded by the stall slots). */
  private readonly held: SmmuEvent[] = [];
  private readonly maxHeld: number;
  /** Called with each record written into the queue (statistics); the words are reused. */
  onRecord: ((ev: SmmuEvent, words: Uint32Array) => void) | null = null;

  constructor(
    private readonly mem: PhysMemory,
    private readonly regs: RegisterState,
    private readonly features: SmmuFeatures,
    private readonly irq: SmmuInterrupts,
  ) {
    this.maxHeld = Math.max(1, features.stallMax);
  }

  enabled(): boolean {
    return get32(this.regs.get('CR0'), CR0.EVENTQEN) === 1;
  }

  private abortActive(): boolean {
    return (this.irq.active() & (1 << GERROR.EVENTQ_ABT_ERR.lsb)) !== 0;
  }

  private hold(ev: SmmuEvent): void {
    if (this.held.length < this.maxHeld) this.held.push(copyEvent(emptyEvent(), ev));
  }

  /** How many stall records can be held (one per stall slot). */
  get heldCapacity(): number {
    return this.maxHeld;
  }

  /** Stall records not yet written. */
  get heldStalls(): number {
    return this.held.length;
  }

  /** Forgets held records (reset). */
  clearHeld(): void {
    this.held.length = 0;
  }

  /** Held stall records as 4 doublewords each (save/restore). */
  snapshotHeld(): bigint[][] {
    return this.held.map((ev) => encodeEvent(ev));
  }

  restoreHeld(records: readonly (readonly bigint[])[]): void {
    this.held.length = 0;
    for (const r of records.slice(0, this.maxHeld)) this.held.push(decodeEvent(r));
  }

  /**
   * Writes held stall records while the queue is writable; records whose stalled transaction was
   * resolved meanwhile (CMD_STALL_TERM, SMMUEN = 0) are dropped. Bounded by the held count.
   */
  flushHeld(stillStalled: (sid: number, stag: number) => boolean): void {
    let n = this.held.length;
    while (n-- > 0 && this.held.length > 0) {
      const ev = this.held[0]!;
      if (!stillStalled(ev.sid, ev.stag)) {
        this.held.shift();
        continue;
      }
      if (!this.enabled() || this.abortActive()) return;
      const log2 = queueLog2(this.regs.get('EVENTQ_BASE'), this.features.eventqLog2);
      const cons = get32(this.regs.get('EVENTQ_CONS'), QUEUE_CONS.RD);
      if (queueFull(this.regs.get('EVENTQ_PROD') & WR_MASK, cons, log2)) return;
      this.held.shift();
      this.write(ev);
    }
  }

  /** Appends one event record. Returns true if it reached the queue. */
  write(ev: SmmuEvent): boolean {
    // §7.2.1: not writable while disabled or with an unacknowledged EVENTQ_ABT_ERR.
    if (!this.enabled() || this.abortActive()) {
      if (ev.stall) this.hold(ev);
      else this.stats.discarded++;
      return false;
    }
    const log2 = queueLog2(this.regs.get('EVENTQ_BASE'), this.features.eventqLog2);
    const prodReg = this.regs.get('EVENTQ_PROD');
    const consReg = this.regs.get('EVENTQ_CONS');
    const prod = prodReg & WR_MASK;
    const cons = get32(consReg, QUEUE_CONS.RD);
    if (queueFull(prod, cons, log2)) {
      if (ev.stall) {
        this.hold(ev); // §7.4: stall records are not discarded and do not cause an overflow
        return false;
      }
      this.stats.overflowed++;
      const ovf = (prodReg >>> OVF) & 1;
      const ack = (consReg >>> OVF) & 1;
      if (ovf === ack) this.regs.set('EVENTQ_PROD', (prodReg ^ (1 << OVF)) >>> 0);
      return false;
    }
    const base = queueBaseAddr(this.regs.get('EVENTQ_BASE'), this.regs.getHi('EVENTQ_BASE'), log2, EVENTQ_ENTRY_BYTES);
    const addr = base + ptrIndex(prod, log2) * EVENTQ_ENTRY_BYTES;
    const w = encodeEventWords(ev, this.words);
    let ok = true;
    for (let i = 0; i < 4 && ok; i++) ok = this.mem.write64(addr + i * 8, w[2 * i]!, w[2 * i + 1]!);
    if (!ok) {
      this.stats.aborted++;
      this.irq.activate(1 << GERROR.EVENTQ_ABT_ERR.lsb);
      return false;
    }
    this.regs.set('EVENTQ_PROD', ((prodReg & ~WR_MASK) | ptrInc(prod, log2)) >>> 0);
    this.stats.written++;
    if (this.onRecord !== null) this.onRecord(ev, w);
    // §3.18.2: the event queue interrupt's trigger is the queue going from empty to non-empty
    // (index and wrap bit equal before this record).
    if (((prod ^ cons) & ((2 << log2) - 1)) === 0) this.irq.eventq();
    return true;
  }
}
