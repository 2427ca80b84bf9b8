// The reference guest's io-pgtable: an ARM_64_LPAE_S1 page table with the 4 KiB granule, built the
// way Linux 6.1's drivers/iommu/io-pgtable-arm.c builds it (Linux 6.1): start level and
// PGD size from the input size, table descriptors next-table | 0x3, leaf descriptors with AF and nG
// always set, AP[1] (unprivileged) unless IOMMU_PRIV, AP[2] (read-only) without IOMMU_WRITE,
// AttrIndx 2 (MMIO) / 1 (CACHE) / 0, SH inner-shareable for CACHE else outer-shareable, XN (both
// bits 54:53) for IOMMU_NOEXEC. So a coherent RW page is PA | 0xF47, RO PA | 0xFC7, the MSI
// doorbell PA | 0x0060000000000E4B. Partial unmap of a block splits it (6.1 behaviour).
// Descriptor layout: src/spec/smmuv3/pagetable.ts (VMSAv8-64, DDI 0487 D8.3).
import type { PhysMemory } from '../memory/types.js';
import { encodeFields, getBig } from '../spec/bits.js';
import { DESC, DESC_OA_MSB, GRANULES, levelShift, S1_LEAF } from '../spec/smmuv3/pagetable.js';
import { SLOT_BLOCKED, TableBuilder, type TableWrite } from './table-builder.js';
import type { PageAllocator } from './allocator.js';
import { readWord, writeWords } from './cpu-bus.js';

/** IOMMU_* protection flags (include/linux/iommu.h). */
export interface IommuProt {
  readonly read: boolean;
  readonly write: boolean;
  /** IOMMU_CACHE: coherent device (normal WB memory, inner shareable). */
  readonly cache?: boolean;
  readonly noexec?: boolean;
  /** IOMMU_MMIO: device memory (AttrIndx 2). */
  readonly mmio?: boolean;
  /** IOMMU_PRIV: privileged-only mapping (AP[1] clear). */
  readonly priv?: boolean;
}

/** MAIR indices io-pgtable uses (ARM_LPAE_MAIR_ATTR_IDX_*). */
export const ATTR_IDX = Object.freeze({ NC: 0, CACHE: 1, DEV: 2 });
/** SH encodings (VMSAv8-64): outer shareable 2, inner shareable 3. */
const SH_OS = 2;
const SH_IS = 3;

const GRANULE_SHIFT = 12;
const STRIDE = GRANULES[12].stride;
const PAGE = 1 << GRANULE_SHIFT;
/** The 4 KiB granule page sizes: 4K, 2M, 1G (pgsize_bitmap). */
export const PGSIZES_4K: readonly number[] = Object.freeze([PAGE, PAGE << STRIDE, 2 ** (GRANULE_SHIFT + 2 * STRIDE)]);

const OA_MASK = ((1n << BigInt(DESC_OA_MSB + 1)) - 1n) & ~((1n << BigInt(GRANULE_SHIFT)) - 1n);
const DESC_FIELDS = { ...DESC, ...S1_LEAF };

/** One leaf invalidation the caller must issue (io_pgtable_tlb_add_page / tlb_flush_walk). */
export interface TlbGather {
  readonly iova: number;
  readonly size: number;
  /** true: leaf entry removed (TLBI leaf); false: a table was removed (walk invalidation). */
  readonly leaf: boolean;
}

export type MapResult = { ok: true } | { ok: false; reason: string };

/** OAS bits -> CD.IPS encoding (io-pgtable arm_lpae ips). */
const IPS_OF: Readonly<Record<number, number>> = Object.freeze({ 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 });

export interface IoPageTableConfig {
  /** Input address bits (DMA domain: min(48, VA_BITS)). */
  readonly ias: number;
  /** Output address bits (the SMMU's OAS). */
  readonly oas: number;
  /** Table walks are coherent (IRGN/ORGN WBWA, SH IS) or not (NC, OS). */
  readonly coherentWalk: boolean;
}

export class IoPageTable {
  readonly pgd: number;
  readonly startLevel: number;
  readonly pgdEntries: number;
  private readonly builder: TableBuilder;

  constructor(
    private readonly mem: PhysMemory,
    private readonly alloc: PageAllocator,
    readonly cfg: IoPageTableConfig,
  ) {
    if (IPS_OF[cfg.oas] === undefined) throw new RangeError(`io-pgtable: unsupported OAS ${cfg.oas}`);
    if (!(cfg.ias >= 32 && cfg.ias <= 48)) throw new RangeError(`io-pgtable: unsupported IAS ${cfg.ias}`);
    // The S1 PGD: start level and size from the input size, 8 << pgd_bits bytes aligned to its
    // size (at least 64 bytes).
    this.builder = new TableBuilder({
      granuleShift: GRANULE_SHIFT,
      inputBits: cfg.ias,
      alloc: (size, align) => alloc.alloc(size, align),
      read: (addr) => this.read(addr),
    });
    this.pgd = this.builder.root;
    this.startLevel = this.builder.startLevel;
    this.pgdEntries = this.builder.startEntries;
  }

