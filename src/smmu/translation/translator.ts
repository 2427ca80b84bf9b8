// The SMMUv3 translation engine's hot path: one transaction from StreamID and address to a PA or
// an architected fault (IHI 0070 chapters 3, 5; §3.4 address checks, §5.2 S1DSS/S1CDMax), through
// the configuration cache and IOTLB (hit/fill), walking stage 1, stage 2 or both on a miss.
// Its collaborators: config-fetch.ts (STE/CD location and fetch), faults.ts (event records),
// invalidation.ts (CFGI/TLBI, driven by the command queue), inspect.ts (uncached inspector views).
// Per-access work on an untagged IOTLB hit (stage 1, nested or stage 2 only): the stream's hit
// record (one line of a typed array, config-cache.ts), a few typed-array hash probes and field
// copies; no allocation, no BigInt. With caches disabled, an unchanged STE/CD is still fetched
// from memory every time but its decode is reused (fetchSteMemo), so that path allocates nothing
// either.
import type { PhysMemory } from '../../memory/types.js';
import { EVT, EVT_CLASS } from '../../spec/smmuv3/events.js';
import { STE_S1DSS } from '../../spec/smmuv3/ste.js';
import type { SmmuFeatures } from '../features.js';
import { TableReader } from './table-reader.js';
import { ConfigFetcher } from './config-fetch.js';
import { Invalidation } from './invalidation.js';
import { cfgFault, transFault, walkFault } from './faults.js';
import { WORLD, type SteConfig } from './ste-config.js';
import { Walker } from './walker.js';
import * as walker from './walker.js';
import { Iotlb } from './iotlb.js';
import * as iotlb from './iotlb.js';
import { ConfigCache, SteCacheEntry, CdCacheEntry } from './config-cache.js';
import * as configCache from './config-cache.js';
import * as types from './types.js';
import * as cdConfig from './cd-config.js';
import type { StreamTableConfig, TranslationRequest, TranslationResult, TranslatorOptions, TranslatorStats } from './types.js';

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
// Offsets in and alignments to power-of-two blocks are written x - floor(x / p) * p and
// floor(x / p) * p: exact for p = 2^n, where `%` on a double is a library call in V8.
const TWO32 = 0x1_0000_0000;
/** Size reported for a bypass translation (identity, any alignment works). */
const BYPASS_SHIFT = 30;
// Constants and helpers the per-access paths use are bound here, module-local: V8 (Node 20) folds
// a module's own unexported constants into optimised code, but reads an imported (or exported)
// binding through its cell, with a hole check, at every use.
const { PERM_R, PERM_W, PERM_X, XLATE_KIND } = types;
const PERM_ALL = PERM_R | PERM_W | PERM_X;
const { FR_CLASS_SHIFT, FR_TAG_MASK, FR_MASK_HI, FR_MASK_LO, FR_ONE_TAG_BIT, FR_WITH_CD_BIT } = configCache;
const WORLD_EL2 = WORLD.EL2;
const { KIND_S1, KIND_S2, tagKey, packMeta, metaGlobal, metaSh, metaMair, metaS2Attr } = iotlb;
const { SLOT, W_PAGE, W_KEY, W_OUT, W_OUTHI, TAG_LO_BITS } = iotlb.SLOT_LAYOUT;
const { homeSlot, keyWord } = iotlb;
const { permits } = walker;
const { WC_IA, WC_WORDS } = cdConfig;

/** The saved configuration (the caches are not saved: they restart empty, which is always legal). */
export interface TranslatorState {
  readonly streamTable: StreamTableConfig;
  readonly recordInvalidSid: boolean;
  readonly e2h: boolean;
}

export class Translator {
  readonly reader: TableReader;
  /** The table walker (the inspector walks with it, Access-flag updates off). */
  readonly walker: Walker;
  private readonly cfgCache: ConfigCache;
  /** The configuration cache's flags word by hit-record flags class (ConfigCache.recordFlags). */
  private readonly recordFlags: Int32Array;
  private readonly tlb: Iotlb;
  private cachesOn: boolean;
  /** STE/CD location and fetch (the inspector fetches through it, uncached). */
  readonly fetcher: ConfigFetcher;
  /** CFGI/TLBI over this engine's caches: the Invalidator the command queue drives. */
  readonly invalidation: Invalidation;
  private walks = 0;
  private readonly oasLimit: number;

