// Translator tests: stream table formats, STE configurations, CDs and substreams, stage-1/2/nested
// walks for every granule, faults with their exact event records, HTTU, big-endian tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { EVT, EVT_CLASS, encodeEvent } from '../../spec/smmuv3/events.js';
import { encodeS1Leaf, encodeS2Leaf, startLevel, tg0Of } from '../../spec/smmuv3/pagetable.js';
import { Translator } from './translator.js';
import { makeRequest, newResult, PERM_R, PERM_W, PERM_X, type TranslationResult } from './types.js';
import { Arena, PageTables } from '../../../test/support/smmu-structures.js';

const MAIR = 0x0000_0000_f404_ff44n;

interface S1Setup {
  arena: Arena;
  t: Translator;
  pt: PageTables;
  cdAddr: number;
  steAddr: number;
}

/** Linux-like setup: linear stream table of 2^8 STEs, SID 3 = S1 with one CD (ASID 1), 4K/48-bit unless given. */
function s1Setup(opts: { shift?: 12 | 14 | 16; ia?: number; features?: Partial<SmmuFeatures>; cd?: Record<string, bigint | number | boolean>; ste?: Record<string, bigint | number | boolean>; caches?: boolean } = {}): S1Setup {
  const shift = opts.shift ?? 12;
  const ia = opts.ia ?? 48;
  const f: SmmuFeatures = { ...DEFAULT_FEATURES, ...opts.features };
  const arena = new Arena();
  const t = new Translator(arena.mem, f, { cachesEnabled: opts.caches ?? true });
  const strtab = arena.alloc(256 * 64, 256 * 64);
  t.setStreamTable({ base: strtab, log2Size: 8, fmt: 0, split: 0 });
  t.setRecordInvalidSid(true);
  const pt = new PageTables(arena, shift, ia, startLevel(ia, shift));
  const cdAddr = arena.alloc(64, 64);
  arena.writeWords(cdAddr, arena.cd({
    T0SZ: 64 - ia, TG0: tg0Of(shift), IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 1,
    TTB0: BigInt(pt.root) >> 4n, MAIR0: MAIR & 0xffff_ffffn, MAIR1: MAIR >> 32n, ...opts.cd,
  }));
  const steAddr = strtab + 3 * 64;
  arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cdAddr) >> 6n, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3, ...opts.ste }));
  return { arena, t, pt, cdAddr, steAddr };
}

function xl(t: Translator, sid: number, ssid: number | null, addr: number | bigint, access: { write?: boolean; instr?: boolean; priv?: boolean } = {}): TranslationResult {
  const r = newResult();
  t.translate(makeRequest(sid, ssid, addr, access), r);
  return r;
}

test('Linux DMA-domain STE/CD: 4K page PA|0xF47 translates RW, PA|0xFC7 read-only', () => {
  const { arena, t, pt } = s1Setup();
  pt.map(0x1000_0000n, 0x8000_0000n | 0xf47n, 3);
  pt.map(0x1000_1000n, 0x8000_5000n | 0xfc7n, 3);
  const r = xl(t, 3, null, 0x1000_0123, { write: true });
  assert.equal(r.ok, true);
  assert.equal(r.pa, 0x8000_0123);
  assert.equal(r.size, 4096);
  assert.equal(r.mairAttr, 0xff); // AttrIndx 1 of MAIR 0xF404FF44
  assert.equal(r.sh, 3);
  assert.equal(r.asid, 1);
  assert.equal(r.global, false);
  assert.equal(r.permsUnpriv, PERM_R | PERM_W | PERM_X); // no UXN
  assert.equal(r.permsPriv, PERM_R | PERM_W); // EL0-writable => privileged execute-never
  const ro = xl(t, 3, null, 0x1000_1008);
  assert.equal(ro.ok, true);
  assert.equal(ro.pa, 0x8000_5008);
  const w = xl(t, 3, null, 0x1000_1008, { write: true });
  assert.equal(w.ok, false);
  assert.equal(w.event.type, EVT.F_PERMISSION);
  assert.equal(w.record, true);
  assert.equal(w.event.rnw, false);
  assert.equal(w.event.pnu, false);
  assert.equal(w.event.s2, false);
  assert.equal(w.event.cls, EVT_CLASS.IN);
  assert.equal(w.event.inputLo, 0x1000_1008);
  const words = encodeEvent(w.event);
  assert.equal(words[0], (3n << 32n) | 0x13n);
  assert.equal(words[1], 2n << 40n); // RnW=0 PnU=0 InD=0 S2=0 CLASS=IN
  assert.equal(words[2], 0x1000_1008n);
  void arena;
});

