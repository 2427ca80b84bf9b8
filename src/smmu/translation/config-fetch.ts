// Locating and fetching the configuration structures: the STE of a StreamID through a linear or
// 2-level stream table (IHI 0070 §3.3.2, §6.3.24-25, L1STD §5.1) and CD `index` of an STE's CD
// table (§5.2 S1Fmt/S1CDMax, L1CD §5.3, §5.4), through stage 2 when nested. Failures are event
// records filled into the caller's result (faults.ts). Reads go through the TableReader (and
// appear in its trace when the inspector records one). The caches are the caller's: with caches
// disabled, fetchSteMemo/fetchCdMemo reuse the decode of unchanged words memoised per stream (up
// to 65,536 streams), so that path allocates nothing for an unchanged STE/CD.
import type { U64 } from '../../memory/types.js';
import { EVT, EVT_CLASS } from '../../spec/smmuv3/events.js';
import { addrInto, addrOf, rd } from '../../spec/bits.js';
import { L1STD, L1CD, L1STD_SPAN_MAX } from '../../spec/smmuv3/l1-descriptors.js';
import { STE_S1FMT } from '../../spec/smmuv3/ste.js';
import type { SmmuFeatures } from '../features.js';
import type { TableReader } from './table-reader.js';
import type { Walker } from './walker.js';
import { decodeSte, type SteConfig } from './ste-config.js';
import * as steConfig from './ste-config.js';
import { decodeCd, WC_WORDS, type CdConfig } from './cd-config.js';
import * as cdConfig from './cd-config.js';
import { SteCacheEntry, CdCacheEntry } from './config-cache.js';
import { cfgFault, fetchFault, walkFault } from './faults.js';
import { XLATE_KIND, type StreamTableConfig, type TranslationRequest, type TranslationResult } from './types.js';

const TWO32 = 0x1_0000_0000;
// Module-local copies: V8 folds a module's own constants into optimised code, and reads an
// imported binding through its module cell at every use.
const STE_CMP = steConfig.STE_DECODED_WORDS;
const CD_CMP = cdConfig.CD_DECODED_WORDS;
const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
// Offsets in and alignments to power-of-two blocks are written x - floor(x / p) * p and
// floor(x / p) * p: exact for p = 2^n, where `%` on a double is a library call in V8.

// The stream table as the SMMU reads it, from SMMU_STRTAB_BASE / _CFG (§6.3.24-25): shared by
// the fetch below and the inspector's scan of the table, so that both see the same StreamIDs.

/** Effective LOG2SIZE: as written, but at most IDR1.SIDSIZE. */
export function streamTableLog2(st: StreamTableConfig, f: SmmuFeatures): number {
  return Math.min(st.log2Size & 0x3f, f.sidBits);
}

/** Whether the table is 2-level (FMT = 1 with IDR0.ST_LEVEL allowing it; other values read as linear). */
export function streamTableTwoLevel(st: StreamTableConfig, f: SmmuFeatures): boolean {
  return f.stLevel2 && st.fmt === 1;
}

/** Effective SPLIT of a 2-level table: 6, 8 or 10 (a reserved value behaves as 6). */
export function streamTableSplit(st: StreamTableConfig): number {
  return st.split === 8 || st.split === 10 ? st.split : 6;
}

/** Whether an L1STD's SPAN describes an L2 table the SMMU uses: 1..L1STD_SPAN_MAX and at most SPLIT + 1 (else its StreamIDs are bad StreamIDs). */
export function streamTableSpanUsable(span: number, split: number): boolean {
  return span !== 0 && span <= L1STD_SPAN_MAX && span <= split + 1;
}

/**
 * PA of the linear table or of the L1 table: ADDR aligned to the larger of 64 bytes and that
 * table's size, computed from LOG2SIZE as written (§6.3.24).
 */
export function streamTableBase(st: StreamTableConfig, twoLevel: boolean): number {
  const literal = st.log2Size & 0x3f;
  const align = P2[Math.min(twoLevel ? Math.max(6, literal - streamTableSplit(st) + 3) : literal + 6, 52)]!;
  return Math.floor(st.base / align) * align;
}

