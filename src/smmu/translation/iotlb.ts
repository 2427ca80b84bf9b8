// The IOTLB: cached leaf translations tagged by stage kind, StreamWorld, VMID and ASID (or
// global), with the invalidation scopes of the TLBI commands (IHI 0070 §4.4) and FIFO eviction at
// a fixed capacity. Storage is a chained hash table over typed arrays sized once from the
// capacity (host option, never a guest value): a hit is a few hash probes with no allocation and
// no boxing of 64-bit keys, whatever the number of entries or streams.
// Input addresses are "region keys": VA/IPA bits [51:0] plus the TTB1 region bit (VA[55]).

export const KIND_S1 = 0; // stage 1 only, or combined stage 1 + stage 2 (keyed by VA)
export const KIND_S2 = 1; // stage 2 only (keyed by IPA)

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
const TWO32 = 0x1_0000_0000;

/** Tag of a TLB entry: kind, world, VMID and ASID+1 (0 = global / no ASID). Small (Smi) for VMID 0 EL1 stage 1. */
export function tagKey(kind: number, world: number, vmid: number, asidTag: number): number {
  return ((kind * 4 + world) * 65536 + vmid) * 131072 + asidTag;
}

/** The (kind, world, vmid) part of a tag, used to find all ASIDs of a VMID. */
function vmKey(tag: number): number {
  return Math.floor(tag / 131072);
}

function worldOf(tag: number): number {
  return Math.floor(tag / (65536 * 131072)) % 4;
}

export interface TlbCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

/**
 * Entry layout: 8 doubles per slot (one 64-byte line), so that a hit reads one line after the
 * bucket head: page index, tag, output base, packed attributes, then the bucket and tag links.
 */
export const STRIDE = 8;
export const PAGE = 0;
const TAG = 1;
export const OUT = 2;
export const META = 3; // -1 when the slot is free
const BNEXT = 4;
const BPREV = 5;
const TNEXT = 6;
const TPREV = 7;

/** Packed attributes: shift[5:0] region[6] permsPriv[9:7] permsUnpriv[12:10] global[13] sh[15:14] mairAttr+1[24:16] s2MemAttr+1[29:25]. */
export function metaShift(m: number): number {
  return m & 63;
}
export function metaPerms(m: number, priv: boolean): number {
  return (m >>> (priv ? 7 : 10)) & 7;
}
export function metaGlobal(m: number): boolean {
  return ((m >>> 13) & 1) === 1;
}
export function metaSh(m: number): number {
  return (m >>> 14) & 3;
}
export function metaMair(m: number): number {
  return ((m >>> 16) & 511) - 1;
}
export function metaS2Attr(m: number): number {
  return ((m >>> 25) & 31) - 1;
}