// ---------------------------------------------------------------- stream table

test('linear stream table: SID beyond LOG2SIZE (or SIDSIZE) is C_BAD_STREAMID, recorded per CR2.RECINVSID', () => {
  const { t } = s1Setup({ features: { sidBits: 7 } });
  const r = xl(t, 0x80, null, 0x1000); // 2^7 = 128: beyond SIDSIZE even though LOG2SIZE = 8
  assert.equal(r.ok, false);
  assert.equal(r.event.type, EVT.C_BAD_STREAMID);
  assert.equal(r.event.sid, 0x80);
  assert.equal(r.record, true);
  t.setRecordInvalidSid(false);
  const q = xl(t, 0x1_0000, 5, 0x1000);
  assert.equal(q.event.type, EVT.C_BAD_STREAMID);
  assert.equal(q.event.ssv, true);
  assert.equal(q.event.ssid, 5);
  assert.equal(q.record, false);
});

test('STE V=0 is C_BAD_STE; Config abort (and Reserved 0b001-0b011) terminates silently', () => {
  const { arena, t, steAddr } = s1Setup();
  const a = xl(t, 4, null, 0x1000); // zeroed STE
  assert.equal(a.event.type, EVT.C_BAD_STE);
  assert.equal(a.record, true);
  for (const cfg of [0, 1, 2, 3]) {
    arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: cfg }));
    t.invalidation.cfgiSte(3, true);
    const r = xl(t, 3, null, 0x1000);
    assert.equal(r.ok, false);
    assert.equal(r.event.type, 0);
    assert.equal(r.record, false);
  }
});

test('bypass STE: identity within OAS, F_ADDR_SIZE beyond it, C_BAD_SUBSTREAMID with a SubstreamID', () => {
  const { arena, t, steAddr } = s1Setup();
  arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: 4 }));
  const r = xl(t, 3, null, 0x1234_5678_9abc);
  assert.equal(r.ok, true);
  assert.equal(r.pa, 0x1234_5678_9abc);
  assert.equal(r.perms, PERM_R | PERM_W | PERM_X);
  const big = xl(t, 3, null, 2 ** 48, { write: true });
  assert.equal(big.event.type, EVT.F_ADDR_SIZE);
  assert.equal(big.event.s2, false);
  assert.equal(big.record, true);
  assert.equal(big.event.inputHi, 0x1_0000);
  assert.equal(xl(t, 3, 0, 0x1000).event.type, EVT.C_BAD_SUBSTREAMID);
});