export class ConfigFetcher {
  /** SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG as last pushed ({@link setStreamTable}). */
  get st(): StreamTableConfig {
    return this.table;
  }
  private table: StreamTableConfig = { base: 0, log2Size: 0, fmt: 0, split: 6 };
  // What locating an STE derives from the registers, derived once when they change: the table's
  // base address (the linear table's, or the L1 table's), whether it is 2-level, its StreamID
  // range (log2) and SPLIT.
  private stBase = 0;
  private stTwoLevel = false;
  private stLog2 = 0;
  private stSplit = 6;
  /** SMMU_CR2.RECINVSID: record C_BAD_STREAMID for out-of-range StreamIDs. */
  recInvSid = false;
  /** SMMU_CR2.E2H (taken into account by the STE decode). */
  e2h = false;
  /** PA of the last STE/CD located (inspector); -1 when locating failed. */
  lastStructAddr = -1;
  /**
   * PA of the STE or CD that {@link locateSte} / {@link locateCd} located (a field: a PA of 2^31 or
   * more returned from a call that V8 does not inline would be a boxed double).
   */
  private structPa = 0;
  /** Where L1 descriptors' addresses are decoded to (spec/bits.ts addrInto). */
  private readonly addrOut = new Float64Array(1);
  private readonly tmp: U64 = { lo: 0, hi: 0 };
  private readonly words = new Uint32Array(16);
  private readonly oasLimit: number;

  constructor(
    private readonly reader: TableReader,
    private readonly walker: Walker,
    private readonly features: SmmuFeatures,
  ) {
    this.oasLimit = 2 ** features.oasBits;
    this.setStreamTable(this.table);
  }

  /** SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG (a copy is kept). */
  setStreamTable(cfg: StreamTableConfig): void {
    const st = { base: cfg.base, log2Size: cfg.log2Size, fmt: cfg.fmt, split: cfg.split };
    this.table = st;
    this.stTwoLevel = streamTableTwoLevel(st, this.features);
    this.stBase = streamTableBase(st, this.stTwoLevel);
    this.stLog2 = streamTableLog2(st, this.features);
    this.stSplit = streamTableSplit(st);
  }

  /** Locates and decodes the STE of `sid` (§3.3.2, §6.3.24-25, §5.1). Null with the event filled on failure. */
  fetchSte(sid: number, req: TranslationRequest, out: TranslationResult): SteConfig | null {
    if (!this.readSte(sid, req, out)) return null;
    const d = decodeSte(this.words, this.features, this.e2h);
    if (!d.ok) {
      cfgFault(out, req, EVT.C_BAD_STE, req.priv, req.instr);
      return null;
    }
    return d.ste;
  }

  /** Locates and reads the STE of `sid` into `words` (§3.3.2); false with the event filled on failure. */
  private readSte(sid: number, req: TranslationRequest, out: TranslationResult): boolean {
    if (this.locateSte(sid, req, out)) return this.readStruct('ste', sid, req, out);
    this.lastStructAddr = -1;
    return false;
  }

  /**
   * Reads the 64-byte structure just located (at `structPa`) into `words`: the STE of StreamID
   * `index` (`kind` 'ste'; an abort is F_STE_FETCH) or CD `index` (`kind` 'cd'; F_CD_FETCH).
   * False with the event filled on failure.
   */
  private readStruct(kind: 'ste' | 'cd', index: number, req: TranslationRequest, out: TranslationResult): boolean {
    const addr = this.structPa;
    this.lastStructAddr = addr;
    if (!this.reader.readWords(addr, 8, this.words, this.tmp)) {
      if (this.reader.trace !== null) this.reader.step(kind, 0, -1, addr, index, addr, 0, 0, false);
      fetchFault(out, req, kind === 'ste' ? EVT.F_STE_FETCH : EVT.F_CD_FETCH, addr);
      return false;
    }
    if (this.reader.trace !== null) this.reader.step(kind, 0, -1, addr, index, addr, this.words[0]!, this.words[1]!, true);
    return true;
  }

