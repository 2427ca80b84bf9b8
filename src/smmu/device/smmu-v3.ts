// The SMMUv3 device a VMM embeds (IHI 0070): the 128 KiB register window (chapter 6), command
// queue (chapter 4), event queue and global errors (chapter 7), interrupts (§3.18), GBPA while
// SMMUEN = 0 (§6.3.14), per-stream DMA ports and the translated MSI path, reset and save/restore.
// Translation itself (stream table, CDs, walks, caches) is the translation engine's.
import type { DmaPort, MmioDevice, MsiOutcome, MsiSink, PhysMemory, Serviceable, U64 } from '../../memory/types.js';
import { read64As32, write64As32 } from '../../memory/mmio-split.js';
import { memoryMsiSink } from '../../memory/msi-memory.js';
import { fieldMask32, get32 } from '../../spec/bits.js';
import { eventName } from '../../spec/smmuv3/events.js';
import { deriveIdRegisters, type IdRegisters } from '../id-registers.js';
import { CR0, CR2, decodeStreamTableRegs, GBPA, GERROR, queueLog2, REGISTER_GUARDS, REGISTERS, SMMU_MMIO_SIZE, STRTAB_BASE_CFG, type RegGuard, type RegName } from '../../spec/smmuv3/registers.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { Translator } from '../translation/index.js';
import { newRequest, newResult, setAddress, XLATE_KIND, type TranslationRequest, type TranslationResult, type TranslatorOptions } from '../translation/types.js';
import { CommandQueue, type CommandHooks } from './command-queue.js';
import { SmmuDmaPort, type PortTranslator } from './dma-port.js';
import { EventQueue } from './event-queue.js';
import { SmmuInterrupts, unconnectedLines, type SmmuIrqLines } from './interrupts.js';
import { decodeOffset, RegisterState, SLOT } from './register-state.js';
import { StallTable } from './stall.js';
import { ptrMask } from './queue.js';
import { PriQueue, type PageRequest, type PageRequestOutcome, type PriResponder } from './pri-queue.js';
import { priRespCode } from '../../spec/smmuv3/pri.js';
import { restoreSmmuState, saveSmmuState, type SmmuV3State } from './state.js';

export interface SmmuV3Options {
  /** Feature profile (IDRs are derived from it). Default DEFAULT_FEATURES. */
  readonly features?: SmmuFeatures;
  readonly name?: string;
  /**
   * Where the SMMU's own MSIs and CMD_SYNC MSI completions go. Default: a sink that writes the
   * 32-bit data into guest memory (what Linux's MSI-based CMD_SYNC polling needs).
   */
  readonly msiSink?: MsiSink;
  /** The SMMU's own ITS DeviceID for its MSIs (IORT id_mapping_index / DT msi-parent). */
  readonly msiDeviceId?: number | null;
  readonly irqs?: Partial<SmmuIrqLines>;
  /** Translation engine options (cache sizes, caches disabled). */
  readonly translator?: TranslatorOptions;
}

export { memoryMsiSink };

const WR_MASK = 0x000f_ffff;
const CR0_SLOT = SLOT.CR0;

export class SmmuV3 implements MmioDevice, PortTranslator, Serviceable {
  readonly name: string;
  readonly mmioSize = SMMU_MMIO_SIZE;
  readonly features: SmmuFeatures;
  readonly idRegs: IdRegisters;
  readonly translator: Translator;
  readonly regs = new RegisterState();
  readonly irq: SmmuInterrupts;
  readonly eventq: EventQueue;
  readonly cmdq: CommandQueue;
  readonly stalls: StallTable;
  readonly priq: PriQueue;
  private readonly ports = new Map<number, SmmuDmaPort>();
  private readonly msiReq: TranslationRequest = newRequest();
  private readonly msiRes: TranslationResult = newResult();
  /** Writable masks by slot, narrowed by the feature profile. */
  private readonly maskLo: Uint32Array;
  private readonly maskHi: Uint32Array;
  private processing = false;
  /**
   * Guards by slot (§6.3.x "Guarded by"): bits that are read-only while an enable is set. From
   * SMMUv3.2 (AIDR) such writes are IGNORED; for SMMUv3.0/3.1 a write that takes effect is one of the
   * permitted CONSTRAINED UNPREDICTABLE behaviours (and QEMU 7.2's), so only the producer/consumer
   * indexes the SMMU itself owns (CMDQ_CONS, EVENTQ_PROD, PRIQ_PROD) are guarded there.
   */
  private readonly guards: (readonly RegGuard[] | undefined)[];

