// The configuration cache: decoded valid STEs keyed by StreamID, and decoded valid CDs keyed by
// (StreamID, CD index), with the CFGI_* invalidation scopes (IHI 0070 §4.3). Invalid or ILLEGAL
// STEs/CDs and L1 descriptors (L1STD, L1CD) are never cached. FIFO eviction at a fixed capacity.
import { WORLD, type SteConfig } from './ste-config.js';
import type { CdConfig, TtConfig } from './cd-config.js';
import { KIND_S1, tagKey } from './iotlb.js';

/**
 * A cached STE. The fields the translation hit path needs are copied onto the entry itself so that
 * a hit touches as few objects as possible (flat cost with many active streams).
 */
export class SteCacheEntry {
  alive = true;
  readonly kind: number;
  readonly privCfg: number;
  readonly instCfg: number;
  readonly s1CdMax: number;
  readonly s1Dss: number;
  readonly vmid: number;
  /** CD index 0 (the single CD, or SubstreamID 0 / S1DSS=SSID0): kept out of the Map for the common case. */
  cd0: CdCacheEntry | null = null;
  /** CDs with index > 0. */
  readonly cds = new Map<number, CdCacheEntry>();
  constructor(
    readonly sid: number,
    readonly ste: SteConfig,
  ) {
    this.kind = ste.kind;
    this.privCfg = ste.privCfg;
    this.instCfg = ste.instCfg;
    this.s1CdMax = ste.s1CdMax;
    this.s1Dss = ste.s1Dss;
    this.vmid = ste.vmid;
  }
}

/**
 * A cached CD with its hit-path values precomputed: per TTBx region whether it is enabled, the
 * masks of the VA bits that must equal VA[55] (§3.4.1, with TBI), and the IOTLB tags.
 */
export class CdCacheEntry {
  alive = true;
  readonly en0: boolean;
  readonly en1: boolean;
  /** Bits of VA[63:32] that must all equal VA[55]. */
  readonly hiMask0: number;
  readonly hiMask1: number;
  /** Bits of VA[31:0] that must equal VA[55] (0 when the input size is 32 bits or more). */
  readonly loMask0: number;
  readonly loMask1: number;
  readonly ia0: number;
  readonly ia1: number;
  /** IOTLB tags for non-global and global entries (equal when there is no ASID: EL2). */
  readonly tagNg: number;
  readonly tagG: number;
  /** ASID reported in results (-1 at EL2). */
  readonly asid: number;
  constructor(
    readonly owner: SteCacheEntry,
    readonly index: number,
    readonly cd: CdConfig,
  ) {
    const masks = (tt: TtConfig): [number, number] => {
      if (!tt.enabled) return [0, 0];
      const top = tt.tbi ? 55 : 63;
      const lowHiBit = tt.ia > 32 ? tt.ia - 32 : 0;
      const width = top - 32 - lowHiBit + 1;
      const hi = (width >= 32 ? 0xffff_ffff : ((1 << width) - 1) << lowHiBit) >>> 0;
      const lo = tt.ia < 32 ? (0xffff_ffff << tt.ia) >>> 0 : 0;
      return [hi, lo];
    };
    const [h0, l0] = masks(cd.tt[0]);
    const [h1, l1] = masks(cd.tt[1]);
    this.en0 = cd.tt[0].enabled;
    this.en1 = cd.tt[1].enabled;
    this.hiMask0 = h0;
    this.loMask0 = l0;
    this.hiMask1 = h1;
    this.loMask1 = l1;
    this.ia0 = cd.tt[0].ia;
    this.ia1 = cd.tt[1].ia;
    const ste = owner.ste;
    const el2 = ste.world === WORLD.EL2;
    this.asid = el2 ? -1 : cd.asid;
    this.tagG = tagKey(KIND_S1, ste.world, ste.vmid, 0);
    this.tagNg = el2 ? this.tagG : tagKey(KIND_S1, ste.world, ste.vmid, cd.asid + 1);
  }
}

type Slot = SteCacheEntry | CdCacheEntry;

export interface ConfigCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

