// Event builders of the translation engine: each fills the caller's reusable TranslationResult
// (its event record and the record / stall / RAZ-WI outcome) and returns false, so a failing step
// ends with `return cfgFault(...)`. IHI 0070 §7.3 (event records), §5.5 (CD.R/S/A, STE.S2R/S2S).
// No allocation: faults are data written into `out`, never exceptions.
import { EVT } from '../../spec/smmuv3/events.js';
import type { S2Config } from './ste-config.js';
import type { CdConfig } from './cd-config.js';
import type { Walker } from './walker.js';
import type { TranslationRequest, TranslationResult } from './types.js';

/** The fields every event record of `req` shares (§7.3). */
export function baseEvent(out: TranslationResult, req: TranslationRequest, type: number, priv: boolean, instr: boolean): void {
  const ev = out.event;
  ev.type = type;
  ev.sid = req.sid >>> 0;
  ev.ssv = req.ssid >= 0;
  ev.ssid = req.ssid >= 0 ? req.ssid & 0xfffff : 0;
  ev.stag = 0;
  ev.stall = false;
  ev.pnu = priv;
  ev.ind = instr && !req.write;
  ev.rnw = !req.write;
  ev.nsipa = false;
  ev.s2 = false;
  ev.cls = 0;
  ev.ttrnw = false;
  ev.inputLo = req.addrLo >>> 0;
  ev.inputHi = req.addrHi >>> 0;
  ev.ipa = 0;
  ev.fetchAddr = 0;
}

/** C_* configuration errors and F_STREAM_DISABLED: always recorded, transaction aborted. */
export function cfgFault(out: TranslationResult, req: TranslationRequest, type: number, priv: boolean, instr: boolean, record = true): false {
  baseEvent(out, req, type, priv, instr);
  out.record = record;
  return false;
}

/** F_STE_FETCH / F_CD_FETCH: FetchAddr is the failing address, 8-byte aligned. */
export function fetchFault(out: TranslationResult, req: TranslationRequest, type: number, addr: number): false {
  baseEvent(out, req, type, req.priv, req.instr);
  out.event.fetchAddr = addr - (addr % 8);
  out.record = true;
  return false;
}

/**
 * A translation-related fault (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION) or
 * F_WALK_EABT. Stage 1 follows CD.R/S/A; stage 2 follows STE.S2R/S2S (§5.5); without a CD
 * (stage-1 bypass address size) it is recorded and aborts.
 */
export function transFault(
  out: TranslationResult, req: TranslationRequest, type: number, priv: boolean, instr: boolean,
  s2: boolean, cls: number, ipa: number, fetch: number, ttrnw: boolean, cd: CdConfig | null, s2c: S2Config | null,
): false {
  baseEvent(out, req, type, priv, instr);
  const ev = out.event;
  ev.s2 = s2;
  ev.cls = cls;
  ev.ipa = ipa;
  ev.fetchAddr = fetch - (fetch % 8);
  ev.ttrnw = ttrnw;
  if (type === EVT.F_WALK_EABT) {
    out.record = true;
    return false;
  }
  if (s2 && s2c !== null) {
    out.stall = s2c.s;
    out.record = s2c.r || s2c.s;
  } else if (!s2 && cd !== null) {
    out.stall = cd.s;
    out.record = cd.r || cd.s;
    out.razWi = !cd.a && !cd.s;
  } else {
    out.record = true;
  }
  ev.stall = out.stall;
  return false;
}

/** The fault the walker `w` reported for its last failed walk. */
export function walkFault(w: Walker, out: TranslationResult, req: TranslationRequest, priv: boolean, instr: boolean, cd: CdConfig | null, s2c: S2Config | null): false {
  return transFault(out, req, w.fType, priv, instr, w.fS2, w.fCls, w.fIpa, w.fFetch, w.fTtrnw, cd, s2c);
}
