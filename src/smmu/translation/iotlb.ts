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

export class Iotlb {
  // ---- entry slots (index = slot); read by the translator on a hit
  readonly inBase: Float64Array;
  readonly outBase: Float64Array;
  readonly shiftOf: Uint8Array;
  readonly permsPriv: Uint8Array;
  readonly permsUnpriv: Uint8Array;
  readonly mairAttr: Int16Array;
  readonly s2MemAttr: Int8Array;
  readonly sh: Uint8Array;
  readonly global: Uint8Array;
  // ---- keys and links
  private readonly tagOf: Float64Array;
  private readonly pageOf: Float64Array;
  private readonly regionOf: Uint8Array;
  private readonly alive: Uint8Array;
  private readonly bucketOf: Int32Array;
  private readonly bnext: Int32Array;
  private readonly bprev: Int32Array;
  private readonly tnext: Int32Array;
  private readonly tprev: Int32Array;
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
  size = 0;
  readonly counters: TlbCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= 1 << 26)) throw new RangeError(`bad IOTLB capacity ${capacity}`);
    const c = capacity;
    this.inBase = new Float64Array(c);
    this.outBase = new Float64Array(c);
    this.shiftOf = new Uint8Array(c);
    this.permsPriv = new Uint8Array(c);
    this.permsUnpriv = new Uint8Array(c);
    this.mairAttr = new Int16Array(c);
    this.s2MemAttr = new Int8Array(c);
    this.sh = new Uint8Array(c);
    this.global = new Uint8Array(c);
    this.tagOf = new Float64Array(c);
    this.pageOf = new Float64Array(c);
    this.regionOf = new Uint8Array(c);
    this.alive = new Uint8Array(c);
    this.bucketOf = new Int32Array(c);
    this.bnext = new Int32Array(c);
    this.bprev = new Int32Array(c);
    this.tnext = new Int32Array(c);
    this.tprev = new Int32Array(c);
    let t = 16;
    while (t < 2 * c) t *= 2;
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
    let i = this.heads[this.bucket(tag, region, shift, page)]!;
    while (i >= 0) {
      if (this.pageOf[i] === page && this.tagOf[i] === tag && this.shiftOf[i] === shift && this.regionOf[i] === region) return i;
      i = this.bnext[i]!;
    }
    return -1;
  }

  /**
   * Slot of the entry of `tag` containing the region key in `probe`, or -1. No allocation: the
   * address is passed in a field and the probe is written out here, because V8 boxes doubles
   * passed as arguments to calls it does not inline.
   */
  lookup(tag: number, region: number): number {
    const addr = this.probe;
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
        if (this.pageOf[i] === page && this.tagOf[i] === tag && this.shiftOf[i] === shift && this.regionOf[i] === region) return i;
        i = this.bnext[i]!;
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
    if (this.alive[i] === 1) {
      this.remove(i, false);
      this.counters.evictions++;
    }
    this.tagOf[i] = tag;
    this.pageOf[i] = page;
    this.regionOf[i] = region;
    this.shiftOf[i] = shift;
    this.inBase[i] = page * P2[shift]!;
    this.outBase[i] = outBase;
    this.permsPriv[i] = permsPriv;
    this.permsUnpriv[i] = permsUnpriv;
    this.mairAttr[i] = mairAttr;
    this.s2MemAttr[i] = s2MemAttr;
    this.sh[i] = sh;
    this.global[i] = global ? 1 : 0;
    this.alive[i] = 1;
    const b = this.bucket(tag, region, shift, page);
    this.bucketOf[i] = b;
    const h = this.heads[b]!;
    this.bnext[i] = h;
    this.bprev[i] = -1;
    if (h >= 0) this.bprev[h] = i;
    this.heads[b] = i;
    const th = this.tagHead.get(tag);
    this.tprev[i] = -1;
    if (th === undefined) {
      this.tnext[i] = -1;
      this.tagCount.set(tag, 1);
      const vk = vmKey(tag);
      let s = this.byVm.get(vk);
      if (s === undefined) this.byVm.set(vk, (s = new Set()));
      s.add(tag);
    } else {
      this.tnext[i] = th;
      this.tprev[th] = i;
      this.tagCount.set(tag, this.tagCount.get(tag)! + 1);
    }
    this.tagHead.set(tag, i);
    this.shiftCount[shift] = this.shiftCount[shift]! + 1;
    this.shiftMask |= 1 << (shift - 12);
    this.size++;
    return i;
  }

  private remove(i: number, counted: boolean): void {
    if (this.alive[i] !== 1) return;
    this.alive[i] = 0;
    const bn = this.bnext[i]!;
    const bp = this.bprev[i]!;
    if (bp >= 0) this.bnext[bp] = bn;
    else this.heads[this.bucketOf[i]!] = bn;
    if (bn >= 0) this.bprev[bn] = bp;
    const tag = this.tagOf[i]!;
    const tn = this.tnext[i]!;
    const tp = this.tprev[i]!;
    if (tp >= 0) this.tnext[tp] = tn;
    else if (tn >= 0) this.tagHead.set(tag, tn);
    if (tn >= 0) this.tprev[tn] = tp;
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
    const shift = this.shiftOf[i]!;
    if (--this.shiftCount[shift]! === 0) this.shiftMask &= ~(1 << (shift - 12));
    this.size--;
    if (counted) this.counters.invalidations++;
  }

  private clearTag(tag: number): void {
    let i = this.tagHead.get(tag) ?? -1;
    while (i >= 0) {
      const next = this.tnext[i]!;
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
      const next = this.tnext[i]!;
      if (this.regionOf[i] === region && this.inBase[i]! < hi && this.inBase[i]! + P2[this.shiftOf[i]!]! > lo) this.remove(i, true);
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
