// SMMUv3 PRI queue producer (IHI 0070 chapter 8, §8.1 overflow, §8.2 automatic responses): a
// PCIe Page Request from an endpoint becomes a 16-byte record at PRIQ_BASE + index * 16. With
// the queue or the SMMU disabled, or PRIQ_ABT_ERR active, every request gets an automatic Response
// Failure without a PASID (§8.2); while an overflow condition is active (PRIQ_PROD.OVFLG !=
// PRIQ_CONS.OVACKFLG) requests are discarded and a Last request gets an automatic Success, with
// the request's PASID (IDR3.PPS = 1, §8.1). Only present when IDR0.PRI = 1.
import type { PhysMemory } from '../../memory/types.js';
import { get32, wr } from '../../spec/bits.js';
import { PRIQ_ENTRY, PRG_RESPONSE } from '../../spec/smmuv3/pri.js';
import { CR0, GERROR, PRIQ_ENTRY_BYTES, PRIQ_IRQ_CFG2, QUEUE_CONS, queueBaseAddr, queueLog2 } from '../../spec/smmuv3/registers.js';
import type { SmmuFeatures } from '../features.js';
import type { SmmuInterrupts } from './interrupts.js';
import { ptrInc, ptrIndex, queueFull } from './queue.js';
import type { RegisterState } from './register-state.js';

export interface PageRequest {
  readonly sid: number;
  /** PASID, or null for a request without a PASID prefix. */
  readonly ssid: number | null;
  /** Page address (bits [11:0] ignored). */
  readonly address: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly exec?: boolean;
  readonly priv?: boolean;
  readonly last: boolean;
  readonly prgIndex: number;
}

/** A PRG Response travelling back to an endpoint (from CMD_PRI_RESP or generated automatically). */
export type PriResponder = (sid: number, ssid: number | null, prgIndex: number, code: number, automatic: boolean) => void;

export type PageRequestOutcome = 'queued' | 'discarded' | 'rejected';

const OVF = 31;
const NO_RESPONSE: PriResponder = () => {};
const WR_MASK = 0x000f_ffff;

export class PriQueue {
  private readonly w = new Uint32Array(4);

  constructor(
    private readonly mem: PhysMemory,
    private readonly regs: RegisterState,
    private readonly features: SmmuFeatures,
    private readonly irq: SmmuInterrupts,
    public respond: PriResponder,
  ) {}

  request(r: PageRequest): PageRequestOutcome {
    const cr0 = this.regs.get('CR0');
    const ssid = this.features.ssidBits > 0 ? r.ssid : null;
    // A Stop PASID marker (Last, W, R = 0b100 with a PASID, chapter 8) never gets a response (§8.1, §8.2).
    const respond = ssid !== null && r.last && !r.write && !r.read ? NO_RESPONSE : this.respond;
    // §8.2: with the effective PRIQEN = 0 (SMMUEN = 0 implies it) or an active PRIQ_ABT_ERR, nothing
    // is written and every PPR gets an automatic Response Failure without a PASID prefix.
    const abortActive = (this.irq.active() & (1 << GERROR.PRIQ_ABT_ERR.lsb)) !== 0;
    if (!this.features.pri || get32(cr0, CR0.SMMUEN) === 0 || get32(cr0, CR0.PRIQEN) === 0 || abortActive) {
      respond(r.sid, null, r.prgIndex, PRG_RESPONSE.FAILURE, true);
      return 'rejected';
    }
    const log2 = queueLog2(this.regs.get('PRIQ_BASE'), this.features.priqLog2);
    const prodReg = this.regs.get('PRIQ_PROD');
    const consReg = this.regs.get('PRIQ_CONS');
    const prod = prodReg & WR_MASK;
    const cons = get32(consReg, QUEUE_CONS.RD);
    const overflowActive = ((prodReg ^ consReg) >>> OVF) & 1;
    // §6.3.36 PRIQ_IRQ_CFG2.LO: interrupt only for a message with Last = 1 (queued, or discarded
    // because of an overflow); otherwise when the queue goes from empty to non-empty (§3.18.2).
    const lastOnly = get32(this.regs.get('PRIQ_IRQ_CFG2'), PRIQ_IRQ_CFG2.LO) === 1;
    if (overflowActive || queueFull(prod, cons, log2)) {
      if (!overflowActive) this.regs.set('PRIQ_PROD', (prodReg ^ (1 << OVF)) >>> 0);
      if (r.last) respond(r.sid, ssid, r.prgIndex, PRG_RESPONSE.SUCCESS, true);
      if (lastOnly && r.last) this.irq.priq();
      return 'discarded';
    }
    const w = this.w;
    w.fill(0);
    wr(w, PRIQ_ENTRY.SID, r.sid >>> 0);
    if (ssid !== null) {
      wr(w, PRIQ_ENTRY.SSV, 1);
      wr(w, PRIQ_ENTRY.SSID, ssid & 0xfffff);
      wr(w, PRIQ_ENTRY.EXEC, r.exec ? 1 : 0); // X and Priv are 0 without a PASID (chapter 8)
      wr(w, PRIQ_ENTRY.PRIV, r.priv ? 1 : 0);
    }
    wr(w, PRIQ_ENTRY.READ, r.read ? 1 : 0);
    wr(w, PRIQ_ENTRY.WRITE, r.write ? 1 : 0);
    wr(w, PRIQ_ENTRY.LAST, r.last ? 1 : 0);
    wr(w, PRIQ_ENTRY.PRG_INDEX, r.prgIndex & 0x1ff);
    w[2] = (((r.address >>> 0) & 0xffff_f000) | (w[2]! & 0x1ff)) >>> 0;
    w[3] = Math.floor(r.address / 0x1_0000_0000) >>> 0;
    const base = queueBaseAddr(this.regs.get('PRIQ_BASE'), this.regs.getHi('PRIQ_BASE'), log2, PRIQ_ENTRY_BYTES);
    const addr = base + ptrIndex(prod, log2) * PRIQ_ENTRY_BYTES;
    if (!this.mem.write64(addr, w[0]!, w[1]!) || !this.mem.write64(addr + 8, w[2]!, w[3]!)) {
      // A synchronous abort: PRIQ_ABT_ERR and an automatic Response Failure (§8.2).
      this.irq.activate(1 << GERROR.PRIQ_ABT_ERR.lsb);
      respond(r.sid, null, r.prgIndex, PRG_RESPONSE.FAILURE, true);
      return 'discarded';
    }
    this.regs.set('PRIQ_PROD', ((prodReg & ~WR_MASK) | ptrInc(prod, log2)) >>> 0);
    const wasEmpty = ((prod ^ cons) & ((2 << log2) - 1)) === 0;
    if (lastOnly ? r.last : wasEmpty) this.irq.priq();
    return 'queued';
  }
}
