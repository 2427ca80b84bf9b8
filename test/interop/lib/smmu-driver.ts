// A minimal SMMUv3 driver for the differential tests, written against the `Machine` interface so
// the very same register writes and memory contents reach QEMU and our model: stream tables
// (linear and 2-level, §5.1/§5.2), CDs (§5.4), VMSAv8-64 4 KiB-granule page tables, the command
// queue (chapter 4) and the event queue (chapter 7). Every layout comes from src/spec/smmuv3/.
import { encodeFields, inPlace } from '../../../src/spec/bits.js';
import { CD, encodeCd } from '../../../src/spec/smmuv3/cd.js';
import { encodeCommand, type CmdFieldName, type CommandName } from '../../../src/spec/smmuv3/commands.js';
import { encodeL1Std, L1STD } from '../../../src/spec/smmuv3/l1-descriptors.js';
import { DESC, S1_LEAF, tg0Of } from '../../../src/spec/smmuv3/pagetable.js';
import { TableBuilder } from '../../../src/guest/table-builder.js';
import { CR0, CR2, QUEUE_BASE, REG, STRTAB_BASE, STRTAB_BASE_CFG } from '../../../src/spec/smmuv3/registers.js';
import { encodeSte, STE, STE_CONFIG } from '../../../src/spec/smmuv3/ste.js';
import { VIRT, type Machine } from './machine.js';

/** Guest-RAM layout the scenarios share (above QEMU's DTB at the RAM base). */
export const LAYOUT = Object.freeze({
  strtab: VIRT.ramBase + 0x20_0000,
  /** Level-2 stream tables (2-level format), 64 KiB apart. */
  strtabL2: VIRT.ramBase + 0x28_0000,
  cds: VIRT.ramBase + 0x30_0000,
  /** Page-table pages are allocated from here. */
  pageTables: VIRT.ramBase + 0x40_0000,
  cmdq: VIRT.ramBase + 0x80_0000,
  eventq: VIRT.ramBase + 0x88_0000,
  /** DMA targets live from here on. */
  data: VIRT.ramBase + 0x100_0000,
});
export const CMDQ_LOG2 = 8;
/** 4096 records: room for QEMU's per-4-byte fault bursts (a 256-byte faulting DMA = 64 records). */
export const EVENTQ_LOG2 = 12;

export type StreamTableFormat = { readonly fmt: 'linear'; readonly log2size: number } | { readonly fmt: '2-level'; readonly log2size: number; readonly split: number };

const SMMU = (name: keyof typeof REG): number => VIRT.smmuBase + REG[name];

function qwords(words: readonly bigint[]): Uint8Array {
  const b = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => b.writeBigUInt64LE(BigInt.asUintN(64, w), i * 8));
  return b;
}

type Fields<T extends Record<string, unknown>> = Partial<Record<keyof T, bigint | number | boolean>>;

/** STE words from field values (addresses given as byte addresses: shifted here). */
export function steWords(f: Fields<typeof STE> & { s1ContextAddr?: number }): bigint[] {
  const { s1ContextAddr, ...rest } = f;
  const v: Fields<typeof STE> = { ...rest };
  if (s1ContextAddr !== undefined) v['S1_CONTEXT_PTR'] = inPlace(STE.S1_CONTEXT_PTR, s1ContextAddr);
  return encodeSte(v);
}

export const STE_BYPASS = (): bigint[] => steWords({ V: 1, CONFIG: STE_CONFIG.BYPASS });
export const STE_ABORT = (): bigint[] => steWords({ V: 1, CONFIG: STE_CONFIG.ABORT });
export const STE_S1 = (cdAddr: number): bigint[] => steWords({ V: 1, CONFIG: STE_CONFIG.S1, s1ContextAddr: cdAddr });

