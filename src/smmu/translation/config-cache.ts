// The configuration cache: decoded valid STEs keyed by StreamID, and decoded valid CDs keyed by
// (StreamID, CD index), with the CFGI_* invalidation scopes (IHI 0070 §4.3). Invalid or ILLEGAL
// STEs/CDs and L1 descriptors (L1STD, L1CD) are never cached. FIFO eviction at a fixed capacity.
import { WORLD, type S2Config, type SteConfig } from './ste-config.js';
import { STE_S1DSS } from '../../spec/smmuv3/ste.js';
import { XLATE_KIND } from './types.js';
import { packWalk, WC_WORDS, type CdConfig, type TtConfig } from './cd-config.js';
import { KIND_S1, KIND_S2, tagKey } from './iotlb.js';

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
  /**
   * PA of CD 0 when locating a CD needs no read (stage 1 only, linear CD table): bits [31:0] as an
   * int32 and bits [51:32]; cdBaseHi -1 otherwise. Halves, because a PA of 2^31 or more in a
   * field is a boxed number: one more dependent load, one more cache miss with many streams.
   */
  readonly cdBaseLo: number;
  readonly cdBaseHi: number;
  readonly world: number;
  /** Stage-2 configuration of a nested STE, else null. */
  readonly s2: S2Config | null;
  /**
   * The IOTLB tag of this STE's stage-2-only translations (stage 2, EL1, S2VMID), 0 when it has no
   * stage 2: computed once, because a tag (a number of up to 2^36) returned from a call per access
   * that V8 does not inline would be a boxed double.
   */
  readonly s2Tag: number;
  /** Caches disabled (config-fetch.ts): CR2.E2H when this entry was decoded. */
  memoE2h = false;
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
    this.world = ste.world;
    this.s2 = ste.kind === XLATE_KIND.NESTED ? ste.s2 : null;
    const cdBase = ste.kind === XLATE_KIND.S1 ? ste.linearCd : -1;
    this.cdBaseLo = cdBase < 0 ? 0 : cdBase | 0;
    this.cdBaseHi = cdBase < 0 ? -1 : Math.floor(cdBase / 0x1_0000_0000);
    this.s2Tag = ste.s2 === null ? 0 : tagKey(KIND_S2, WORLD.EL1, ste.s2.vmid, 0);
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
  /** Bits of VA[63:32] that must all equal VA[55] (int32: a larger number in a field is a boxed double, one more load). */
  readonly hiMask0: number;
  readonly hiMask1: number;
  /** Bits of VA[31:0] that must equal VA[55] (0 when the input size is 32 bits or more; int32). */
  readonly loMask0: number;
  readonly loMask1: number;
  /**
   * The TTB0 and TTB1 walk configurations (cd.tt) packed (cd-config.ts packWalk) at words
   * `walkAt` and `walkAt` + WC_WORDS of `walk`: storage the creator of the entry gives it (the
   * configuration cache's table of them, the decode memo's words), so that a walk reads them
   * from a typed array, not from objects and the boxed numbers (TTB, MAIR) they hold.
   */
  readonly walk: Uint32Array;
  readonly walkAt: number;
  /** IOTLB tags for non-global and global entries (equal when there is no ASID: EL2). */
  readonly tagNg: number;
  readonly tagG: number;
  /** ASID reported in results (-1 at EL2). */
  readonly asid: number;
  constructor(
    readonly owner: SteCacheEntry,
    readonly index: number,
    readonly cd: CdConfig,
    walk: Uint32Array,
    walkAt: number,
  ) {
    this.en0 = cd.tt[0].enabled;
    this.en1 = cd.tt[1].enabled;
    this.hiMask0 = hiMask(cd.tt[0]);
    this.loMask0 = loMask(cd.tt[0]);
    this.hiMask1 = hiMask(cd.tt[1]);
    this.loMask1 = loMask(cd.tt[1]);
    this.walk = walk;
    this.walkAt = walkAt;
    packWalk(cd.tt[0], walk, walkAt);
    packWalk(cd.tt[1], walk, walkAt + WC_WORDS);
    const ste = owner.ste;
    const el2 = ste.world === WORLD.EL2;
    this.asid = el2 ? -1 : cd.asid;
    this.tagG = tagKey(KIND_S1, ste.world, ste.vmid, 0);
    this.tagNg = el2 ? this.tagG : tagKey(KIND_S1, ste.world, ste.vmid, cd.asid + 1);
  }
}