  constructor(
    readonly mem: PhysMemory,
    readonly features: SmmuFeatures,
    options: TranslatorOptions = {},
  ) {
    this.reader = new TableReader(mem, features.oasBits);
    this.walker = new Walker(this.reader, features);
    this.fetcher = new ConfigFetcher(this.reader, this.walker, features);
    const configCacheSize = options.configCacheSize ?? 4096;
    // Each hit record of the configuration cache pins its IOTLB tag (at most one per cache entry).
    this.tlb = new Iotlb(options.tlbSize ?? 16384, configCacheSize);
    this.cfgCache = new ConfigCache(configCacheSize, this.tlb, features.oasBits);
    this.recordFlags = this.cfgCache.recordFlags;
    this.cachesOn = options.cachesEnabled ?? true;
    this.invalidation = new Invalidation(this.cfgCache, this.tlb, features);
    this.oasLimit = 2 ** features.oasBits;
  }

  // ---------------------------------------------------------------- configuration from registers

  /** SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG. Does not invalidate (software issues CFGI_ALL). */
  setStreamTable(cfg: StreamTableConfig): void {
    this.fetcher.setStreamTable(cfg);
  }

  get streamTable(): StreamTableConfig {
    return this.fetcher.st;
  }

  /** SMMU_CR2.RECINVSID: record C_BAD_STREAMID for out-of-range StreamIDs. */
  setRecordInvalidSid(on: boolean): void {
    this.fetcher.recInvSid = on;
  }

  /** SMMU_CR2.E2H: STRW = EL2 selects the EL2-E2H StreamWorld (takes effect on STE fetch). */
  setE2H(on: boolean): void {
    this.fetcher.e2h = on;
  }

  setCachesEnabled(on: boolean): void {
    this.cachesOn = on;
    if (!on) this.invalidateEverything();
  }

  get cachesEnabled(): boolean {
    return this.cachesOn;
  }

  /** Reset: empties both caches and clears the pushed configuration. */
  reset(): void {
    this.invalidateEverything();
    this.fetcher.setStreamTable({ base: 0, log2Size: 0, fmt: 0, split: 6 });
    this.fetcher.recInvSid = false;
    this.fetcher.e2h = false;
  }

  saveState(): TranslatorState {
    const f = this.fetcher;
    return { streamTable: { ...f.st }, recordInvalidSid: f.recInvSid, e2h: f.e2h };
  }

  restoreState(s: TranslatorState): void {
    this.invalidateEverything();
    this.setStreamTable(s.streamTable);
    this.fetcher.recInvSid = s.recordInvalidSid;
    this.fetcher.e2h = s.e2h;
  }

  private invalidateEverything(): void {
    this.cfgCache.invalidateAll();
    this.tlb.invalidateAll();
  }

  stats(): TranslatorStats {
    const c = this.cfgCache.counters;
    const t = this.tlb.counters;
    return {
      configHits: c.hits + this.fastHits + this.fastCdHits, configMisses: c.misses, tlbHits: t.hits + this.fastHits, tlbMisses: t.misses, walks: this.walks,
      memReads: this.reader.reads, configEvictions: c.evictions, tlbEvictions: t.evictions,
      configInvalidations: c.invalidations, tlbInvalidations: t.invalidations,
      configEntries: this.cfgCache.size, tlbEntries: this.tlb.size,
    };
  }

  resetStats(): void {
    const c = this.cfgCache.counters;
    const t = this.tlb.counters;
    c.hits = c.misses = c.evictions = c.invalidations = 0;
    t.hits = t.misses = t.evictions = t.invalidations = 0;
    this.fastHits = 0;
    this.fastCdHits = 0;
    this.walks = 0;
    this.reader.reads = 0;
    this.reader.writes = 0;
  }

  // ---------------------------------------------------------------- translation

  /** Convenience: translates a number address (allocation-free as well). */
  translateAddress(sid: number, ssid: number | null, addr: number, write: boolean, out: TranslationResult, instr = false, priv = false): boolean {
    const r = this.scratchReq;
    r.sid = sid;
    r.ssid = ssid === null ? -1 : ssid;
    r.addrLo = addr >>> 0;
    r.addrHi = Math.floor(addr / TWO32) >>> 0;
    r.write = write;
    r.instr = instr;
    r.priv = priv;
    return this.translate(r, out);
  }

  private readonly scratchReq: TranslationRequest = { sid: 0, ssid: -1, addrLo: 0, addrHi: 0, write: false, instr: false, priv: false };

  /**
   * Translates one transaction. Returns `out.ok`. On failure `out.event` / `out.record` /
   * `out.stall` / `out.razWi` say what a real SMMU does (see TranslationResult).
   */
  translate(req: TranslationRequest, out: TranslationResult): boolean {
    // An untagged access whose stream has a hit record is first looked up through it; when that
    // finds no IOTLB entry, the full path skips its own (identical) lookup.
    if (this.cachesOn && req.ssid < 0) {
      const h = this.fastHit(req, out, req.sid >>> 0);
      return h > 0 || this.translateFull(req, out, h < 0);
    }
    return this.translateFull(req, out, false);
  }