/** A CD for a TTB0 table (4 KiB granule unless `tg0` says otherwise) the way Linux 6.1 writes one (R=1, A=1, AA64=1, IPS 44 bits). */
export function cdWords(f: { ttb0: number; t0sz?: number; tg0?: number; asid?: number; v?: boolean; epd0?: boolean; r?: boolean }): bigint[] {
  return encodeCd({
    T0SZ: f.t0sz ?? 16,
    TG0: f.tg0 ?? 0, // 0: 4 KiB, 1: 64 KiB, 2: 16 KiB
    IR0: 1,
    OR0: 1,
    SH0: 3,
    EPD0: f.epd0 ?? false,
    EPD1: 1,
    V: f.v ?? true,
    IPS: 4, // 44 bits (QEMU's OAS)
    AA64: 1,
    R: f.r ?? true,
    A: 1,
    ASET: 1,
    ASID: f.asid ?? 1,
    TTB0: inPlace(CD.TTB0, f.ttb0),
    MAIR0: 0x0004_04ff, // normal WB, device nGnRE, device nGnRnE (Linux)
  });
}

export interface LeafAttrs {
  /** AP[2]: read-only. */
  readonly readOnly?: boolean;
  /** AP[1]: EL0 (unprivileged) access allowed; Linux sets it for IOMMU mappings. Default true. */
  readonly unpriv?: boolean;
  /** Access flag; default true. */
  readonly af?: boolean;
  /**
   * nG: not global, i.e. the TLB entry is tagged with the ASID. Default true, as Linux 6.1 writes
   * stage-1 IOMMU leaves. (Global entries may legitimately be reused across ASIDs and survive
   * TLBI_NH_ASID; QEMU 7.2 keys every entry by ASID. Caching is permitted, never required, so the
   * two choices are both architectural and would make the comparison meaningless.)
   */
  readonly notGlobal?: boolean;
}

/**
 * VMSAv8-64 stage-1 tables for one CD, 4, 16 or 64 KiB granule, built by the guest's table builder
 * (start level from T0SZ), table pages allocated (granule-aligned) from a bump pointer,
 * descriptors written through the machine.
 */
export class PageTables {
  readonly root: number;
  private readonly builder: TableBuilder;

  constructor(
    private readonly m: Machine,
    private readonly alloc: { next: number },
    readonly t0sz = 16,
    /** log2 of the granule: 12, 14 or 16 (GRANULES in src/spec/smmuv3/pagetable.ts). */
    readonly granule: 12 | 14 | 16 = 12,
    /**
     * Where a table address (what descriptors hold: an IPA when stage 2 translates the walk)
     * lives physically; identity by default.
     */
    private readonly toPa: (tableAddr: number) => number = (a) => a,
  ) {
    this.root = this.page();
    this.builder = new TableBuilder({ granuleShift: granule, inputBits: 64 - t0sz, root: this.root, alloc: () => this.page() });
  }

  /** CD.TG0 encoding of this granule. */
  get tg0(): number {
    return tg0Of(this.granule);
  }

  private page(): number {
    const size = 2 ** this.granule;
    const a = Math.ceil(this.alloc.next / size) * size;
    this.alloc.next = a + size;
    return a;
  }

  /** A leaf descriptor value for `pa` at `level` (page at level 3, block above). */
  static leaf(pa: bigint, level: number, a: LeafAttrs = {}): bigint {
    const w = encodeFields(
      { ...S1_LEAF, VALID: DESC.VALID, TYPE: DESC.TYPE },
      {
        VALID: 1,
        TYPE: level === 3 ? 1 : 0,
        ATTR_INDX: 0,
        AP1: a.unpriv ?? true,
        AP2: a.readOnly ?? false,
        SH: 3,
        AF: a.af ?? true,
        NG: a.notGlobal ?? true,
      },
      1,
    )[0]!;
    return w | pa;
  }

  /** Maps one page (level 3) or block (level 1/2, or 0 for the documented QEMU departure). */
  async map(iova: bigint, pa: bigint, level = 3, attrs: LeafAttrs = {}, apTable = 0): Promise<void> {
    await this.setDescriptor(iova, level, PageTables.leaf(pa, level, attrs), apTable);
  }

