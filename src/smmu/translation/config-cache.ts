// The configuration cache: decoded valid STEs keyed by StreamID, and decoded valid CDs keyed by
// (StreamID, CD index), with the CFGI_* invalidation scopes (IHI 0070 §4.3). Invalid or ILLEGAL
// STEs/CDs and L1 descriptors (L1STD, L1CD) are never cached. FIFO eviction at a fixed capacity.
import type { SteConfig } from './ste-config.js';
import type { CdConfig } from './cd-config.js';

export class SteCacheEntry {
  alive = true;
  /** CD index 0 (the single CD, or SubstreamID 0 / S1DSS=SSID0): kept out of the Map for the common case. */
  cd0: CdCacheEntry | null = null;
  /** CDs with index > 0. */
  readonly cds = new Map<number, CdCacheEntry>();
  constructor(
    readonly sid: number,
    readonly ste: SteConfig,
  ) {}
}

export class CdCacheEntry {
  alive = true;
  constructor(
    readonly owner: SteCacheEntry,
    readonly index: number,
    readonly cd: CdConfig,
  ) {}
}

type Slot = SteCacheEntry | CdCacheEntry;

export interface ConfigCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

export class ConfigCache {
  private readonly stes = new Map<number, SteCacheEntry>();
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
    return this.stes.get(sid);
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
      if (this.stes.get(s.sid) === s) this.stes.delete(s.sid);
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
    const old = this.stes.get(sid);
    if (old !== undefined) this.drop(old);
    const e = new SteCacheEntry(sid, ste);
    this.stes.set(sid, e);
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
    const e = this.stes.get(sid);
    if (e !== undefined) this.counters.invalidations += this.drop(e);
  }

  /** CFGI_STE_RANGE: 2^(range+1) StreamIDs aligned to their size. */
  invalidateSteRange(sid: number, range: number): void {
    const span = 2 ** (Math.min(range, 31) + 1);
    const first = sid - (sid % span);
    if (span > this.stes.size) {
      for (const [s, e] of [...this.stes]) if (s >= first && s < first + span) this.counters.invalidations += this.drop(e);
    } else {
      for (let s = first; s < first + span; s++) this.invalidateSte(s);
    }
  }

  /** CFGI_CD: the CD cached from index `index` of the CD table located by `sid`. */
  invalidateCd(sid: number, index: number): void {
    const s = this.stes.get(sid);
    const e = s === undefined ? undefined : this.getCd(s, index);
    if (e !== undefined) this.counters.invalidations += this.drop(e);
  }

  /** CFGI_CD_ALL: every CD cached through `sid`. */
  invalidateCdAll(sid: number): void {
    const e = this.stes.get(sid);
    if (e === undefined) return;
    if (e.cd0 !== null) this.counters.invalidations += this.drop(e.cd0);
    for (const c of [...e.cds.values()]) this.counters.invalidations += this.drop(c);
  }

  invalidateAll(): void {
    for (const e of [...this.stes.values()]) this.counters.invalidations += this.drop(e);
  }
}
