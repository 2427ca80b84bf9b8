// Decoding and validity of a Context Descriptor into the engine's stage-1 configuration.
// IHI 0070 §5.4 (CD fields), CdIllegal()/CDTxSZInvalid() pseudocode (VMSAv8-64, Non-secure),
// §5.4.1.1 (EPDx), §3.4.1 (input range, TBI), §5.5 (A/R/S).
import { rd, rdAddr } from '../../spec/bits.js';
import { CD, CD_TG1_SHIFT } from '../../spec/smmuv3/cd.js';
import { TG0_SHIFT } from '../../spec/smmuv3/pagetable.js';
import type { SmmuFeatures } from '../features.js';
import { WORLD, granuleSupported, effectivePs, type SteConfig } from './ste-config.js';

/**
 * One TTBx translation configuration of a CD: everything a stage-1 walk through TTBx reads, the
 * CD-wide walk controls included, so that a walk touches this one object.
 */
export interface TtConfig {
  /** false when EPDx == 1 (a walk through it gives F_TRANSLATION). */
  readonly enabled: boolean;
  readonly tsz: number;
  /** Input bits: 64 - TxSZ. */
  readonly ia: number;
  readonly shift: number;
  readonly startLevel: number;
  readonly ttb: number;
  readonly tbi: boolean;
  /** Hierarchical attributes disabled (HADx, only when IDR3.HAD). */
  readonly had: boolean;
  /** Stage-1 effective output size (IPS capped by OAS, and by 48 unless 64K). */
  readonly ps: number;
  /** The CD's walk controls: ENDI, AFFD, HA, HD, WXN, PAN and MAIR. */
  readonly be: boolean;
  readonly affd: boolean;
  readonly ha: boolean;
  readonly hd: boolean;
  readonly wxn: boolean;
  readonly pan: boolean;
  readonly mairLo: number;
  readonly mairHi: number;
}

// A TTBx walk configuration packed in words (packWalk), as the translator's stage-1 walks read it
// (Walker.useS1Packed): each CD entry has its two packed in a typed array (the configuration
// cache's, or the decode memo's beside the CD words), so that a walk reads no object.
export const WC_SHIFT = 0;
export const WC_START = 1;
export const WC_IA = 2;
export const WC_PS = 3;
/** WCF_* bits. */
export const WC_FLAGS = 4;
export const WC_TTB_LO = 5;
export const WC_TTB_HI = 6;
export const WC_MAIR_LO = 7;
export const WC_MAIR_HI = 8;
export const WC_WORDS = 9;
export const WCF_BE = 1;
export const WCF_HA = 2;
export const WCF_AFFD = 4;
export const WCF_HAD = 8;
export const WCF_HD = 16;
export const WCF_WXN = 32;
export const WCF_PAN = 64;

/** The WCF_* bits of a walk configuration. */
export function walkFlags(t: TtConfig): number {
  return (t.be ? WCF_BE : 0) | (t.ha ? WCF_HA : 0) | (t.affd ? WCF_AFFD : 0) | (t.had ? WCF_HAD : 0) | (t.hd ? WCF_HD : 0) | (t.wxn ? WCF_WXN : 0) | (t.pan ? WCF_PAN : 0);
}

/** Writes the packed form of `t` (see WC_SHIFT) at word `at` of `w`. */
export function packWalk(t: TtConfig, w: Uint32Array, at: number): void {
  w[at + WC_SHIFT] = t.shift;
  w[at + WC_START] = t.startLevel;
  w[at + WC_IA] = t.ia;
  w[at + WC_PS] = t.ps;
  w[at + WC_FLAGS] = walkFlags(t);
  w[at + WC_TTB_LO] = t.ttb % 0x1_0000_0000;
  w[at + WC_TTB_HI] = Math.floor(t.ttb / 0x1_0000_0000);
  w[at + WC_MAIR_LO] = t.mairLo;
  w[at + WC_MAIR_HI] = t.mairHi;
}

export interface CdConfig {
  readonly words: Uint32Array;
  readonly asid: number;
  readonly tt: readonly [TtConfig, TtConfig];
  /** Effective IPA size (bits): MIN(IPS, OAS), per granule cap applied per walk. */
  readonly ipsEnc: number;
  readonly s: boolean;
  readonly r: boolean;
  readonly a: boolean;
}

/** Start level of a stage-1 walk: enough levels to resolve `ia` bits with this granule. */
export function s1StartLevel(ia: number, shift: number): number {
  const stride = shift - 3;
  return 4 - Math.ceil((ia - shift) / stride);
}