  /** Writes an invalid descriptor where the leaf for `iova` at `level` lives. */
  async unmap(iova: bigint, level = 3): Promise<void> {
    await this.setDescriptor(iova, level, 0n);
  }

  /** Writes any descriptor value where the entry for `iova` at `level` lives (tables above are created). */
  async setDescriptor(iova: bigint, level: number, value: bigint, apTable = 0): Promise<void> {
    for (const w of this.builder.map(iova, value, level, { apTable })) await this.m.write64(this.toPa(w.addr), w.value);
  }
}

export interface EventRecord {
  readonly words: readonly [bigint, bigint, bigint, bigint];
}

export class SmmuDriver {
  private cmdProd = 0;
  private evtCons = 0;
  private l2Next = LAYOUT.strtabL2;
  private readonly l2Tables = new Map<number, number>();
  readonly ptAlloc = { next: LAYOUT.pageTables };
  private st: StreamTableFormat = { fmt: 'linear', log2size: 8 };
  private evtLog2 = EVENTQ_LOG2;

  constructor(readonly m: Machine) {}

  /**
   * Programs stream table, queues and CR0 (EVENTQEN, CMDQEN, then SMMUEN), like Linux's reset.
   * CR2.RECINVSID is set (Linux writes it too) unless `recordInvalidSid` is false.
   */
  async enable(st: StreamTableFormat, recordInvalidSid = true, eventqLog2 = EVENTQ_LOG2): Promise<void> {
    this.st = st;
    this.evtLog2 = eventqLog2;
    const m = this.m;
    await m.write32(SMMU('CR0'), 0);
    await m.write32(SMMU('CR2'), recordInvalidSid ? 1 << CR2.RECINVSID.lsb : 0);
    const cfgFields: Record<string, number> = { LOG2SIZE: st.log2size, FMT: st.fmt === 'linear' ? 0 : 1 };
    if (st.fmt === '2-level') cfgFields['SPLIT'] = st.split;
    const cfg = Number(encodeFields(STRTAB_BASE_CFG, cfgFields, 1)[0]);
    await m.write64(SMMU('STRTAB_BASE'), encodeFields(STRTAB_BASE, { ADDR: inPlace(STRTAB_BASE.ADDR, LAYOUT.strtab), RA: 1 }, 1)[0]!);
    await m.write32(SMMU('STRTAB_BASE_CFG'), cfg);
    await m.write64(SMMU('CMDQ_BASE'), encodeFields(QUEUE_BASE, { ADDR: inPlace(QUEUE_BASE.ADDR, LAYOUT.cmdq), LOG2SIZE: CMDQ_LOG2, RWA: 1 }, 1)[0]!);
    await m.write32(SMMU('CMDQ_PROD'), 0);
    await m.write32(SMMU('CMDQ_CONS'), 0);
    await m.write64(SMMU('EVENTQ_BASE'), encodeFields(QUEUE_BASE, { ADDR: inPlace(QUEUE_BASE.ADDR, LAYOUT.eventq), LOG2SIZE: eventqLog2, RWA: 1 }, 1)[0]!);
    await m.write32(SMMU('EVENTQ_PROD'), 0);
    await m.write32(SMMU('EVENTQ_CONS'), 0);
    const en = (f: { lsb: number }): number => 1 << f.lsb;
    await m.write32(SMMU('CR0'), en(CR0.EVENTQEN) | en(CR0.CMDQEN));
    await m.write32(SMMU('CR0'), en(CR0.EVENTQEN) | en(CR0.CMDQEN) | en(CR0.SMMUEN));
    this.cmdProd = 0;
    this.evtCons = 0;
  }