test('2-level stream table (SPLIT 6/8/10): L1STD Span rules, F_STE_FETCH on aborts', () => {
  for (const split of [6, 8, 10]) {
    const { arena, t } = s1Setup();
    const l1 = arena.alloc(8 * 64, 4096);
    t.setStreamTable({ base: l1, log2Size: 16, fmt: 1, split });
    const sid = (3 << split) | 5;
    const l2 = arena.alloc(64 << split, 64 << split);
    arena.write64(l1 + 3 * 8, BigInt(l2) | BigInt(split + 1));
    arena.writeWords(l2 + 5 * 64, arena.ste({ V: 1, CONFIG: 4 }));
    assert.equal(xl(t, sid, null, 0x5000).pa, 0x5000, `split ${split}`);
    // Span 3: only 4 STEs reachable
    arena.write64(l1 + 3 * 8, BigInt(l2) | 3n);
    t.invalidation.cfgiSte(sid, false);
    assert.equal(xl(t, sid, null, 0x5000).event.type, EVT.C_BAD_STREAMID);
    // Span 0, Reserved Span 12, Span > SPLIT + 1
    for (const span of [0n, 12n, BigInt(split + 2)]) {
      arena.write64(l1 + 3 * 8, BigInt(l2) | span);
      assert.equal(xl(t, sid, null, 0x5000).event.type, EVT.C_BAD_STREAMID);
    }
    // L2 pointer outside RAM: F_STE_FETCH with the STE address
    arena.write64(l1 + 3 * 8, 0x10_0000_0000n | BigInt(split + 1));
    const f = xl(t, sid, null, 0x5000);
    assert.equal(f.event.type, EVT.F_STE_FETCH);
    assert.equal(f.event.fetchAddr, 0x10_0000_0000 + 5 * 64);
    assert.equal(f.record, true);
  }
  const { t } = s1Setup();
  t.setStreamTable({ base: 0x2000_0000, log2Size: 16, fmt: 1, split: 8 });
  const f = xl(t, 0x345, null, 0);
  assert.equal(f.event.type, EVT.F_STE_FETCH);
  assert.equal(f.event.fetchAddr, 0x2000_0000 + 3 * 8);
});

test('every ILLEGAL STE combination gives C_BAD_STE', () => {
  const s2ok = { V: 1, CONFIG: 6, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: 0x4100_0000n >> 4n };
  const cases: [string, Record<string, bigint | number | boolean>, Partial<SmmuFeatures>][] = [
    ['S1 without S1P', { V: 1, CONFIG: 5 }, { s1p: false }],
    ['S2 without S2P', { V: 1, CONFIG: 6 }, { s2p: false }],
    ['S1CDMax > SSIDSIZE', { V: 1, CONFIG: 5, S1CDMAX: 9 }, {}],
    ['2-level CD table without CD2L', { V: 1, CONFIG: 5, S1CDMAX: 4, S1FMT: 1 }, { cd2l: false }],
    ['S1STALLD without stall model', { V: 1, CONFIG: 5, S1STALLD: 1 }, {}],
    ['S1ContextPtr beyond OAS', { V: 1, CONFIG: 5, S1_CONTEXT_PTR: (1n << 48n) >> 6n }, {}],
    ['STRW EL3 (0b01)', { V: 1, CONFIG: 5, STRW: 1 }, { hyp: true }],
    ['S2AA64 = 0', { ...s2ok, S2AA64: 0 }, {}],
    ['S2TG Reserved', { ...s2ok, S2TG: 3 }, {}],
    ['S2TG 16K not supported', { ...s2ok, S2TG: 2, S2SL0: 1 }, { gran16k: false }],
    ['S2T0SZ < 16 with 4K', { ...s2ok, S2T0SZ: 15 }, {}],
    ['S2T0SZ > 39', { ...s2ok, S2T0SZ: 40 }, {}],
    ['S2SL0 inconsistent with S2T0SZ', { ...s2ok, S2SL0: 0 }, {}],
    ['S2SL0 Reserved', { ...s2ok, S2SL0: 3 }, {}],
    ['S2TTB beyond S2PS', { ...s2ok, S2PS: 2, S2TTB: (1n << 40n) >> 4n }, {}],
    ['S2HA without HTTU', { ...s2ok, S2HA: 1 }, { httu: 0 }],
    ['S2HD with HTTU = AF only', { ...s2ok, S2HA: 1, S2HD: 1 }, { httu: 1 }],
    ['S2S with STALL_MODEL terminate', { ...s2ok, S2S: 1 }, {}],
    ['no S2S with STALL_MODEL force', { ...s2ok }, { stallModel: 'force' }],
    ['S2ENDI with little-endian only', { ...s2ok, S2ENDI: 1 }, { ttEndian: 'le' }],
    ['little-endian with big-endian only', { ...s2ok }, { ttEndian: 'be' }],
    ['16-bit VMID without VMID16', { ...s2ok, S2VMID: 0x100 }, { vmid16: false }],
    ['split-stage ATS without nesting', { V: 1, CONFIG: 5, EATS: 2 }, { ats: true }],
    // AArch64.S2InvalidSL (§5.2 S2SL0 defers to the Arm ARM): SL0 = 0b10 needs PAMax >= 44 (4K, 64K) / 42 (16K)
    ['S2SL0 = 0b10 (4K level 0) with OAS 40', { ...s2ok, S2SL0: 2 }, { oasBits: 40 }],
    ['S2SL0 = 0b10 (16K level 1) with OAS 40', { ...s2ok, S2TG: 2, S2SL0: 2 }, { oasBits: 40 }],
  ];
  for (const [name, fields, feat] of cases) {
    const { arena, t, steAddr } = s1Setup({ features: feat });
    arena.writeWords(steAddr, arena.ste(fields));
    const r = xl(t, 3, null, 0x1000);
    assert.equal(r.event.type, EVT.C_BAD_STE, name);
    assert.equal(r.record, true, name);
  }
  // Not ILLEGAL: S2PS above OAS is capped; 16K start level 2 with T0SZ 25 is consistent.
  for (const [fields, feat] of [
    [{ ...s2ok, S2PS: 6 }, {}], [{ ...s2ok, S2TG: 2, S2T0SZ: 25, S2SL0: 1 }, {}],
    [{ ...s2ok, S2SL0: 2 }, { oasBits: 44 }], [{ ...s2ok, S2TG: 2, S2SL0: 2 }, { oasBits: 42 }],
  ] as [Record<string, bigint | number | boolean>, Partial<SmmuFeatures>][]) {
    const { arena, t, steAddr } = s1Setup({ features: feat });
    arena.writeWords(steAddr, arena.ste(fields));
    assert.notEqual(xl(t, 3, null, 0x1000).event.type, EVT.C_BAD_STE);
  }
});