  /**
   * {@link translate} past the hit record: configuration, IOTLB and walk. `probed`: the record's
   * lookup found no IOTLB entry. A function of its own, so that translate() is small and V8 spends
   * its inlining budget for it on the hit path (iotlb-hit measured about 7% faster).
   */
  private translateFull(req: TranslationRequest, out: TranslationResult, probed: boolean): boolean {
    const sid = req.sid >>> 0;
    out.ok = false;
    out.tlbHit = false;
    out.record = false;
    out.stall = false;
    out.razWi = false;
    out.event.type = 0;
    // ---- STE
    let se: SteCacheEntry | undefined = this.cachesOn ? this.cfgCache.getSte(sid) : undefined;
    if (se !== undefined) this.cfgCache.counters.hits++;
    else {
      this.cfgCache.counters.misses++;
      if (this.cachesOn) {
        const ste = this.fetcher.fetchSte(sid, req, out);
        if (ste === null) return false;
        se = this.cfgCache.putSte(sid, ste);
      } else {
        const u = this.fetcher.fetchSteMemo(sid, req, out);
        if (u === null) return false;
        se = u;
      }
    }
    const write = req.write;
    const priv = effectivePriv(se.privCfg, req.priv);
    const instr = effectiveInstr(se.instCfg, write, req.instr);
    const kind = se.kind;
    out.kind = kind;
    if (kind === XLATE_KIND.NONE) return false; // Config abort: terminated, no event (§5.2 Config)
    const ssid = req.ssid;
    if (kind === XLATE_KIND.BYPASS) {
      if (ssid >= 0) return cfgFault(out, req, EVT.C_BAD_SUBSTREAMID, priv, instr);
      return this.bypass(req, out, priv, instr, -1);
    }
    if (kind === XLATE_KIND.S2) {
      if (ssid >= 0) return cfgFault(out, req, EVT.C_BAD_SUBSTREAMID, priv, instr);
      return this.stage2Only(req, out, priv, instr, se, probed);
    }
    // ---- stage 1 (or nested): which CD (§5.2 S1CDMax, S1DSS)
    let cdIndex = 0;
    if (ssid >= 0) {
      if (se.s1CdMax === 0 || ssid >= P2[se.s1CdMax]!) return cfgFault(out, req, EVT.C_BAD_SUBSTREAMID, priv, instr);
      if (se.s1Dss === STE_S1DSS.SSID0 && ssid === 0) return cfgFault(out, req, EVT.F_STREAM_DISABLED, priv, instr);
      cdIndex = ssid;
    } else if (se.s1CdMax !== 0) {
      if (se.s1Dss === STE_S1DSS.BYPASS) {
        return kind === XLATE_KIND.NESTED ? this.stage2Only(req, out, priv, instr, se, false) : this.bypass(req, out, priv, instr, se.vmid);
      }
      if (se.s1Dss !== STE_S1DSS.SSID0) return cfgFault(out, req, EVT.F_STREAM_DISABLED, priv, instr);
    }
    let ce: CdCacheEntry | undefined = this.cachesOn ? (cdIndex === 0 ? (se.cd0 ?? undefined) : se.cds.get(cdIndex)) : undefined;
    if (ce !== undefined) this.cfgCache.counters.hits++;
    else {
      this.cfgCache.counters.misses++;
      if (this.cachesOn) {
        const cd = this.fetcher.fetchCd(se.ste, cdIndex, req, out, priv, instr);
        if (cd === null) return false;
        ce = se.alive ? this.cfgCache.putCd(se, cdIndex, cd) : new CdCacheEntry(se, cdIndex, cd, new Uint32Array(2 * WC_WORDS), 0);
      } else {
        const u = this.fetcher.fetchCdMemo(se, cdIndex, req, out, priv, instr);
        if (u === null) return false;
        ce = u;
      }
    }
    return this.stage1(req, out, priv, instr, se, ce, probed);
  }

