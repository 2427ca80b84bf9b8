// The reference guest's SMMUv3 driver: what Linux 6.1's arm-smmu-v3 does to an SMMU, through MMIO
// and guest memory only (Linux 6.1):
// - probe: IDR0/1/3/5 with Linux's requirements (AArch64 tables, S1, 4K granule, CMDQS >= 7,
//   no preset tables/queues, LE walks);
// - reset: GBPA abort if SMMUEN was set, CR0 = 0, CR1 = 0xD75, CR2 = PTM | RECINVSID,
//   STRTAB_BASE/CFG, CMDQ, CFGI_ALL / TLBI_EL2_ALL (HYP) / TLBI_NSNH_ALL each with CMD_SYNC,
//   EVENTQ, IRQ_CTRL (MSIs when the SMMU has them and an ITS is configured), SMMUEN;
// - stream table: 2-level with lazily allocated 256-STE L2 tables (Span 9, no CFGI after an L1
//   write) when IDR0.ST_LEVEL allows and SIDSIZE > 8, else linear; every STE starts as abort;
// - DMA domains: ASID from 1, a per-domain linear CD table, CD qw0 with Linux's bits and MAIR
//   0xF404FF44, written qw1-3 / sync / qw0 / sync; S1 STE (qw1 0xD6) written qw1 / CFGI+sync /
//   qw0 / CFGI+sync / PREFETCH_CFG; detach writes an abort STE + CFGI + sync;
// - map/unmap through io-pgtable with TLBI_NH_VA per granule (range form when IDR3.RIL) + sync;
// - event queue consumption (CONS written after each record, overflow acknowledged).
import type { PhysMemory } from '../memory/types.js';
import { encodeFields, get32, inPlace, type Field } from '../spec/bits.js';
import { CD, CD_BYTES, encodeCd } from '../spec/smmuv3/cd.js';
import { decodeEvent, type SmmuEvent } from '../spec/smmuv3/events.js';
import { IDR0, IDR1, IDR3, IDR5, OAS_ENCODINGS, TTF_AARCH64 } from '../spec/smmuv3/idr.js';
import { encodeL1Std, L1STD, L1STD_BYTES } from '../spec/smmuv3/l1-descriptors.js';
import {
  CR0,
  CR1,
  CR2,
  EVENTQ_ENTRY_BYTES,
  GBPA,
  IRQ_CTRL,
  QUEUE_BASE,
  QUEUE_CONS,
  QUEUE_PROD,
  REG,
  STRTAB_BASE,
  STRTAB_BASE_CFG,
  CMDQ_ENTRY_BYTES,
} from '../spec/smmuv3/registers.js';
import { encodeSte, STE, STE_BYTES, STE_CONFIG, STE_S1DSS, STE_STRW } from '../spec/smmuv3/ste.js';
import type { PageAllocator } from './allocator.js';
import { readQ, readWord, writeQ, writeWords, type CpuBus } from './cpu-bus.js';
import { IoPageTable, PGSIZES_4K, type IommuProt, type TlbGather } from './io-pgtable.js';
import { cmd, GuestCommandQueue, POLL_LIMIT, type Command } from './smmu-cmdq.js';

/** Linux's MAIR for io-pgtable S1: 0 NC (0x44), 1 WBRWA (0xFF), 2 Device-nGnRE (0x04), 3 (0xF4). */
export const LINUX_MAIR = 0x0000_0000_f404_ff44n;
/** CR1 as Linux writes it: tables and queues inner-shareable, write-back (§1.3 step 3). */
const CR1_SH_ISH = 3;
const CR1_CACHE_WB = 1;
/** Q_MAX_SZ_SHIFT for 4 KiB pages with CMA alignment 8: 20 bytes of queue. */
const Q_MAX_SZ_SHIFT = 20;
/** STRTAB_SPLIT: 8 bits of SID per L2 table (256 STEs). */
const STRTAB_SPLIT = 8;
const STRTAB_L1_SZ_SHIFT = 20;
/** DMA-domain IOVA window: dma-iommu allocates top-down below 4 GiB for 32-bit-capable PCI devices. */
export const DMA_32BIT_LIMIT = 0x1_0000_0000;

