// Decoding and validity of a Stream Table Entry into the engine's configuration object.
// IHI 0070 §5.2 (STE fields), §5.2.2 / SteIllegal() pseudocode (every ILLEGAL combination that
// applies to a Non-secure SMMU with VMSAv8-64 tables only), §5.5 (fault configuration).
import { rd, rdAddr } from '../../spec/bits.js';
import { STE, STE_CONFIG, STE_S1FMT } from '../../spec/smmuv3/ste.js';
import { TG0_SHIFT } from '../../spec/smmuv3/pagetable.js';
import { PS_BITS } from '../../spec/smmuv3/cd.js';
import type { SmmuFeatures } from '../features.js';
import { XLATE_KIND } from './types.js';

/** StreamWorld of a translating STE (§5.2 STRW, §3.3.3). */
export const WORLD = Object.freeze({ EL1: 0, EL2: 1, EL2_E2H: 2 });

/** Decoded stage-2 configuration (shared by STE and nested walks). */
export interface S2Config {
  readonly vmid: number;
  readonly t0sz: number;
  /** Input address bits: 64 - S2T0SZ. */
  readonly ia: number;
  readonly shift: number;
  readonly startLevel: number;
  /** Effective output size in bits: MIN(S2PS, OAS), 48 unless 64 KiB granule. */
  readonly ps: number;
  readonly ttb: number;
  readonly be: boolean;
  readonly affd: boolean;
  readonly ha: boolean;
  readonly hd: boolean;
  readonly ptw: boolean;
  readonly s: boolean;
  readonly r: boolean;
}

export interface SteConfig {
  /** Raw STE (lo/hi halves of 8 doublewords). */
  readonly words: Uint32Array;
  readonly config: number;
  /** XLATE_KIND.NONE (abort), BYPASS, S1, S2, NESTED. */
  readonly kind: number;
  readonly world: number;
  /** VMID used to tag TLB entries (0 when S2VMID is ignored). */
  readonly vmid: number;
  readonly s1Fmt: number;
  readonly s1ContextPtr: number;
  /**
   * Address of CD 0 of a linear CD table (one CD, or S1Fmt linear: §5.2 S1Fmt, S1ContextPtr
   * aligned to the table's size), the CD of index i being 64 * i further on; -1 for a 2-level
   * table. An IPA when the STE is nested. A field, computed at decode: an address of 2^31 or more
   * returned from a call per access that V8 does not inline would be a boxed double.
   */
  readonly linearCd: number;
  readonly s1CdMax: number;
  readonly s1Dss: number;
  readonly s1Stalld: boolean;
  readonly privCfg: number;
  readonly instCfg: number;
  readonly s2: S2Config | null;
}

/** {@link SteConfig.linearCd} of an STE with these S1Fmt, S1CDMax and S1ContextPtr. */
function linearCdBase(s1Fmt: number, s1CdMax: number, s1ContextPtr: number): number {
  if (s1CdMax !== 0 && s1Fmt !== STE_S1FMT.LINEAR) return -1;
  const align = 2 ** (s1CdMax + 6);
  return Math.floor(s1ContextPtr / align) * align;
}

/** Start level of a stage-2 walk from S2SL0 and the granule (VTCR_EL2.SL0 encoding); -1 = Reserved. */
export function s2StartLevel(sl0: number, shift: number): number {
  if (shift === 12) return sl0 === 0 ? 2 : sl0 === 1 ? 1 : sl0 === 2 ? 0 : -1;
  return sl0 === 0 ? 3 : sl0 === 1 ? 2 : sl0 === 2 ? 1 : -1;
}

/**
 * Whether a walk of `ia` input bits starting at `level` is consistent (Arm ARM: the start level
 * must resolve at least one bit and at most granule-3+4 bits, i.e. up to 16 concatenated tables).
 */
export function walkConsistent(ia: number, shift: number, level: number): boolean {
  if (level < 0 || level > 3) return false;
  const stride = shift - 3;
  const bits = ia - (shift + stride * (3 - level));
  if (bits < 1 || bits > stride + 4) return false;
  // Level 0 exists only for 4K/16K granules; 64K level 1 needs more than 42 bits (52-bit IPA).
  if (shift === 16 && level < 1) return false;
  return true;
}