  /**
   * The untagged IOTLB hit through the stream's hit record (config-cache.ts): the same outcome
   * and counters as the full path below (STE hit, CD 0 hit unless stage 2 only, IOTLB hit),
   * touching one 4-byte record of per-stream state (and the IOTLB's IDs word of the record's
   * tag). 1 on a hit.
   * Otherwise nothing is changed and the full path handles the access: -1 when the record applies
   * and the IOTLB holds no entry for the address (the full path then need not look again), 0 in
   * every other case (no record, out of range, or an entry that does not permit the access).
   */
  private fastHit(req: TranslationRequest, out: TranslationResult, sid: number): number {
    const e = this.recordProbe(sid, req.addrLo | 0, req.addrHi | 0);
    if (e < 0) return e === -1 ? -1 : 0;
    const flags = this.recFlags;
    const ids = this.tlb.tagIds[this.recTag]!;
    const write = req.write;
    // effectivePriv, effectiveInstr, Iotlb.permsOf and permits, written out. V8 optimises
    // translate() (this method inlined) while most accesses still walk, and inlines only the calls
    // it has seen often by then: calls here stayed calls, and a hit cost about 20% more with them.
    const privCfg = (flags >>> 4) & 3;
    const priv = privCfg >= 2 ? privCfg === 3 : req.priv;
    const instCfg = (flags >>> 6) & 3;
    const instr = !write && (instCfg >= 2 ? instCfg === 3 : req.instr);
    const perms = (this.tlb.slots[e * SLOT + W_OUTHI]! >>> (priv ? 8 : 11)) & 7;
    if ((perms & (write ? PERM_W : instr ? PERM_X : PERM_R)) === 0) return 0;
    // Counted here; stats() adds them to the STE, CD (a record with a CD) and IOTLB hit counts.
    this.fastHits++;
    this.fastCdHits += (flags >>> FR_WITH_CD_BIT) & 1;
    out.kind = (flags >>> 1) & 7;
    out.record = false;
    out.stall = false;
    out.razWi = false;
    out.event.type = 0;
    this.hitKey = ((req.addrHi >>> 0) & 0xfffff) * TWO32 + (req.addrLo >>> 0);
    this.hit(out, e, priv, ((flags >>> 12) & 3) === WORLD_EL2 ? -1 : ids >>> 16, ids & 0xffff);
    return 1;
  }

  /** The hit record's flags word and pinned tag index, of the last {@link recordProbe} that found one. */
  private recFlags = 0;
  private recTag = 0;

  /**
   * The IOTLB lookup of an untagged access through its stream's hit record (config-cache.ts), for
   * the address whose 32-bit halves are `lo` / `hi` (int32 values: larger numbers passed to a call
   * are boxed): the entry's slot; -1 when the record applies but the IOTLB holds no entry for the
   * address; -2 when no record applies (none, region disabled by EPDx, address out of range).
   * Touches one 4-byte record of per-stream state.
   */
  private recordProbe(sid: number, lo: number, hi: number): number {
    const f = this.cfgCache.fast[sid >>> 12];
    if (f === undefined) return -2;
    const rec = f[sid & 4095]!;
    const flags = this.recordFlags[rec >>> FR_CLASS_SHIFT]!;
    const region = recordRegion(flags, lo, hi);
    if (region < 0) return -2;
    const ts = rec & FR_TAG_MASK;
    this.recFlags = flags;
    this.recTag = ts;
    const tlb = this.tlb;
    const keyHi = hi & 0xfffff;
    // The record pins its tag's IOTLB index (config-cache.ts): no tag lookup. A stage-1 EL1
    // stream's global entries are under a second tag (the flags' oneTag clear).
    let e = tlb.lookupIndex(ts, region, lo, keyHi);
    if (e < 0 && ((flags >>> FR_ONE_TAG_BIT) & 1) === 0 && tlb.globalEntries > 0) e = tlb.lookupTag((flags >>> 12) & 3, tlb.tagIds[ts]! & 0xffff, 0, region, lo, keyHi);
    return e;
  }

  /** Output address of the last successful {@link lookupData} (a field: a returned double would be boxed). */
  dataPa = 0;