// ---------------------------------------------------------------- CDs and substreams

/** SID 3 with a linear CD table of 2^cdMax CDs; CD i (ASID 10+i) maps 0x1000_0000 -> 0x8000_0000 + i * 0x10_0000. */
function substreamSetup(opts: { cdMax?: number; fmt?: number; dss?: number; features?: Partial<SmmuFeatures> } = {}) {
  const cdMax = opts.cdMax ?? 3;
  const base = s1Setup(opts.features ? { features: opts.features } : {});
  const { arena, t, steAddr } = base;
  const n = 2 ** cdMax;
  const cdAddrOf: number[] = [];
  let ctx: number;
  if ((opts.fmt ?? 0) === 0) {
    ctx = arena.alloc(64 * n, 64 * n);
    for (let i = 0; i < n; i++) cdAddrOf.push(ctx + 64 * i);
  } else {
    const leafBits = opts.fmt === 1 ? 6 : 10;
    const l1n = Math.max(1, n >> leafBits);
    ctx = arena.alloc(8 * l1n, 64);
    for (let j = 0; j < l1n; j++) {
      const leaf = arena.alloc(64 << leafBits, 64 << leafBits);
      arena.write64(ctx + 8 * j, BigInt(leaf) | 1n);
      for (let k = 0; k < 1 << leafBits && cdAddrOf.length < n; k++) cdAddrOf.push(leaf + 64 * k);
    }
  }
  const pts: PageTables[] = [];
  for (let i = 0; i < n && i < 80; i++) {
    const pt = new PageTables(arena, 12, 48, 0);
    pt.map(0x1000_0000n, BigInt(0x8000_0000 + i * 0x10_0000) | 0xf47n, 3);
    pts.push(pt);
    arena.writeWords(cdAddrOf[i]!, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 10 + i, TTB0: BigInt(pt.root) >> 4n }));
  }
  arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(ctx) >> 6n, S1CDMAX: cdMax, S1FMT: opts.fmt ?? 0, S1DSS: opts.dss ?? 2 }));
  return { ...base, ctx, cdAddrOf, pts };
}