export class SmmuProbeError extends Error {
  override readonly name = 'SmmuProbeError';
}

export interface SmmuProbeInfo {
  readonly idr0: number;
  readonly idr1: number;
  readonly idr3: number;
  readonly idr5: number;
  readonly sidBits: number;
  readonly ssidBits: number;
  readonly twoLevel: boolean;
  readonly cmdqLog2: number;
  readonly evtqLog2: number;
  readonly asidBits: number;
  readonly msi: boolean;
  readonly hyp: boolean;
  readonly ril: boolean;
  readonly stalls: boolean;
  readonly oas: number;
  /** smmu->ias = max(ias, oas). */
  readonly ias: number;
}

export interface SmmuDriverOptions {
  /** Name for messages. */
  readonly name: string;
  /** Guest-physical base of the SMMU's register window. */
  readonly base: number;
  /** Firmware says the SMMU is coherent (IORT COHACC override / DT dma-coherent). */
  readonly coherent: boolean;
  /**
   * The SMMU's own MSIs (evtq, gerror): doorbell and data per line, when firmware gives it an
   * msi-parent and the SMMU has IDR0.MSI. null: wired interrupts.
   */
  readonly msi?: { readonly eventq: { address: number; data: number }; readonly gerror: { address: number; data: number } } | null;
  /** Linux's disable_msipolling module parameter. */
  readonly disableMsiPolling?: boolean;
}

/** A DMA domain: ASID, io-pgtable, the CD table holding its one CD, the IOVA allocator. */
export class DmaDomain {
  readonly devices = new Set<number>();
  /** Next free IOVA (exclusive top) of the top-down allocator. */
  private iovaTop = DMA_32BIT_LIMIT;
  /** IOVA of the mapped MSI doorbell page, once mapped (iommu_dma_get_msi_page). */
  msiPage: { iova: number; pa: number } | null = null;

  constructor(
    readonly id: number,
    readonly asid: number,
    readonly pgtable: IoPageTable,
    readonly cdTable: number,
  ) {}

  /** Top-down IOVA allocation below 4 GiB (alloc_iova_fast with the 32-bit limit), size-aligned. */
  allocIova(size: number): number | null {
    const s = Math.max(0x1000, 2 ** Math.ceil(Math.log2(size)));
    let a = Math.floor((this.iovaTop - size) / s) * s;
    while (a >= 0x1000) {
      if (!this.overlapsMapping(a, size)) {
        this.iovaTop = a;
        return a;
      }
      a -= s;
    }
    return null;
  }

  private overlapsMapping(iova: number, size: number): boolean {
    for (let off = 0; off < size; off += 0x1000) if (this.pgtable.iovaToPhys(iova + off) !== null) return true;
    return false;
  }
}

export class GuestSmmuDriver {
  info: SmmuProbeInfo | null = null;
  cmdq: GuestCommandQueue | null = null;
  private strtab = 0;
  private l1Count = 0;
  private readonly l2 = new Map<number, number>();
  private evtq = 0;
  private evtCons = 0;
  private nextAsid = 1;
  private nextDomainId = 0;
  private readonly attached = new Map<number, DmaDomain>();
  /** Linux-style log lines (dev_info/dev_warn/dev_err text). */
  readonly messages: string[] = [];
  readonly events: SmmuEvent[] = [];

  constructor(
    private readonly bus: CpuBus,
    private readonly mem: PhysMemory,
    private readonly alloc: PageAllocator,
    readonly opts: SmmuDriverOptions,
  ) {}

  private log(m: string): void {
    this.messages.push(`${this.opts.name}: ${m}`);
  }

  private r32(off: number): number {
    return this.bus.read(this.opts.base + off, 4) >>> 0;
  }

  private w32(off: number, v: number): void {
    this.bus.write(this.opts.base + off, 4, v >>> 0);
  }

  private f(v: number, field: Field): number {
    return get32(v >>> 0, field);
  }

  // ------------------------------------------------------------ probe (arm_smmu_device_hw_probe)

