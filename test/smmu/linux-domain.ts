// Test/bench fixture: builds SMMUv3 structures in guest memory the way Linux 6.1's arm-smmu-v3
// driver and io-pgtable-arm write them (Linux 6.1): linear or 2-level
// stream tables, S1 STEs (qw0 = CD | 0xB, qw1 = 0xD6), DMA-domain CDs (T0SZ 16, 4K granule,
// MAIR 0xF404FF44), 4-level stage-1 tables with table descriptors addr|0x3 and page descriptors
// PA|0xF47 (RW) / PA|0xFC7 (RO). Encodings go through the spec encoders.
import type { GuestMemory } from '../../src/memory/guest-memory.js';
import { encodeFields } from '../../src/spec/bits.js';
import { CD } from '../../src/spec/smmuv3/cd.js';
import { L1STD } from '../../src/spec/smmuv3/l1-descriptors.js';
import { encodeS1Leaf, encodeTable } from '../../src/spec/smmuv3/pagetable.js';
import { STE, STE_CONFIG } from '../../src/spec/smmuv3/ste.js';

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
    this.write64(l1Base + (sid >> 8) * 8, encodeFields(L1STD, { SPAN: 9, L2PTR: BigInt(l2) >> 6n }, 1)[0]!);
    return l2;
  }

  abortSte(): bigint[] {
    return encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.ABORT, SHCFG: 1 }, 8);
  }

  bypassSte(): bigint[] {
    return encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.BYPASS, SHCFG: 1 }, 8);
  }

  /** Linux's S1 STE: qw0 = CD | V | Config=S1 | S1CDMax, qw1 = 0xD6 (S1DSS=SSID0, WBRA, ISH). */
  s1Ste(cdTable: number, s1CdMax = 0): bigint[] {
    return encodeFields(
      STE,
      { V: 1, CONFIG: STE_CONFIG.S1, S1_CONTEXT_PTR: BigInt(cdTable) >> 6n, S1CDMAX: s1CdMax, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3 },
      8,
    );
  }

  // ------------------------------------------------------------ stage-1 domain

  /** Linux DMA-domain CD: 4K granule, T0SZ 16, coherent walk, IPS from OAS, R/A/ASET/AA64/EPD1/V. */
  linuxCd(asid: number, ttb0: number, ips = 5): bigint[] {
    return encodeFields(
      CD,
      { T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: ips, AA64: 1, R: 1, A: 1, ASET: 1, ASID: asid, TTB0: BigInt(ttb0) >> 4n, MAIR0: LINUX_MAIR & 0xffff_ffffn, MAIR1: LINUX_MAIR >> 32n },
      8,
    );
  }

  /** A new empty level-0 table (4 KiB). */
  newPgd(): number {
    return this.alloc(4096);
  }

  /** Maps one 4K page in a 4-level (T0SZ 16) stage-1 table, allocating intermediate tables. */
  map4k(pgd: number, iova: number, pa: number, leafBits: bigint = PTE_RW): void {
    let table = pgd;
    for (let level = 0; level < 3; level++) {
      const idx = Math.floor(iova / 2 ** (39 - 9 * level)) % 512;
      const slot = table + idx * 8;
      const d = this.read64(slot);
      if ((d & 3n) === 3n) table = Number(d & 0x0000_ffff_ffff_f000n);
      else {
        const t = this.alloc(4096);
        this.write64(slot, encodeTable(t));
        table = t;
      }
    }
    const leaf = encodeS1Leaf({ oa: pa, level3: true }) | leafBits;
    this.write64(table + (Math.floor(iova / 4096) % 512) * 8, leaf);
  }

  /** Clears a page's leaf descriptor (unmap without freeing tables). */
  unmap4k(pgd: number, iova: number): void {
    let table = pgd;
    for (let level = 0; level < 3; level++) {
      const d = this.read64(table + (Math.floor(iova / 2 ** (39 - 9 * level)) % 512) * 8);
      if ((d & 3n) !== 3n) return;
      table = Number(d & 0x0000_ffff_ffff_f000n);
    }
    this.write64(table + (Math.floor(iova / 4096) % 512) * 8, 0n);
  }

  /** Installs a Linux S1 domain for `sid` in a linear table: CD + STE. Returns the CD address. */
  attachS1(strtab: number, sid: number, asid: number, pgd: number, ips = 5): number {
    const cd = this.alloc(64, 64);
    this.writeWords(cd, this.linuxCd(asid, pgd, ips));
    this.writeWords(strtab + sid * 64, this.s1Ste(cd));
    return cd;
  }
}
