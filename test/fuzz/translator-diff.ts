// Differential fuzz of two translation engines: the same random guest (stream table, CDs, stage-1
// and stage-2 tables in one memory), the same sequence of table edits, CFGI/TLBI commands and
// accesses, given to both; every access's whole result (PA, size, permissions, attributes, tags,
// and on a fault the event record and whether it is recorded or stalls) must be identical. Used to
// show that a change to the engine (caching, fast paths) does not change what it answers: run it
// with the engine of another revision (`npm run fuzz:translator -- --base REV`) or, in the unit
// test, with a deliberately altered engine to show that it finds a difference.
// Both engines run with the same small cache sizes, so that stale entries (used until the right
// invalidation) and evictions must match as well; one seed in four runs both with caches disabled
// (every access reads the STE, CD and tables, through the engine's decode memo).
import { DEFAULT_FEATURES, type SmmuFeatures } from '../../src/smmu/features.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../src/spec/smmuv3/pagetable.js';
import type { PhysMemory } from '../../src/memory/types.js';
import type { Invalidator } from '../../src/smmu/translation/invalidation.js';
import { makeRequest, newResult, type StreamTableConfig, type TranslationRequest, type TranslationResult } from '../../src/smmu/translation/types.js';
import { Arena, PageTables, tlbiOp } from '../support/smmu-structures.js';
import { Rng } from './rng.js';

/** What the fuzz needs of an engine (a Translator of any revision). */
export interface Engine {
  setStreamTable(cfg: StreamTableConfig): void;
  translate(req: TranslationRequest, out: TranslationResult): boolean;
  readonly invalidation: Invalidator;
}

export type EngineFactory = (mem: PhysMemory, features: SmmuFeatures, options: { tlbSize: number; configCacheSize: number; cachesEnabled: boolean }) => Engine;

export interface DiffFinding {
  seed: number;
  op: number;
  what: string;
  a: unknown;
  b: unknown;
}

export interface DiffRun {
  accesses: number;
  ok: number;
  faults: number;
  finding: DiffFinding | null;
}

const SIDS = 8;
const PAGES = 6;
const RAM_PA = 0x4100_0000;

/** The result fields compared, in a plain object (events copied field by field). */
function view(r: TranslationResult): Record<string, unknown> {
  if (r.ok) {
    return {
      ok: true, pa: r.pa, size: r.size, perms: r.perms, permsPriv: r.permsPriv, permsUnpriv: r.permsUnpriv,
      mairAttr: r.mairAttr, s2MemAttr: r.s2MemAttr, sh: r.sh, global: r.global, asid: r.asid, vmid: r.vmid, kind: r.kind,
    };
  }
  return { ok: false, record: r.record, stall: r.stall, razWi: r.razWi, event: { ...r.event } };
}

function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b) ? null : path || '(value)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d !== null) return d;
  }
  return null;
}

/**
 * One random run of `ops` operations with seed `seed`. Streams: SIDs 0-3 stage 1 (two share an
 * ASID, one has S1DSS substreams), 4 bypass, 5 stage 2, 6 nested, 7 abort; each may be switched to
 * another configuration (then CFGI_STE). Table edits are followed by the TLBI a driver issues only
 * some of the time, so stale entries are part of what must match.
 */