test('linear CD table: each SubstreamID uses its CD; out-of-range SubstreamIDs are C_BAD_SUBSTREAMID', () => {
  const { t } = substreamSetup({ cdMax: 3 });
  for (let ssid = 1; ssid < 8; ssid++) {
    const r = xl(t, 3, ssid, 0x1000_0010);
    assert.equal(r.pa, 0x8000_0010 + ssid * 0x10_0000);
    assert.equal(r.asid, 10 + ssid);
  }
  const bad = xl(t, 3, 8, 0x1000_0010);
  assert.equal(bad.event.type, EVT.C_BAD_SUBSTREAMID);
  assert.equal(bad.event.ssid, 8);
  assert.equal(bad.record, true);
});

test('S1DSS: untagged traffic terminates (F_STREAM_DISABLED), bypasses stage 1, or uses CD 0 (SSID 0 then disabled)', () => {
  const term = substreamSetup({ dss: 0 });
  const r0 = xl(term.t, 3, null, 0x1000_0010);
  assert.equal(r0.event.type, EVT.F_STREAM_DISABLED);
  assert.equal(r0.event.ssv, false);
  assert.equal(r0.record, true);
  assert.equal(xl(term.t, 3, 0, 0x1000_0010).pa, 0x8000_0010); // SSID 0 usable with TERMINATE
  const byp = substreamSetup({ dss: 1 });
  assert.equal(xl(byp.t, 3, null, 0x1000_0010).pa, 0x1000_0010);
  const ssid0 = substreamSetup({ dss: 2 });
  assert.equal(xl(ssid0.t, 3, null, 0x1000_0010).pa, 0x8000_0010);
  const d = xl(ssid0.t, 3, 0, 0x1000_0010);
  assert.equal(d.event.type, EVT.F_STREAM_DISABLED);
  assert.equal(d.event.ssv, true);
  const reserved = substreamSetup({ dss: 3 });
  assert.equal(xl(reserved.t, 3, null, 0x1000_0010).event.type, EVT.F_STREAM_DISABLED);
});

test('a SubstreamID with substreams disabled (S1CDMax = 0 or SSIDSIZE = 0) is C_BAD_SUBSTREAMID', () => {
  const { t } = s1Setup();
  assert.equal(xl(t, 3, 1, 0x1000).event.type, EVT.C_BAD_SUBSTREAMID);
  const z = substreamSetup({ features: { ssidBits: 0 } });
  assert.equal(xl(z.t, 3, 1, 0x1000_0010).event.type, EVT.C_BAD_SUBSTREAMID);
  assert.equal(xl(z.t, 3, null, 0x1000_0010).pa, 0x8000_0010); // S1CDMax ignored: one CD
});