  constructor(
    readonly mem: PhysMemory,
    opts: SmmuV3Options = {},
  ) {
    this.features = opts.features ?? DEFAULT_FEATURES;
    this.name = opts.name ?? 'smmuv3';
    this.idRegs = deriveIdRegisters(this.features);
    this.translator = new Translator(mem, this.features, opts.translator ?? {});
    const lines = { ...unconnectedLines(), ...(opts.irqs ?? {}) };
    this.irq = new SmmuInterrupts(this.regs, this.features, lines, opts.msiSink ?? memoryMsiSink(mem), opts.msiDeviceId ?? null);
    this.eventq = new EventQueue(mem, this.regs, this.features, this.irq);
    this.stalls = new StallTable(this.features);
    this.priq = new PriQueue(mem, this.regs, this.features, this.irq, () => {});
    const hooks: CommandHooks = {
      resume: (sid, stag, retry, abort) => this.stalls.resume(sid, stag, retry, abort),
      stallTerm: (sid) => this.stalls.terminate(sid),
      priResp: (sid, ssid, prg, resp) => this.priq.respond(sid, ssid, prg, priRespCode(resp), false),
    };
    this.cmdq = new CommandQueue(mem, this.regs, this.features, this.irq, this.translator.invalidation, hooks);
    const ownIndexes: readonly RegName[] = ['CMDQ_CONS', 'EVENTQ_PROD', 'PRIQ_PROD'];
    this.guards = REGISTERS.map((r) => (this.features.archMinor >= 2 || ownIndexes.includes(r.name) ? REGISTER_GUARDS[r.name] : undefined));
    this.maskLo = new Uint32Array(REGISTERS.map((r) => r.maskLo));
    this.maskHi = new Uint32Array(REGISTERS.map((r) => r.maskHi));
    this.narrowMasks();
    this.reset();
  }

  /** RES0 bits of features that are not implemented (e.g. CR0.PRIQEN without IDR0.PRI). */
  private narrowMasks(): void {
    const f = this.features;
    const clear = (name: RegName, bits: number): void => {
      this.maskLo[SLOT[name]] = (this.maskLo[SLOT[name]]! & ~bits) >>> 0;
    };
    if (!f.pri) {
      clear('CR0', 1 << CR0.PRIQEN.lsb);
      clear('IRQ_CTRL', 1 << 1);
      clear('GERRORN', (1 << GERROR.PRIQ_ABT_ERR.lsb) | (1 << GERROR.MSI_PRIQ_ABT_ERR.lsb));
      for (const n of ['PRIQ_BASE', 'PRIQ_PROD', 'PRIQ_CONS', 'PRIQ_IRQ_CFG0', 'PRIQ_IRQ_CFG1', 'PRIQ_IRQ_CFG2'] as RegName[]) {
        clear(n, 0xffff_ffff);
        this.maskHi[SLOT[n]] = 0;
      }
    }
    if (!f.ats) clear('CR0', 1 << CR0.ATSCHK.lsb);
    clear('CR0', fieldMask32(CR0.VMW)); // IDR0.VMW = 0
    if (!f.hyp) clear('CR2', 1 << CR2.E2H.lsb);
    if (!f.btm) clear('CR2', 1 << CR2.PTM.lsb);
    clear('CR2', 1 << CR2.REC_CFG_ATS.lsb); // IDR0.ATSRECERR = 0
    if (!f.stLevel2) clear('STRTAB_BASE_CFG', fieldMask32(STRTAB_BASE_CFG.FMT));
    if (!f.stLevel2) clear('STRTAB_BASE_CFG', fieldMask32(STRTAB_BASE_CFG.SPLIT));
    if (!f.msi) {
      clear('GERRORN', 0xf0);
      for (const q of ['GERROR', 'EVENTQ', 'PRIQ']) {
        for (const k of ['0', '1', '2']) {
          const n = `${q}_IRQ_CFG${k}` as RegName;
          clear(n, 0xffff_ffff);
          this.maskHi[SLOT[n]] = 0;
        }
      }
    }
  }

  // ---------------------------------------------------------------- wiring

  /** Connects wired interrupt outputs (any subset). */
  connectIrqs(lines: Partial<SmmuIrqLines>): void {
    Object.assign(this.irq.lines, lines);
  }

