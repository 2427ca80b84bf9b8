// The IOTLB: cached leaf translations tagged by stream world, VMID, ASID (or global) and kind
// (stage-1/nested entries keyed by VA, stage-2-only entries keyed by IPA), with the
// invalidation scopes of the TLBI commands (IHI 0070 §4.4) and FIFO eviction at a fixed
// capacity. Lookup cost is a handful of Map probes, independent of the number of entries.
// Addresses are "region keys": VA/IPA bits [51:0] plus the TTB1 region bit (VA[55]).

export const KIND_S1 = 0; // stage 1 only, or combined stage 1 + stage 2 (keyed by VA)
export const KIND_S2 = 1; // stage 2 only (keyed by IPA)

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);

/** Tag of a TLB table: kind, world, VMID and ASID+1 (0 = global / no ASID). */
export function tagKey(kind: number, world: number, vmid: number, asidTag: number): number {
  return ((kind * 4 + world) * 65536 + vmid) * 131072 + asidTag;
}

/** The (kind, world, vmid) part of a tag, used to find all ASIDs of a VMID. */
function vmKey(tag: number): number {
  return Math.floor(tag / 131072);
}

export class TlbEntry {
  alive = true;
  key = 0;
  constructor(
    readonly table: TagTable,
    /** Region key of the first byte mapped (aligned to 2^shift within the region). */
    readonly inBase: number,
    readonly region: number,
    readonly shift: number,
    readonly outBase: number,
    readonly permsPriv: number,
    readonly permsUnpriv: number,
    readonly mairAttr: number,
    readonly s2MemAttr: number,
    readonly sh: number,
    readonly global: boolean,
  ) {}
}

export class TagTable {
  readonly map = new Map<number, TlbEntry>();
  /** Entries per shift (index = log2 size). */
  readonly perShift = new Int32Array(64);
  /** Bit i set when some entry has shift 12 + i (shifts 12..42). */
  shiftMask = 0;
  constructor(readonly tag: number) {}
}

function entryKey(pageIndex: number, region: number, shift: number): number {
  return (pageIndex * 2 + region) * 64 + shift;
}

export interface TlbCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

