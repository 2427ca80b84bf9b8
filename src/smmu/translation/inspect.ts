// Inspector views of the translation engine (used by `vsmmu inspect`): an uncached decode of a
// stream's STE and CDs, a verbose translation recording every memory access, and an enumerator
// of every mapped range of a stream's address space that walks the tables (never iterates
// addresses) within a fixed descriptor budget. None of them consults or fills the caches.
// IHI 0070 §5.2, §5.4; Arm ARM D8 (VMSAv8-64 walks). Nothing here writes guest memory.
import type { U64 } from '../../memory/types.js';
import { decodeFields, get64, toBigWords } from '../../spec/bits.js';
import { STE, STE_S1DSS } from '../../spec/smmuv3/ste.js';
import { CD } from '../../spec/smmuv3/cd.js';
import { S1_LEAF, S1_TABLE, S2_LEAF, mairByte } from '../../spec/smmuv3/pagetable.js';
import { EVT, EVT_CLASS, copyEvent, emptyEvent, type SmmuEvent } from '../../spec/smmuv3/events.js';
import type { Translator } from './translator.js';
import { blockDescriptorLegal, descriptorAddress } from './walker.js';
import { WORLD, type SteConfig, type S2Config } from './ste-config.js';
import { walkFlags, type CdConfig, type TtConfig } from './cd-config.js';
import {
  PERM_R, PERM_W, PERM_X, XLATE_KIND, newResult,
  type CdReport, type MappedRange, type StreamReport, type TranslationRequest, type TranslationResult, type WalkStep, type WalkTrace,
} from './types.js';

/** Uncached STE fetch of `sid` (no Access-flag updates): the decode, its address (-1 if not located) and any fault. */
function fetchSteUncached(t: Translator, sid: number): { ste: SteConfig | null; addr: number; out: TranslationResult } {
  const out = newResult();
  const req: TranslationRequest = { sid, ssid: -1, addrLo: 0, addrHi: 0, write: false, instr: false, priv: false };
  t.walker.noUpdate = true;
  try {
    const ste = t.fetcher.fetchSte(sid, req, out);
    return { ste, addr: t.fetcher.lastStructAddr, out };
  } finally {
    t.walker.noUpdate = false;
  }
}

/** Uncached fetch of CD `index` of `ste` (stage-2 walks of a nested CD table update nothing). */
function fetchCdUncached(t: Translator, ste: SteConfig, sid: number, index: number): { cd: CdConfig | null; addr: number; out: TranslationResult } {
  const out = newResult();
  const req: TranslationRequest = { sid, ssid: index, addrLo: 0, addrHi: 0, write: false, instr: false, priv: false };
  t.walker.noUpdate = true;
  try {
    const cd = t.fetcher.fetchCd(ste, index, req, out, false, false);
    return { cd, addr: t.fetcher.lastStructAddr, out };
  } finally {
    t.walker.noUpdate = false;
  }
}

/** Translates without touching the caches, recording every memory access (steps). */
export function translateVerbose(t: Translator, req: TranslationRequest): WalkTrace {
  const steps: WalkStep[] = [];
  t.reader.trace = steps;
  t.walker.noUpdate = true;
  const res = newResult();
  try {
    t.translateUncached(req, res);
  } finally {
    t.reader.trace = null;
    t.walker.noUpdate = false;
  }
  res.event = copyEvent({ ...res.event }, res.event);
  return { steps, result: res };
}

const CONFIG_NAMES: Readonly<Record<number, string>> = { 0: 'abort', 1: 'abort', 2: 'abort', 3: 'abort', 4: 'bypass', 5: 's1', 6: 's2', 7: 'nested' };

function faultOf(out: TranslationResult): SmmuEvent | null {
  return out.event.type === 0 ? null : copyEvent(emptyEvent(), out.event);
}

function readRaw(host: Translator, addr: number): bigint[] | null {
  const w = new Uint32Array(16);
  const t: U64 = { lo: 0, hi: 0 };
  const saved = host.reader.trace;
  host.reader.trace = null;
  const ok = host.reader.readWords(addr, 8, w, t);
  host.reader.trace = saved;
  return ok ? toBigWords(w) : null;
}