  set msiSink(sink: MsiSink) {
    this.irq.msiSink = sink;
  }

  set msiDeviceId(id: number | null) {
    this.irq.msiDeviceId = id;
  }

  /** Where PRG Responses (CMD_PRI_RESP, automatic responses) go: the endpoint's PRI logic. */
  set onPriResponse(fn: PriResponder) {
    this.priq.respond = fn;
  }

  /** A PCIe Page Request from an endpoint (IDR0.PRI = 1): queued, discarded or rejected (§8). */
  pageRequest(r: PageRequest): PageRequestOutcome {
    return this.priq.request(r);
  }

  /** Hook for CMD_SYNC CS=SEV (a WFE wake-up event). */
  set onSev(fn: () => void) {
    this.irq.onSev = fn;
  }

  // ---------------------------------------------------------------- state

  /** Reset (§6.3: registers take their reset values; caches are emptied). */
  reset(): void {
    this.regs.reset();
    this.translator.reset();
    this.stalls.clear();
    this.eventq.clearHeld();
    this.pushConfig();
  }

  saveState(): SmmuV3State {
    return saveSmmuState(this);
  }

  restoreState(state: unknown): void {
    restoreSmmuState(this, state);
    this.translator.reset();
    this.pushConfig();
  }

  /**
   * Bits of register `slot` a snapshot may set (lo, hi): what a register write could store, after
   * narrowing by the feature profile; GERROR takes GERRORN's; other read-only registers none.
   */
  stateMask(slot: number): [number, number] {
    const r = REGISTERS[slot]!;
    if (r.name === 'GERROR') return [this.maskLo[SLOT.GERRORN]!, 0];
    if (r.ro) return [0, 0];
    return [this.maskLo[slot]!, this.maskHi[slot]!];
  }

  /** Pushes the register state the translation engine depends on. */
  private pushConfig(): void {
    this.translator.setStreamTable(decodeStreamTableRegs(this.regs.get('STRTAB_BASE'), this.regs.getHi('STRTAB_BASE'), this.regs.get('STRTAB_BASE_CFG')));
    this.translator.setRecordInvalidSid(get32(this.regs.get('CR2'), CR2.RECINVSID) === 1);
    this.translator.setE2H(get32(this.regs.get('CR2'), CR2.E2H) === 1);
  }

  /** The stored value of a register as a bigint (tools and tests). */
  register(name: RegName): bigint {
    return (BigInt(this.readSlot(SLOT[name], 1)) << 32n) | BigInt(this.readSlot(SLOT[name], 0));
  }

  // ---------------------------------------------------------------- MMIO

  private idValue(offset: number): number {
    const id = this.idRegs;
    switch (offset) {
      case 0x00: return id.idr0;
      case 0x04: return id.idr1;
      case 0x08: return id.idr2;
      case 0x0c: return id.idr3;
      case 0x10: return id.idr4;
      case 0x14: return id.idr5;
      case 0x18: return id.iidr;
      case 0x1c: return id.aidr;
      default: return 0;
    }
  }

  private readSlot(slot: number, half: number): number {
    const r = REGISTERS[slot]!;
    if (r.offset < 0x20) return half === 0 ? this.idValue(r.offset) : 0;
    return half === 0 ? this.regs.lo[slot]! : this.regs.hi[slot]!;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    // Only aligned 32-bit accesses are supported (§6.2); other sizes and misalignment are RAZ/WI.
    if (size !== 4 || (offset & 3) !== 0 || offset < 0 || offset >= SMMU_MMIO_SIZE) return 0;
    const d = decodeOffset(offset);
    if (d < 0) return 0; // RES0, RAZ/WI aliases, unimplemented banks, ID_REGS (IMPLEMENTATION DEFINED: 0)
    return this.readSlot(d >> 1, d & 1) >>> 0;
  }