/** Bits of VA[63:32] that must all equal VA[55] for a TTBx region (0 when disabled), as an int32. */
function hiMask(tt: TtConfig): number {
  if (!tt.enabled) return 0;
  const top = tt.tbi ? 55 : 63;
  const lowHiBit = tt.ia > 32 ? tt.ia - 32 : 0;
  const width = top - 32 - lowHiBit + 1;
  return (width >= 32 ? -1 : ((1 << width) - 1) << lowHiBit) | 0;
}

/** Bits of VA[31:0] that must equal VA[55] for a TTBx region (0 when disabled or 32 bits or more), as an int32. */
function loMask(tt: TtConfig): number {
  if (!tt.enabled) return 0;
  return tt.ia < 32 ? -1 << tt.ia : 0;
}

type Slot = SteCacheEntry | CdCacheEntry;

/**
 * Hit records: per StreamID, one 32-bit word (4 bytes: 256 KiB for 65,536 streams, sixteen records
 * a cache line) holding what an untagged IOTLB hit needs from the cached STE and its CD 0, so that
 * a hit with many active streams touches one small, dense record per stream instead of two entry
 * objects spread over the heap. A stage-1 or nested stream's record is valid (non-zero) exactly
 * while the STE entry is cached, its CD 0 is cached, and the STE selects CD 0 for transactions
 * without a SubstreamID (S1CDMax = 0 or S1DSS = SSID0); a stage-2-only stream's while its STE
 * entry is cached. It is a derived view: the entries stay authoritative, every drop of either
 * clears the record, and a record is only written when the values derived from it (range masks,
 * IOTLB tags, and the ASID and VMID its tag carries) equal the entries'. A stage-2-only record
 * reads as one enabled region 0 whose input size is the OAS: an IPA at or beyond 2^OAS (an address
 * size fault) is left to the full path, as is everything else the record does not answer.
 *
 * The word: the record's flags class in bits [31:22] (0: no record), the IOTLB's index of the
 * record's non-global tag in [21:0], pinned (Iotlb.pinTag) while the record is valid, so that a hit
 * looks entries up by it with no tag lookup; the IOTLB also gives the tag's ASID and VMID by that
 * index (Iotlb.tagIds), which a hit reports. A flags class stands for one flags word (below;
 * streams configured alike share one), held in {@link ConfigCache.recordFlags}. A stream whose tag
 * index needs more than 22 bits, or whose flags would need a class when all are taken, gets no
 * record: its hits take the full path.
 */
export const FR_CLASS_SHIFT = 22;
export const FR_TAG_MASK = (1 << FR_CLASS_SHIFT) - 1;
/** Flags classes (class 0 is "no record"). */
const FR_CLASSES = 1 << (32 - FR_CLASS_SHIFT);
/**
 * A flags word: valid[0] kind[3:1] privCfg[5:4] instCfg[7:6] en0[8] en1[9] tbi0[10] tbi1[11]
 * world[13:12] ia0[20:14] ia1[27:21] oneTag[28] withCd[29]. oneTag: the pinned tag is the only
 * one a hit may use (EL2 and stage-2-only entries are all global; a stage-1 EL1 stream's global
 * entries are under a second tag). withCd: a hit through the record is a CD hit as well as an STE
 * hit. This constant is the bit of oneTag.
 */
export const FR_ONE_TAG_BIT = 28;
/** Bit of a flags word: withCd. */
export const FR_WITH_CD_BIT = 29;

/** The IOTLB's tag pins, as the configuration cache uses them for its hit records. */
export interface TagPins {
  pinTag(kind: number, world: number, vmid: number, asidTag: number): number;
  unpinTag(ts: number): void;
}

