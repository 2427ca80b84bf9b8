// Benchmark fixture: an enabled SmmuV3 over guest RAM holding a linear stream table, one Linux
// DMA-domain CD per stream (own ASID) and a shared 4-level stage-1 table (4K granule, T0SZ 16)
// with leaf descriptors PA|0xF47 and table descriptors addr|0x3, as Linux's io-pgtable writes them.
// With `stage2`, every STE is stage-2 only (VMID 1 + sid, S2T0SZ 16, start level 0) over the same
// table, whose leaves are then Linux's stage-2 read-write pages, PA|0x7FF (no CDs).
// Descriptors are written with plain numbers (building 1M mappings must be fast); their layout is
// cross-checked against the spec encoders in test/smmu/bench-fixture.test.ts.
import { GuestMemory } from '../src/memory/guest-memory.js';
import { SmmuV3 } from '../src/smmu/device/smmu-v3.js';
import { DEFAULT_FEATURES } from '../src/smmu/features.js';
import { REG } from '../src/spec/smmuv3/registers.js';

export const RAM_BASE = 0x4000_0000;
const TWO32 = 0x1_0000_0000;
/** Most physical pages the mappings point at: mapped page i gets a random distinct frame of a pool of min(pages, DATA_PAGES). */
export const DATA_PAGES = 65536;

export interface FixtureOptions {
  /** Number of mapped 4K pages. */
  readonly pages: number;
  /** Number of active streams (SIDs 0..streams-1), each with its own CD and ASID. */
  readonly streams: number;
  /** 'sparse': random pages in a 1 TiB range; 'dense': random pages in a range of 4 * pages. */
  readonly layout: 'sparse' | 'dense';
  readonly cachesEnabled: boolean;
  /** IOTLB capacity (default: the number of pages, at least 1024, so that every page stays cached). */
  readonly tlbSize?: number;
  readonly seed?: number;
  /** Stage-2-only STEs over the table instead of stage-1 STEs and CDs. */
  readonly stage2?: boolean;
  /** Guest-physical address of the RAM (default RAM_BASE, 1 GiB; above 4 GiB every PA is beyond V8's small integers). */
  readonly ramBase?: number;
}

export interface Fixture {
  readonly mem: GuestMemory;
  readonly ram: Uint8Array;
  readonly smmu: SmmuV3;
  /** IOVA of mapped page i. */
  readonly iovas: Float64Array;
  /** PA of mapped page i. */
  readonly pas: Float64Array;
  readonly pgd: number;
  /** Guest-physical address of `ram`. */
  readonly ramBase: number;
  /** Guest-physical address of the linear stream table (64 bytes per StreamID). */
  readonly strtab: number;
}