  /**
   * The DMA fast path: an untagged data access by stream `sid` at the address whose 32-bit halves
   * are `lo` / `hi` (int32 values), when it is a permitted IOTLB hit found through the stream's hit
   * record, gives the log2 size of its page or block and leaves its PA in {@link dataPa}; otherwise
   * -1, having changed nothing (then {@link translate} gives the outcome). The access is
   * unprivileged unless STE.PRIVCFG says otherwise (PCIe untagged traffic, §13.7). Counts as one
   * STE, CD and IOTLB hit, as translate() would.
   */
  lookupData(sid: number, lo: number, hi: number, write: boolean): number {
    const tlb = this.tlb;
    const shift = tlb.oneShift;
    // With caches disabled the IOTLB is empty (emptied when they are disabled, filled only while
    // they are enabled): oneShift is 0 and the general path answers.
    if (shift === 0) return this.lookupDataSlow(sid, lo, hi, write);
    // The IOTLB holds one page or block size below 4 GiB (the usual case): recordProbe, the
    // IOTLB's probe at that size and the hit written out here as one function, with no call. The
    // DMA path asks this for every chunk, and V8 left the calls of the general path as calls (it
    // inlines a limited amount of code into one function): iotlb-hit-dma measured about 20% slower.
    const f = this.cfgCache.fast[sid >>> 12];
    if (f === undefined) return -1;
    const rec = f[sid & 4095]!;
    const flags = this.recordFlags[rec >>> FR_CLASS_SHIFT]!;
    const region = recordRegion(flags, lo, hi);
    if (region < 0) return -1;
    const ts = rec & FR_TAG_MASK;
    const keyHi = hi & 0xfffff;
    const pageLo = (lo >>> shift) | (keyHi << (32 - shift));
    const pageHi = keyHi >>> shift;
    const want = keyWord(ts, region, shift, pageHi);
    const tsHi = ts >>> TAG_LO_BITS;
    const slots = tlb.slots;
    const mask = tlb.mask;
    tlb.searches++;
    let i = homeSlot(ts, region, shift, pageLo, pageHi, tlb.hashShift);
    for (;;) {
      const k = slots[i * SLOT + W_KEY]!;
      if (k === want && slots[i * SLOT + W_PAGE] === pageLo && slots[i * SLOT + W_OUTHI]! >>> 22 === tsHi) break;
      // No entry under the record's tag: the stream's global entries are under a second one.
      if (k === 0) return ((flags >>> FR_ONE_TAG_BIT) & 1) === 0 && tlb.globalEntries > 0 ? this.lookupDataSlow(sid, lo, hi, write) : -1;
      i = (i + 1) & mask;
    }
    // effectivePriv, effectiveInstr and permits for an untagged data access, written out.
    const outHi = slots[i * SLOT + W_OUTHI]!;
    const perms = (outHi >>> (((flags >>> 4) & 3) === 3 ? 8 : 11)) & 7;
    if ((perms & (write ? PERM_W : ((flags >>> 6) & 3) === 3 ? PERM_X : PERM_R)) === 0) return -1;
    this.fastHits++;
    this.fastCdHits += (flags >>> FR_WITH_CD_BIT) & 1;
    this.dataPa = ((outHi & 0xff) * TWO32 + (slots[i * SLOT + W_OUT]! >>> 0)) * 4096 + (lo & ((1 << shift) - 1));
    return shift;
  }

  /** {@link lookupData} through {@link recordProbe} and the IOTLB's general lookup (several page and block sizes, global entries). */
  private lookupDataSlow(sid: number, lo: number, hi: number, write: boolean): number {
    if (!this.cachesOn) return -1;
    const e = this.recordProbe(sid, lo, hi);
    if (e < 0) return -1;
    const flags = this.recFlags;
    const priv = effectivePriv((flags >>> 4) & 3, false);
    const instr = effectiveInstr((flags >>> 6) & 3, write, false);
    const tlb = this.tlb;
    if (!permits(tlb.permsOf(e, priv), write, instr)) return -1;
    this.fastHits++;
    this.fastCdHits += (flags >>> FR_WITH_CD_BIT) & 1;
    tlb.outAt(e, lo, hi);
    this.dataPa = tlb.outPa;
    return tlb.shiftOf(e);
  }

  /**
   * Touches the IOTLB slots {@link lookupData} would read first for accesses by stream `sid` at
   * the addresses whose 32-bit halves are `lo[k]` / `hi[k]`, for k from `from` to `to` - 1
   * (through the stream's hit record), and returns what it read, XORed; changes and counts
   * nothing. A caller with several accesses to look up touches them all first: their cache misses
   * then overlap (a tight loop: the CPU has many of them in flight at once).
   */
  touchData(sid: number, lo: Int32Array, hi: Int32Array, from: number, to: number): number {
    const f = this.cfgCache.fast[sid >>> 12];
    if (f === undefined) return 0;
    const rec = f[sid & 4095]!;
    if (rec === 0) return 0;
    return this.tlb.touch(rec & FR_TAG_MASK, lo, hi, from, to);
  }

  /** Hits through a hit record (each one STE hit and one IOTLB hit), and those of them that were CD hits too. */
  private fastHits = 0;
  private fastCdHits = 0;

  // ---------------------------------------------------------------- paths

