// Test/bench fixture: builds SMMUv3 structures in guest memory the way Linux 6.1's arm-smmu-v3
// driver and io-pgtable-arm write them (Linux 6.1): linear or 2-level
// stream tables, S1 STEs (qw0 = CD | 0xB, qw1 = 0xD6), DMA-domain CDs (T0SZ 16, 4K granule,
// MAIR 0xF404FF44), 4-level stage-1 tables with table descriptors addr|0x3 and page descriptors
// PA|0xF47 (RW) / PA|0xFC7 (RO). Encodings go through the spec encoders.
import type { GuestMemory } from '../../src/memory/guest-memory.js';
import { inPlace } from '../../src/spec/bits.js';
import { CD, encodeCd } from '../../src/spec/smmuv3/cd.js';
import { encodeL1Std, L1STD } from '../../src/spec/smmuv3/l1-descriptors.js';
import { encodeS1Leaf } from '../../src/spec/smmuv3/pagetable.js';
import { TableBuilder } from '../../src/guest/table-builder.js';
import { encodeSte, STE, STE_CONFIG } from '../../src/spec/smmuv3/ste.js';

export const LINUX_MAIR = 0x00000000f404ff44n;
/** io-pgtable leaf for a coherent RW 4K page (AF | nG | SH=IS | AttrIndx=1 | AP[1] | page). */
export const PTE_RW = 0xf47n;
export const PTE_RO = 0xfc7n;

export class DomainBuilder {
  private next: number;
  private readonly end: number;

  constructor(
    readonly mem: GuestMemory,
    base: number,
    size: number,
  ) {
    this.next = base;
    this.end = base + size;
  }

  alloc(size: number, align = 4096): number {
    const a = Math.ceil(this.next / align) * align;
    if (a + size > this.end) throw new RangeError('DomainBuilder: out of memory');
    this.next = a + size;
    return a;
  }

  write64(addr: number, v: bigint): void {
    if (!this.mem.write64(addr, Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn))) throw new RangeError(`write64 0x${addr.toString(16)}`);
  }

  read64(addr: number): bigint {
    const o = { lo: 0, hi: 0 };
    if (!this.mem.read64(addr, o)) throw new RangeError(`read64 0x${addr.toString(16)}`);
    return (BigInt(o.hi) << 32n) | BigInt(o.lo);
  }

  writeWords(addr: number, words: readonly bigint[]): void {
    words.forEach((w, i) => this.write64(addr + 8 * i, w));
  }

  // ------------------------------------------------------------ stream table

  /** Linear stream table of 2^sidBits STEs, all abort (V=1, Config=0) as Linux pre-initialises. */
  linearStreamTable(sidBits: number): { base: number; strtabBase: bigint; strtabBaseCfg: number } {
    const base = this.alloc(64 << sidBits, Math.max(64 << sidBits, 64));
    for (let sid = 0; sid < 1 << sidBits; sid++) this.writeWords(base + sid * 64, this.abortSte());
    return { base, strtabBase: (1n << 62n) | BigInt(base), strtabBaseCfg: sidBits };
  }

  /** 2-level table with SPLIT 8 (Linux): L1 descriptors are filled lazily with {@link installL2}. */
  twoLevelStreamTable(sidBits: number): { base: number; strtabBase: bigint; strtabBaseCfg: number } {
    const l1Count = 1 << Math.max(0, sidBits - 8);
    const base = this.alloc(l1Count * 8, Math.max(64, l1Count * 8));
    for (let i = 0; i < l1Count; i++) this.write64(base + i * 8, 0n);
    return { base, strtabBase: (1n << 62n) | BigInt(base), strtabBaseCfg: (1 << 16) | (8 << 6) | sidBits };
  }

  /** Allocates a 256-STE L2 table (all abort) and writes the L1 descriptor (Span 9). */
  installL2(l1Base: number, sid: number): number {
    const l2 = this.alloc(256 * 64, 256 * 64);
    for (let i = 0; i < 256; i++) this.writeWords(l2 + i * 64, this.abortSte());
    this.write64(l1Base + (sid >> 8) * 8, encodeL1Std({ SPAN: 9, L2PTR: inPlace(L1STD.L2PTR, l2) }));
    return l2;
  }

  abortSte(): bigint[] {
    return encodeSte({ V: 1, CONFIG: STE_CONFIG.ABORT, SHCFG: 1 });
  }

  bypassSte(): bigint[] {
    return encodeSte({ V: 1, CONFIG: STE_CONFIG.BYPASS, SHCFG: 1 });
  }

  /** Linux's S1 STE: qw0 = CD | V | Config=S1 | S1CDMax, qw1 = 0xD6 (S1DSS=SSID0, WBRA, ISH). */
  s1Ste(cdTable: number, s1CdMax = 0): bigint[] {
    return encodeSte({ V: 1, CONFIG: STE_CONFIG.S1, S1_CONTEXT_PTR: inPlace(STE.S1_CONTEXT_PTR, cdTable), S1CDMAX: s1CdMax, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3 });
  }

  // ------------------------------------------------------------ stage-1 domain

  /** Linux DMA-domain CD: 4K granule, T0SZ 16, coherent walk, IPS from OAS, R/A/ASET/AA64/EPD1/V. */
  linuxCd(asid: number, ttb0: number, ips = 5): bigint[] {
    return encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: ips, AA64: 1, R: 1, A: 1, ASET: 1, ASID: asid, TTB0: inPlace(CD.TTB0, ttb0), MAIR0: LINUX_MAIR & 0xffff_ffffn, MAIR1: LINUX_MAIR >> 32n });
  }

  /** A new empty level-0 table (4 KiB). */
  newPgd(): number {
    return this.alloc(4096);
  }

  private readonly tables = new Map<number, TableBuilder>();

  /** The table builder of the 4-level (T0SZ 16) stage-1 tree rooted at `pgd`. */
  private builder(pgd: number): TableBuilder {
    let b = this.tables.get(pgd);
    if (b === undefined) {
      b = new TableBuilder({ granuleShift: 12, inputBits: 48, root: pgd, alloc: (size, align) => this.alloc(size, align), read: (addr) => this.read64(addr) });
      this.tables.set(pgd, b);
    }
    return b;
  }

  /** Maps one 4K page in a 4-level (T0SZ 16) stage-1 table, allocating intermediate tables. */
  map4k(pgd: number, iova: number, pa: number, leafBits: bigint = PTE_RW): void {
    const leaf = encodeS1Leaf({ oa: pa, level3: true }) | leafBits;
    for (const w of this.builder(pgd).map(iova, leaf, 3)) this.write64(w.addr, w.value);
  }

  /** Clears a page's leaf descriptor (unmap without freeing tables). */
  unmap4k(pgd: number, iova: number): void {
    const slot = this.builder(pgd).existingSlot(iova, 3);
    if (slot >= 0) this.write64(slot, 0n);
  }

  /** Installs a Linux S1 domain for `sid` in a linear table: CD + STE. Returns the CD address. */
  attachS1(strtab: number, sid: number, asid: number, pgd: number, ips = 5): number {
    const cd = this.alloc(64, 64);
    this.writeWords(cd, this.linuxCd(asid, pgd, ips));
    this.writeWords(strtab + sid * 64, this.s1Ste(cd));
    return cd;
  }
}