  probe(): SmmuProbeInfo {
    const idr0 = this.r32(REG.IDR0);
    const idr1 = this.r32(REG.IDR1);
    const idr3 = this.r32(REG.IDR3);
    const idr5 = this.r32(REG.IDR5);
    const f = (v: number, fl: Field): number => this.f(v, fl);
    const endian = f(idr0, IDR0.TTENDIAN);
    if (endian !== 0 && endian !== 2) throw new SmmuProbeError('unknown/unsupported TT endianness!');
    const ttf = f(idr0, IDR0.TTF);
    if (ttf !== TTF_AARCH64 && ttf !== 3) throw new SmmuProbeError('AArch64 table format not supported!');
    if (f(idr0, IDR0.S1P) === 0 && f(idr0, IDR0.S2P) === 0) throw new SmmuProbeError('no translation support!');
    if (f(idr0, IDR0.S1P) === 0) throw new SmmuProbeError('reference guest driver supports stage-1 DMA domains only (no S1P)');
    if (this.f(idr1, IDR1.TABLES_PRESET) || this.f(idr1, IDR1.QUEUES_PRESET) || this.f(idr1, IDR1.REL)) {
      throw new SmmuProbeError('embedded implementation not supported');
    }
    const cmdqLog2 = Math.min(this.f(idr1, IDR1.CMDQS), Q_MAX_SZ_SHIFT - 4);
    if (cmdqLog2 <= 6) throw new SmmuProbeError('command queue size <= 64 entries not supported');
    const evtqLog2 = Math.min(this.f(idr1, IDR1.EVENTQS), Q_MAX_SZ_SHIFT - 5);
    if (this.f(idr5, IDR5.GRAN4K) === 0) throw new SmmuProbeError('reference guest driver needs the 4K granule (IDR5.GRAN4K)');
    const sidBits = this.f(idr1, IDR1.SIDSIZE);
    const oasEnc = this.f(idr5, IDR5.OAS);
    const oas = OAS_ENCODINGS[oasEnc] ?? 48;
    const info: SmmuProbeInfo = {
      idr0,
      idr1,
      idr3,
      idr5,
      sidBits,
      ssidBits: this.f(idr1, IDR1.SSIDSIZE),
      twoLevel: f(idr0, IDR0.ST_LEVEL) === 1 && sidBits > STRTAB_SPLIT,
      cmdqLog2,
      evtqLog2,
      asidBits: f(idr0, IDR0.ASID16) ? 16 : 8,
      msi: f(idr0, IDR0.MSI) === 1,
      hyp: f(idr0, IDR0.HYP) === 1,
      ril: this.f(idr3, IDR3.RIL) === 1,
      stalls: f(idr0, IDR0.STALL_MODEL) === 0 || f(idr0, IDR0.STALL_MODEL) === 2,
      oas,
      ias: Math.max(ttf === 3 ? 40 : 0, oas),
    };
    if (f(idr0, IDR0.COHACC) !== (this.opts.coherent ? 1 : 0)) this.log('IDR0.COHACC overridden by FW configuration');
    this.info = info;
    return info;
  }

  // ------------------------------------------------------------ reset (arm_smmu_device_reset)