test('2-level CD tables (4K and 64K leaves): L1CD V=0 is C_BAD_SUBSTREAMID, L1CD abort is F_CD_FETCH', () => {
  const four = substreamSetup({ cdMax: 7, fmt: 1 });
  assert.equal(xl(four.t, 3, 70, 0x1000_0000).pa, 0x8000_0000 + 70 * 0x10_0000); // L1 index 1
  assert.equal(xl(four.t, 3, 5, 0x1000_0000).pa, 0x8000_0000 + 5 * 0x10_0000);
  four.arena.write64(four.ctx + 8, 0n);
  assert.equal(xl(four.t, 3, 71, 0x1000_0000).event.type, EVT.C_BAD_SUBSTREAMID);
  four.arena.write64(four.ctx + 8, 0x20_0000_0001n); // L2Ptr outside RAM: the CD fetch aborts
  const f = xl(four.t, 3, 72, 0x1000_0000);
  assert.equal(f.event.type, EVT.F_CD_FETCH);
  assert.equal(f.event.fetchAddr, 0x20_0000_0000 + 8 * 64);
  const big = substreamSetup({ cdMax: 4, fmt: 2 }); // S1CDMax <= 10: only L1 index 0 used
  assert.equal(xl(big.t, 3, 9, 0x1000_0000).pa, 0x8000_0000 + 9 * 0x10_0000);
  const { arena, t, steAddr } = s1Setup();
  arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: 0x3000_0000n >> 6n, S1CDMAX: 7, S1FMT: 1 }));
  const l1 = xl(t, 3, 64, 0);
  assert.equal(l1.event.type, EVT.F_CD_FETCH);
  assert.equal(l1.event.fetchAddr, 0x3000_0008);
});

test('every ILLEGAL CD combination gives C_BAD_CD; IPS above OAS is not illegal', () => {
  const cases: [string, Record<string, bigint | number | boolean>, Partial<SmmuFeatures>][] = [
    ['V = 0', { V: 0 }, {}],
    ['AA64 = 0', { AA64: 0 }, {}],
    ['A = 0 with TERM_MODEL', { A: 0 }, {}],
    ['S = 1 with STALL_MODEL terminate', { S: 1 }, {}],
    ['S = 0 with STALL_MODEL force', {}, { stallModel: 'force' }],
    ['HA without HTTU', { HA: 1 }, { httu: 0 }],
    ['HD with HTTU = AF only', { HA: 1, HD: 1 }, { httu: 1 }],
    ['T0SZ 15', { T0SZ: 15 }, {}],
    ['T0SZ 40', { T0SZ: 40 }, {}],
    ['T0SZ 12 with 64K but no VAX', { T0SZ: 12, TG0: 1 }, {}],
    ['TG0 Reserved', { TG0: 3 }, {}],
    ['TG0 16K not advertised', { TG0: 2 }, { gran16k: false }],
    ['TTB0 beyond IPS', { IPS: 2, TTB0: (1n << 40n) >> 4n }, {}],
    ['TTB0 beyond 48 bits with 4K', { IPS: 6, TTB0: (1n << 48n) >> 4n }, { oasBits: 52 }],
    ['ENDI with little-endian only', { ENDI: 1 }, { ttEndian: 'le' }],
    ['16-bit ASID without ASID16', { ASID: 0x100 }, { asid16: false }],
    ['TTB1 enabled with a bad T1SZ', { EPD1: 0, T1SZ: 50, TG1: 2 }, {}],
  ];
  for (const [name, fields, feat] of cases) {
    const { t } = s1Setup({ cd: fields, features: feat });
    const r = xl(t, 3, null, 0x1000);
    assert.equal(r.event.type, EVT.C_BAD_CD, name);
    assert.equal(r.record, true);
  }
  for (const [name, fields] of [
    ['IPS 52 > OAS 48', { IPS: 6 }],
    ['EPD1 hides a bad T1SZ', { T1SZ: 63, TG1: 0 }],
    ['stall with STALL_MODEL stall', { S: 1 }],
  ] as const) {
    const { t, pt } = s1Setup({ cd: fields, features: { stallModel: 'stall' } });
    pt.map(0x1000n, 0x9000n | 0xf47n, 3);
    assert.equal(xl(t, 3, null, 0x1000).pa, 0x9000, name);
  }
});

test('CD pointer outside RAM: F_CD_FETCH with the CD address', () => {
  const { arena, t, steAddr } = s1Setup();
  arena.writeWords(steAddr, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: 0x7000_0040n >> 6n }));
  const r = xl(t, 3, null, 0x1000);
  assert.equal(r.event.type, EVT.F_CD_FETCH);
  assert.equal(r.event.fetchAddr, 0x7000_0040);
});