/** Deterministic xorshift32 PRNG. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / TWO32;
  };
}

export function buildFixture(o: FixtureOptions): Fixture {
  const rand = rng(o.seed ?? 12345);
  const rangePages = o.layout === 'sparse' ? 2 ** 28 : 4 * o.pages; // 1 TiB = 2^28 pages
  const pageNos = new Set<number>();
  while (pageNos.size < o.pages) pageNos.add(Math.floor(rand() * rangePages));
  const iovas = new Float64Array(o.pages);
  let k = 0;
  for (const p of pageNos) iovas[k++] = p * 4096;
  // Upper bound of table pages: one L3 per page (sparse) or per 512-page block, L2/L1/L0 tables.
  const l3 = Math.min(o.pages, Math.ceil(rangePages / 512) + 1);
  const tablePages = l3 + Math.min(o.pages, Math.ceil(rangePages / 2 ** 18) + 1) + 8;
  const sidBits = Math.max(1, Math.ceil(Math.log2(o.streams)));
  const structBytes = (64 << sidBits) + o.streams * 64;
  const pool = Math.min(o.pages, DATA_PAGES);
  const size = (tablePages + pool + 16) * 4096 + Math.ceil(structBytes / 4096) * 4096 + (64 << sidBits);
  const ramBase = o.ramBase ?? RAM_BASE;
  const mem = new GuestMemory();
  const ram = mem.addRam(ramBase, size);
  let next = ramBase;
  const alloc = (bytes: number, align: number): number => {
    const a = Math.ceil(next / align) * align;
    next = a + bytes;
    if (next > ramBase + size) throw new RangeError('fixture RAM exhausted');
    return a;
  };
  const w64 = (addr: number, v: number): void => {
    mem.write64(addr, v >>> 0, Math.floor(v / TWO32) >>> 0);
  };
  const tmp = { lo: 0, hi: 0 };
  const r64 = (addr: number): number => (mem.read64(addr, tmp) ? tmp.hi * TWO32 + tmp.lo : -1);

  const data = alloc(pool * 4096, 4096);
  // Touch every data page once, so that no measurement pays the host's first-touch page faults.
  for (let off = data - ramBase; off < data - ramBase + pool * 4096; off += 4096) ram[off] = 1;
  // Random page frames: a shuffled pool (Fisher-Yates with the fixture's generator).
  const frames = new Uint32Array(pool).map((_, i) => i);
  for (let i = pool - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = frames[i]!;
    frames[i] = frames[j]!;
    frames[j] = t;
  }
  const pgd = alloc(4096, 4096);
  const pas = new Float64Array(o.pages);
  for (let i = 0; i < o.pages; i++) {
    const iova = iovas[i]!;
    let table = pgd;
    for (let level = 0; level < 3; level++) {
      const slot = table + (Math.floor(iova / 2 ** (39 - 9 * level)) % 512) * 8;
      const d = r64(slot);
      if (d % 4 === 3) table = d - (d % 4096);
      else {
        const t = alloc(4096, 4096);
        w64(slot, t + 0x3); // table descriptor
        table = t;
      }
    }
    const pa = data + frames[i % pool]! * 4096;
    pas[i] = pa;
    w64(table + (Math.floor(iova / 4096) % 512) * 8, pa + (o.stage2 === true ? 0x7ff : 0xf47)); // Linux RW page
  }

  // Linear stream table; per stream a CD (ASID 1 + sid % 65535) and an S1 STE.
  const strtab = alloc(64 << sidBits, 64 << sidBits);
  for (let sid = 0; sid < o.streams && o.stage2 === true; sid++) {
    // STE qw0 = V | Config=S2 (0b110); qw2 = S2VMID | S2T0SZ 16 | S2SL0 2 | S2IR0/S2OR0 WBWA | S2SH0 ISH
    // | S2TG 4K | S2PS 48 | S2AA64 | S2R; qw3 = S2TTB.
    w64(strtab + sid * 64, 0xd);
    w64(strtab + sid * 64 + 8, 0);
    mem.write64(strtab + sid * 64 + 16, (1 + (sid % 65535)) >>> 0, 0x040d_3590 >>> 0);
    w64(strtab + sid * 64 + 24, pgd);
  }
  for (let sid = 0; sid < o.streams && o.stage2 !== true; sid++) {
    const cd = alloc(64, 64);
    const asid = 1 + (sid % 65535);
    // CD qw0 = 0x0000E205C0003510 | ASID << 48 (T0SZ 16, 4K, WBWA ISH walks, EPD1, V, IPS 48, AA64, R, A, ASET).
    mem.write64(cd, 0xc0003510, 0x0000e205 | (asid << 16));
    w64(cd + 8, pgd); // TTB0
    w64(cd + 24, 0xf404ff44); // MAIR
    w64(strtab + sid * 64, cd + 0xb); // V | Config=S1
    w64(strtab + sid * 64 + 8, 0xd6);
  }

  const smmu = new SmmuV3(mem, {
    features: DEFAULT_FEATURES,
    translator: { cachesEnabled: o.cachesEnabled, tlbSize: o.tlbSize ?? Math.max(o.pages, 1024), configCacheSize: Math.max(4 * o.streams, 4096) },
  });
  smmu.write64(REG.STRTAB_BASE, strtab >>> 0, Math.floor(strtab / TWO32));
  smmu.write(REG.STRTAB_BASE_CFG, 4, sidBits);
  smmu.write(REG.CR0, 4, 0x1); // SMMUEN
  return { mem, ram, smmu, iovas, pas, pgd, ramBase, strtab };
}