  /** Allocates queues and the stream table, then runs Linux's reset sequence. */
  reset(): void {
    const info = this.info ?? this.probe();
    // Queues (arm_smmu_init_queues): naturally aligned to their size.
    const cmdqBytes = (1 << info.cmdqLog2) * CMDQ_ENTRY_BYTES;
    const cmdqBase = this.alloc.alloc(cmdqBytes, cmdqBytes);
    this.log(`allocated ${1 << info.cmdqLog2} entries for cmdq`);
    const evtqBytes = (1 << info.evtqLog2) * EVENTQ_ENTRY_BYTES;
    this.evtq = this.alloc.alloc(evtqBytes, evtqBytes);
    this.log(`allocated ${1 << info.evtqLog2} entries for evtq`);
    const msiPolling = info.msi && this.opts.coherent && !this.opts.disableMsiPolling;
    this.cmdq = new GuestCommandQueue(this.bus, this.mem, this.opts.base, cmdqBase, info.cmdqLog2, msiPolling, (m) => this.log(m));
    const strtabCfg = this.initStreamTable(info);

    // 1. SMMUEN already set: abort incoming transactions via GBPA while resetting.
    if (this.f(this.r32(REG.CR0), CR0.SMMUEN)) {
      this.log('SMMU currently enabled! Resetting...');
      this.updateGbpa(1 << GBPA.ABORT.lsb);
    }
    // 2. CR0 = 0.
    this.writeAck(REG.CR0, REG.CR0ACK, 0, 'failed to clear cr0');
    // 3. CR1: table/queue attributes.
    const cr1 = Number(
      encodeFields(CR1, { TABLE_SH: CR1_SH_ISH, TABLE_OC: CR1_CACHE_WB, TABLE_IC: CR1_CACHE_WB, QUEUE_SH: CR1_SH_ISH, QUEUE_OC: CR1_CACHE_WB, QUEUE_IC: CR1_CACHE_WB }, 1)[0]!,
    );
    this.w32(REG.CR1, cr1);
    // 4. CR2 = PTM | RECINVSID (E2H never: no VHE in this guest).
    this.w32(REG.CR2, Number(encodeFields(CR2, { PTM: 1, RECINVSID: 1 }, 1)[0]!));
    // 5. Stream table base.
    writeQ(this.bus, this.opts.base + REG.STRTAB_BASE, encodeFields(STRTAB_BASE, { RA: 1 }, 1)[0]! | BigInt(this.strtab));
    this.w32(REG.STRTAB_BASE_CFG, strtabCfg);
    // 6. Command queue.
    writeQ(this.bus, this.opts.base + REG.CMDQ_BASE, encodeFields(QUEUE_BASE, { RWA: 1, LOG2SIZE: info.cmdqLog2 }, 1)[0]! | BigInt(cmdqBase));
    this.w32(REG.CMDQ_PROD, 0);
    this.w32(REG.CMDQ_CONS, 0);
    this.cmdq.resetIndex();
    // 7. CMDQEN.
    let cr0 = Number(encodeFields(CR0, { CMDQEN: 1 }, 1)[0]!);
    this.writeAck(REG.CR0, REG.CR0ACK, cr0, 'failed to enable command queue');
    // 8. Invalidate cached configuration and TLBs, each followed by its own CMD_SYNC.
    this.cmdq.issue([cmd('CFGI_STE_RANGE', { RANGE: 31 })]);
    if (info.hyp) this.cmdq.issue([cmd('TLBI_EL2_ALL')]);
    this.cmdq.issue([cmd('TLBI_NSNH_ALL')]);
    // 9. Event queue.
    writeQ(this.bus, this.opts.base + REG.EVENTQ_BASE, encodeFields(QUEUE_BASE, { RWA: 1, LOG2SIZE: info.evtqLog2 }, 1)[0]! | BigInt(this.evtq));
    this.w32(REG.EVENTQ_PROD, 0);
    this.w32(REG.EVENTQ_CONS, 0);
    this.evtCons = 0;
    cr0 |= 1 << CR0.EVENTQEN.lsb;
    this.writeAck(REG.CR0, REG.CR0ACK, cr0, 'failed to enable event queue');
    // 12. Interrupts.
    this.setupIrqs(info);
    // 13. SMMUEN.
    cr0 |= 1 << CR0.SMMUEN.lsb;
    this.writeAck(REG.CR0, REG.CR0ACK, cr0, 'failed to enable SMMU interface');
  }

  private writeAck(reg: number, ack: number, v: number, err: string): boolean {
    this.w32(reg, v);
    for (let i = 0; i < POLL_LIMIT; i++) if (this.r32(ack) === (v >>> 0)) return true;
    this.log(err);
    return false;
  }

  private updateGbpa(set: number): void {
    const upd = 1 << GBPA.UPDATE.lsb;
    for (let i = 0; i < POLL_LIMIT && this.r32(REG.GBPA) & upd; i++);
    this.w32(REG.GBPA, (this.r32(REG.GBPA) | set | upd) >>> 0);
    for (let i = 0; i < POLL_LIMIT; i++) if ((this.r32(REG.GBPA) & upd) === 0) return;
    this.log('GBPA not responding to update');
  }