  /**
   * Caches disabled: fetches the STE of `sid` from memory (every read is made, as without caches)
   * and decodes it, reusing the uncached entry memoised for the StreamID when the fetched words and
   * CR2.E2H are the same as when it was decoded (decoding is a pure function of those and the
   * fixed features), so that the uncached path allocates nothing for an unchanged STE, with one
   * stream or many. Null with the event filled on failure.
   */
  fetchSteMemo(sid: number, req: TranslationRequest, out: TranslationResult): SteCacheEntry | null {
    const slot = sid & (MEMO_SLOTS - 1);
    const page = this.memo[slot >>> MEMO_PAGE_BITS] ?? this.memoPage(slot);
    const i = slot & (MEMO_PAGE - 1);
    const w = page.words;
    const at = i * MEMO_STRIDE;
    const m = page.steEntries[i]!;
    const mc = page.cdEntries[i]!;
    // With many streams, each line this access reads of the stream's state is a cache miss: the
    // memo's words, its entries, and the STE and CD in guest memory (where they were last time).
    // They are all loaded here first, close together, so that the misses overlap instead of
    // following one another. The stream of the access before is in cache: no need.
    if (sid !== this.lastMemoSid) {
      this.lastMemoSid = sid;
      this.touched ^=
        w[at]! ^ w[at + MEMO_CD]! ^ w[at + MEMO_WALK]! ^
        this.reader.touchWord(w[at + MEMO_STE_AT]! | 0, w[at + MEMO_STE_AT_HI]! | 0) ^
        this.reader.touchWord(w[at + MEMO_CD_AT]! | 0, w[at + MEMO_CD_AT_HI]! | 0) ^
        (m === null ? 0 : m.sid) ^ (mc === null ? 0 : mc.index);
    }
    this.memoCd = mc;
    this.slotPage = page;
    this.slotIndex = i;
    if (!this.locateSte(sid, req, out)) {
      this.lastStructAddr = -1;
      return null;
    }
    const addr = this.structPa;
    const lo = addr | 0;
    const hi = Math.floor(addr / TWO32);
    w[at + MEMO_STE_AT] = lo;
    w[at + MEMO_STE_AT_HI] = hi;
    const mine = m !== null && m.sid === sid && m.memoE2h === this.e2h;
    // An unchanged STE is compared where it lies, not copied out first (no trace is being kept:
    // the inspector's trace records the words read).
    if (mine && this.reader.trace === null && this.reader.sameWords(lo, hi, 8, STE_CMP, page.words, i * MEMO_STRIDE)) {
      this.lastStructAddr = addr;
      return m;
    }
    if (!this.readStruct('ste', sid, req, out)) return null;
    const words = this.words;
    if (mine && sameWordsAt(words, page.words, i * MEMO_STRIDE, STE_CMP)) return m;
    const d = decodeSte(words, this.features, this.e2h);
    if (!d.ok) {
      cfgFault(out, req, EVT.C_BAD_STE, req.priv, req.instr);
      return null;
    }
    const e = new SteCacheEntry(sid, d.ste);
    e.memoE2h = this.e2h;
    page.steEntries[i] = e;
    page.cdEntries[i] = null;
    this.memoCd = null;
    page.words.set(words, i * MEMO_STRIDE);
    return e;
  }

  /** Caches disabled: like {@link fetchSteMemo} for CD `index` of the (memoised) STE entry `se`; one CD memoised per stream. */
  fetchCdMemo(se: SteCacheEntry, index: number, req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean): CdCacheEntry | null {
    // A linear CD table without stage 2 needs no read to locate the CD (se.cdBaseLo/Hi): the STE's
    // own decode is then not touched again.
    if (se.cdBaseHi >= 0) this.structPa = se.cdBaseHi * TWO32 + (se.cdBaseLo >>> 0) + index * 64;
    else if (!this.locateCd(se.ste, index, req, out, priv, instr)) {
      this.lastStructAddr = -1;
      return null;
    }
    const addr = this.structPa;
    const lo = addr | 0;
    const hi = Math.floor(addr / TWO32);
    const page = this.slotPage!;
    const i = this.slotIndex;
    const at = i * MEMO_STRIDE + MEMO_CD;
    const walkAt = i * MEMO_STRIDE + MEMO_WALK;
    const m = this.memoCd;
    const mine = m !== null && m.owner === se && m.index === index;
    page.words[i * MEMO_STRIDE + MEMO_CD_AT] = lo;
    page.words[i * MEMO_STRIDE + MEMO_CD_AT_HI] = hi;
    // As in fetchSteMemo: an unchanged CD is compared where it lies.
    if (mine && this.reader.trace === null && this.reader.sameWords(lo, hi, 8, CD_CMP, page.words, at)) {
      this.lastStructAddr = addr;
      return m;
    }
    if (!this.readStruct('cd', index, req, out)) return null;
    const words = this.words;
    if (mine && sameWordsAt(words, page.words, at, CD_CMP)) return m;
    const cd = decodeCd(words, se.ste, this.features);
    if (cd === null) {
      cfgFault(out, req, EVT.C_BAD_CD, priv, instr);
      return null;
    }
    const e = new CdCacheEntry(se, index, cd, page.words, walkAt);
    page.cdEntries[i] = e;
    page.words.set(words, at);
    return e;
  }