export class Iotlb {
  /** Entry storage (see STRIDE); the translator reads a hit's slot directly (no double-returning calls). */
  readonly ent: Float64Array;
  private readonly heads: Int32Array;
  private readonly mask: number;
  private readonly tagHead = new Map<number, number>();
  private readonly tagCount = new Map<number, number>();
  private readonly byVm = new Map<number, Set<number>>();
  private readonly shiftCount = new Int32Array(64);
  /** Bit (shift - 12) set while some entry has that page/block shift. */
  private shiftMask = 0;
  private hand = 0;
  /** Input address (region key) for the next {@link lookup}. */
  probe = 0;
  /** Tag for the next {@link lookupProbe} (a field for the same reason as `probe`). */
  probeTag = 0;
  size = 0;
  readonly counters: TlbCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= 1 << 26)) throw new RangeError(`bad IOTLB capacity ${capacity}`);
    this.ent = new Float64Array(capacity * STRIDE);
    for (let i = 0; i < capacity; i++) this.ent[i * STRIDE + META] = -1;
    let t = 16;
    while (t < 2 * capacity) t *= 2;
    this.heads = new Int32Array(t).fill(-1);
    this.mask = t - 1;
  }

  private bucket(tag: number, region: number, shift: number, page: number): number {
    let h = Math.imul(page >>> 0, 0x9e37_79b1);
    h ^= Math.imul(((page / TWO32) | 0) ^ (shift << 8) ^ region, 0x85eb_ca77);
    h ^= Math.imul((tag >>> 0) ^ ((tag / TWO32) | 0), 0xc2b2_ae3d);
    h ^= h >>> 15;
    return h & this.mask;
  }

  private find(tag: number, region: number, shift: number, page: number): number {
    const ent = this.ent;
    let i = this.heads[this.bucket(tag, region, shift, page)]!;
    while (i >= 0) {
      const b = i * STRIDE;
      const m = ent[b + META]!;
      if (ent[b + PAGE] === page && ent[b + TAG] === tag && (m & 63) === shift && ((m >>> 6) & 1) === region) return i;
      i = ent[b + BNEXT]!;
    }
    return -1;
  }

  /**
   * Slot of the entry of `tag` containing the region key in `probe`, or -1. No allocation: the
   * address is passed in a field and the probe is written out here, because V8 boxes doubles
   * passed as arguments to calls it does not inline.
   */
  lookup(tag: number, region: number): number {
    this.probeTag = tag;
    return this.lookupProbe(region);
  }

  /** {@link lookup} of the tag in `probeTag` and the region key in `probe`. */
  lookupProbe(region: number): number {
    const tag = this.probeTag;
    const addr = this.probe;
    const ent = this.ent;
    let m = this.shiftMask;
    const tmix = Math.imul((tag >>> 0) ^ ((tag / TWO32) | 0), 0xc2b2_ae3d);
    while (m !== 0) {
      const low = m & -m;
      m ^= low;
      const shift = 43 - Math.clz32(low);
      const page = Math.floor(addr / P2[shift]!);
      let h = Math.imul(page >>> 0, 0x9e37_79b1);
      h ^= Math.imul(((page / TWO32) | 0) ^ (shift << 8) ^ region, 0x85eb_ca77);
      h ^= tmix;
      h ^= h >>> 15;
      let i = this.heads[h & this.mask]!;
      while (i >= 0) {
        const b = i * STRIDE;
        const mm = ent[b + META]!;
        if (ent[b + PAGE] === page && ent[b + TAG] === tag && (mm & 63) === shift && ((mm >>> 6) & 1) === region) return i;
        i = ent[b + BNEXT]!;
      }
    }
    return -1;
  }

  insert(
    tag: number, region: number, addr: number, shift: number, outBase: number,
    permsPriv: number, permsUnpriv: number, mairAttr: number, s2MemAttr: number, sh: number, global: boolean,
  ): number {
    const page = Math.floor(addr / P2[shift]!);
    const prev = this.find(tag, region, shift, page);
    if (prev >= 0) this.remove(prev, false);
    const i = this.hand;
    this.hand = i + 1 === this.capacity ? 0 : i + 1;
    const ent = this.ent;
    const b = i * STRIDE;
    if (ent[b + META]! >= 0) {
      this.remove(i, false);
      this.counters.evictions++;
    }
    ent[b + PAGE] = page;
    ent[b + TAG] = tag;
    ent[b + OUT] = outBase;
    ent[b + META] =
      shift | (region << 6) | ((permsPriv & 7) << 7) | ((permsUnpriv & 7) << 10) | ((global ? 1 : 0) << 13) | ((sh & 3) << 14) |
      (((mairAttr + 1) & 511) << 16) | (((s2MemAttr + 1) & 31) << 25);
    const bk = this.bucket(tag, region, shift, page);
    const h = this.heads[bk]!;
    ent[b + BNEXT] = h;
    ent[b + BPREV] = -1;
    if (h >= 0) ent[h * STRIDE + BPREV] = i;
    this.heads[bk] = i;
    const th = this.tagHead.get(tag);
    ent[b + TPREV] = -1;
    if (th === undefined) {
      ent[b + TNEXT] = -1;
      this.tagCount.set(tag, 1);
      const vk = vmKey(tag);
      let s = this.byVm.get(vk);
      if (s === undefined) this.byVm.set(vk, (s = new Set()));
      s.add(tag);
    } else {
      ent[b + TNEXT] = th;
      ent[th * STRIDE + TPREV] = i;
      this.tagCount.set(tag, this.tagCount.get(tag)! + 1);
    }
    this.tagHead.set(tag, i);
    this.shiftCount[shift] = this.shiftCount[shift]! + 1;
    this.shiftMask |= 1 << (shift - 12);
    this.size++;
    return i;
  }

  private remove(i: number, counted: boolean): void {
    const ent = this.ent;
    const b = i * STRIDE;
    const m = ent[b + META]!;
    if (m < 0) return;
    ent[b + META] = -1;
    const tag = ent[b + TAG]!;
    const shift = m & 63;
    const bn = ent[b + BNEXT]!;
    const bp = ent[b + BPREV]!;
    if (bp >= 0) ent[bp * STRIDE + BNEXT] = bn;
    else this.heads[this.bucket(tag, (m >>> 6) & 1, shift, ent[b + PAGE]!)] = bn;
    if (bn >= 0) ent[bn * STRIDE + BPREV] = bp;
    const tn = ent[b + TNEXT]!;
    const tp = ent[b + TPREV]!;
    if (tp >= 0) ent[tp * STRIDE + TNEXT] = tn;
    else if (tn >= 0) this.tagHead.set(tag, tn);
    if (tn >= 0) ent[tn * STRIDE + TPREV] = tp;
    const n = this.tagCount.get(tag)! - 1;
    if (n === 0) {
      this.tagHead.delete(tag);
      this.tagCount.delete(tag);
      const vk = vmKey(tag);
      const s = this.byVm.get(vk);
      if (s !== undefined) {
        s.delete(tag);
        if (s.size === 0) this.byVm.delete(vk);
      }
    } else this.tagCount.set(tag, n);
    if (--this.shiftCount[shift]! === 0) this.shiftMask &= ~(1 << (shift - 12));
    this.size--;
    if (counted) this.counters.invalidations++;
  }

  private clearTag(tag: number): void {
    let i = this.tagHead.get(tag) ?? -1;
    while (i >= 0) {
      const next = this.ent[i * STRIDE + TNEXT]!;
      this.remove(i, true);
      i = next;
    }
  }

  /** Removes every entry of `tag` whose range intersects [lo, hi) in `region`. */
  private invalidateRange(tag: number, region: number, lo: number, hi: number): void {
    const count = this.tagCount.get(tag);
    if (count === undefined) return;
    // Probe page by page when cheaper than scanning the tag's entries (bounded by the entry count).
    let probes = 0;
    for (let s = 12; s < 44; s++) if (this.shiftCount[s]! > 0) probes += Math.ceil((hi - lo) / P2[s]!) + 1;
    if (probes <= count) {
      for (let s = 12; s < 44; s++) {
        if (this.shiftCount[s]! === 0) continue;
        const last = Math.floor((hi - 1) / P2[s]!);
        for (let p = Math.floor(lo / P2[s]!); p <= last; p++) {
          const i = this.find(tag, region, s, p);
          if (i >= 0) this.remove(i, true);
        }
      }
      return;
    }
    let i = this.tagHead.get(tag) ?? -1;
    while (i >= 0) {
      const b = i * STRIDE;
      const next = this.ent[b + TNEXT]!;
      const m = this.ent[b + META]!;
      const size = P2[m & 63]!;
      const inBase = this.ent[b + PAGE]! * size;
      if (((m >>> 6) & 1) === region && inBase < hi && inBase + size > lo) this.remove(i, true);
      i = next;
    }
  }

  private tagsOfVm(kind: number, world: number, vmid: number): number[] {
    const s = this.byVm.get((kind * 4 + world) * 65536 + vmid);
    return s === undefined ? [] : [...s];
  }

  // ---------------------------------------------------------------- invalidation scopes

  /** Everything. */
  invalidateAll(): void {
    for (const tag of [...this.tagHead.keys()]) this.clearTag(tag);
  }

  /** All entries of the given worlds (both kinds, every VMID/ASID): TLBI_NSNH_ALL (EL1), TLBI_EL2_ALL. */
  invalidateWorld(worlds: readonly number[]): void {
    for (const tag of [...this.tagHead.keys()]) if (worlds.includes(worldOf(tag))) this.clearTag(tag);
  }

  /** All entries of `kind` in (world, vmid), every ASID including global. */
  invalidateVm(kind: number, world: number, vmid: number): void {
    for (const tag of this.tagsOfVm(kind, world, vmid)) this.clearTag(tag);
  }

  /** Non-global entries of one ASID. */
  invalidateAsid(kind: number, world: number, vmid: number, asid: number): void {
    this.clearTag(tagKey(kind, world, vmid, asid + 1));
  }

  /** Entries covering [lo, hi) of `region` for one ASID plus global entries (asid -1: all ASIDs). */
  invalidateVa(kind: number, world: number, vmid: number, asid: number, region: number, lo: number, hi: number): void {
    if (asid < 0) {
      for (const tag of this.tagsOfVm(kind, world, vmid)) this.invalidateRange(tag, region, lo, hi);
      return;
    }
    this.invalidateRange(tagKey(kind, world, vmid, asid + 1), region, lo, hi);
    this.invalidateRange(tagKey(kind, world, vmid, 0), region, lo, hi);
  }
}