  private setupIrqs(info: SmmuProbeInfo): void {
    this.writeAck(REG.IRQ_CTRL, REG.IRQ_CTRLACK, 0, 'failed to disable irqs');
    const msi = this.opts.msi ?? null;
    if (info.msi && msi !== null) {
      // Platform MSIs in index order EVTQ, GERROR; CFG2 = Device-nGnRE (MEMATTR 1).
      for (const [cfg0, cfg1, cfg2, m] of [
        [REG.EVENTQ_IRQ_CFG0, REG.EVENTQ_IRQ_CFG1, REG.EVENTQ_IRQ_CFG2, msi.eventq],
        [REG.GERROR_IRQ_CFG0, REG.GERROR_IRQ_CFG1, REG.GERROR_IRQ_CFG2, msi.gerror],
      ] as const) {
        writeQ(this.bus, this.opts.base + cfg0, BigInt(m.address) & ((1n << 52n) - 1n) & ~3n);
        this.w32(cfg1, m.data);
        this.w32(cfg2, 1);
      }
    } else {
      writeQ(this.bus, this.opts.base + REG.GERROR_IRQ_CFG0, 0n);
      writeQ(this.bus, this.opts.base + REG.EVENTQ_IRQ_CFG0, 0n);
      if (info.msi) this.log('msi_domain absent - falling back to wired irqs');
    }
    const ctrl = Number(encodeFields(IRQ_CTRL, { EVENTQ_IRQEN: 1, GERROR_IRQEN: 1 }, 1)[0]!);
    if (!this.writeAck(REG.IRQ_CTRL, REG.IRQ_CTRLACK, ctrl, 'failed to enable irqs')) this.log('failed to enable irqs');
  }

  // ------------------------------------------------------------ stream table

  private initStreamTable(info: SmmuProbeInfo): number {
    if (info.twoLevel) {
      const size = Math.min(info.sidBits, STRTAB_L1_SZ_SHIFT + 5);
      const l1Bits = Math.min(STRTAB_L1_SZ_SHIFT - 3, Math.max(0, size - STRTAB_SPLIT));
      this.l1Count = 1 << l1Bits;
      if (l1Bits + STRTAB_SPLIT < info.sidBits) this.log(`2-level strtab only covers ${l1Bits + STRTAB_SPLIT}/${info.sidBits} bits of SID`);
      const bytes = this.l1Count * L1STD_BYTES;
      this.strtab = this.alloc.alloc(bytes, Math.max(bytes, 64));
      return Number(encodeFields(STRTAB_BASE_CFG, { FMT: 1, SPLIT: STRTAB_SPLIT, LOG2SIZE: l1Bits + STRTAB_SPLIT }, 1)[0]!);
    }
    const count = 2 ** info.sidBits;
    const bytes = count * STE_BYTES;
    this.strtab = this.alloc.alloc(bytes, Math.max(bytes, 64));
    for (let sid = 0; sid < count; sid++) writeWords(this.mem, this.strtab + sid * STE_BYTES, this.abortSte());
    return Number(encodeFields(STRTAB_BASE_CFG, { FMT: 0, LOG2SIZE: info.sidBits }, 1)[0]!);
  }

  /** [6.1] abort STE as Linux writes it with disable_bypass=1: V | Config=abort, SHCFG=incoming. */
  abortSte(): bigint[] {
    return encodeSte({ V: 1, CONFIG: STE_CONFIG.ABORT, SHCFG: 1 });
  }

  /** Address of the STE of `sid`, allocating its L2 table on first use (arm_smmu_init_l2_strtab). */
  steAddress(sid: number): number | null {
    const info = this.info;
    if (info === null) return null;
    if (!info.twoLevel) return sid < 2 ** info.sidBits ? this.strtab + sid * STE_BYTES : null;
    const l1 = Math.floor(sid / 2 ** STRTAB_SPLIT);
    if (l1 >= this.l1Count) {
      this.log(`SID 0x${sid.toString(16)} out of range (-ERANGE)`);
      return null;
    }
    let l2 = this.l2.get(l1);
    if (l2 === undefined) {
      const bytes = (1 << STRTAB_SPLIT) * STE_BYTES;
      l2 = this.alloc.alloc(bytes, bytes);
      for (let i = 0; i < 1 << STRTAB_SPLIT; i++) writeWords(this.mem, l2 + i * STE_BYTES, this.abortSte());
      // Span = SPLIT + 1; no CFGI: invalid L1 descriptors are never cached.
      writeWords(this.mem, this.strtab + l1 * L1STD_BYTES, [encodeL1Std({ SPAN: STRTAB_SPLIT + 1, L2PTR: inPlace(L1STD.L2PTR, l2) })]);
      this.l2.set(l1, l2);
    }
    return l2 + (sid % 2 ** STRTAB_SPLIT) * STE_BYTES;
  }