  /**
   * Uncached STE/CD entries and the words they were decoded from (caches disabled only), by
   * StreamID modulo MEMO_SLOTS (a stream whose slot another stream took is decoded again), in pages
   * allocated on first use: bounded by MEMO_SLOTS streams whatever StreamIDs the guest uses.
   */
  private readonly memo: (MemoPage | undefined)[] = [];
  /** The memo slot {@link fetchSteMemo} used (its page and index) and its CD entry as found there, for the fetchCdMemo that follows it. */
  private slotPage: MemoPage | null = null;
  private slotIndex = 0;
  private memoCd: CdCacheEntry | null = null;
  /** What fetchSteMemo's touch-ahead loaded, kept so that the compiler keeps the loads. */
  private touched = 0;
  /** StreamID of the last {@link fetchSteMemo} (-1: none yet). */
  private lastMemoSid = -1;

  private memoPage(slot: number): MemoPage {
    const p = new MemoPage();
    this.memo[slot >>> MEMO_PAGE_BITS] = p;
    return p;
  }

  /** Locates the STE for `sid`: its PA in `structPa`; false with C_BAD_STREAMID / F_STE_FETCH filled in. */
  private locateSte(sid: number, req: TranslationRequest, out: TranslationResult): boolean {
    if (!(sid < P2[this.stLog2]!)) return this.badSid(req, out);
    if (!this.stTwoLevel) {
      this.structPa = this.stBase + sid * 64;
      return true;
    }
    const st = this.table;
    const split = this.stSplit;
    const l1 = this.stBase + Math.floor(sid / P2[split]!) * 8;
    const t = this.tmp;
    const ok = this.reader.read64At(l1 | 0, Math.floor(l1 / TWO32), false, t);
    if (this.reader.trace !== null) this.reader.step('l1std', 0, -1, st.base, Math.floor(sid / P2[split]!), l1, t.lo, t.hi, ok);
    if (!ok) {
      fetchFault(out, req, EVT.F_STE_FETCH, l1);
      return false;
    }
    const span = rd(wordsOf(t), L1STD.SPAN);
    if (!streamTableSpanUsable(span, split)) return this.badSid(req, out);
    const low = (sid & ((1 << split) - 1)) >>> 0;
    if (low >= P2[span - 1]!) return this.badSid(req, out);
    addrInto(t.lo, t.hi, L1STD.L2PTR, this.addrOut, 0);
    const l2 = this.addrOut[0]!;
    if (l2 < 0) {
      // L2Ptr beyond any PA (bits above 52): the STE fetch is out of range (§3.4.3); FetchAddr keeps bits [52:0].
      const low52 = addrOf(t.lo, t.hi & 0x001f_ffff, L1STD.L2PTR);
      fetchFault(out, req, EVT.F_STE_FETCH, Math.floor(low52 / P2[span + 5]!) * P2[span + 5]! + low * 64);
      return false;
    }
    this.structPa = Math.floor(l2 / P2[span + 5]!) * P2[span + 5]! + low * 64;
    return true;
  }

  private badSid(req: TranslationRequest, out: TranslationResult): boolean {
    cfgFault(out, req, EVT.C_BAD_STREAMID, req.priv, req.instr, this.recInvSid);
    return false;
  }

  /**
   * Fetches and decodes CD `index` of the STE's CD table (§5.2 S1Fmt, §5.3 L1CD, §5.4), through
   * stage 2 when nested (faults then have CLASS = CD). Null with the event filled on failure.
   */
  fetchCd(ste: SteConfig, index: number, req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean): CdConfig | null {
    if (!this.readCd(ste, index, req, out, priv, instr)) return null;
    const cd = decodeCd(this.words, ste, this.features);
    if (cd === null) {
      cfgFault(out, req, EVT.C_BAD_CD, priv, instr);
      return null;
    }
    return cd;
  }

  /** Locates and reads CD `index` into `words`; false with the event filled on failure. */
  private readCd(ste: SteConfig, index: number, req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean): boolean {
    if (this.locateCd(ste, index, req, out, priv, instr)) return this.readStruct('cd', index, req, out);
    this.lastStructAddr = -1;
    return false;
  }