export function runTranslatorDiff(makeA: EngineFactory, makeB: EngineFactory, seed: number, ops: number): DiffRun {
  const rng = new Rng(seed);
  const pick = (n: number): number => rng.int(n);
  const chance = (p: number): boolean => rng.bool(p);
  const arena = new Arena();
  // Caches on or off by the seed, not by a draw: the other seeds keep their runs.
  const sizes = { tlbSize: [1, 4, 16, 256][pick(4)]!, configCacheSize: [2, 4, 64][pick(3)]!, cachesEnabled: seed % 4 !== 0 };
  const engines = [makeA(arena.mem, DEFAULT_FEATURES, sizes), makeB(arena.mem, DEFAULT_FEATURES, sizes)];
  const strtab = arena.alloc(64 * 16, 1024);
  for (const e of engines) e.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const s1 = [new PageTables(arena, 12, 48, 0), new PageTables(arena, 12, 48, 0)];
  const s2 = new PageTables(arena, 12, 40, 1);
  // Stage 2: IPA = PA for the arena's RAM, in 2 MiB blocks.
  for (let a = 0x4000_0000; a < 0x4400_0000; a += 0x20_0000) s2.map(BigInt(a), encodeS2Leaf({ oa: BigInt(a), level3: false }), 2);
  const s2f = { S2VMID: 7, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n };
  const cdWords = (asid: number, table: number, ttb1: boolean): bigint[] => {
    const root = BigInt(s1[table]!.root) >> 4n;
    return arena.cd({ T0SZ: 16, T1SZ: 16, TG0: 0, TG1: 2, EPD1: ttb1 ? 0 : 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: asid, TTB0: root, TTB1: root });
  };
  /** Each stream's current CD (-1: its STE has none), for in-place CD edits. */
  const cdAt: number[] = new Array<number>(SIDS).fill(-1);
  const cdOf = (sid: number, asid: number, table: number, ttb1: boolean): number => {
    const cd = arena.alloc(64, 64);
    arena.writeWords(cd, cdWords(asid, table, ttb1));
    cdAt[sid] = cd;
    return cd;
  };
  const noCd = (sid: number, ste: bigint[]): bigint[] => {
    cdAt[sid] = -1;
    return ste;
  };
  const configs = [
    (sid: number) => arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cdOf(sid, 1 + (sid % 3), sid & 1, sid === 2)) >> 6n }),
    (sid: number) => noCd(sid, arena.ste({ V: 1, CONFIG: 4 })),
    (sid: number) => noCd(sid, arena.ste({ V: 1, CONFIG: 6, ...s2f })),
    (sid: number) => arena.ste({ V: 1, CONFIG: 7, S1_CONTEXT_PTR: BigInt(cdOf(sid, 1, sid & 1, false)) >> 6n, ...s2f }),
    (sid: number) => noCd(sid, arena.ste({ V: 1, CONFIG: 0 })),
    (sid: number) => noCd(sid, arena.ste({ V: 0 })),
  ];
  const initial = [0, 0, 0, 0, 1, 2, 3, 4];
  for (let sid = 0; sid < SIDS; sid++) arena.writeWords(strtab + sid * 64, configs[initial[sid]!]!(sid));
  const ra = newResult();
  const rb = newResult();
  const run: DiffRun = { accesses: 0, ok: 0, faults: 0, finding: null };
  /** The same command to both engines (`f` must not draw random numbers: both calls must be alike). */
  const both = (f: (inv: Invalidator) => void): void => engines.forEach((e) => f(e.invalidation));
  for (let op = 0; op < ops; op++) {
    const kind = pick(20);
    if (kind < 4) {
      // Map or unmap a page (or a 2 MiB block) in one of the stage-1 tables.
      const table = pick(2);
      const block = chance(0.15);
      const va = table * 2 ** 39 + (block ? 0x4000_0000 + pick(2) * 0x20_0000 : pick(PAGES) * 0x1000);
      const level = block ? 2 : 3;
      if (chance(0.8)) {
        const pa = block ? RAM_PA + 0x400_0000 + pick(4) * 0x20_0000 : RAM_PA + pick(64) * 0x1000;
        s1[table]!.map(BigInt(va), encodeS1Leaf({ oa: BigInt(pa), level3: !block, attrIndx: pick(3), ap: [1, 1, 3, 0, 2][pick(5)]!, sh: 3, ng: chance(0.7), pxn: chance(0.2), uxn: chance(0.2) }), level);
      } else arena.write64(s1[table]!.slot(BigInt(va), level), 0n);
      if (chance(0.7)) both((inv) => inv.tlbiNhVaa(tlbiOp(0, -1, va, true, null)));
      if (chance(0.1)) both((inv) => inv.tlbiS12Vmall(7));
    } else if (kind === 4) {
      // Switch a stream to another configuration, usually followed by CFGI_STE.
      const sid = pick(SIDS);
      arena.writeWords(strtab + sid * 64, configs[pick(configs.length)]!(sid));
      if (chance(0.8)) both((inv) => inv.cfgiSte(sid, true));
    } else if (kind === 6) {
      // Rewrite a stream's CD where it is (another ASID, table or TTB1 use, or invalid), usually
      // followed by CFGI_CD.
      const sid = pick(SIDS);
      const cd = cdAt[sid]!;
      if (cd >= 0) {
        const words = chance(0.1) ? new Array<bigint>(8).fill(0n) : cdWords(1 + pick(3), pick(2), chance(0.3));
        arena.writeWords(cd, words);
        if (chance(0.7)) both((inv) => inv.cfgiCd(sid, 0, true));
      }
    } else if (kind === 5) {
      const which = pick(4);
      const asid = 1 + pick(3); // drawn once: both engines get the same command
      both((inv) => (which === 0 ? inv.tlbiNhAll(0) : which === 1 ? inv.tlbiNhAsid(0, asid) : which === 2 ? inv.cfgiAll() : inv.tlbiNsnhAll()));
    } else {
      // An access: mostly where something may be mapped, sometimes anywhere (out of range, TTB1).
      const sid = pick(SIDS);
      const table = sid & 1;
      const wild = chance(0.1);
      const va = wild
        ? [2 ** 48, 2 ** 64 - 2 ** 12 * (1 + pick(4)), 0x4000_0000 + pick(0x100) * 0x1000][pick(3)]!
        : table * 2 ** 39 + (chance(0.15) ? 0x4000_0000 + pick(2) * 0x20_0000 : pick(PAGES) * 0x1000) + pick(512) * 8;
      const req = makeRequest(sid, chance(0.05) ? pick(2) : null, BigInt(va), { write: chance(0.4), priv: chance(0.2), instr: chance(0.1) });
      engines[0]!.translate(req, ra);
      engines[1]!.translate({ ...req }, rb);
      run.accesses++;
      if (ra.ok) run.ok++;
      else run.faults++;
      const a = view(ra);
      const b = view(rb);
      const d = firstDifference(a, b);
      if (d !== null) {
        run.finding = { seed, op, what: `sid ${sid} va 0x${BigInt(va).toString(16)}: ${d} differs`, a, b };
        return run;
      }
    }
  }
  return run;
}