/** Uncached decode of a stream's STE and its CDs (at most `maxCds` CDs listed). */
export function decodeStream(host: Translator, sid: number, opts: { maxCds?: number } = {}): StreamReport {
  const maxCds = opts.maxCds ?? 64;
  const { ste, addr, out } = fetchSteUncached(host, sid);
  const words = addr >= 0 ? readRaw(host, addr) : null;
  const steFields = words !== null ? decodeFields(STE, words) : null;
  if (ste === null) {
    return { sid, steAddress: addr >= 0 ? addr : null, steWords: words, steFields, config: 'invalid', fault: faultOf(out), cds: [] };
  }
  const cds: CdReport[] = [];
  if (ste.kind === XLATE_KIND.S1 || ste.kind === XLATE_KIND.NESTED) {
    const n = ste.s1CdMax === 0 ? 1 : 2 ** ste.s1CdMax;
    for (let i = 0; i < n && cds.length < maxCds; i++) {
      const r = fetchCdUncached(host, ste, sid, i);
      const cw = r.addr >= 0 ? readRaw(host, r.addr) : null;
      const fault = faultOf(r.out);
      // Skip unpopulated CDs of a table (V == 0, or an invalid L1CD) but always report a single CD.
      if (n > 1 && fault !== null && (fault.type === EVT.C_BAD_SUBSTREAMID || (fault.type === EVT.C_BAD_CD && cw !== null && ((cw[0]! >> 31n) & 1n) === 0n))) continue;
      cds.push({ ssid: i, address: r.addr, words: cw ?? [], fields: cw !== null ? decodeFields(CD, cw) : {}, fault });
    }
  }
  return { sid, steAddress: addr, steWords: words, steFields, config: CONFIG_NAMES[ste.config] ?? 'abort', fault: null, cds };
}

// ---------------------------------------------------------------- mapped ranges

interface Leaf {
  inBase: number;
  size: number;
  out: number;
  lo: number;
  hi: number;
  apTable: number;
  xnTable: boolean;
  pxnTable: boolean;
}

class Budget {
  constructor(public left: number) {}
}

/**
 * Visits every valid leaf of a stage's tables intersecting [from, to) of its input space, in
 * address order. `tableToPa` maps a table address (IPA when nested) to a PA, or -1.
 */
function enumStage(
  host: Translator, shift: number, ia: number, startLevel: number, ttb: number, be: boolean, ps: number,
  from: number, to: number, tableToPa: (a: number) => number, budget: Budget, visit: (l: Leaf) => boolean,
): void {
  const stride = shift - 3;
  const oa52 = host.features.oasBits === 52;
  const t: U64 = { lo: 0, hi: 0 };
  const limit = 2 ** ps;
  const rec = (table: number, level: number, base: number, apT: number, xnT: boolean, pxnT: boolean): boolean => {
    const lsb = shift + stride * (3 - level);
    const bits = level === startLevel ? ia - lsb : stride;
    const size = 2 ** lsb;
    const first = Math.max(0, Math.floor((from - base) / size));
    const last = Math.min(2 ** bits - 1, Math.floor((to - 1 - base) / size));
    const pa = tableToPa(table);
    if (pa < 0) return true;
    for (let i = first; i <= last; i++) {
      if (--budget.left < 0) return false;
      if (!host.reader.read64(pa + i * 8, be, t)) continue;
      const lo = t.lo;
      const hi = t.hi;
      if ((lo & 1) === 0) continue;
      const inBase = base + i * size;
      if (level < 3 && (lo & 2) !== 0) {
        const next = descriptorAddress(lo, hi, shift, shift, oa52);
        if (next >= limit) continue;
        const ap = apT | get64(lo, hi, S1_TABLE.AP_TABLE);
        if (!rec(next, level + 1, inBase, ap, xnT || get64(lo, hi, S1_TABLE.XN_TABLE) === 1, pxnT || get64(lo, hi, S1_TABLE.PXN_TABLE) === 1)) return false;
        continue;
      }
      const legal = level === 3 ? (lo & 2) !== 0 : blockDescriptorLegal(shift, level, oa52);
      if (!legal) continue;
      const out = descriptorAddress(lo, hi, lsb, shift, oa52);
      if (out + size > limit) continue;
      if (!visit({ inBase, size, out, lo, hi, apTable: apT, xnTable: xnT, pxnTable: pxnT })) return false;
    }
    return true;
  };
  rec(ttb, startLevel, 0, 0, false, false);
}