  /**
   * Nested: translates the CD-table IPA in `structPa` through stage 2, in place (faults have
   * CLASS = CD); otherwise it is the PA already. False with the event filled.
   */
  private cdIpaToPa(ste: SteConfig, req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean): boolean {
    if (ste.kind !== XLATE_KIND.NESTED) return true;
    const w = this.walker;
    w.s2Ipa = this.structPa;
    if (!w.s2(ste.s2!, false, false, EVT_CLASS.CD)) {
      walkFault(this.walker, out, req, priv, instr, null, ste.s2);
      return false;
    }
    this.structPa = w.s2Pa;
    return true;
  }

  /**
   * Locates CD `index` of the STE's CD table: its PA in `structPa`; false with the event
   * (F_CD_FETCH, C_BAD_SUBSTREAMID, stage-2 CLASS=CD fault) filled.
   */
  private locateCd(ste: SteConfig, index: number, req: TranslationRequest, out: TranslationResult, priv: boolean, instr: boolean): boolean {
    const base = ste.s1ContextPtr;
    const linear = ste.linearCd;
    if (linear >= 0) {
      this.structPa = linear + index * 64;
      return this.cdIpaToPa(ste, req, out, priv, instr);
    }
    const leafBits = ste.s1Fmt === STE_S1FMT.L2_4K ? 6 : 10;
    const l1Index = ste.s1CdMax > leafBits ? Math.floor(index / P2[leafBits]!) : 0;
    this.structPa = base + l1Index * 8;
    if (!this.cdIpaToPa(ste, req, out, priv, instr)) return false;
    const l1 = this.structPa;
    const t = this.tmp;
    const ok = this.reader.read64At(l1 | 0, Math.floor(l1 / TWO32), false, t);
    if (this.reader.trace !== null) this.reader.step('l1cd', 0, -1, base, l1Index, l1, t.lo, t.hi, ok);
    if (!ok) {
      fetchFault(out, req, EVT.F_CD_FETCH, l1);
      return false;
    }
    addrInto(t.lo, t.hi, L1CD.L2PTR, this.addrOut, 0);
    const ptr = this.addrOut[0]!;
    // 64 KiB leaves: L2Ptr[15:12] are RES0 and taken as zero (§5.2 S1Fmt).
    const l2 = Math.floor(ptr / P2[leafBits + 6]!) * P2[leafBits + 6]!;
    if (rd(wordsOf(t), L1CD.V) === 0 || ptr < 0 || l2 >= this.oasLimit) {
      cfgFault(out, req, EVT.C_BAD_SUBSTREAMID, priv, instr);
      return false;
    }
    this.structPa = l2 + (index & ((1 << leafBits) - 1)) * 64;
    return this.cdIpaToPa(ste, req, out, priv, instr);
  }
}

/** Whether the first `n` words of a structure equal those stored at word `at` of `b`. */
function sameWordsAt(a: Uint32Array, b: Uint32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[at + i]) return false;
  return true;
}

/** Streams the uncached decode memo holds (StreamID modulo this), in pages of MEMO_PAGE. */
const MEMO_SLOTS = 65536;
const MEMO_PAGE_BITS = 10;
const MEMO_PAGE = 1 << MEMO_PAGE_BITS;
/**
 * Words per stream in a memo page: the STE's 16, the last CD's 16, then the packed walk
 * configurations of that CD's TTB0 and TTB1 (WC_WORDS each): four adjacent cache lines.
 */
const MEMO_STRIDE = 64;
const MEMO_CD = 16;
const MEMO_WALK = 32;
/** Where the stream's STE and CD were last read (PA bits [31:0] and [63:32]), for the touch-ahead. */
const MEMO_STE_AT = 32 + 2 * WC_WORDS;
const MEMO_STE_AT_HI = MEMO_STE_AT + 1;
const MEMO_CD_AT = MEMO_STE_AT + 2;
const MEMO_CD_AT_HI = MEMO_STE_AT + 3;

class MemoPage {
  /** The slot's STE entry, and the CD last decoded through it (any index). */
  readonly steEntries: (SteCacheEntry | null)[] = new Array<SteCacheEntry | null>(MEMO_PAGE).fill(null);
  readonly cdEntries: (CdCacheEntry | null)[] = new Array<CdCacheEntry | null>(MEMO_PAGE).fill(null);
  /** The words each was decoded from. */
  readonly words = new Uint32Array(MEMO_PAGE * MEMO_STRIDE);
}

const w2 = new Uint32Array(2);
function wordsOf(t: U64): Uint32Array {
  w2[0] = t.lo;
  w2[1] = t.hi;
  return w2;
}
