// Stage-1 and stage-2 VMSAv8-64 table walks for the SMMUv3 (4K/16K/64K granules, blocks where
// legal, concatenated stage-2 start tables, 52-bit output with 64K/LPA, hierarchical attributes,
// access flag and dirty state with HTTU, nested stage-1 table walks through stage 2).
// IHI 0070 §3.4 (address sizes), §3.13 (HTTU), §7.3 (fault classes); Arm ARM D8 (VMSAv8-64).
// Every walk is bounded by its level count (at most 4 descriptor reads per stage).
import type { RamWords, U64 } from '../../memory/types.js';
import * as bits from '../../spec/bits.js';
import type { Field } from '../../spec/bits.js';
import * as pagetable from '../../spec/smmuv3/pagetable.js';
import { EVT, EVT_CLASS } from '../../spec/smmuv3/events.js';
import type { SmmuFeatures } from '../features.js';
import type { S2Config } from './ste-config.js';
import * as cdConfig from './cd-config.js';
import { TableReader } from './table-reader.js';
import * as types from './types.js';

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
// Module-local, as every constant and helper a walk uses: V8 (Node 20) folds a module's own
// unexported constants into optimised code, but reads an imported binding through its cell at
// every use.
const { WC_SHIFT, WC_START, WC_IA, WC_PS, WC_FLAGS, WC_TTB_LO, WC_TTB_HI, WC_MAIR_LO, WC_MAIR_HI, WCF_BE, WCF_HA, WCF_AFFD, WCF_HAD, WCF_HD, WCF_WXN, WCF_PAN } = cdConfig;
const { PERM_R, PERM_W, PERM_X } = types;
const { bitsInPlace, get64, rdLoHi } = bits;
const { S1_LEAF, S2_LEAF, S1_TABLE, GRANULES, DESC_OA_MSB, mairByte } = pagetable;

// The descriptor fields a walk tests, as in-place masks and shifts within the 32-bit half
// that holds them (derived once from the spec layer's fields, so that a walk reads a bit with one
// AND and calls nothing). A field moved to the other half fails here, at load time.
function bitIn(f: Field, half: 0 | 1): number {
  if (f.width !== 1 || f.half !== half) throw new Error(`walker: ${f.name} is not a bit of word ${half}`);
  return 1 << f.shift;
}
function shiftIn(f: Field, half: 0 | 1): number {
  if (f.half !== half) throw new Error(`walker: ${f.name} is not within word ${half}`);
  return f.shift;
}
const LO_AF = bitIn(S1_LEAF.AF, 0);
const LO_AP1 = bitIn(S1_LEAF.AP1, 0);
const LO_AP2 = bitIn(S1_LEAF.AP2, 0);
const LO_NG = bitIn(S1_LEAF.NG, 0);
const HI_DBM = bitIn(S1_LEAF.DBM, 1);
const HI_PXN = bitIn(S1_LEAF.PXN, 1);
const HI_UXN = bitIn(S1_LEAF.UXN, 1);
const SH_SHIFT = shiftIn(S1_LEAF.SH, 0);
const SH_MASK = S1_LEAF.SH.mask;
const ATTR_SHIFT = shiftIn(S1_LEAF.ATTR_INDX, 0);
const ATTR_MASK = S1_LEAF.ATTR_INDX.mask;
const HI_PXN_TABLE = bitIn(S1_TABLE.PXN_TABLE, 1);
const HI_XN_TABLE = bitIn(S1_TABLE.XN_TABLE, 1);
const AP_TABLE_SHIFT = shiftIn(S1_TABLE.AP_TABLE, 1);
const AP_TABLE_MASK = S1_TABLE.AP_TABLE.mask;
const LO_S2_AF = bitIn(S2_LEAF.AF, 0);
const LO_S2AP_R = bitIn(S2_LEAF.S2AP_R, 0);
const LO_S2AP_W = bitIn(S2_LEAF.S2AP_W, 0);
const HI_S2_DBM = bitIn(S2_LEAF.DBM, 1);
const XN_SHIFT = shiftIn(S2_LEAF.XN, 1);
const XN_MASK = S2_LEAF.XN.mask;
const MEM_ATTR_SHIFT = shiftIn(S2_LEAF.MEM_ATTR, 0);
const MEM_ATTR_MASK = S2_LEAF.MEM_ATTR.mask;
const S2_SH_SHIFT = shiftIn(S2_LEAF.SH, 0);
const S2_SH_MASK = S2_LEAF.SH.mask;