export class ConfigCache {
  /** STEs by StreamID: pages of 4096 slots (allocated on first use, freed when empty) — two array loads per lookup. */
  private readonly pages: ((SteCacheEntry | undefined)[] | undefined)[] = [];
  private readonly pageUse: number[] = [];
  private steCount = 0;
  private readonly ring: (Slot | null)[];
  private head = 0;
  private used = 0;
  size = 0;
  readonly counters: ConfigCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 2)) throw new RangeError(`bad config cache capacity ${capacity}`);
    this.ring = new Array<Slot | null>(capacity).fill(null);
  }

  getSte(sid: number): SteCacheEntry | undefined {
    const p = this.pages[sid >>> 12];
    return p === undefined ? undefined : p[sid & 4095];
  }

  private setSte(sid: number, e: SteCacheEntry): void {
    const pi = sid >>> 12;
    let p = this.pages[pi];
    if (p === undefined) {
      p = new Array<SteCacheEntry | undefined>(4096).fill(undefined);
      this.pages[pi] = p;
      this.pageUse[pi] = 0;
    }
    if (p[sid & 4095] === undefined) {
      this.pageUse[pi]!++;
      this.steCount++;
    }
    p[sid & 4095] = e;
  }

  private deleteSte(sid: number): void {
    const pi = sid >>> 12;
    const p = this.pages[pi];
    if (p === undefined || p[sid & 4095] === undefined) return;
    p[sid & 4095] = undefined;
    this.steCount--;
    if (--this.pageUse[pi]! === 0) {
      this.pages[pi] = undefined;
    }
  }

  /** Cached STEs as [sid, entry] pairs (invalidation scans only). */
  private allStes(): [number, SteCacheEntry][] {
    const out: [number, SteCacheEntry][] = [];
    this.pages.forEach((p, pi) => {
      if (p !== undefined) p.forEach((e, i) => e !== undefined && out.push([pi * 4096 + i, e]));
    });
    return out;
  }

  private push(s: Slot): void {
    while (this.used >= this.capacity) {
      const victim = this.ring[this.head]!;
      this.ring[this.head] = null;
      this.head = (this.head + 1) % this.capacity;
      this.used--;
      if (victim.alive) {
        this.drop(victim);
        this.counters.evictions++;
      }
    }
    this.ring[(this.head + this.used) % this.capacity] = s;
    this.used++;
    this.size++;
  }

  private drop(s: Slot): number {
    if (!s.alive) return 0;
    s.alive = false;
    this.size--;
    let n = 1;
    if (s instanceof SteCacheEntry) {
      if (this.getSte(s.sid) === s) this.deleteSte(s.sid);
      if (s.cd0 !== null) n += this.drop(s.cd0);
      for (const c of s.cds.values()) n += this.drop(c);
      s.cds.clear();
    } else if (s.index === 0) {
      if (s.owner.cd0 === s) s.owner.cd0 = null;
    } else if (s.owner.cds.get(s.index) === s) {
      s.owner.cds.delete(s.index);
    }
    return n;
  }

  putSte(sid: number, ste: SteConfig): SteCacheEntry {
    const old = this.getSte(sid);
    if (old !== undefined) this.drop(old);
    const e = new SteCacheEntry(sid, ste);
    this.setSte(sid, e);
    this.push(e);
    return e;
  }

  /** The cached CD `index` of an STE entry, or undefined. */
  getCd(owner: SteCacheEntry, index: number): CdCacheEntry | undefined {
    return index === 0 ? (owner.cd0 ?? undefined) : owner.cds.get(index);
  }

  putCd(owner: SteCacheEntry, index: number, cd: CdConfig): CdCacheEntry {
    const old = this.getCd(owner, index);
    if (old !== undefined) this.drop(old);
    const e = new CdCacheEntry(owner, index, cd);
    if (index === 0) owner.cd0 = e;
    else owner.cds.set(index, e);
    this.push(e);
    // The owner may have been evicted to make room: then the CD must not stay reachable.
    if (!owner.alive) this.drop(e);
    return e;
  }

  // ---------------------------------------------------------------- CFGI scopes

  /** CFGI_STE: the STE and every CD cached through it. */
  invalidateSte(sid: number): void {
    const e = this.getSte(sid);
    if (e !== undefined) this.counters.invalidations += this.drop(e);
  }

  /** CFGI_STE_RANGE: 2^(range+1) StreamIDs aligned to their size. */
  invalidateSteRange(sid: number, range: number): void {
    const span = 2 ** (Math.min(range, 31) + 1);
    const first = sid - (sid % span);
    if (span > this.steCount) {
      for (const [s, e] of this.allStes()) if (s >= first && s < first + span) this.counters.invalidations += this.drop(e);
    } else {
      for (let s = first; s < first + span; s++) this.invalidateSte(s);
    }
  }

  /** CFGI_CD: the CD cached from index `index` of the CD table located by `sid`. */
  invalidateCd(sid: number, index: number): void {
    const s = this.getSte(sid);
    const e = s === undefined ? undefined : this.getCd(s, index);
    if (e !== undefined) this.counters.invalidations += this.drop(e);
  }

  /** CFGI_CD_ALL: every CD cached through `sid`. */
  invalidateCdAll(sid: number): void {
    const e = this.getSte(sid);
    if (e === undefined) return;
    if (e.cd0 !== null) this.counters.invalidations += this.drop(e.cd0);
    for (const c of [...e.cds.values()]) this.counters.invalidations += this.drop(c);
  }

  invalidateAll(): void {
    for (const [, e] of this.allStes()) this.counters.invalidations += this.drop(e);
  }
}