  read64(offset: number, out: U64): void {
    out.lo = 0;
    out.hi = 0;
    if ((offset & 7) !== 0 || offset < 0 || offset >= SMMU_MMIO_SIZE) return;
    // A 64-bit access to a 64-bit register reads it whole; to two 32-bit registers it behaves as
    // two 32-bit accesses (one of the CONSTRAINED UNPREDICTABLE choices of §6.2).
    read64As32(this, offset, out);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0 || offset < 0 || offset >= SMMU_MMIO_SIZE) return;
    const d = decodeOffset(offset);
    if (d < 0) return;
    this.writeSlot(d >> 1, d & 1, value >>> 0);
  }

  write64(offset: number, lo: number, hi: number): void {
    if ((offset & 7) !== 0 || offset < 0 || offset >= SMMU_MMIO_SIZE) return;
    const d = decodeOffset(offset);
    if (d >= 0 && (d & 1) === 0 && REGISTERS[d >> 1]!.width === 64) {
      // Whole 64-bit register: store both halves before acting on it.
      const slot = d >> 1;
      if (this.guardedBits(slot) !== 0) return; // every guarded 64-bit register is guarded whole
      this.regs.lo[slot] = (lo & this.maskLo[slot]!) >>> 0;
      this.regs.hi[slot] = (hi & this.maskHi[slot]!) >>> 0;
      this.afterWrite(REGISTERS[slot]!.name);
      return;
    }
    write64As32(this, offset, lo, hi);
  }

  /**
   * Bits of a register that are read-only now because its guarding enable is set (§6.3.11,
   * §6.3.12, §6.3.21, §6.3.24-6.3.29, §6.3.33, §6.3.95, §6.3.97): from SMMUv3.2 such writes are
   * IGNORED. CR0ACK / IRQ_CTRLACK always equal CR0 / IRQ_CTRL here, so the enable itself is checked.
   */
  private guardedBits(slot: number): number {
    const g = this.guards[slot];
    if (g === undefined) return 0;
    let ro = 0;
    for (const x of g) if ((this.regs.get(x.reg) & x.enables) !== 0) ro |= x.bits;
    return ro >>> 0;
  }

  private writeSlot(slot: number, half: number, v: number): void {
    const def = REGISTERS[slot]!;
    if (def.ro) return;
    const name = def.name;
    const ro = this.guardedBits(slot);
    if (half === 1) {
      if (ro !== 0) return;
      this.regs.hi[slot] = (v & this.maskHi[slot]!) >>> 0;
      this.afterWrite(name);
      return;
    }
    if (ro === 0xffff_ffff) return;
    const m = (this.maskLo[slot]! & ~ro) >>> 0;
    const old = this.regs.lo[slot]!;
    switch (name) {
      case 'GBPA':
        // Only a write with Update = 1 changes GBPA; the update completes at once (§6.3.14).
        if (get32(v, GBPA.UPDATE) === 0) return;
        this.regs.lo[slot] = v & m & ~(1 << GBPA.UPDATE.lsb);
        return;
      case 'CMDQ_CONS':
        // §6.3.28: ERR may ignore the written value; RD bits above the wrap flag (QS + 1 up) are
        // RAZ. RD is SMMU-owned while CMDQEN = 1 (guard).
        this.regs.lo[slot] = v & WR_MASK & ptrMask(queueLog2(this.regs.get('CMDQ_BASE'), this.features.cmdqLog2));
        return;
      case 'CR0':
        this.regs.lo[slot] = (v & m) >>> 0;
        // §6.3.9.6: SMMUEN 1 -> 0 marks every stalled transaction for termination with abort.
        if (get32(old, CR0.SMMUEN) === 1 && get32(v, CR0.SMMUEN) === 0) this.stalls.terminateAll();
        this.afterWrite(name);
        return;
      default:
        break;
    }
    this.regs.lo[slot] = ((old & ro) | (v & m)) >>> 0;
    this.afterWrite(name);
  }

  /** Side effects of a register write. */
  private afterWrite(name: RegName): void {
    switch (name) {
      case 'CR0':
        // Updates complete immediately: CR0ACK follows CR0 (§6.3.10).
        this.regs.set('CR0ACK', this.regs.get('CR0'));
        this.flushHeldEvents();
        this.kickCommandQueue();
        return;
      case 'EVENTQ_CONS':
        this.flushHeldEvents();
        return;
      case 'IRQ_CTRL':
        this.regs.set('IRQ_CTRLACK', this.regs.get('IRQ_CTRL'));
        return;
      case 'CR2':
      case 'STRTAB_BASE':
      case 'STRTAB_BASE_CFG':
        this.pushConfig();
        return;
      case 'GERRORN':
        // Acknowledging EVENTQ_ABT_ERR makes the event queue writable again (§7.2.1).
        this.flushHeldEvents();
        this.kickCommandQueue();
        return;
      case 'CMDQ_PROD':
        // A PROD write, or acknowledging CMDQ_ERR, lets the queue be considered again.
        this.kickCommandQueue();
        return;
      default:
        return;
    }
  }

  /** Held stall records (§3.12.2) are written once the event queue is writable again. */
  private flushHeldEvents(): void {
    if (this.eventq.heldStalls > 0) this.eventq.flushHeld(this.stillStalled);
  }

  private readonly stillStalled = (sid: number, stag: number): boolean => this.stalls.isPending(sid, stag);

  private kickCommandQueue(): boolean {
    if (this.processing) return true; // a command's side effect wrote a register: no re-entry
    this.processing = true;
    try {
      return this.cmdq.process();
    } finally {
      this.processing = false;
    }
  }

  /**
   * Deferred work: consumes the next bounded slice of the command queue (a register access only
   * starts it). Returns true while commands remain; call after each vCPU exit or on a timer.
   */
  service(): boolean {
    return this.kickCommandQueue();
  }

  // ---------------------------------------------------------------- translation paths

  smmuEnabled(): boolean {
    return ((this.regs.lo[CR0_SLOT]! >>> CR0.SMMUEN.lsb) & 1) === 1;
  }

  /**
   * One access through the SMMU: GBPA while SMMUEN = 0, otherwise the translation engine; records
   * the event of a fault. Returns null on success or the fault reason.
   */
  translateAccess(req: TranslationRequest, res: TranslationResult): string | null {
    if (!this.smmuEnabled()) {
      // §6.3.14: with SMMUEN = 0 GBPA.ABORT terminates every transaction (no event), else bypass.
      if (get32(this.regs.get('GBPA'), GBPA.ABORT) === 1) {
        res.ok = false;
        res.event.type = 0;
        res.record = false;
        return 'abort';
      }
      // Bypass: identity, with GBPA's attribute overrides (MTCFG/MemAttr, SHCFG; 1 = use incoming).
      const gbpa = this.regs.get('GBPA');
      res.ok = true;
      res.pa = req.addrHi * 0x1_0000_0000 + req.addrLo;
      res.size = 4096;
      res.perms = res.permsPriv = res.permsUnpriv = 7;
      res.mairAttr = -1;
      res.s2MemAttr = get32(gbpa, GBPA.MTCFG) === 1 ? get32(gbpa, GBPA.MEMATTR) : -1;
      res.sh = get32(gbpa, GBPA.SHCFG);
      res.asid = -1;
      res.vmid = -1;
      res.global = true;
      res.kind = XLATE_KIND.BYPASS;
      res.tlbHit = false;
      return null;
    }
    this.translator.translate(req, res);
    if (res.ok) return null;
    return this.fault(res);
  }

  private fault(res: TranslationResult): string {
    const ev = res.event;
    if (ev.type === 0) return 'abort';
    if (res.stall) {
      ev.stall = true;
      ev.stag = this.stalls.add(ev.sid);
      this.eventq.write(ev);
      return 'stalled';
    }
    if (res.record) this.eventq.write(ev);
    return res.razWi ? 'raz-wi' : eventName(ev.type);
  }

  /** The DMA port of a stream (and substream); cached, cheap to call per access. */
  dma(sid: number, ssid: number | null = null): SmmuDmaPort {
    const key = sid * 0x20_0000 + (ssid === null ? 0 : ssid + 1);
    let p = this.ports.get(key);
    if (p === undefined) {
      p = new SmmuDmaPort(this, this.mem, sid, ssid);
      this.ports.set(key, p);
    }
    return p;
  }

  /**
   * A device's MSI write: translated as an unprivileged data write by stream `sid` (untagged),
   * then forwarded to `downstream` with its DeviceID. A translation fault records its event and
   * the write is aborted.
   */
  translateMsi(sid: number, address: number, data: number, deviceId: number | null, downstream: MsiSink): MsiOutcome {
    const req = this.msiReq;
    const res = this.msiRes;
    req.sid = sid;
    req.ssid = -1;
    req.write = true;
    req.instr = false;
    req.priv = false;
    setAddress(req, address);
    if (this.translateAccess(req, res) !== null) return 'aborted';
    return downstream.msiWrite(res.pa, data, deviceId);
  }

  /** Event records written so far (for tests/inspect). */
  get eventStats(): EventQueue['stats'] {
    return this.eventq.stats;
  }

  /** True while a command-queue error is waiting for GERRORN. */
  cmdqErrorActive(): boolean {
    return (this.irq.active() & (1 << GERROR.CMDQ_ERR.lsb)) !== 0;
  }
}

