// SMMUv3 Command queue consumer (IHI 0070 §3.5 queues, chapter 4 commands, §7.1 command errors).
// Processing starts on a CMDQ_PROD write (and when CMDQEN is set or a CMDQ_ERR is acknowledged)
// and runs in bounded slices: at most CMDQ_SLICE commands per register access, the rest from the
// device's service() step (§3.5: the SMMU consumes commands asynchronously; software polls
// CMDQ_CONS or waits for a CMD_SYNC). Processing stops at the first error: CMDQ_CONS.RD stays on
// the faulting command, CMDQ_CONS.ERR holds the reason and GERROR.CMDQ_ERR becomes active until
// software toggles GERRORN.CMDQ_ERR (§7.1). Every command completes before the next is consumed,
// so a CMD_SYNC completes as soon as it is consumed.
import type { PhysMemory, U64 } from '../../memory/types.js';
import { fieldMaskHi, fieldMaskLo, get32, rd } from '../../spec/bits.js';
import { CMD, CFGI_ALL_RANGE, OP, SYNC_CS } from '../../spec/smmuv3/commands.js';
import { CERROR, CMDQ_ENTRY_BYTES, CR0, GERROR, QUEUE_CONS, queueBaseAddr, queueLog2 } from '../../spec/smmuv3/registers.js';
import type { SmmuFeatures } from '../features.js';
import type { SmmuInterrupts } from './interrupts.js';
import { ptrInc, ptrIndex, ptrMask, queueEmpty, queueFull } from './queue.js';
import type { RegisterState } from './register-state.js';
import type { Invalidator } from '../translation/invalidation.js';
import type { TlbiOperand } from '../translation/types.js';

/** The address fields' bits in their doublewords' halves (TLBI VA / IPA, CMD_SYNC MSIAddress). */
const VA_LO = fieldMaskLo(CMD.VA);
const VA_HI = fieldMaskHi(CMD.VA);
const IPA_LO = fieldMaskLo(CMD.IPA);
const IPA_HI = fieldMaskHi(CMD.IPA);
const MSIADDR_LO = fieldMaskLo(CMD.MSIADDR);

/** Outcome of executing one command. */
const DONE = 0;
const ILL = CERROR.ILL;

/**
 * Commands consumed per slice (one register access or one service() call). Each command does
 * bounded work (at worst an invalidation over the configured cache sizes), so a slice is bounded.
 */
export const CMDQ_SLICE = 64;

export interface CommandHooks {
  /** CMD_RESUME (§4.7.1): retry (true) or terminate a stalled transaction. */
  resume(sid: number, stag: number, retry: boolean, abort: boolean): void;
  /** CMD_STALL_TERM (§4.7.2). */
  stallTerm(sid: number): void;
  /** CMD_PRI_RESP (§4.5.2). */
  priResp(sid: number, ssid: number | null, prgIndex: number, resp: number): void;
}

/** Consulted before each consumed command executes (fault injection, `inject.ts`). */
export interface CommandGate {
  /** DONE (0) to execute the command; a CERROR code to fail it with; -1 to leave it unconsumed at CONS. */
  before(words: Uint32Array): number;
}

export class CommandQueue {
  private readonly w = new Uint32Array(4);
  private readonly tmp: U64 = { lo: 0, hi: 0 };
  private readonly op: TlbiOperand = { vmid: 0, asid: 0, addrLo: 0, addrHi: 0, leaf: false, tg: 0, num: 0, scale: 0, ttl: 0 };
  /** Commands executed by opcode name, and errors raised (for tests/inspect). */
  readonly stats = { executed: 0, errors: 0, syncs: 0 };
  /** Commands executed, indexed by opcode. */
  readonly byOpcode = new Uint32Array(256);
  gate: CommandGate | null = null;

  constructor(
    private readonly mem: PhysMemory,
    private readonly regs: RegisterState,
    private readonly features: SmmuFeatures,
    private readonly irq: SmmuInterrupts,
    private readonly inv: Invalidator,
    private readonly hooks: CommandHooks,
  ) {}