function s2Perms(lo: number, hi: number): number {
  let p = (get64(lo, hi, S2_LEAF.S2AP_R) ? PERM_R : 0) | (get64(lo, hi, S2_LEAF.S2AP_W) ? PERM_W : 0);
  if ((get64(lo, hi, S2_LEAF.XN) & 2) === 0 && (p & PERM_R) !== 0) p |= PERM_X;
  return p;
}

/** Every mapped range of `sid`/`ssid`, coalesced (contiguous input and output, equal attributes). */
export function mappings(host: Translator, sid: number, ssid: number | null, opts: { limit?: number } = {}): MappedRange[] {
  const limit = opts.limit ?? 100_000;
  const ranges: MappedRange[] = [];
  forEachMapping(host, sid, ssid, Math.max(1024, limit * 64), (m) => {
    ranges.push(m);
    return ranges.length < limit;
  });
  return ranges;
}

/** How a mapping walk ended: everything visited, stopped by the visitor, or out of descriptor budget. */
export type MappingWalkEnd = 'done' | 'stopped' | 'budget';

/**
 * Visits every mapped range of `sid`/`ssid` in address order, coalesced (contiguous input and
 * output, equal attributes), holding only the range being grown. At most `budget` descriptors
 * are read (tables may alias each other; the walk never loops but could fan out widely).
 */