export class Iotlb {
  private readonly tables = new Map<number, TagTable>();
  private readonly byVm = new Map<number, Set<TagTable>>();
  private readonly ring: (TlbEntry | null)[];
  private head = 0;
  private used = 0;
  size = 0;
  readonly counters: TlbCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1)) throw new RangeError(`bad IOTLB capacity ${capacity}`);
    this.ring = new Array<TlbEntry | null>(capacity).fill(null);
  }

  /** Looks up `addr` (region key) in one tag table; no allocation. */
  lookup(tag: number, region: number, addr: number): TlbEntry | null {
    const t = this.tables.get(tag);
    if (t === undefined) return null;
    let m = t.shiftMask;
    while (m !== 0) {
      const low = m & -m;
      const shift = 31 - Math.clz32(low) + 12;
      m ^= low;
      const e = t.map.get(entryKey(Math.floor(addr / P2[shift]!), region, shift));
      if (e !== undefined) return e;
    }
    return null;
  }

  insert(
    tag: number, region: number, addr: number, shift: number, outBase: number,
    permsPriv: number, permsUnpriv: number, mairAttr: number, s2MemAttr: number, sh: number, global: boolean,
  ): TlbEntry {
    const pageIndex = Math.floor(addr / P2[shift]!);
    const key = entryKey(pageIndex, region, shift);
    const prev = this.tables.get(tag)?.map.get(key);
    if (prev !== undefined) this.remove(prev, false);
    if (this.used === this.capacity) {
      const victim = this.ring[this.head]!;
      if (victim.alive) {
        this.remove(victim, false);
        this.counters.evictions++;
      }
      this.used--;
      this.ring[this.head] = null;
      this.head = (this.head + 1) % this.capacity;
    }
    // Looked up after the removals above, which may have dropped an emptied table.
    let t = this.tables.get(tag);
    if (t === undefined) {
      t = new TagTable(tag);
      this.tables.set(tag, t);
      const vk = vmKey(tag);
      let s = this.byVm.get(vk);
      if (s === undefined) this.byVm.set(vk, (s = new Set()));
      s.add(t);
    }
    const e = new TlbEntry(t, pageIndex * P2[shift]!, region, shift, outBase, permsPriv, permsUnpriv, mairAttr, s2MemAttr, sh, global);
    e.key = key;
    t.map.set(key, e);
    t.perShift[shift] = t.perShift[shift]! + 1;
    t.shiftMask |= 1 << (shift - 12);
    this.ring[(this.head + this.used) % this.capacity] = e;
    this.used++;
    this.size++;
    return e;
  }

  private remove(e: TlbEntry, counted: boolean): void {
    if (!e.alive) return;
    e.alive = false;
    const t = e.table;
    t.map.delete(e.key);
    if (--t.perShift[e.shift]! === 0) t.shiftMask &= ~(1 << (e.shift - 12));
    this.size--;
    if (counted) this.counters.invalidations++;
    if (t.map.size === 0) {
      this.tables.delete(t.tag);
      const vk = vmKey(t.tag);
      const s = this.byVm.get(vk);
      if (s !== undefined) {
        s.delete(t);
        if (s.size === 0) this.byVm.delete(vk);
      }
    }
  }

  private clearTable(t: TagTable): void {
    for (const e of [...t.map.values()]) this.remove(e, true);
  }

  /** Removes every entry of table `tag` whose range intersects [lo, hi) in `region`. */
  private invalidateRange(tag: number, region: number, lo: number, hi: number): void {
    const t = this.tables.get(tag);
    if (t === undefined) return;
    // Probe page by page when cheaper than scanning the table (bounded by the table size).
    let probes = 0;
    for (let s = 12; s < 64; s++) if (t.perShift[s]! > 0) probes += Math.ceil((hi - lo) / P2[s]!) + 1;
    if (probes <= t.map.size) {
      for (let s = 12; s < 64; s++) {
        if (t.perShift[s]! === 0) continue;
        const first = Math.floor(lo / P2[s]!);
        const last = Math.floor((hi - 1) / P2[s]!);
        for (let p = first; p <= last; p++) {
          const e = t.map.get(entryKey(p, region, s));
          if (e !== undefined) this.remove(e, true);
        }
      }
      return;
    }
    for (const e of [...t.map.values()]) {
      if (e.region === region && e.inBase < hi && e.inBase + P2[e.shift]! > lo) this.remove(e, true);
    }
  }

  private tablesOfVm(kind: number, world: number, vmid: number): TagTable[] {
    const s = this.byVm.get((kind * 4 + world) * 65536 + vmid);
    return s === undefined ? [] : [...s];
  }

  // ---------------------------------------------------------------- invalidation scopes

  /** Everything. */
  invalidateAll(): void {
    for (const t of [...this.tables.values()]) this.clearTable(t);
  }

  /** All entries of a world (both kinds, every VMID/ASID) — TLBI_NSNH_ALL (EL1), TLBI_EL2_ALL. */
  invalidateWorld(worlds: readonly number[]): void {
    for (const t of [...this.tables.values()]) {
      const world = Math.floor(t.tag / (65536 * 131072)) % 4;
      if (worlds.includes(world)) this.clearTable(t);
    }
  }

  /** All entries of `kind` in (world, vmid), every ASID including global. */
  invalidateVm(kind: number, world: number, vmid: number): void {
    for (const t of this.tablesOfVm(kind, world, vmid)) this.clearTable(t);
  }

  /** Non-global entries of one ASID. */
  invalidateAsid(kind: number, world: number, vmid: number, asid: number): void {
    const t = this.tables.get(tagKey(kind, world, vmid, asid + 1));
    if (t !== undefined) this.clearTable(t);
  }

  /** Entries covering [lo, hi) of `region` for one ASID plus global entries (asid -1: all ASIDs). */
  invalidateVa(kind: number, world: number, vmid: number, asid: number, region: number, lo: number, hi: number): void {
    if (asid < 0) {
      for (const t of this.tablesOfVm(kind, world, vmid)) this.invalidateRange(t.tag, region, lo, hi);
      return;
    }
    this.invalidateRange(tagKey(kind, world, vmid, asid + 1), region, lo, hi);
    this.invalidateRange(tagKey(kind, world, vmid, 0), region, lo, hi);
  }

  /** For the inspector/tests: number of live entries. */
  get entries(): number {
    return this.size;
  }
}