  private errorActive(): boolean {
    return (this.irq.active() & (1 << GERROR.CMDQ_ERR.lsb)) !== 0;
  }

  private enabled(): boolean {
    return get32(this.regs.get('CR0'), CR0.CMDQEN) === 1;
  }

  private smmuEnabled(): boolean {
    return get32(this.regs.get('CR0'), CR0.SMMUEN) === 1;
  }

  /** True while commands wait between CONS and PROD and the queue may consume them. */
  pending(): boolean {
    if (!this.enabled() || this.errorActive()) return false;
    const log2 = queueLog2(this.regs.get('CMDQ_BASE'), this.features.cmdqLog2);
    return !queueEmpty(this.regs.get('CMDQ_PROD'), this.regs.get('CMDQ_CONS'), log2);
  }

  /**
   * Consumes at most `budget` commands between CONS and PROD (never more than one pass of the
   * queue). Returns true while commands remain to be consumed.
   */
  process(budget = CMDQ_SLICE): boolean {
    if (!this.enabled() || this.errorActive()) return false;
    const log2 = queueLog2(this.regs.get('CMDQ_BASE'), this.features.cmdqLog2);
    const mask = ptrMask(log2);
    const base = queueBaseAddr(this.regs.get('CMDQ_BASE'), this.regs.getHi('CMDQ_BASE'), log2, CMDQ_ENTRY_BYTES);
    let cons = get32(this.regs.get('CMDQ_CONS'), QUEUE_CONS.RD) & mask;
    const startCons = cons;
    // §4.1.2: with IDR0.SEV, a queue that was full and becomes non-full sends a WFE wake-up event.
    const wasFull = queueFull(this.regs.get('CMDQ_PROD') & mask, cons, log2);
    this.consume(log2, mask, base, cons, Math.min(budget, 2 ** log2));
    cons = this.regs.get('CMDQ_CONS') & mask;
    if (wasFull && cons !== startCons && this.features.sev) this.irq.sev();
    return this.pending();
  }

  private consume(log2: number, mask: number, base: number, cons: number, limit: number): void {
    for (let n = 0; n < limit; n++) {
      const prod = this.regs.get('CMDQ_PROD') & mask;
      if (queueEmpty(prod, cons, log2)) break;
      const addr = base + ptrIndex(cons, log2) * CMDQ_ENTRY_BYTES;
      let err: number;
      if (!this.mem.read64(addr, this.tmp)) err = CERROR.ABT;
      else {
        this.w[0] = this.tmp.lo;
        this.w[1] = this.tmp.hi;
        if (!this.mem.read64(addr + 8, this.tmp)) err = CERROR.ABT;
        else {
          this.w[2] = this.tmp.lo;
          this.w[3] = this.tmp.hi;
          // CONS (ERR = CERROR_NONE) is visible before a command's side effects (e.g. a CMD_SYNC MSI).
          this.regs.set('CMDQ_CONS', cons);
          const g = this.gate === null ? DONE : this.gate.before(this.w);
          if (g < 0) return; // held: CONS stays on this command
          err = g === DONE ? this.execute(this.w) : g;
        }
      }
      if (err !== DONE) {
        this.stats.errors++;
        this.regs.set('CMDQ_CONS', ((err << QUEUE_CONS.ERR.lsb) | cons) >>> 0);
        this.irq.activate(1 << GERROR.CMDQ_ERR.lsb);
        return;
      }
      this.stats.executed++;
      const op = rd(this.w, CMD.OPCODE);
      this.byOpcode[op] = this.byOpcode[op]! + 1;
      cons = ptrInc(cons, log2);
      this.regs.set('CMDQ_CONS', cons);
    }
  }