  private syncSte(sid: number): void {
    this.cmdq!.issue([cmd('CFGI_STE', { SID: sid, LEAF: 1 })]);
  }

  /** Installs an abort STE (detach / disable_bypass), [6.1] protocol: qw0-2, then CFGI + sync. */
  installAbort(sid: number): boolean {
    const a = this.steAddress(sid);
    if (a === null) return false;
    const w = this.abortSte();
    writeWords(this.mem, a, w.slice(0, 3));
    this.syncSte(sid);
    this.attached.get(sid)?.devices.delete(sid);
    this.attached.delete(sid);
    return true;
  }

  /** Installs a bypass STE (identity domain). */
  installBypass(sid: number): boolean {
    const a = this.steAddress(sid);
    if (a === null) return false;
    writeWords(this.mem, a, encodeSte({ V: 1, CONFIG: STE_CONFIG.BYPASS, SHCFG: 1 }).slice(0, 3));
    this.syncSte(sid);
    this.attached.get(sid)?.devices.delete(sid);
    this.attached.delete(sid);
    return true;
  }

  /** Writes raw STE doublewords (bad-configuration injection) followed by CFGI_STE + sync. */
  writeRawSte(sid: number, words: readonly bigint[], sync = true): boolean {
    const a = this.steAddress(sid);
    if (a === null) return false;
    writeWords(this.mem, a, words);
    if (sync) this.syncSte(sid);
    return true;
  }

  // ------------------------------------------------------------ fault injection (tests and scenarios)
  // What a buggy or hostile driver does; each ends in an architected outcome on the SMMU.

  /** A Reserved command opcode (0x7f): CERROR_ILL, GERROR.CMDQ_ERR, then skip-and-acknowledge recovery. */
  injectIllegalCommand(): boolean {
    return this.cmdq!.issue([[0x7fn, 0n]]);
  }

  /** STE with V=0 + CFGI_STE: the next transaction gets C_BAD_STE. */
  injectInvalidSte(sid: number): boolean {
    return this.writeRawSte(sid, [0n]);
  }

  /** STE V=1, Config=S2 with no stage-2 fields + CFGI_STE: ILLEGAL configuration (C_BAD_STE). */
  injectIllegalSte(sid: number): boolean {
    return this.writeRawSte(sid, encodeSte({ V: 1, CONFIG: STE_CONFIG.S2 }).slice(0, 4));
  }

  /** CD 0 of the domain with V=0 + CFGI_CD for `sid`: the next transaction gets C_BAD_CD. */
  injectInvalidCd(d: DmaDomain, sid: number): boolean {
    const v0 = this.cdWords(d)[0]! & ~encodeCd({ V: 1 })[0]!;
    writeWords(this.mem, d.cdTable, [v0]);
    return this.cmdq!.issue([cmd('CFGI_CD', { SID: sid, SSID: 0, LEAF: 1 })]);
  }

  /** Points the leaf PTE of `iova` at `pa` without any TLBI (a stale-TLB driver bug). */
  injectStalePte(d: DmaDomain, iova: number, pa: number): boolean {
    return d.pgtable.rewriteLeaf(iova, pa);
  }

  // ------------------------------------------------------------ domains

  /** arm_smmu_domain_finalise_s1: ASID, io-pgtable, CD table with CD 0. */
  createDomain(): DmaDomain {
    const info = this.info;
    if (info === null || this.cmdq === null) throw new Error('SMMU driver: createDomain before reset');
    const asid = this.nextAsid++;
    const pgtable = new IoPageTable(this.mem, this.alloc, { ias: 48, oas: info.ias, coherentWalk: this.opts.coherent });
    const cdTable = this.alloc.alloc(CD_BYTES, 64);
    const d = new DmaDomain(this.nextDomainId++, asid, pgtable, cdTable);
    this.writeCd(d);
    return d;
  }