  /** Where the STE of `sid` lives; for 2-level tables the L2 table is created (Span = SPLIT + 1, as Linux). */
  async steAddress(sid: number): Promise<number> {
    if (this.st.fmt === 'linear') return LAYOUT.strtab + sid * 64;
    const split = this.st.split;
    const l1 = sid >>> split;
    let l2 = this.l2Tables.get(l1);
    if (l2 === undefined) {
      l2 = this.l2Next;
      this.l2Next += Math.max(0x1_0000, 64 << split);
      this.l2Tables.set(l1, l2);
      const desc = encodeL1Std({ SPAN: split + 1, L2PTR: inPlace(L1STD.L2PTR, l2) });
      await this.m.write64(LAYOUT.strtab + l1 * 8, desc);
    }
    return l2 + (sid & ((1 << split) - 1)) * 64;
  }

  /** Writes level-1 descriptor `index` of a 2-level stream table by hand (any Span, §5.1). */
  async writeL1Std(index: number, span: number, l2: number): Promise<void> {
    await this.m.write64(LAYOUT.strtab + index * 8, encodeL1Std({ SPAN: span, L2PTR: inPlace(L1STD.L2PTR, l2) }));
  }

  async writeSte(sid: number, words: readonly bigint[]): Promise<void> {
    await this.m.writeBytes(await this.steAddress(sid), qwords(words));
  }

  async writeCd(addr: number, words: readonly bigint[]): Promise<void> {
    await this.m.writeBytes(addr, qwords(words));
  }

  /** Issues commands then a CMD_SYNC; returns CMDQ_CONS after the PROD write. */
  async commands(cmds: ReadonlyArray<readonly [CommandName, Partial<Record<CmdFieldName, bigint | number | boolean>>?]>): Promise<number> {
    return this.rawCommands([...cmds, ['SYNC', {}] as const].map(([name, fields]) => encodeCommand(name, fields ?? {})));
  }

  /** Queue slot address of command index `i` (PROD/CONS value without the wrap bit). */
  cmdSlot(i: number): number {
    return LAYOUT.cmdq + (i & ((1 << CMDQ_LOG2) - 1)) * 16;
  }

  /** Writes raw 2-doubleword commands at PROD, then one PROD write; returns CMDQ_CONS. */
  async rawCommands(cmds: ReadonlyArray<readonly bigint[]>): Promise<number> {
    const size = 1 << CMDQ_LOG2;
    for (const words of cmds) {
      await this.m.writeBytes(this.cmdSlot(this.cmdProd), qwords(words));
      this.cmdProd = (this.cmdProd + 1) & (2 * size - 1);
    }
    await this.m.write32(SMMU('CMDQ_PROD'), this.cmdProd);
    return this.m.read32(SMMU('CMDQ_CONS'));
  }

  /** Acknowledges every active GERROR bit (GERRORN := GERROR), as Linux's error handler does. */
  async ackGerror(): Promise<void> {
    await this.m.write32(SMMU('GERRORN'), await this.m.read32(SMMU('GERROR')));
  }

  async readReg(name: keyof typeof REG): Promise<number> {
    return this.m.read32(SMMU(name));
  }

  /** New event records since the last call (consumes them: CONS := PROD). */
  async events(): Promise<EventRecord[]> {
    const size = 1 << this.evtLog2;
    const prod = (await this.m.read32(SMMU('EVENTQ_PROD'))) & (2 * size - 1);
    const out: EventRecord[] = [];
    let guard = 0;
    while (this.evtCons !== prod && guard++ < size) {
      const b = Buffer.from(await this.m.readBytes(LAYOUT.eventq + (this.evtCons & (size - 1)) * 32, 32));
      out.push({ words: [b.readBigUInt64LE(0), b.readBigUInt64LE(8), b.readBigUInt64LE(16), b.readBigUInt64LE(24)] });
      this.evtCons = (this.evtCons + 1) & (2 * size - 1);
    }
    await this.m.write32(SMMU('EVENTQ_CONS'), this.evtCons);
    return out;
  }

  async gerror(): Promise<number> {
    return (await this.m.read32(SMMU('GERROR'))) ^ (await this.m.read32(SMMU('GERRORN')));
  }
}