// Offsets in and alignments to power-of-two blocks are written x - floor(x / p) * p and
// floor(x / p) * p: exact for p = 2^n, where `%` on a double is a library call in V8.

/**
 * Output address of a descriptor (page/block base or next-level table) whose 32-bit halves are
 * `lo` / `hi` (int32 or uint32), left in DESC_ADDR[0]: an address of 2^31 or more returned from a
 * call that V8 does not inline would be a boxed double.
 */
function descAddrInto(lo: number, hi: number, lsb: number, shift: number, oa52: boolean): void {
  // Bits [47:lsb] in place; lsb < 32 for every table and for blocks up to 1 GiB (4 KiB granule).
  let a = lsb < 32 ? (hi & OA_HI_WORD) * TWO32 + ((lo & (-1 << lsb)) >>> 0) : bitsInPlace(lo, hi, DESC_OA_MSB, lsb);
  if (shift === 16 && oa52) a += get64(lo, hi, S1_LEAF.OA_HI_64K) * P2[DESC_OA_MSB + 1]!;
  DESC_ADDR[0] = a;
}
const DESC_ADDR = new Float64Array(1);

/** {@link descAddrInto}, returned (the inspector's table enumeration). */
function descAddr(lo: number, hi: number, lsb: number, shift: number, oa52: boolean): number {
  descAddrInto(lo, hi, lsb, shift, oa52);
  return DESC_ADDR[0]!;
}

const TWO32 = 2 ** 32;
/** Descriptor address bits [47:32] in the upper word. */
const OA_HI_WORD = 2 ** (DESC_OA_MSB - 31) - 1;

/** Whether a block descriptor is legal at `level` for the granule (64 KiB level-1 blocks need 52-bit output). */
function blockLegal(shift: number, level: number, oa52: boolean): boolean {
  return GRANULES[shift as 12 | 14 | 16].blockLevels.includes(level) && (level !== 1 || shift !== 16 || oa52);
}

// For the inspector's table enumeration. Separate bindings: exporting `descAddr` or `blockLegal`
// themselves would make the walk read them through a module cell (see the note at the top).
export const descriptorAddress = descAddr;
export const blockDescriptorLegal = blockLegal;

/** Bits [lsb, lsb + bits) of the address whose 32-bit halves are `lo`, `hi` (int32 or uint32): a table index (integer math; lsb >= 1). */
export function indexBits(lo: number, hi: number, lsb: number, bits: number): number {
  if (!(bits >= 1 && bits <= 30 && lsb >= 1 && lsb < 64)) return Math.floor(((hi >>> 0) * TWO32 + (lo >>> 0)) / P2[lsb]!) % P2[bits]!;
  const mask = (1 << bits) - 1;
  if (lsb >= 32) return (hi >>> (lsb - 32)) & mask;
  return ((lo >>> lsb) | (hi << (32 - lsb))) & mask;
}

/**
 * The walker keeps its last fault and leaf in fields (no allocation per walk). One instance per
 * Translator; not re-entrant.
 */
export class Walker {
  // ---- fault of the last failed call
  fType = 0;
  fS2 = false;
  fCls = 0;
  fIpa = 0;
  fFetch = 0;
  fTtrnw = false;
  // ---- stage-2 leaf of the last successful s2 call
  s2Pa = 0;
  s2Shift = 0;
  /** Permissions for privileged accesses; s2PermsUnpriv for unprivileged ones (they differ only in X, with FEAT_XNX). */
  s2Perms = 0;
  s2PermsUnpriv = 0;
  s2MemAttr = 0;
  s2Sh = 0;
  // ---- stage-1 leaf of the last successful s1 call
  s1Oa = 0;
  s1Shift = 0;
  s1PermsPriv = 0;
  s1PermsUnpriv = 0;
  s1Attr = 0;
  s1Sh = 0;
  s1Global = true;
  /**
   * Input VA of the next s1 call as int32 halves, bits [31:0] and [63:32] (fields: V8 boxes
   * numbers of 2^31 or more passed to calls it does not inline; halves also spare the walk a
   * division before its first index).
   */
  s1VaLo = 0;
  s1VaHi = 0;
  /** Input IPA of the next s2 call (a field, as s1VaLo). */
  s2Ipa = 0;
  /** When true (inspector), HTTU updates are computed and traced but not written to memory. */
  noUpdate = false;
  private readonly tmp: U64 = { lo: 0, hi: 0 };
  private readonly oa52: boolean;