  /** CD words for a domain (arm_smmu_write_ctx_desc + io-pgtable TCR). */
  cdWords(d: DmaDomain): bigint[] {
    const t = d.pgtable.tcr();
    return encodeCd({
      T0SZ: t.t0sz,
      TG0: t.tg0,
      IR0: t.irgn0,
      OR0: t.orgn0,
      SH0: t.sh0,
      EPD1: 1,
      V: 1,
      IPS: t.ips,
      AA64: 1,
      R: 1,
      A: 1,
      ASET: 1,
      ASID: d.asid,
      TTB0: inPlace(CD.TTB0, d.pgtable.pgd),
      MAIR0: LINUX_MAIR & 0xffff_ffffn,
      MAIR1: LINUX_MAIR >> 32n,
    });
  }

  /** [6.1] write_ctx_desc: qw1..3, sync, qw0, sync (bare CMD_SYNCs before any master is attached). */
  private writeCd(d: DmaDomain): void {
    const w = this.cdWords(d);
    writeWords(this.mem, d.cdTable + 8, w.slice(1));
    this.syncCd(d);
    writeWords(this.mem, d.cdTable, [w[0]!]);
    this.syncCd(d);
  }

  private syncCd(d: DmaDomain): void {
    const cmds: Command[] = [...d.devices].map((sid) => cmd('CFGI_CD', { SID: sid, SSID: 0, LEAF: 1 }));
    this.cmdq!.issue(cmds);
  }

  /** arm_smmu_attach_dev for a PCI master without PASIDs: detach to abort, then the S1 STE. */
  attach(sid: number, d: DmaDomain): boolean {
    const info = this.info;
    const a = this.steAddress(sid);
    if (info === null || a === null) return false;
    if (this.attached.has(sid)) this.installAbort(sid);
    const w = encodeSte({
      V: 1,
      CONFIG: STE_CONFIG.S1,
      S1FMT: 0,
      S1CDMAX: 0,
      S1DSS: STE_S1DSS.SSID0,
      S1CIR: 1,
      S1COR: 1,
      S1CSH: 3,
      STRW: STE_STRW.NSEL1,
      S1STALLD: info.stalls ? 1 : 0,
      S1_CONTEXT_PTR: inPlace(STE.S1_CONTEXT_PTR, d.cdTable),
    });
    writeWords(this.mem, a + 8, [w[1]!, w[2]!, w[3]!]);
    this.syncSte(sid);
    writeWords(this.mem, a, [w[0]!]);
    this.syncSte(sid);
    this.cmdq!.issue([cmd('PREFETCH_CONFIG', { SID: sid })], false);
    d.devices.add(sid);
    this.attached.set(sid, d);
    return true;
  }

  domainOf(sid: number): DmaDomain | null {
    return this.attached.get(sid) ?? null;
  }

  // ------------------------------------------------------------ map / unmap / invalidation

  map(d: DmaDomain, iova: number, pa: number, size: number, prot: IommuProt): { ok: boolean; reason?: string } {
    const r = d.pgtable.map(iova, pa, size, prot);
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  }

  /** iommu_unmap + iotlb_sync: unmap, then TLBI_NH_VA over the gathered range + CMD_SYNC. */
  unmap(d: DmaDomain, iova: number, size: number): number {
    const { unmapped, gather } = d.pgtable.unmap(iova, size);
    if (unmapped > 0) this.invalidate(d, gather);
    return unmapped;
  }

  private invalidate(d: DmaDomain, gather: readonly TlbGather[]): void {
    const cmds: Command[] = [];
    for (const g of gather) cmds.push(...this.tlbiRange(d.asid, g.iova, g.size, g.leaf ? g.size : PGSIZES_4K[0]!, g.leaf));
    this.cmdq!.issue(cmds);
  }