export function granuleSupported(shift: number, f: SmmuFeatures): boolean {
  return (shift === 12 && f.gran4k) || (shift === 14 && f.gran16k) || (shift === 16 && f.gran64k);
}

/** Effective address size for IPS/S2PS: MIN(value, OAS), capped to 48 bits unless the granule is 64K. */
export function effectivePs(encoding: number, shift: number, f: SmmuFeatures): number {
  let ps = Math.min(PS_BITS[encoding & 7]!, f.oasBits);
  if (shift !== 16) ps = Math.min(ps, 48);
  return ps;
}

export type SteDecode = { ok: true; ste: SteConfig } | { ok: false };

/**
 * The 32-bit words, from the start, of the STE that {@link decodeSte} reads: doublewords 0-3. Two
 * STEs that differ only after them decode the same (decode-width.test.ts holds this), so the
 * caches-disabled memo compares only these.
 */
export const STE_DECODED_WORDS = 8;

/**
 * Decodes a fetched STE. Returns `{ok: false}` when it is invalid or ILLEGAL (C_BAD_STE).
 * Config 0b000..0b011 decodes as a valid abort configuration (0b001-0b011 are Reserved and behave
 * as 0b000, §5.2 Config).
 */
export function decodeSte(words: Uint32Array, f: SmmuFeatures, e2h: boolean): SteDecode {
  const w = new Uint32Array(words);
  if (rd(w, STE.V) === 0) return { ok: false };
  const config = rd(w, STE.CONFIG);
  const privCfg = f.attrPermsOvr ? rd(w, STE.PRIVCFG) : 0;
  const instCfg = f.attrPermsOvr ? rd(w, STE.INSTCFG) : 0;
  if (config < 4) return { ok: true, ste: steConfig(w, config, XLATE_KIND.NONE, WORLD.EL1, 0, 0, 0, 0, 0, false, privCfg, instCfg, null) };
  if (config === STE_CONFIG.BYPASS) return { ok: true, ste: steConfig(w, config, XLATE_KIND.BYPASS, WORLD.EL1, 0, 0, 0, 0, 0, false, privCfg, instCfg, null) };
  const s1 = (config & 1) === 1;
  const s2 = (config & 2) === 2;
  if (s1 && !f.s1p) return { ok: false };
  if (s2 && !f.s2p) return { ok: false };
  // ATS (only when advertised and not bypass).
  if (f.ats) {
    const eats = rd(w, STE.EATS);
    const s2s = rd(w, STE.S2S) === 1;
    if (eats === 2 && (config !== STE_CONFIG.NESTED || s2s)) return { ok: false };
    if (eats === 1 && s2s && s2) return { ok: false };
  }
  // StreamWorld: STRW is used only with stage 1 only (Config 0b101), RES0 without IDR0.HYP.
  let world: number = WORLD.EL1;
  if (config === STE_CONFIG.S1 && f.hyp) {
    const strw = rd(w, STE.STRW);
    if ((strw & 1) === 1) return { ok: false }; // 0bx1 Reserved/EL3: ILLEGAL for Non-secure
    if (strw === 2) world = e2h ? WORLD.EL2_E2H : WORLD.EL2;
  }
  const oasLimit = 2 ** f.oasBits;
  let s1Fmt = 0;
  let s1ContextPtr = 0;
  let s1CdMax = 0;
  let s1Dss = 0;
  let s1Stalld = false;
  if (s1) {
    s1Stalld = rd(w, STE.S1STALLD) === 1;
    if (s1Stalld && f.stallModel !== 'stall') return { ok: false };
    s1CdMax = f.ssidBits === 0 ? 0 : rd(w, STE.S1CDMAX);
    if (s1CdMax > f.ssidBits) return { ok: false };
    s1Fmt = s1CdMax === 0 ? 0 : rd(w, STE.S1FMT);
    if (s1Fmt === 3) s1Fmt = 0; // Reserved, behaves as linear
    if (s1CdMax !== 0 && s1Fmt !== 0 && !f.cd2l) return { ok: false };
    s1ContextPtr = rdAddr(w, STE.S1_CONTEXT_PTR);
    if (s1ContextPtr < 0 || s1ContextPtr >= oasLimit) return { ok: false }; // beyond PA/IPA range
    s1Dss = rd(w, STE.S1DSS);
    if (s1Dss === 3) s1Dss = 0; // Reserved, behaves as terminate
  }
  let s2cfg: S2Config | null = null;
  let vmid = 0;
  if (s2) {
    const s2s = rd(w, STE.S2S) === 1;
    if (s2s && f.stallModel === 'terminate') return { ok: false };
    if (!s2s && f.stallModel === 'force') return { ok: false };
    if (rd(w, STE.S2AA64) === 0) return { ok: false }; // VMSAv8-32 LPAE not implemented (IDR0.TTF = AArch64)
    const ha = rd(w, STE.S2HA) === 1;
    const hd = rd(w, STE.S2HD) === 1;
    if ((ha || hd) && f.httu === 0) return { ok: false };
    if (hd && f.httu === 1) return { ok: false };
    const shift = TG0_SHIFT[rd(w, STE.S2TG)]!;
    if (shift === 0 || !granuleSupported(shift, f)) return { ok: false };
    const ps = effectivePs(rd(w, STE.S2PS), shift, f);
    const ttb = rdAddr(w, STE.S2TTB);
    if (ttb < 0 || ttb >= 2 ** ps) return { ok: false };
    const t0sz = rd(w, STE.S2T0SZ);
    const ias = f.oasBits;
    const tmin = shift === 16 ? Math.max(12, 64 - ias) : Math.max(16, 64 - ias);
    if (t0sz < tmin || t0sz > 39) return { ok: false };
    const ia = 64 - t0sz;
    const sl0 = rd(w, STE.S2SL0);
    const start = s2StartLevel(sl0, shift);
    if (!walkConsistent(ia, shift, start)) return { ok: false };
    // AArch64.S2InvalidSL (Arm ARM, referenced by §5.2 S2SL0): SL0 = 0b10 (4K level 0, 16K/64K
    // level 1) needs a PA size of at least 44 bits (4K, 64K) or 42 bits (16K); PAMax is the OAS.
    if (sl0 === 2 && f.oasBits < (shift === 14 ? 42 : 44)) return { ok: false };
    const be = rd(w, STE.S2ENDI) === 1;
    if ((f.ttEndian === 'le' && be) || (f.ttEndian === 'be' && !be)) return { ok: false };
    vmid = rd(w, STE.S2VMID);
    if (!f.vmid16 && vmid > 0xff) return { ok: false };
    // Table base aligned to the (possibly concatenated) start-level table size.
    const startBits = ia - (shift + (shift - 3) * (3 - start));
    const tableBytes = 2 ** (startBits + 3);
    s2cfg = {
      vmid, t0sz, ia, shift, startLevel: start, ps,
      // 64-byte minimum alignment only with a 52-bit effective S2PS (§5.2 S2TTB).
      ttb: ttb - (ttb % (ps === 52 ? Math.max(tableBytes, 64) : tableBytes)),
      be, affd: rd(w, STE.S2AFFD) === 1, ha, hd, ptw: rd(w, STE.S2PTW) === 1, s: s2s, r: rd(w, STE.S2R) === 1,
    };
  } else if (f.s2p && world === WORLD.EL1) {
    // Stage 1 only at EL1: S2VMID still tags the TLB entries when stage 2 is implemented.
    vmid = rd(w, STE.S2VMID);
    if (!f.vmid16 && vmid > 0xff) return { ok: false };
  }
  if (world !== WORLD.EL1) vmid = 0;
  const kind = s1 && s2 ? XLATE_KIND.NESTED : s1 ? XLATE_KIND.S1 : XLATE_KIND.S2;
  return { ok: true, ste: steConfig(w, config, kind, world, vmid, s1Fmt, s1ContextPtr, s1CdMax, s1Dss, s1Stalld, privCfg, instCfg, s2cfg) };
}

/** One object shape for every decoded STE (keeps the consumers' property accesses monomorphic). */
function steConfig(
  words: Uint32Array, config: number, kind: number, world: number, vmid: number, s1Fmt: number, s1ContextPtr: number,
  s1CdMax: number, s1Dss: number, s1Stalld: boolean, privCfg: number, instCfg: number, s2: S2Config | null,
): SteConfig {
  const linearCd = linearCdBase(s1Fmt, s1CdMax, s1ContextPtr);
  return { words, config, world, vmid, s1Fmt, s1ContextPtr, linearCd, s1CdMax, s1Dss, s1Stalld, privCfg, instCfg, s2, kind };
}