  /** Tables allocated (including the PGD). */
  get tables(): number {
    return this.builder.tables + this.splitTables;
  }

  /** Tables allocated to split blocks (partial unmap). */
  private splitTables = 0;

  /** The CD translation fields io-pgtable derives (arm_64_lpae_alloc_pgtable_s1). */
  tcr(): { t0sz: number; tg0: number; irgn0: number; orgn0: number; sh0: number; ips: number } {
    const c = this.cfg.coherentWalk;
    return { t0sz: 64 - this.cfg.ias, tg0: 0, irgn0: c ? 1 : 0, orgn0: c ? 1 : 0, sh0: c ? SH_IS : SH_OS, ips: IPS_OF[this.cfg.oas]! };
  }

  /** Size mapped by one entry at `level` (3: 4K, 2: 2M, 1: 1G, 0: 512G). */
  static levelSize(level: number): number {
    return 2 ** levelShift(GRANULE_SHIFT, level);
  }

  private index(iova: number, level: number): number {
    return this.builder.index(iova, level);
  }

  /** The leaf descriptor io-pgtable writes for `pa` with `prot` (arm_lpae_prot_to_pte + init_pte). */
  static leafDescriptor(pa: number, prot: IommuProt, level: number): bigint {
    const attr = prot.mmio ? ATTR_IDX.DEV : prot.cache ? ATTR_IDX.CACHE : ATTR_IDX.NC;
    const w = encodeFields(
      DESC_FIELDS,
      {
        VALID: 1,
        TYPE: level === 3 ? 1 : 0,
        ATTR_INDX: attr,
        AP1: prot.priv ? 0 : 1,
        AP2: prot.write ? 0 : 1,
        SH: prot.cache ? SH_IS : SH_OS,
        AF: 1,
        NG: 1,
        PXN: prot.noexec ? 1 : 0,
        UXN: prot.noexec ? 1 : 0,
      },
      1,
    );
    return w[0]! | (BigInt(pa) & OA_MASK);
  }

  static tableDescriptor(next: number): bigint {
    return encodeFields(DESC, { VALID: 1, TYPE: 1 }, 1)[0]! | (BigInt(next) & OA_MASK);
  }

  private read(addr: number): bigint {
    return readWord(this.mem, addr) ?? 0n;
  }

  private write(addr: number, v: bigint): void {
    writeWords(this.mem, addr, [v]);
  }

  private static isValid(d: bigint): boolean {
    return getBig([d], DESC.VALID) === 1n;
  }

  private static isTable(d: bigint, level: number): boolean {
    return level < 3 && getBig([d], DESC.TYPE) === 1n;
  }

  private static nextTable(d: bigint): number {
    return Number(d & OA_MASK);
  }

  /** Largest supported page size for the next chunk (iommu_pgsize). */
  private static pgsize(iova: number, pa: number, size: number): number {
    for (let i = PGSIZES_4K.length - 1; i >= 0; i--) {
      const s = PGSIZES_4K[i]!;
      if (s <= size && iova % s === 0 && pa % s === 0) return s;
    }
    return PAGE;
  }

  /** Maps [iova, iova+size) to [pa, ...) (iommu_map): splits into the largest aligned pages. */
  map(iova: number, pa: number, size: number, prot: IommuProt): MapResult {
    if (iova % PAGE !== 0 || pa % PAGE !== 0 || size % PAGE !== 0 || size <= 0) return { ok: false, reason: 'unaligned' };
    if (iova + size > 2 ** this.cfg.ias) return { ok: false, reason: 'beyond input address size' };
    if (pa + size > 2 ** this.cfg.oas) return { ok: false, reason: 'beyond output address size' };
    if (!prot.read && !prot.write) return { ok: true }; // Linux: no permissions, nothing to map
    let done = 0;
    while (done < size) {
      const s = IoPageTable.pgsize(iova + done, pa + done, size - done);
      const r = this.mapOne(iova + done, pa + done, s, prot);
      if (!r.ok) {
        if (done > 0) this.unmap(iova, done);
        return r;
      }
      done += s;
    }
    return { ok: true };
  }

  private mapOne(iova: number, pa: number, size: number, prot: IommuProt): MapResult {
    let level = 3;
    while (level > this.startLevel && IoPageTable.levelSize(level) !== size) level--;
    if (IoPageTable.levelSize(level) !== size) return { ok: false, reason: 'walk overflow' };
    const writes: TableWrite[] = [];
    const slot = this.builder.slot(iova, level, writes, {}, true);
    for (const w of writes) this.write(w.addr, w.value);
    if (slot === SLOT_BLOCKED) return { ok: false, reason: `IOVA 0x${iova.toString(16)} already mapped by a block` };
    if (IoPageTable.isValid(this.read(slot))) return { ok: false, reason: `IOVA 0x${iova.toString(16)} already mapped` };
    this.write(slot, IoPageTable.leafDescriptor(pa, prot, level));
    return { ok: true };
  }