  /** Both stages bypass (STE bypass, or S1DSS bypass without stage 2): identity within the OAS (§3.4). */
  private bypass(req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean, vmid: number): boolean {
    const addr = req.addrHi * TWO32 + req.addrLo;
    if (!(addr < this.oasLimit)) return transFault(out, req, EVT.F_ADDR_SIZE, priv, instr, false, EVT_CLASS.IN, 0, 0, false, null, null);
    out.ok = true;
    out.kind = XLATE_KIND.BYPASS;
    out.pa = addr;
    out.size = P2[BYPASS_SHIFT]!;
    out.perms = out.permsPriv = out.permsUnpriv = PERM_ALL;
    out.mairAttr = -1;
    out.s2MemAttr = -1;
    out.sh = 0;
    out.asid = -1;
    out.vmid = vmid;
    out.global = true;
    return true;
  }

  /**
   * Stage 1 bypassed, stage 2 translates the input as an IPA (§3.4: IAS check first). `probed`:
   * the stream's hit record (whose pinned tag is this stage-2 tag) already found no IOTLB entry.
   */
  private stage2Only(req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean, se: SteCacheEntry, probed: boolean): boolean {
    const s2 = se.ste.s2!;
    const ipa = req.addrHi * TWO32 + req.addrLo;
    if (!(ipa < this.oasLimit)) return transFault(out, req, EVT.F_ADDR_SIZE, priv, instr, false, EVT_CLASS.IN, 0, 0, false, null, null);
    const write = req.write;
    out.kind = XLATE_KIND.S2;
    let absent = probed;
    if (this.cachesOn) {
      if (!probed) {
        this.tlb.probe = ipa;
        this.tlb.probeTag = se.s2Tag;
        const e = this.tlb.lookupProbe(0);
        if (e >= 0 && permits(this.tlb.permsOf(e, priv), write, instr)) {
          this.tlb.counters.hits++;
          this.hitKey = ipa;
          return this.hit(out, e, priv, -1, s2.vmid);
        }
        absent = e < 0;
      }
      this.tlb.counters.misses++;
    }
    this.walks++;
    const w = this.walker;
    w.s2Ipa = ipa;
    if (!w.s2(s2, write, instr, EVT_CLASS.IN, priv)) return walkFault(this.walker, out, req, priv, instr, null, s2);
    const shift = w.s2Shift;
    const s2p = s2Effective(w.s2Perms);
    const s2u = s2Effective(w.s2PermsUnpriv);
    const outBase = w.s2Pa - (ipa - Math.floor(ipa / P2[shift]!) * P2[shift]!);
    if (this.cachesOn) {
      const tlb = this.tlb;
      tlb.insTag = se.s2Tag;
      tlb.insAddr = ipa;
      tlb.insOut = outBase;
      tlb.insAbsent = absent;
      tlb.insPinned = probed ? this.recTag : -1;
      const e = tlb.insert(0, shift, packMeta(shift, 0, s2p, s2u, true, w.s2Sh, -1, w.s2MemAttr));
      this.hitKey = ipa;
      return this.hit(out, e, priv, -1, s2.vmid, false);
    }
    this.fillPa = outBase + (ipa - Math.floor(ipa / P2[shift]!) * P2[shift]!);
    return this.fill(out, shift, s2p, s2u, priv, -1, w.s2MemAttr, w.s2Sh, true, -1, s2.vmid);
  }

  /** `probed`: the hit record's lookup already found no IOTLB entry for this access. */
  private stage1(req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean, se: SteCacheEntry, ce: CdCacheEntry, probed: boolean): boolean {
    const hiIn = req.addrHi >>> 0;
    const region = (hiIn >>> 23) & 1; // VA[55] selects TTB0 / TTB1
    if (!(region === 1 ? ce.en1 : ce.en0)) return transFault(out, req, EVT.F_TRANSLATION, priv, instr, false, EVT_CLASS.IN, 0, 0, false, ce.cd, null);
    // Range check (§3.4.1): VA[top:ia] must all equal VA[55]; top = 55 with TBI, else 63.
    const hiMask = region === 1 ? ce.hiMask1 : ce.hiMask0;
    const loMask = region === 1 ? ce.loMask1 : ce.loMask0;
    const hiTop = hiIn & hiMask;
    const loTop = req.addrLo & loMask;
    const inRange = region === 1 ? hiTop === hiMask && loTop === loMask : (hiTop | loTop) === 0;
    if (!inRange) return transFault(out, req, EVT.F_TRANSLATION, priv, instr, false, EVT_CLASS.IN, 0, 0, false, ce.cd, null);
    // Region key: VA[51:0] (the TLB key; TLBI addresses reduce the same way).
    const key = (hiIn & 0xfffff) * TWO32 + (req.addrLo >>> 0);
    const write = req.write;
    // Whether the IOTLB is known to hold no entry for this access (so a refill need not look for one to replace).
    let absent = probed;
    if (this.cachesOn) {
      const tlb = this.tlb;
      if (!probed) {
        tlb.probe = key;
        tlb.probeTag = ce.tagNg;
        let e = tlb.lookupProbe(region);
        if (e < 0 && ce.tagNg !== ce.tagG && tlb.globalEntries > 0) {
          tlb.probeTag = ce.tagG;
          e = tlb.lookupProbe(region);
        }
        if (e >= 0 && permits(tlb.permsOf(e, priv), write, instr)) {
          tlb.counters.hits++;
          this.hitKey = key;
          return this.hit(out, e, priv, ce.asid, se.vmid);
        }
        absent = e < 0;
      }
      tlb.counters.misses++;
    }
    this.hitKey = key;
    // After a probe through the stream's hit record, the record's pinned tag index is CD 0's
    // non-global tag's (config-cache.ts checks that before it writes the record): the refill
    // needs no tag lookup for it.
    return this.stage1Walk(req, out, priv, instr, se, ce, region, absent, probed ? this.recTag : -1);
  }