  /** Range operand of a TLBI (§4.4.1.1); returns false when the combination is ILLEGAL. */
  private rangeOperand(w: Uint32Array): boolean {
    const o = this.op;
    o.leaf = rd(w, CMD.LEAF) === 1;
    if (!this.features.ril) {
      o.tg = 0;
      o.num = 0;
      o.scale = 0;
      o.ttl = 0; // RES0 without RIL
      return true;
    }
    o.tg = rd(w, CMD.TG);
    o.num = o.tg === 0 ? 0 : rd(w, CMD.NUM);
    o.scale = o.tg === 0 ? 0 : rd(w, CMD.SCALE);
    o.ttl = o.tg === 0 ? 0 : rd(w, CMD.TTL);
    if (o.tg !== 0 && o.num === 0 && o.scale === 0 && o.ttl === 0) return false; // Reserved combination
    if (o.tg === 2 && o.ttl === 1) return false; // 16K TTL=1 needs IDR5.DS (not implemented)
    return true;
  }

  private vmid(w: Uint32Array): number {
    if (!this.features.s2p) return 0;
    const v = rd(w, CMD.VMID);
    return this.features.vmid16 ? v : v & 0xff;
  }

  private asid(w: Uint32Array): number {
    const a = rd(w, CMD.ASID);
    return this.features.asid16 ? a : a & 0xff;
  }