  constructor(
    readonly reader: TableReader,
    readonly f: SmmuFeatures,
  ) {
    this.oa52 = f.oasBits === 52;
  }

  private fault(type: number, s2: boolean, cls: number, ipa: number, fetch: number, ttrnw: boolean): false {
    this.fType = type;
    this.fS2 = s2;
    this.fCls = cls;
    this.fIpa = ipa;
    this.fFetch = fetch;
    this.fTtrnw = ttrnw;
    return false;
  }

  /**
   * Stage-2 translation of `ipa` = s2Ipa for an access (`write`, `instr`) of the given CLASS (CD
   * fetch, stage-1 table walk, or input) by a `priv`ileged or unprivileged requester. On success
   * s2Pa is the PA of `ipa` and s2Shift/s2Perms/s2MemAttr describe the leaf. On failure the f*
   * fields describe the stage-2 fault.
   */
  s2(c: S2Config, write: boolean, instr: boolean, cls: number, priv = false): boolean {
    const ipa = this.s2Ipa;
    const ttrnw = !write;
    // Addresses, the IPA's halves and descriptor words stay in locals and fields or are int32
    // values: no call on the walk takes or returns a number of 2^31 or more (it would be boxed).
    const ipaHi = Math.floor(ipa / TWO32);
    const ipaLo = (ipa - ipaHi * TWO32) | 0;
    // The faulting IPA's page (`%` on a double is a library call in V8).
    const ipaPage = ipa - (ipaLo & 0xfff);
    if (!(ipa < P2[c.ia]!)) return this.fault(EVT.F_TRANSLATION, true, cls, ipaPage, 0, ttrnw);
    const shift = c.shift;
    const stride = shift - 3;
    const limit = P2[c.ps]!;
    const r = this.reader;
    const t = this.tmp;
    let table = c.ttb;
    const direct = !c.be && r.trace === null;
    const oasLimit = r.limit;
    const wide = shift === 16 && this.oa52;
    const tableMask = -1 << shift;
    const oasHi = oasLimit / TWO32;
    let kTable = -1;
    let kView: RamWords | null = null;
    for (let level = c.startLevel; level <= 3; level++) {
      const lsb = shift + stride * (3 - level);
      const bits = level === c.startLevel ? c.ia - lsb : stride;
      const idx = indexBits(ipaLo, ipaHi, lsb, bits);
      const addr = table + idx * 8;
      // TableReader.readPa, written out as in s1.
      let lo: number;
      let hi: number;
      const v = r.view;
      let k = -1;
      if (kTable >= 0 && v === kView) k = kTable + 2 * idx;
      else if (direct) {
        const off = addr - v.base;
        if (off >= 0 && addr + 8 <= v.end && addr + 8 <= oasLimit && (off & 3) === 0) k = off < TWO32 ? off >>> 2 : off / 4;
      }
      if (k >= 0 && k + 2 <= v.words!.length) {
        lo = v.words![k]! | 0;
        hi = v.words![k + 1]! | 0;
        r.reads++;
      } else {
        r.pa = addr;
        const ok = r.readPa(c.be, t);
        if (r.trace !== null) r.step('s2', 2, level, table, idx, addr, t.lo, t.hi, ok);
        if (!ok) return this.fault(EVT.F_WALK_EABT, true, cls, ipaPage, addr, ttrnw);
        lo = t.lo | 0;
        hi = t.hi | 0;
      }
      if ((lo & 1) === 0) return this.fault(EVT.F_TRANSLATION, true, cls, ipaPage, 0, ttrnw);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        // descAddrInto, written out unless a 64 KiB granule with 52-bit output puts address bits in the low word.
        let next: number;
        if (wide) {
          descAddrInto(lo, hi, shift, shift, true);
          next = DESC_ADDR[0]!;
        } else next = (hi & OA_HI_WORD) * TWO32 + ((lo & tableMask) >>> 0);
        if (next >= limit) return this.fault(EVT.F_ADDR_SIZE, true, cls, ipaPage, 0, ttrnw);
        table = next;
        kTable = direct && !wide ? this.wordIndexIn(v, lo & tableMask, hi & OA_HI_WORD, oasHi) : -1;
        kView = v;
        continue;
      }
      if (level === 3 ? !isTable : !blockLegal(shift, level, this.oa52)) {
        return this.fault(EVT.F_TRANSLATION, true, cls, ipaPage, 0, ttrnw);
      }
      descAddrInto(lo, hi, lsb, shift, this.oa52);
      const out = DESC_ADDR[0]!;
      if (out + P2[lsb]! > limit) return this.fault(EVT.F_ADDR_SIZE, true, cls, ipaPage, 0, ttrnw);
      const origLo = lo;
      if ((lo & LO_S2_AF) === 0) {
        if (c.ha) lo |= LO_S2_AF;
        else if (!c.affd) return this.fault(EVT.F_ACCESS, true, cls, ipaPage, 0, ttrnw);
      }
      let perms = ((lo & LO_S2AP_R) !== 0 ? PERM_R : 0) | ((lo & LO_S2AP_W) !== 0 ? PERM_W : 0);
      // Execute permission: XN[1] (bit 54) alone, or with FEAT_XNX (IDR3.XNX) XN[1:0]:
      // 0b00 both, 0b01 unprivileged only, 0b10 neither, 0b11 privileged only (Arm ARM D8.5).
      const xn = (hi >>> XN_SHIFT) & XN_MASK;
      let permsUnpriv = perms;
      if (this.f.xnx ? xn === 0 || xn === 3 : (xn & 2) === 0) perms |= PERM_X;
      if (this.f.xnx ? xn <= 1 : (xn & 2) === 0) permsUnpriv |= PERM_X;
      const dbmClean = (hi & HI_S2_DBM) !== 0 && (perms & PERM_W) === 0 && c.hd;
      // Instruction fetches need only execute permission at stage 2: S2AP and XN are independent,
      // so S2AP = 0b00 with XN = 0 is an execute-only page (Arm ARM stage-2 permissions; IHI 0070
      // §5.2 S2AA64 note, §13.7 "Stage 2 'XO' permission").
      const own = priv ? perms : permsUnpriv;
      const allowed = write ? (own & PERM_W) !== 0 || dbmClean : instr ? (own & PERM_X) !== 0 : (own & PERM_R) !== 0;
      if (!allowed) return this.fault(EVT.F_PERMISSION, true, cls, ipaPage, 0, ttrnw);
      if (write && dbmClean) {
        lo |= LO_S2AP_W;
        perms |= PERM_W;
        permsUnpriv |= PERM_W;
      }
      if (lo !== origLo) {
        // Hardware update (§3.13): read-modify-write of the descriptor, atomic in this model.
        r.pa = addr;
        const wok = this.noUpdate || r.writePa(c.be, lo, hi);
        if (r.trace !== null) r.step('httu', 2, level, table, idx, addr, lo >>> 0, hi >>> 0, wok);
        if (!wok) return this.fault(EVT.F_WALK_EABT, true, cls, ipaPage, addr, ttrnw);
      }
      this.s2Pa = out + (lsb < 31 ? ipaLo & ((1 << lsb) - 1) : rdLoHi(ipaLo, ipaHi, 0, lsb));
      this.s2Shift = lsb;
      this.s2Perms = perms;
      this.s2PermsUnpriv = permsUnpriv;
      this.s2MemAttr = (lo >>> MEM_ATTR_SHIFT) & MEM_ATTR_MASK;
      this.s2Sh = (lo >>> S2_SH_SHIFT) & S2_SH_MASK;
      return true;
    }
    return this.fault(EVT.F_TRANSLATION, true, cls, ipaPage, 0, ttrnw); // unreachable: level bound
  }

  /**
   * Translates the table/descriptor IPA in s2Ipa of a nested stage-1 walk through stage 2 (CLASS
   * TT) into s2Pa; false with the fault recorded. S2PTW: a stage-1 walk into Device memory at
   * stage 2 is a stage-2 permission fault (§5.2 S2PTW).
   */
  private s2ForWalk(s2: S2Config, write: boolean): boolean {
    const ipa = this.s2Ipa;
    if (!this.s2(s2, write, false, EVT_CLASS.TT)) return false;
    if (s2.ptw && (this.s2MemAttr & 0xc) === 0) return this.fault(EVT.F_PERMISSION, true, EVT_CLASS.TT, ipa - (ipa % 4096), 0, !write);
    return true;
  }

  // The walk configuration of the next s1(), set by useS1Packed.
  private wShift = 12;
  private wStart = 0;
  private wIa = 0;
  private wPs = 0;
  private wFlags = 0;
  private wTtb = 0;
  private wMairLo = 0;
  private wMairHi = 0;

  /** The next s1() walks with the packed configuration (cd-config.ts WC_*) at word `at` of `wc`. */
  useS1Packed(wc: Uint32Array, at: number): void {
    this.wShift = wc[at + WC_SHIFT]!;
    this.wStart = wc[at + WC_START]!;
    this.wIa = wc[at + WC_IA]!;
    this.wPs = wc[at + WC_PS]!;
    this.wFlags = wc[at + WC_FLAGS]!;
    this.wTtb = wc[at + WC_TTB_HI]! * TWO32 + wc[at + WC_TTB_LO]!;
    this.wMairLo = wc[at + WC_MAIR_LO]!;
    this.wMairHi = wc[at + WC_MAIR_HI]!;
  }

  /**
   * Stage-1 walk of the VA in s1VaLo / s1VaHi (already range-checked: 0 <= va < 2^ia, the bits of the region),
   * with the configuration last given to useS1Packed, for an access. On success s1Oa is
   * the output address (IPA when nested) of `va`, with s1Shift, s1Perms*, s1Attr (MAIR byte),
   * s1Global. Permission checking of the access is the caller's, except that HTTU dirty/access
   * updates happen here (`write` with DBM, AF with HA).
   */
  s1(write: boolean, priv: boolean, el2: boolean, s2: S2Config | null): boolean {
    const shift = this.wShift;
    const stride = shift - 3;
    const limit = P2[this.wPs]!;
    const r = this.reader;
    const t = this.tmp;
    const flags = this.wFlags;
    const be = (flags & WCF_BE) !== 0;
    const start = this.wStart;
    const ia = this.wIa;
    let table = this.wTtb;
    const direct = !be && r.trace === null;
    const oasLimit = r.limit;
    const wide = shift === 16 && this.oa52;
    const tableMask = -1 << shift;
    // 2^OAS / 2^32: a table whose address's upper half reaches it is at or beyond the OAS.
    const oasHi = oasLimit / TWO32;
    let kTable = -1;
    let kView: RamWords | null = null;
    // The upper words of the table descriptors passed, ORed: their hierarchical attributes
    // (APTable, XNTable, PXNTable) accumulate by OR down the walk, and are decoded at the leaf.
    let tableHi = 0;
    // As in s2: no call takes or returns a number of 2^31 or more.
    const vaHi = this.s1VaHi | 0;
    const vaLo = this.s1VaLo | 0;
    for (let level = start; level <= 3; level++) {
      const lsb = shift + stride * (3 - level);
      const idx = indexBits(vaLo, vaHi, lsb, level === start ? ia - lsb : stride);
      const ipaAddr = table + idx * 8;
      let addr = ipaAddr;
      if (s2 !== null) {
        this.s2Ipa = ipaAddr;
        if (!this.s2ForWalk(s2, false)) return false;
        addr = this.s2Pa;
      }
      // TableReader.readPa, written out for an untraced little-endian read in the RAM region
      // whose word view the reader holds (the usual walk): a few loads per level, where the call
      // stored the address and the words in fields and each was loaded back on the walk's
      // critical path (one descriptor's address depends on the descriptor before it).
      let lo: number;
      let hi: number;
      const v = r.view;
      // The descriptor's word index in the view: from the table's, found with integer operations
      // when the descriptor before lay in the same view (kTable), else from the address.
      let k = -1;
      if (kTable >= 0 && v === kView) k = kTable + 2 * idx;
      else if (direct) {
        const off = addr - v.base;
        if (off >= 0 && addr + 8 <= v.end && addr + 8 <= oasLimit && (off & 3) === 0) k = off < TWO32 ? off >>> 2 : off / 4;
      }
      if (k >= 0 && k + 2 <= v.words!.length) {
        lo = v.words![k]! | 0;
        hi = v.words![k + 1]! | 0;
        r.reads++;
      } else {
        r.pa = addr;
        const ok = r.readPa(be, t);
        if (r.trace !== null) r.step('s1', 1, level, table, idx, addr, t.lo, t.hi, ok);
        if (!ok) return this.fault(EVT.F_WALK_EABT, false, EVT_CLASS.TT, 0, addr, true);
        lo = t.lo | 0;
        hi = t.hi | 0;
      }
      if ((lo & 1) === 0) return this.fault(EVT.F_TRANSLATION, false, EVT_CLASS.IN, 0, 0, true);
      const isTable = (lo & 2) !== 0;
      if (level < 3 && isTable) {
        // descAddrInto, written out unless a 64 KiB granule with 52-bit output puts address bits in the low word.
        let next: number;
        if (wide) {
          descAddrInto(lo, hi, shift, shift, true);
          next = DESC_ADDR[0]!;
        } else next = (hi & OA_HI_WORD) * TWO32 + ((lo & tableMask) >>> 0);
        if (next >= limit) return this.fault(EVT.F_ADDR_SIZE, false, EVT_CLASS.IN, 0, 0, true);
        tableHi |= hi;
        table = next;
        // The next table's word index in this view, when it lies there (no stage 2, no trace).
        kTable = direct && s2 === null && !wide ? this.wordIndexIn(v, lo & tableMask, hi & OA_HI_WORD, oasHi) : -1;
        kView = v;
        continue;
      }
      if (level === 3 ? !isTable : !blockLegal(shift, level, this.oa52)) {
        return this.fault(EVT.F_TRANSLATION, false, EVT_CLASS.IN, 0, 0, true);
      }
      descAddrInto(lo, hi, lsb, shift, this.oa52);
      const out = DESC_ADDR[0]!;
      if (out + P2[lsb]! > limit) return this.fault(EVT.F_ADDR_SIZE, false, EVT_CLASS.IN, 0, 0, true);
      const origLo = lo;
      if ((lo & LO_AF) === 0) {
        if ((flags & WCF_HA) !== 0) lo |= LO_AF;
        else if ((flags & WCF_AFFD) === 0) return this.fault(EVT.F_ACCESS, false, EVT_CLASS.IN, 0, 0, true);
      }
      // With CD.HAD the table attributes are ignored (§5.4 HAD0/HAD1).
      if ((flags & WCF_HAD) !== 0) tableHi = 0;
      const apTable = (tableHi >>> AP_TABLE_SHIFT) & AP_TABLE_MASK;
      const xnTable = (tableHi & HI_XN_TABLE) !== 0;
      const pxnTable = (tableHi & HI_PXN_TABLE) !== 0;
      this.computeS1Perms(flags, lo, hi, apTable, xnTable, pxnTable, el2);
      // Dirty state (§3.13.3): DBM with AP[2] = 1 and CD.HD: a permitted write clears AP[2].
      const dbmClean = (flags & WCF_HD) !== 0 && (hi & HI_DBM) !== 0 && (lo & LO_AP2) !== 0 && (apTable & 2) === 0;
      if (write && dbmClean) {
        const pp = this.s1PermsPriv;
        const pu = this.s1PermsUnpriv;
        this.computeS1Perms(flags, lo & ~LO_AP2, hi, apTable, xnTable, pxnTable, el2);
        if (permits(priv ? this.s1PermsPriv : this.s1PermsUnpriv, true, false)) {
          lo &= ~LO_AP2;
        } else {
          this.s1PermsPriv = pp;
          this.s1PermsUnpriv = pu;
        }
      }
      if (lo !== origLo) {
        let waddr = addr;
        if (s2 !== null) {
          // The update is a write at stage 2 (TTRnW = 0 on a fault).
          this.s2Ipa = ipaAddr;
          if (!this.s2ForWalk(s2, true)) return false;
          waddr = this.s2Pa;
        }
        r.pa = waddr;
        const wok = this.noUpdate || r.writePa(be, lo, hi);
        if (r.trace !== null) r.step('httu', 1, level, table, idx, waddr, lo >>> 0, hi >>> 0, wok);
        if (!wok) return this.fault(EVT.F_WALK_EABT, false, EVT_CLASS.TT, 0, waddr, false);
      }
      this.s1Oa = out + (lsb < 31 ? vaLo & ((1 << lsb) - 1) : rdLoHi(vaLo, vaHi, 0, lsb));
      this.s1Shift = lsb;
      // int32 halves: a MAIR word >= 2^31 passed as a number would be boxed (allocated) at the call.
      this.s1Attr = mairByte(this.wMairLo | 0, this.wMairHi | 0, (lo >>> ATTR_SHIFT) & ATTR_MASK);
      this.s1Sh = (lo >>> SH_SHIFT) & SH_MASK;
      this.s1Global = el2 || (lo & LO_NG) === 0;
      return true;
    }
    return this.fault(EVT.F_TRANSLATION, false, EVT_CLASS.IN, 0, 0, true);
  }

  /**
   * The word index in view `v` of the table whose address's halves are `lo` (bits [31:0], int32)
   * and `hi` (bits [63:32]), when the table lies in the view and below the OAS (`hi` below
   * `oasHi`, 2^OAS / 2^32); else -1. Integer operations only: the walks take the next read's index
   * from it, so that the read waits on no double arithmetic (a conversion, a multiply and two
   * adds on each level's critical path before).
   */
  private wordIndexIn(v: RamWords, lo: number, hi: number, oasHi: number): number {
    if (!(hi < oasHi)) return -1;
    const baseLo = v.base | 0;
    const d = (lo - baseLo) | 0;
    // The offset's upper half: hi minus the base's, less a borrow from the lower halves.
    const borrow = lo >>> 0 < baseLo >>> 0 ? 1 : 0;
    return hi - borrow === Math.floor(v.base / TWO32) && (d & 3) === 0 && d >>> 0 < v.end - v.base ? d >>> 2 : -1;
  }

  /** Stage-1 permissions for privileged and unprivileged accesses (Arm ARM D8.4, §13.7); `flags`: the walk configuration's WCF_* bits. */
  computeS1Perms(flags: number, lo: number, hi: number, apTable: number, xnTable: boolean, pxnTable: boolean, el2: boolean): void {
    let ap1 = (lo & LO_AP1) !== 0;
    let ap2 = (lo & LO_AP2) !== 0;
    // For execute permission (WXN, implicit PXN) a writable-clean descriptor (DBM = 1 with CD.HD)
    // counts as writable (IHI 0070 §3.13.3 note, as Armv8-A); not when APTable removes write.
    let ap2x = ap2 && !((flags & WCF_HD) !== 0 && (hi & HI_DBM) !== 0);
    if ((apTable & 2) !== 0) ap2 = ap2x = true;
    const uxn = (hi & HI_UXN) !== 0 || xnTable;
    if (el2) {
      // EL2 (no E2H): one privilege level, AP[1] and PXN are ignored, XN = bit 54.
      let p = PERM_R | (ap2 ? 0 : PERM_W);
      if (!uxn && !((flags & WCF_WXN) !== 0 && !ap2x)) p |= PERM_X;
      this.s1PermsPriv = p;
      this.s1PermsUnpriv = p;
      return;
    }
    if ((apTable & 1) !== 0) ap1 = false;
    const pxn = (hi & HI_PXN) !== 0 || pxnTable;
    const unprivW = ap1 && !ap2;
    // PAN: privileged data accesses to EL0-accessible pages fault.
    let priv = (flags & WCF_PAN) !== 0 && ap1 ? 0 : PERM_R | (ap2 ? 0 : PERM_W);
    let unpriv = (ap1 ? PERM_R : 0) | (unprivW ? PERM_W : 0);
    // Writable at EL0 (including writable-clean) implies privileged execute-never.
    if (!pxn && !(ap1 && !ap2x)) priv |= PERM_X;
    if (!uxn) unpriv |= PERM_X;
    if ((flags & WCF_WXN) !== 0 && !ap2x) {
      priv &= ~PERM_X;
      unpriv &= ~PERM_X;
    }
    this.s1PermsPriv = priv;
    this.s1PermsUnpriv = unpriv;
  }
}

/** Permission check shared by walks and IOTLB hits: does `perms` allow the access? */
export function permits(perms: number, write: boolean, instr: boolean): boolean {
  return write ? (perms & PERM_W) !== 0 : instr ? (perms & PERM_X) !== 0 : (perms & PERM_R) !== 0;
}