  /** Unmaps [iova, iova+size) (iommu_unmap). Returns the bytes unmapped and what to invalidate. */
  unmap(iova: number, size: number): { unmapped: number; gather: TlbGather[] } {
    const gather: TlbGather[] = [];
    if (iova % PAGE !== 0 || size % PAGE !== 0 || size <= 0) return { unmapped: 0, gather };
    let done = 0;
    while (done < size) {
      const s = IoPageTable.pgsize(iova + done, iova + done, size - done);
      const n = this.unmapOne(iova + done, s, gather);
      if (n === 0) break;
      done += n;
    }
    return { unmapped: done, gather };
  }

  private unmapOne(iova: number, size: number, gather: TlbGather[]): number {
    let table = this.pgd;
    for (let level = this.startLevel; level <= 3; level++) {
      const slot = table + 8 * this.index(iova, level);
      const d = this.read(slot);
      if (!IoPageTable.isValid(d)) return 0;
      const lsize = IoPageTable.levelSize(level);
      if (lsize === size) {
        this.write(slot, 0n);
        gather.push({ iova, size, leaf: !IoPageTable.isTable(d, level) });
        return size;
      }
      if (IoPageTable.isTable(d, level)) {
        table = IoPageTable.nextTable(d);
        continue;
      }
      // A block larger than the request: split it (arm_lpae_split_blk_unmap, Linux 6.1).
      return this.splitBlock(slot, d, level, iova, size, gather);
    }
    return 0;
  }

  private splitBlock(slot: number, block: bigint, level: number, iova: number, size: number, gather: TlbGather[]): number {
    const blockSize = IoPageTable.levelSize(level);
    const blockBase = iova - (iova % blockSize);
    const blockPa = Number(block & OA_MASK);
    const childSize = IoPageTable.levelSize(level + 1);
    if (size % childSize !== 0) return 0;
    const attrs = block & ~OA_MASK & ~encodeFields(DESC, { VALID: 1, TYPE: 1 }, 1)[0]!;
    const typeBits = encodeFields(DESC, { VALID: 1, TYPE: level + 1 === 3 ? 1 : 0 }, 1)[0]!;
    const next = this.alloc.page();
    this.splitTables++;
    for (let i = 0; i < 1 << STRIDE; i++) {
      const a = blockBase + i * childSize;
      if (a >= iova && a < iova + size) continue;
      this.write(next + 8 * i, attrs | typeBits | (BigInt(blockPa + i * childSize) & OA_MASK));
    }
    this.write(slot, IoPageTable.tableDescriptor(next));
    gather.push({ iova, size, leaf: true });
    return size;
  }

  /** The leaf descriptor mapping `iova`: its level, slot address and value; null when unmapped. */
  private findLeaf(iova: number): { level: number; slot: number; descriptor: bigint } | null {
    let table = this.pgd;
    for (let level = this.startLevel; level <= 3; level++) {
      const slot = table + 8 * this.index(iova, level);
      const d = this.read(slot);
      if (!IoPageTable.isValid(d)) return null;
      if (IoPageTable.isTable(d, level)) {
        table = IoPageTable.nextTable(d);
        continue;
      }
      return { level, slot, descriptor: d };
    }
    return null;
  }

  /** The output address of `iova`, or null when unmapped (iova_to_phys returns 0 there). */
  iovaToPhys(iova: number): number | null {
    const leaf = this.findLeaf(iova);
    if (leaf === null) return null;
    const s = IoPageTable.levelSize(leaf.level);
    const oa = Number(leaf.descriptor & OA_MASK);
    return oa - (oa % s) + (iova % s);
  }

  /**
   * Points the leaf mapping `iova` at `pa`, keeping its attributes, without any invalidation
   * (what a buggy driver does; used to demonstrate stale TLB entries). False when unmapped.
   */
  rewriteLeaf(iova: number, pa: number): boolean {
    const leaf = this.findLeaf(iova);
    if (leaf === null) return false;
    const s = IoPageTable.levelSize(leaf.level);
    this.write(leaf.slot, (leaf.descriptor & ~OA_MASK) | (BigInt(pa - (pa % s)) & OA_MASK));
    return true;
  }

  /** The raw descriptor currently mapping `iova` at the leaf (tests, reports). */
  leafOf(iova: number): { level: number; descriptor: bigint } | null {
    const leaf = this.findLeaf(iova);
    return leaf === null ? null : { level: leaf.level, descriptor: leaf.descriptor };
  }
}