  /** __arm_smmu_tlb_inv_range: one TLBI_NH_VA per granule, or range commands with IDR3.RIL. */
  tlbiRange(asid: number, iova: number, size: number, granule: number, leaf: boolean): Command[] {
    const info = this.info!;
    const out: Command[] = [];
    const end = iova + size;
    if (info.ril) {
      const tg = 12; // log2 of the smallest page size
      const ttl = 4 - Math.floor((Math.log2(granule) - 3) / (tg - 3));
      let numPages = size / 2 ** tg;
      let a = iova;
      while (a < end && numPages > 0) {
        let scale = 0;
        while (Math.floor(numPages / 2 ** scale) % 2 === 0) scale++;
        // NUM covers 5 bits of the remaining page count at this scale (never 0: bit `scale` is set).
        const n = Math.floor(numPages / 2 ** scale) % 32;
        out.push(cmd('TLBI_NH_VA', { ASID: asid, NUM: n - 1, SCALE: scale, LEAF: leaf, TTL: ttl, TG: (tg - 10) / 2, VA: BigInt(a) >> 12n }));
        a += n * 2 ** (scale + tg);
        numPages -= n * 2 ** scale;
      }
      return out;
    }
    for (let a = iova; a < end; a += granule) out.push(cmd('TLBI_NH_VA', { ASID: asid, LEAF: leaf, VA: BigInt(a) >> 12n }));
    return out;
  }

  /** TLBI_NH_ASID + sync (flush_iotlb_all). */
  flushAll(d: DmaDomain): boolean {
    return this.cmdq!.issue([cmd('TLBI_NH_ASID', { ASID: d.asid })]);
  }

  /**
   * iommu_dma_get_msi_page: map the 4 KiB page holding the doorbell (GITS_TRANSLATER) into the
   * domain, WRITE | NOEXEC | MMIO, at the first IOVA the DMA allocator hands out (top of the
   * 32-bit space: 0xfffff000 when it is the domain's first allocation). Returns the MSI address
   * the device must be given.
   */
  mapMsiDoorbell(d: DmaDomain, doorbell: number): number | null {
    const pagePa = doorbell - (doorbell % 0x1000);
    if (d.msiPage === null) {
      const iova = d.allocIova(0x1000);
      if (iova === null) return null;
      const r = d.pgtable.map(iova, pagePa, 0x1000, { read: false, write: true, noexec: true, mmio: true });
      if (!r.ok) return null;
      d.msiPage = { iova, pa: pagePa };
    }
    return d.msiPage.pa === pagePa ? d.msiPage.iova + (doorbell % 0x1000) : null;
  }

  // ------------------------------------------------------------ events (arm_smmu_evtq_thread)

  /** Consumes every pending event record; returns the new ones. */
  drainEvents(): SmmuEvent[] {
    const info = this.info;
    if (info === null) return [];
    const out: SmmuEvent[] = [];
    const wrap = 1 << info.evtqLog2;
    const mask = (wrap << 1) - 1;
    for (let n = 0; n <= wrap; n++) {
      const prodReg = this.r32(REG.EVENTQ_PROD);
      const prod = prodReg & mask;
      const ovf = this.f(prodReg, QUEUE_PROD.OVFLG);
      if (ovf !== this.f(this.evtCons, QUEUE_CONS.OVACKFLG)) {
        this.log('EVTQ overflow detected -- events lost');
        this.evtCons = ((this.evtCons & mask) | (ovf << QUEUE_CONS.OVACKFLG.lsb)) >>> 0;
        this.w32(REG.EVENTQ_CONS, this.evtCons);
      }
      if (prod === (this.evtCons & mask)) break;
      const slot = this.evtq + (this.evtCons & (wrap - 1)) * EVENTQ_ENTRY_BYTES;
      const words = [0, 1, 2, 3].map((i) => readWord(this.mem, slot + 8 * i) ?? 0n);
      const ev = decodeEvent(words);
      out.push(ev);
      this.events.push(ev);
      this.evtCons = (((this.evtCons & mask) + 1) & mask) | (this.evtCons & (1 << QUEUE_CONS.OVACKFLG.lsb));
      this.w32(REG.EVENTQ_CONS, this.evtCons >>> 0);
    }
    return out;
  }

  /** The GERROR interrupt handler. */
  handleGerror(): number {
    return this.cmdq?.serviceErrors() ?? 0;
  }

  /** STRTAB base address (tools/tests). */
  get streamTableBase(): number {
    return this.strtab;
  }

  /** 64-bit register read (tests). */
  readReg64(off: number): bigint {
    return readQ(this.bus, this.opts.base + off);
  }
}