export function forEachMapping(host: Translator, sid: number, ssid: number | null, budgetDescriptors: number, visit: (m: MappedRange) => boolean): MappingWalkEnd {
  const { ste } = fetchSteUncached(host, sid);
  if (ste === null || ste.kind === XLATE_KIND.NONE) return 'done';
  const f = host.features;
  const budget = new Budget(budgetDescriptors);
  let pending: MappedRange | null = null;
  let stopped = false;
  const push = (iova: bigint, size: number, pa: number, pp: number, pu: number, attr: number, s2a: number, global: boolean): boolean => {
    if (stopped) return false;
    const prev = pending;
    if (prev !== null && prev.iova + BigInt(prev.size) === iova && prev.pa + prev.size === pa && prev.permsPriv === pp &&
        prev.permsUnpriv === pu && prev.mairAttr === attr && prev.s2MemAttr === s2a && prev.global === global) {
      pending = { ...prev, size: prev.size + size };
      return true;
    }
    if (prev !== null && !visit(prev)) {
      stopped = true;
      pending = null;
      return false;
    }
    pending = { iova, size, pa, permsPriv: pp, permsUnpriv: pu, mairAttr: attr, s2MemAttr: s2a, global };
    return true;
  };
  const finish = (): MappingWalkEnd => {
    if (pending !== null && !stopped && !visit(pending)) stopped = true;
    pending = null;
    return stopped ? 'stopped' : budget.left < 0 ? 'budget' : 'done';
  };
  const s2Usable = (lo: number, hi: number, c: S2Config): boolean => get64(lo, hi, S2_LEAF.AF) === 1 || c.ha || c.affd;
  // Stage 2 over [from, to) of the IPA space, emitting with `emit(ipaBase, size, pa, perms, memattr)`.
  const walkS2 = (c: S2Config, from: number, to: number, emit: (ipa: number, size: number, pa: number, perms: number, attr: number) => boolean): void => {
    enumStage(host, c.shift, c.ia, c.startLevel, c.ttb, c.be, c.ps, from, Math.min(to, 2 ** c.ia), (a) => a, budget, (l) => {
      if (!s2Usable(l.lo, l.hi, c)) return true;
      const s = Math.max(l.inBase, from);
      const e = Math.min(l.inBase + l.size, to);
      return emit(s, e - s, l.out + (s - l.inBase), s2Perms(l.lo, l.hi), get64(l.lo, l.hi, S2_LEAF.MEM_ATTR));
    });
  };
  const oasSpan = 2 ** f.oasBits;
  const all = PERM_R | PERM_W | PERM_X;
  if (ste.kind === XLATE_KIND.BYPASS) {
    if (ssid === null) push(0n, oasSpan, 0, all, all, -1, -1, true);
    return finish();
  }
  if (ste.kind === XLATE_KIND.S2) {
    if (ssid === null) walkS2(ste.s2!, 0, oasSpan, (ipa, size, pa, p, a) => push(BigInt(ipa), size, pa, p, p, -1, a, true));
    return finish();
  }
  // Stage 1 / nested: which CD (same rules as translate()).
  let index = 0;
  if (ssid !== null) {
    if (ste.s1CdMax === 0 || ssid >= 2 ** ste.s1CdMax || (ste.s1Dss === STE_S1DSS.SSID0 && ssid === 0)) return finish();
    index = ssid;
  } else if (ste.s1CdMax !== 0) {
    if (ste.s1Dss === STE_S1DSS.BYPASS) {
      if (ste.kind === XLATE_KIND.NESTED) walkS2(ste.s2!, 0, oasSpan, (ipa, size, pa, p, a) => push(BigInt(ipa), size, pa, p, p, -1, a, true));
      else push(0n, oasSpan, 0, all, all, -1, -1, true);
      return finish();
    }
    if (ste.s1Dss !== STE_S1DSS.SSID0) return finish();
  }
  const { cd } = fetchCdUncached(host, ste, sid, index);
  if (cd === null) return finish();
  const nested = ste.kind === XLATE_KIND.NESTED ? ste.s2! : null;
  const walker = host.walker;
  const el2 = ste.world === WORLD.EL2;
  const tableToPa = (ipa: number): number => {
    if (nested === null) return ipa;
    walker.noUpdate = true;
    try {
      walker.s2Ipa = ipa;
      return walker.s2(nested, false, false, EVT_CLASS.TT) ? walker.s2Pa : -1;
    } finally {
      walker.noUpdate = false;
    }
  };
  for (let region = 0; region < 2; region++) {
    const tt: TtConfig = cd.tt[region as 0 | 1];
    if (!tt.enabled) continue;
    const span = 2 ** tt.ia;
    const toIova = (va: number): bigint => (region === 1 ? (1n << 64n) - BigInt(span) + BigInt(va) : BigInt(va));
    let more = true;
    enumStage(host, tt.shift, tt.ia, tt.startLevel, tt.ttb, tt.be, tt.ps, 0, span, tableToPa, budget, (l) => {
      if (get64(l.lo, l.hi, S1_LEAF.AF) === 0 && !tt.ha && !tt.affd) return true;
      const apT = tt.had ? 0 : l.apTable;
      walker.computeS1Perms(walkFlags(tt), l.lo, l.hi, apT, !tt.had && l.xnTable, !tt.had && l.pxnTable, el2);
      const pp = walker.s1PermsPriv;
      const pu = walker.s1PermsUnpriv;
      const attr = mairByte(tt.mairLo, tt.mairHi, get64(l.lo, l.hi, S1_LEAF.ATTR_INDX));
      const global = el2 || get64(l.lo, l.hi, S1_LEAF.NG) === 0;
      if (nested === null) return (more = push(toIova(l.inBase), l.size, l.out, pp, pu, attr, -1, global));
      walkS2(nested, l.out, l.out + l.size, (ipa, size, pa, p, a) => {
        const q = (p & PERM_R) === 0 ? p & ~PERM_X : p;
        return (more = push(toIova(l.inBase + (ipa - l.out)), size, pa, pp & q, pu & q, attr, a, global));
      });
      return more;
    });
  }
  return finish();
}
