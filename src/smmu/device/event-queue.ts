// SMMUv3 Event queue producer (IHI 0070 §3.5 queues, §7.2 event queue overflow and aborts, §7.3
// record layout via spec/smmuv3/events.ts). Records are written at EVENTQ_BASE + index * 32.
// A full queue toggles EVENTQ_PROD.OVFLG (only if the previous overflow was acknowledged with
// EVENTQ_CONS.OVACKFLG) and drops the record — it is NOT a global error. A write abort activates
// GERROR.EVENTQ_ABT_ERR. Records are discarded while CR0.EVENTQEN = 0.
import type { PhysMemory } from '../../memory/types.js';
import { rdLoHi } from '../../spec/bits.js';
import { encodeEventWords, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { CR0, EVENTQ_ENTRY_BYTES, GERROR, QUEUE_CONS, QUEUE_PROD } from '../../spec/smmuv3/registers.js';
import type { SmmuFeatures } from '../features.js';
import type { SmmuInterrupts } from './interrupts.js';
import { ptrInc, ptrIndex, queueBaseAddr, queueFull, queueLog2 } from './queue.js';
import type { RegisterState } from './register-state.js';

const OVF = QUEUE_PROD.OVFLG.lsb; // same bit position as QUEUE_CONS.OVACKFLG
const WR_MASK = 0x000f_ffff;

export class EventQueue {
  private readonly words = new Uint32Array(8);
  /** Records written, dropped because of overflow, dropped because the queue was disabled. */
  readonly stats = { written: 0, overflowed: 0, discarded: 0, aborted: 0 };

  constructor(
    private readonly mem: PhysMemory,
    private readonly regs: RegisterState,
    private readonly features: SmmuFeatures,
    private readonly irq: SmmuInterrupts,
  ) {}

  enabled(): boolean {
    return rdLoHi(this.regs.get('CR0'), 0, CR0.EVENTQEN.lsb, 1) === 1;
  }

  /** Appends one event record. Returns true if it reached the queue. */
  write(ev: SmmuEvent): boolean {
    if (!this.enabled()) {
      this.stats.discarded++;
      return false;
    }
    const log2 = queueLog2(this.regs.get('EVENTQ_BASE'), this.features.eventqLog2);
    const prodReg = this.regs.get('EVENTQ_PROD');
    const consReg = this.regs.get('EVENTQ_CONS');
    const prod = prodReg & WR_MASK;
    const cons = rdLoHi(consReg, 0, QUEUE_CONS.RD.lsb, QUEUE_CONS.RD.width);
    if (queueFull(prod, cons, log2)) {
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
    // §3.18.2: the event queue interrupt's trigger is the queue going from empty to non-empty
    // (index and wrap bit equal before this record).
    if (((prod ^ cons) & ((2 << log2) - 1)) === 0) this.irq.eventq();
    return true;
  }
}