  /**
   * IOTLB miss: stage-1 walk (and stage 2 when nested), then insert. The input address is in
   * `hitKey`; `absent`: the lookup found no entry for it, so the refill adds one without looking;
   * `pinnedNg`: the IOTLB index of the CD's non-global tag when the caller holds it pinned, else -1.
   */
  private stage1Walk(
    req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean, se: SteCacheEntry, ce: CdCacheEntry, region: number, absent: boolean,
    pinnedNg: number,
  ): boolean {
    const key = this.hitKey;
    const w = this.walker;
    const at = ce.walkAt + region * WC_WORDS;
    w.useS1Packed(ce.walk, at);
    const ia = ce.walk[at + WC_IA]!;
    const el2 = se.world === WORLD_EL2;
    const s2 = se.s2;
    const write = req.write;
    const tagNg = ce.tagNg;
    const tagG = ce.tagG;
    this.walks++;
    // VA[ia-1:0] (ia <= 52) as int32 halves, from the request's (the region key's bits are its bits [51:0]).
    const hiKey = req.addrHi & 0xfffff;
    w.s1VaLo = ia >= 32 ? req.addrLo | 0 : req.addrLo & ((1 << ia) - 1);
    w.s1VaHi = ia >= 32 ? hiKey & ((1 << (ia - 32)) - 1) : 0;
    if (!w.s1(write, priv, el2, s2)) return walkFault(this.walker, out, req, priv, instr, ce.cd, s2);
    const pp = w.s1PermsPriv;
    const pu = w.s1PermsUnpriv;
    if (!permits(priv ? pp : pu, write, instr)) {
      return transFault(out, req, EVT.F_PERMISSION, priv, instr, false, EVT_CLASS.IN, 0, 0, false, ce.cd, null);
    }
    let shift = w.s1Shift;
    let pa = w.s1Oa;
    let permsPriv = pp;
    let permsUnpriv = pu;
    let s2Attr = -1;
    let sh = w.s1Sh;
    const attr = w.s1Attr;
    const global = w.s1Global;
    if (s2 !== null) {
      const ipa = w.s1Oa;
      w.s2Ipa = ipa;
      if (!w.s2(s2, write, instr, EVT_CLASS.IN, priv)) return walkFault(this.walker, out, req, priv, instr, ce.cd, s2);
      pa = w.s2Pa;
      if (w.s2Shift < shift) shift = w.s2Shift;
      permsPriv &= s2Effective(w.s2Perms);
      permsUnpriv &= s2Effective(w.s2PermsUnpriv);
      s2Attr = w.s2MemAttr;
      sh = w.s2Sh > sh ? w.s2Sh : sh;
    }
    const outBase = pa - (key - Math.floor(key / P2[shift]!) * P2[shift]!);
    if (this.cachesOn) {
      const tlb = this.tlb;
      const tag = global ? tagG : tagNg;
      tlb.insTag = tag;
      tlb.insAddr = key;
      tlb.insOut = outBase;
      tlb.insAbsent = absent;
      tlb.insPinned = tag === tagNg ? pinnedNg : -1;
      const e = tlb.insert(region, shift, packMeta(shift, region, permsPriv, permsUnpriv, global, sh, attr, s2Attr));
      this.hitKey = key;
      return this.hit(out, e, priv, ce.asid, se.vmid, false);
    }
    this.fillPa = pa;
    return this.fill(out, shift, permsPriv, permsUnpriv, priv, attr, s2Attr, sh, global, ce.asid, se.vmid);
  }