const DISABLED_TT: TtConfig = Object.freeze({
  enabled: false, tsz: 0, ia: 0, shift: 12, startLevel: 0, ttb: 0, tbi: false, had: false,
  ps: 0, be: false, affd: false, ha: false, hd: false, wxn: false, pan: false, mairLo: 0, mairHi: 0,
});

/**
 * The 32-bit words, from the start, of the CD that {@link decodeCd} reads: doublewords 0-3 (up to
 * MAIR). Two CDs that differ only after them decode the same (decode-width.test.ts holds this),
 * so the caches-disabled memo compares only these.
 */
export const CD_DECODED_WORDS = 8;

/** Decodes a fetched CD for the given STE; null when V == 0 or ILLEGAL (C_BAD_CD). */
export function decodeCd(words: Uint32Array, ste: SteConfig, f: SmmuFeatures): CdConfig | null {
  const w = new Uint32Array(words);
  if (rd(w, CD.V) === 0) return null;
  const s = rd(w, CD.S) === 1;
  const a = rd(w, CD.A) === 1;
  if (ste.s1Stalld && s) return null;
  if (f.termModel && !a) return null;
  if (f.stallModel === 'terminate' && s) return null;
  if (f.stallModel === 'force' && !s) return null;
  // EL2 without E2H has a single VA range: TTB1 is treated as disabled.
  const el2 = ste.world === WORLD.EL2;
  const epd0 = rd(w, CD.EPD0) === 1;
  const epd1 = el2 || rd(w, CD.EPD1) === 1;
  const be = rd(w, CD.ENDI) === 1;
  if (!(epd0 && epd1) && ((f.ttEndian === 'le' && be) || (f.ttEndian === 'be' && !be))) return null;
  if (rd(w, CD.AA64) === 0) return null; // VMSAv8-32 LPAE not implemented (IDR0.TTF = AArch64)
  const ha = rd(w, CD.HA) === 1;
  const hd = rd(w, CD.HD) === 1;
  if ((ha || hd) && f.httu === 0) return null;
  if (hd && f.httu === 1) return null;
  const asid = rd(w, CD.ASID);
  if (ste.world !== WORLD.EL2 && !f.asid16 && asid > 0xff) return null;
  const ipsEnc = rd(w, CD.IPS);
  const affd = rd(w, CD.AFFD) === 1;
  const wxn = rd(w, CD.WXN) === 1;
  const pan = rd(w, CD.PAN) === 1;
  const tt: TtConfig[] = [];
  for (let i = 0; i < 2; i++) {
    const disabled = i === 0 ? epd0 : epd1;
    if (disabled) {
      tt.push(DISABLED_TT);
      continue;
    }
    const tsz = rd(w, i === 0 ? CD.T0SZ : CD.T1SZ);
    const tgEnc = rd(w, i === 0 ? CD.TG0 : CD.TG1);
    const shift = i === 0 ? TG0_SHIFT[tgEnc]! : CD_TG1_SHIFT[tgEnc]!;
    if (shift === 0 || !granuleSupported(shift, f)) return null;
    // CDTxSZInvalid: max 39 (no IDR3.STT), min 12 with VAX and 64K granule, else 16.
    const tmin = f.vax && shift === 16 ? 12 : 16;
    if (tsz < tmin || tsz > 39) return null;
    const p = effectivePs(ipsEnc, shift, f);
    const ttbRaw = rdAddr(w, i === 0 ? CD.TTB0 : CD.TTB1);
    if (ttbRaw < 0 || ttbRaw >= 2 ** p) return null;
    const ia = 64 - tsz;
    const start = s1StartLevel(ia, shift);
    const stride = shift - 3;
    const startBits = ia - (shift + stride * (3 - start));
    const tableBytes = 2 ** (startBits + 3);
    tt.push({
      enabled: true, tsz, ia, shift, startLevel: start,
      // Aligned to the start-level table size; 64 bytes minimum only with a 52-bit effective IPS (§5.4 TTB0).
      ttb: ttbRaw - (ttbRaw % (p === 52 ? Math.max(tableBytes, 64) : tableBytes)),
      tbi: rd(w, i === 0 ? CD.TBI0 : CD.TBI1) === 1,
      had: f.had && rd(w, i === 0 ? CD.HAD0 : CD.HAD1) === 1,
      ps: p, be, affd, ha, hd, wxn, pan, mairLo: w[6]!, mairHi: w[7]!,
    });
  }
  return {
    words: w, asid: ste.world === WORLD.EL2 ? 0 : asid, tt: [tt[0]!, tt[1]!], ipsEnc, s, r: rd(w, CD.R) === 1, a,
  };
}