/** Range-check masks by (ia * 2 + tbi), as CdCacheEntry computes them for an enabled region. */
export const FR_MASK_HI = new Int32Array(130);
export const FR_MASK_LO = new Int32Array(130);
for (let ia = 0; ia <= 64; ia++) {
  for (let tbi = 0; tbi < 2; tbi++) {
    const tt = { enabled: true, tbi: tbi === 1, ia } as TtConfig;
    FR_MASK_HI[ia * 2 + tbi] = hiMask(tt);
    FR_MASK_LO[ia * 2 + tbi] = loMask(tt);
  }
}

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
  /** Hit records by StreamID, paged like `pages` (see FR_CLASS_SHIFT); read directly by the translator. */
  readonly fast: (Int32Array | undefined)[] = [];
  /** The flags word of each flags class of the hit records (index 0, no record: 0); read directly by the translator. */
  readonly recordFlags = new Int32Array(FR_CLASSES);
  /** Hit records using each flags class, the class of each flags word in use, and the free classes. */
  private readonly classUse = new Int32Array(FR_CLASSES);
  private readonly classOf = new Map<number, number>();
  private readonly freeClasses: number[] = Array.from({ length: FR_CLASSES - 1 }, (_, i) => FR_CLASSES - 1 - i);
  private steCount = 0;
  private readonly ring: (Slot | null)[];
  private head = 0;
  private used = 0;
  size = 0;
  readonly counters: ConfigCounters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  /**
   * `pins`: the IOTLB whose tag each hit record pins (one pin per valid record: at most `capacity`);
   * `oasBits`: the output address size, the input range of stage-2-only records.
   */
  constructor(
    readonly capacity: number,
    private readonly pins: TagPins,
    private readonly oasBits = 48,
  ) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 2)) throw new RangeError(`bad config cache capacity ${capacity}`);
    this.ring = new Array<Slot | null>(capacity).fill(null);
    this.walkWords = new Uint32Array(capacity * 2 * WC_WORDS);
  }

  /** Packed walk configurations of the cached CDs (CdCacheEntry.walk): 2 * WC_WORDS words per place in the eviction ring. */
  private readonly walkWords: Uint32Array;

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
      this.fast[pi] = new Int32Array(4096);
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
    this.clearFast(sid);
    this.steCount--;
    if (--this.pageUse[pi]! === 0) {
      this.pages[pi] = undefined;
      this.fast[pi] = undefined;
    }
  }

  private clearFast(sid: number): void {
    const f = this.fast[sid >>> 12];
    if (f === undefined) return;
    const r = f[sid & 4095]!;
    if (r === 0) return;
    f[sid & 4095] = 0;
    this.pins.unpinTag(r & FR_TAG_MASK);
    const c = r >>> FR_CLASS_SHIFT;
    if (--this.classUse[c]! === 0) {
      this.classOf.delete(this.recordFlags[c]!);
      this.recordFlags[c] = 0;
      this.freeClasses.push(c);
    }
  }

  /**
   * Writes the hit record of `sid` (whose record is clear), with flags word `flags`, pinning the
   * IOTLB tag (kind, world, vmid, asidTag); nothing when the tag's index or the flags' class do
   * not fit the record.
   */
  private writeFast(f: Int32Array, sid: number, flags: number, kind: number, world: number, vmid: number, asidTag: number): void {
    const ts = this.pins.pinTag(kind, world, vmid, asidTag);
    const c = ts <= FR_TAG_MASK ? this.classFor(flags) : -1;
    if (c < 0) {
      this.pins.unpinTag(ts);
      return;
    }
    this.classUse[c]!++;
    f[sid & 4095] = (c << FR_CLASS_SHIFT) | ts;
  }

  /** The flags class of flags word `flags`: the one in use, else a free one taken for it; -1 when none is free. */
  private classFor(flags: number): number {
    const c = this.classOf.get(flags);
    if (c !== undefined) return c;
    const free = this.freeClasses.pop();
    if (free === undefined) return -1;
    this.classOf.set(flags, free);
    this.recordFlags[free] = flags;
    return free;
  }

  /** Writes the hit record of `ce`'s stream when its owner is the cached STE and selects CD 0 for untagged traffic. */
  private setFast(ce: CdCacheEntry): void {
    const se = ce.owner;
    if (ce.index !== 0 || !ce.alive || !se.alive || this.getSte(se.sid) !== se || se.cd0 !== ce) return;
    if (se.kind !== XLATE_KIND.S1 && se.kind !== XLATE_KIND.NESTED) return;
    if (se.s1CdMax !== 0 && se.s1Dss !== STE_S1DSS.SSID0) return;
    const f = this.fast[se.sid >>> 12];
    if (f === undefined) return;
    const tt0 = ce.cd.tt[0];
    const tt1 = ce.cd.tt[1];
    const world = se.ste.world;
    const asid = ce.asid;
    const vmid = se.vmid;
    if (!(tt0.ia >= 0 && tt0.ia <= 64 && tt1.ia >= 0 && tt1.ia <= 64 && vmid >= 0 && vmid <= 0xffff && world >= 0 && world <= 3)) return;
    // The values the translator derives from the record must be exactly the entry's.
    const m0 = tt0.ia * 2 + (tt0.tbi ? 1 : 0);
    const m1 = tt1.ia * 2 + (tt1.tbi ? 1 : 0);
    if (ce.en0 && (FR_MASK_HI[m0] !== ce.hiMask0 || FR_MASK_LO[m0] !== ce.loMask0)) return;
    if (ce.en1 && (FR_MASK_HI[m1] !== ce.hiMask1 || FR_MASK_LO[m1] !== ce.loMask1)) return;
    const el2 = world === WORLD.EL2;
    if (el2 ? asid !== -1 : !(asid >= 0 && asid <= 0xffff)) return;
    const tagG = tagKey(KIND_S1, world, vmid, 0);
    if (ce.tagG !== tagG || ce.tagNg !== (el2 ? tagG : tagG + asid + 1)) return;
    this.clearFast(se.sid);
    const flags =
      1 | (se.kind << 1) | ((se.privCfg & 3) << 4) | ((se.instCfg & 3) << 6) | ((ce.en0 ? 1 : 0) << 8) | ((ce.en1 ? 1 : 0) << 9) |
      ((tt0.tbi ? 1 : 0) << 10) | ((tt1.tbi ? 1 : 0) << 11) | (world << 12) | (tt0.ia << 14) | (tt1.ia << 21) | ((el2 ? 1 : 0) << FR_ONE_TAG_BIT) | (1 << FR_WITH_CD_BIT);
    this.writeFast(f, se.sid, flags, KIND_S1, world, vmid, el2 ? 0 : asid + 1);
  }

  /**
   * Writes the hit record of a stage-2-only STE entry: region 0 enabled with the OAS as its input
   * size (no TBI), tag (stage 2, EL1, S2VMID) as the translator's stage-2 path tags its entries.
   */
  private setFastS2(se: SteCacheEntry): void {
    if (se.kind !== XLATE_KIND.S2 || !se.alive || this.getSte(se.sid) !== se) return;
    const f = this.fast[se.sid >>> 12];
    const vmid = se.ste.s2?.vmid ?? -1;
    const ia = this.oasBits;
    if (f === undefined || !(vmid >= 0 && vmid <= 0xffff && ia >= 32 && ia <= 52)) return;
    this.clearFast(se.sid);
    const flags = 1 | (se.kind << 1) | ((se.privCfg & 3) << 4) | ((se.instCfg & 3) << 6) | (1 << 8) | (WORLD.EL1 << 12) | (ia << 14) | (1 << FR_ONE_TAG_BIT);
    this.writeFast(f, se.sid, flags, KIND_S2, WORLD.EL1, vmid, 0);
  }

  /** Cached STEs as [sid, entry] pairs (invalidation scans only). */
  private allStes(): [number, SteCacheEntry][] {
    const out: [number, SteCacheEntry][] = [];
    this.pages.forEach((p, pi) => {
      if (p !== undefined) p.forEach((e, i) => e !== undefined && out.push([pi * 4096 + i, e]));
    });
    return out;
  }

  /** Evicts until an entry can be added; returns the place in the ring the next entry takes (see {@link push}). */
  private makeRoom(): number {
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
    return (this.head + this.used) % this.capacity;
  }

  /** Adds `s` to the ring at the place {@link makeRoom} just gave. */
  private push(s: Slot, at: number): void {
    this.ring[at] = s;
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
      if (s.owner.cd0 === s) {
        s.owner.cd0 = null;
        if (this.getSte(s.owner.sid) === s.owner) this.clearFast(s.owner.sid);
      }
    } else if (s.owner.cds.get(s.index) === s) {
      s.owner.cds.delete(s.index);
    }
    return n;
  }

  putSte(sid: number, ste: SteConfig): SteCacheEntry {
    const old = this.getSte(sid);
    if (old !== undefined) this.drop(old);
    const at = this.makeRoom();
    const e = new SteCacheEntry(sid, ste);
    this.setSte(sid, e);
    this.push(e, at);
    this.setFastS2(e);
    return e;
  }

  /** The cached CD `index` of an STE entry, or undefined. */
  getCd(owner: SteCacheEntry, index: number): CdCacheEntry | undefined {
    return index === 0 ? (owner.cd0 ?? undefined) : owner.cds.get(index);
  }

  putCd(owner: SteCacheEntry, index: number, cd: CdConfig): CdCacheEntry {
    const old = this.getCd(owner, index);
    if (old !== undefined) this.drop(old);
    // The entry's place in the ring is its own until the ring comes round to it again: so is
    // that place's share of walkWords.
    const at = this.makeRoom();
    const e = new CdCacheEntry(owner, index, cd, this.walkWords, at * 2 * WC_WORDS);
    if (index === 0) owner.cd0 = e;
    else owner.cds.set(index, e);
    this.push(e, at);
    // The owner may have been evicted to make room: then the CD must not stay reachable.
    if (!owner.alive) this.drop(e);
    else if (index === 0) this.setFast(e);
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