  /** Executes one command; returns DONE or a CERROR code. */
  private execute(w: Uint32Array): number {
    const f = this.features;
    const opcode = rd(w, CMD.OPCODE);
    const inv = this.inv;
    const o = this.op;
    switch (opcode) {
      case OP.PREFETCH_CONFIG:
      case OP.PREFETCH_ADDR:
        // Prefetch hints: SSec must be 0 on the Non-secure queue; otherwise no architectural effect.
        return rd(w, CMD.SSEC) ? ILL : DONE;
      case OP.CFGI_STE:
        if (rd(w, CMD.SSEC)) return ILL;
        inv.cfgiSte(rd(w, CMD.SID), rd(w, CMD.LEAF) === 1);
        return DONE;
      case OP.CFGI_STE_RANGE: {
        if (rd(w, CMD.SSEC)) return ILL;
        const range = rd(w, CMD.RANGE);
        if (range === CFGI_ALL_RANGE) inv.cfgiAll();
        else inv.cfgiSteRange(rd(w, CMD.SID), range);
        return DONE;
      }
      case OP.CFGI_CD:
        if (rd(w, CMD.SSEC) || !f.s1p) return ILL;
        inv.cfgiCd(rd(w, CMD.SID), rd(w, CMD.SSID), rd(w, CMD.LEAF) === 1);
        return DONE;
      case OP.CFGI_CD_ALL:
        if (rd(w, CMD.SSEC) || !f.s1p) return ILL;
        inv.cfgiCdAll(rd(w, CMD.SID));
        return DONE;
      case OP.TLBI_NH_ALL:
        if (!f.s1p) return ILL;
        inv.tlbiNhAll(this.vmid(w));
        return DONE;
      case OP.TLBI_NH_ASID:
        if (!f.s1p) return ILL;
        inv.tlbiNhAsid(this.vmid(w), this.asid(w));
        return DONE;
      case OP.TLBI_NH_VA:
      case OP.TLBI_NH_VAA:
        if (!f.s1p || !this.rangeOperand(w)) return ILL;
        o.vmid = this.vmid(w);
        o.asid = opcode === OP.TLBI_NH_VA ? this.asid(w) : -1;
        o.addrLo = (w[2]! & VA_LO) >>> 0;
        o.addrHi = (w[3]! & VA_HI) >>> 0;
        if (opcode === OP.TLBI_NH_VA) inv.tlbiNhVa(o);
        else inv.tlbiNhVaa(o);
        return DONE;
      case OP.TLBI_EL2_ALL:
      case OP.TLBI_EL2_ASID:
      case OP.TLBI_EL2_VA:
      case OP.TLBI_EL2_VAA:
        if (!f.hyp) return ILL;
        if (opcode === OP.TLBI_EL2_ALL) inv.tlbiEl2All();
        else if (opcode === OP.TLBI_EL2_ASID) inv.tlbiEl2Asid(this.asid(w));
        else {
          if (!this.rangeOperand(w)) return ILL;
          o.vmid = 0;
          o.asid = opcode === OP.TLBI_EL2_VA ? this.asid(w) : -1;
          o.addrLo = (w[2]! & VA_LO) >>> 0;
          o.addrHi = (w[3]! & VA_HI) >>> 0;
          if (opcode === OP.TLBI_EL2_VA) inv.tlbiEl2Va(o);
          else inv.tlbiEl2Vaa(o);
        }
        return DONE;
      case OP.TLBI_S12_VMALL:
        if (!f.s2p) return ILL;
        inv.tlbiS12Vmall(this.vmid(w));
        return DONE;
      case OP.TLBI_S2_IPA:
        if (!f.s2p || !this.rangeOperand(w)) return ILL;
        o.vmid = this.vmid(w);
        o.asid = -1;
        o.addrLo = (w[2]! & IPA_LO) >>> 0;
        o.addrHi = (w[3]! & IPA_HI) >>> 0; // IPA[55:12]
        inv.tlbiS2Ipa(o);
        return DONE;
      case OP.TLBI_NSNH_ALL:
        inv.tlbiNsnhAll();
        return DONE;
      case OP.ATC_INV:
        // No ATCs are modelled behind this SMMU: with ATS advertised the command is accepted and
        // has nothing to invalidate (§4.5.1); without ATS it is ILLEGAL.
        return f.ats ? DONE : ILL;
      case OP.PRI_RESP: {
        if (!f.pri || rd(w, CMD.SSEC)) return ILL;
        const resp = rd(w, CMD.RESP);
        if (resp === 3) return ILL;
        if (this.smmuEnabled()) {
          this.hooks.priResp(rd(w, CMD.SID), rd(w, CMD.SSV) ? rd(w, CMD.SSID) : null, rd(w, CMD.PRGINDEX), resp);
        }
        return DONE;
      }
      case OP.RESUME:
        if (f.stallModel === 'terminate' || rd(w, CMD.SSEC)) return ILL;
        this.hooks.resume(rd(w, CMD.SID), rd(w, CMD.STAG), rd(w, CMD.AC) === 1, rd(w, CMD.AB) === 1 || f.termModel);
        return DONE;
      case OP.STALL_TERM:
        if (f.stallModel === 'terminate' || rd(w, CMD.SSEC)) return ILL;
        this.hooks.stallTerm(rd(w, CMD.SID));
        return DONE;
      case OP.SYNC: {
        const cs = rd(w, CMD.CS);
        this.stats.syncs++;
        if (cs === SYNC_CS.IRQ) {
          // §4.7.3: an MSI is sent if MSIAddress[55:2] is non-zero (checked over the whole field,
          // not only the OAS bits); the address is then truncated to the OAS (§3.4.3).
          const hi = rd(w, CMD.MSIADDR_HI);
          const lo = (w[2]! & MSIADDR_LO) >>> 0;
          const send = hi !== 0 || lo !== 0;
          const msiAddr = (hi % 2 ** (this.features.oasBits - 32)) * 0x1_0000_0000 + lo;
          this.irq.cmdSync(send ? msiAddr : -1, w[1]!);
        } else if (cs === SYNC_CS.SEV) {
          if (f.sev) this.irq.sev();
        } else if (cs !== SYNC_CS.NONE) return ILL; // CS = 0b11 is Reserved
        return DONE;
      }
      // CFGI_VMS_PIDM needs IDR3.MPAM, DPTI_* need IDR3.DPT; EL3, Secure-EL2, Secure-stage-2 and
      // SNH commands are ILLEGAL on the Non-secure queue; everything else is a Reserved opcode.
      default:
        return ILL;
    }
  }
}