  /** Input address (region key) of the current IOTLB hit: a field, so that no double is passed as an argument (V8 boxes those). */
  private hitKey = 0;

  /** Fills `out` from IOTLB slot `e` for the input address in `hitKey`. No allocation. */
  private hit(out: TranslationResult, e: number, priv: boolean, asid: number, vmid: number, fromTlb = true): boolean {
    const tlb = this.tlb;
    const m = tlb.attrsOf(e);
    const shift = tlb.shiftOf(e);
    const pp = tlb.permsOf(e, true);
    const pu = tlb.permsOf(e, false);
    const global = metaGlobal(m);
    out.ok = true;
    out.tlbHit = fromTlb;
    const size = P2[shift]!;
    const key = this.hitKey;
    tlb.outAt(e, key | 0, (key / TWO32) | 0);
    out.pa = tlb.outPa;
    out.size = size;
    out.permsPriv = pp;
    out.permsUnpriv = pu;
    out.perms = priv ? pp : pu;
    out.mairAttr = metaMair(m);
    out.s2MemAttr = metaS2Attr(m);
    out.sh = metaSh(m);
    out.global = global;
    out.asid = global ? -1 : asid;
    out.vmid = vmid;
    return true;
  }

  /** Output address for {@link fill} (a field, like `hitKey`). */
  private fillPa = 0;

  /** Fills `out` from an uncached walk's leaf; the PA is in `fillPa`. */
  private fill(
    out: TranslationResult, shift: number, permsPriv: number, permsUnpriv: number, priv: boolean,
    attr: number, s2Attr: number, sh: number, global: boolean, asid: number, vmid: number,
  ): boolean {
    out.ok = true;
    out.pa = this.fillPa;
    out.size = P2[shift]!;
    out.permsPriv = permsPriv;
    out.permsUnpriv = permsUnpriv;
    out.perms = priv ? permsPriv : permsUnpriv;
    out.mairAttr = attr;
    out.s2MemAttr = s2Attr;
    out.sh = sh;
    out.global = global;
    out.asid = global ? -1 : asid;
    out.vmid = vmid;
    return true;
  }

  // ---------------------------------------------------------------- inspector (inspect.ts)

  /** Translates without consulting or filling the caches (the inspector's verbose translation). */
  translateUncached(req: TranslationRequest, out: TranslationResult): boolean {
    const saved = this.cachesOn;
    this.cachesOn = false;
    try {
      return this.translate(req, out);
    } finally {
      this.cachesOn = saved;
    }
  }
}

/**
 * The region (0: TTB0, 1: TTB1, by VA[55]) of the address whose 32-bit halves are `lo` / `hi`
 * when the hit record with flags `flags` applies to it, else -1: no record, region disabled by
 * EPDx, or the address outside the region's range (§3.4.1), checked with the masks the CD entry
 * holds (see FR_MASK_HI).
 */
function recordRegion(flags: number, lo: number, hi: number): number {
  const hiIn = hi >>> 0;
  const region = (hiIn >>> 23) & 1;
  if (((flags >>> (8 + region)) & (flags & 1)) === 0) return -1;
  const mi = ((flags >>> (14 + 7 * region)) & 127) * 2 + ((flags >>> (10 + region)) & 1);
  const hiMask = FR_MASK_HI[mi]!;
  const loMask = FR_MASK_LO[mi]!;
  const hiTop = hiIn & hiMask;
  const loTop = lo & loMask;
  if (region === 1 ? !(hiTop === hiMask && loTop === loMask) : (hiTop | loTop) !== 0) return -1;
  return region;
}

/** The access's privilege after STE.PRIVCFG (§13.1.2): 0b10 unprivileged, 0b11 privileged, else as requested. */
function effectivePriv(privCfg: number, priv: boolean): boolean {
  return privCfg >= 2 ? privCfg === 3 : priv;
}

/** Whether the access is an instruction fetch after STE.INSTCFG (§13.1.2): writes are always data; 0b10 data, 0b11 instruction, else as requested. */
function effectiveInstr(instCfg: number, write: boolean, instr: boolean): boolean {
  return !write && (instCfg >= 2 ? instCfg === 3 : instr);
}

/**
 * Stage-2 permissions as they combine with stage 1. Execute does not depend on S2AP (a VMSAv8-64
 * stage 2 can encode execute-only pages, IHI 0070 §5.2 S2AA64 note), so they combine unchanged.
 */
function s2Effective(p: number): number {
  return p;
}
