// Configuration cache and IOTLB: stale entries are used until the architecturally required
// invalidation (IHI 0070 §4.3, §4.4) and never after it; invalid structures and L1 descriptors
// are never cached; tagging by VMID/ASID/global; range TLBI; eviction; caches disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { EVT } from '../../spec/smmuv3/events.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../spec/smmuv3/pagetable.js';
import { Translator } from './translator.js';
import { makeRequest, newResult, type TranslationResult } from './types.js';
import { Arena, PageTables, RAM_BASE, tlbiOp } from '../../../test/support/smmu-structures.js';

const NO_RANGE = { tg: 0, num: 0, scale: 0, ttl: 0 };

interface Ctx {
  arena: Arena;
  t: Translator;
  strtab: number;
  pts: PageTables[];
  cds: number[];
  s2: PageTables;
}

/**
 * SIDs 0..3: SID i is stage 1 with CD ASID 1+i (VMID 0), SID 4 bypass, SID 5 stage 2 (VMID 7),
 * SID 6 nested (VMID 7, ASID 1, its CD shares SID 0's page tables).
 */
function setup(opts: { tlbSize?: number; configCacheSize?: number; f?: Partial<SmmuFeatures>; caches?: boolean } = {}): Ctx {
  const f = { ...DEFAULT_FEATURES, ...opts.f };
  const arena = new Arena();
  const t = new Translator(arena.mem, f, { tlbSize: opts.tlbSize ?? 1024, configCacheSize: opts.configCacheSize ?? 256, cachesEnabled: opts.caches ?? true });
  const strtab = arena.alloc(64 * 16, 1024);
  t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const pts: PageTables[] = [];
  const cds: number[] = [];
  for (let i = 0; i < 4; i++) {
    const pt = new PageTables(arena, 12, 48, 0);
    const cd = arena.alloc(64, 64);
    arena.writeWords(cd, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1 + i, TTB0: BigInt(pt.root) >> 4n }));
    arena.writeWords(strtab + i * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
    pts.push(pt);
    cds.push(cd);
  }
  arena.writeWords(strtab + 4 * 64, arena.ste({ V: 1, CONFIG: 4 }));
  // identity stage 2 for the first 64 MiB of RAM (2M blocks) plus IPA 0x1000_0000.. -> PA 0x5000_0000..
  const s2 = new PageTables(arena, 12, 40, 1);
  for (let a = 0x4000_0000; a < 0x4400_0000; a += 0x20_0000) s2.map(BigInt(a), encodeS2Leaf({ oa: BigInt(a), level3: false }), 2);
  s2.map(0x1000_0000n, encodeS2Leaf({ oa: 0x5000_0000n, level3: true }), 3);
  s2.map(0x1000_1000n, encodeS2Leaf({ oa: 0x5000_1000n, level3: true }), 3);
  const s2f = { S2VMID: 7, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n };
  arena.writeWords(strtab + 5 * 64, arena.ste({ V: 1, CONFIG: 6, ...s2f }));
  const ncd = arena.alloc(64, 64);
  arena.writeWords(ncd, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1, TTB0: BigInt(pts[0]!.root) >> 4n }));
  arena.writeWords(strtab + 6 * 64, arena.ste({ V: 1, CONFIG: 7, S1_CONTEXT_PTR: BigInt(ncd) >> 6n, ...s2f }));
  return { arena, t, strtab, pts, cds, s2 };
}

const page = (pa: number, ng = true): bigint => encodeS1Leaf({ oa: BigInt(pa), level3: true, attrIndx: 1, ap: 1, sh: 3, ng });

function xl(c: Ctx, sid: number, addr: number, write = false): TranslationResult {
  const r = newResult();
  c.t.translate(makeRequest(sid, null, addr, { write }), r);
  return r;
}

/** Maps va -> pa1 in SID `sid`'s tables, translates (filling the IOTLB), then remaps to pa2. */
function primeThenRemap(c: Ctx, sid: number, va: number, pa1: number, pa2: number, ng = true): void {
  c.pts[sid]!.map(BigInt(va), page(pa1, ng), 3);
  assert.equal(xl(c, sid, va).pa, pa1);
  c.pts[sid]!.map(BigInt(va), page(pa2, ng), 3);
}

test('STE changes are not seen until CFGI_STE / CFGI_STE_RANGE / CFGI_ALL for that StreamID', () => {
  const c = setup();
  for (const inval of [
    (t: Translator) => t.invalidation.cfgiSte(4, true),
    (t: Translator) => t.invalidation.cfgiSteRange(5, 1), // SIDs 4..7
    (t: Translator) => t.invalidation.cfgiSteRange(0, 31),
    (t: Translator) => t.invalidation.cfgiAll(),
  ]) {
    c.arena.writeWords(c.strtab + 4 * 64, c.arena.ste({ V: 1, CONFIG: 4 }));
    c.t.invalidation.cfgiAll();
    assert.equal(xl(c, 4, 0x1234).pa, 0x1234);
    c.arena.writeWords(c.strtab + 4 * 64, c.arena.ste({ V: 1, CONFIG: 0 })); // now abort
    assert.equal(xl(c, 4, 0x1234).ok, true, 'stale STE still used');
    c.t.invalidation.cfgiSte(3, true);
    c.t.invalidation.cfgiSteRange(0, 1); // SIDs 0..3 only
    c.t.invalidation.cfgiCdAll(4);
    assert.equal(xl(c, 4, 0x1234).ok, true, 'other invalidations do not cover SID 4');
    inval(c.t);
    const r = xl(c, 4, 0x1234);
    assert.equal(r.ok, false);
    assert.equal(r.event.type, 0);
  }
});

test('CD changes are not seen until CFGI_CD(sid, 0) / CFGI_CD_ALL / CFGI_STE', () => {
  const c = setup();
  for (const inval of [(t: Translator) => t.invalidation.cfgiCd(0, 0, true), (t: Translator) => t.invalidation.cfgiCdAll(0), (t: Translator) => t.invalidation.cfgiSte(0, true)]) {
    c.arena.writeWords(c.cds[0]!, c.arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 1, TTB0: BigInt(c.pts[0]!.root) >> 4n }));
    c.t.invalidation.cfgiAll();
    c.t.invalidation.tlbiNsnhAll();
    c.pts[0]!.map(0x7000n, page(0x4100_0000), 3);
    assert.equal(xl(c, 0, 0x7000).asid, 1);
    // switch the CD to ASID 9 with SID 1's tables
    c.arena.writeWords(c.cds[0]!, c.arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 9, TTB0: BigInt(c.pts[1]!.root) >> 4n }));
    c.t.invalidation.tlbiNsnhAll();
    assert.equal(xl(c, 0, 0x7000).asid, 1, 'stale CD');
    c.t.invalidation.cfgiCd(0, 1, true);
    c.t.invalidation.cfgiCd(1, 0, true);
    assert.equal(xl(c, 0, 0x7000).asid, 1, 'other CDs');
    inval(c.t);
    assert.equal(xl(c, 0, 0x7000).event.type, EVT.F_TRANSLATION); // new tables: unmapped
  }
});

test('invalid STEs, CDs and L1 descriptors are never cached', () => {
  const c = setup();
  c.arena.writeWords(c.strtab + 7 * 64, c.arena.ste({ V: 0 }));
  assert.equal(xl(c, 7, 0x10).event.type, EVT.C_BAD_STE);
  c.arena.writeWords(c.strtab + 7 * 64, c.arena.ste({ V: 1, CONFIG: 4 }));
  assert.equal(xl(c, 7, 0x10).pa, 0x10); // no CFGI needed
  c.arena.writeWords(c.cds[2]!, c.arena.cd({ V: 0 }));
  assert.equal(xl(c, 2, 0x10).event.type, EVT.C_BAD_CD);
  c.arena.writeWords(c.cds[2]!, c.arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 3, TTB0: BigInt(c.pts[2]!.root) >> 4n }));
  c.pts[2]!.map(0x10_0000n, page(0x4200_0000), 3);
  assert.equal(xl(c, 2, 0x10_0000).pa, 0x4200_0000);
  // 2-level stream table: L1STD Span 0, then valid without CFGI (Linux installs L1 descriptors live)
  const l1 = c.arena.alloc(64 * 8, 4096);
  const l2 = c.arena.alloc(256 * 64, 256 * 64);
  c.t.setStreamTable({ base: l1, log2Size: 16, fmt: 1, split: 8 });
  assert.equal(xl(c, 0x105, 0x10).event.type, EVT.C_BAD_STREAMID);
  c.arena.writeWords(l2 + 5 * 64, c.arena.ste({ V: 1, CONFIG: 4 }));
  c.arena.write64(l1 + 8, BigInt(l2) | 9n);
  assert.equal(xl(c, 0x105, 0x10).pa, 0x10);
});

test('TLBI_NH_VA / NH_ASID / NH_ALL / NSNH_ALL: stale until the right scope, ASID and VMID tagging', () => {
  const c = setup();
  const cases: [string, (t: Translator) => void, (t: Translator) => void][] = [
    ['NH_VA', (t) => t.invalidation.tlbiNhVa(tlbiOp(0, 1, 0x3000, true, NO_RANGE)), (t) => { t.invalidation.tlbiNhVa(tlbiOp(0, 2, 0x3000, true, NO_RANGE)); t.invalidation.tlbiNhVa(tlbiOp(0, 1, 0x4000, true, NO_RANGE)); t.invalidation.tlbiNhVa(tlbiOp(7, 1, 0x3000, true, NO_RANGE)); }],
    ['NH_VAA', (t) => t.invalidation.tlbiNhVaa(tlbiOp(0, -1, 0x3000, false, null)), (t) => t.invalidation.tlbiNhVaa(tlbiOp(7, -1, 0x3000, false, null))],
    ['NH_ASID', (t) => t.invalidation.tlbiNhAsid(0, 1), (t) => { t.invalidation.tlbiNhAsid(0, 2); t.invalidation.tlbiNhAsid(7, 1); }],
    ['NH_ALL', (t) => t.invalidation.tlbiNhAll(0), (t) => { t.invalidation.tlbiNhAll(7); t.invalidation.tlbiS2Ipa(tlbiOp(0, -1, 0x3000, false, null)); }],
    ['S12_VMALL', (t) => t.invalidation.tlbiS12Vmall(0), (t) => { t.invalidation.tlbiS12Vmall(7); t.invalidation.tlbiEl2All(); }],
    ['NSNH_ALL', (t) => t.invalidation.tlbiNsnhAll(), (t) => { t.invalidation.tlbiEl2All(); t.invalidation.cfgiAll(); }],
  ];
  for (const [name, right, wrong] of cases) {
    c.t.invalidation.tlbiNsnhAll();
    primeThenRemap(c, 0, 0x3000, 0x4100_0000, 0x4100_1000);
    assert.equal(xl(c, 0, 0x3000).pa, 0x4100_0000, `${name}: stale`);
    wrong(c.t);
    assert.equal(xl(c, 0, 0x3000).pa, 0x4100_0000, `${name}: wrong scope keeps it`);
    right(c.t);
    assert.equal(xl(c, 0, 0x3000).pa, 0x4100_1000, `${name}: invalidated`);
  }
});

test('global (nG = 0) entries: kept by NH_ASID, removed by NH_VA for any ASID, shared across ASIDs', () => {
  const c = setup();
  primeThenRemap(c, 0, 0x8000, 0x4100_0000, 0x4100_1000, false);
  const r = xl(c, 0, 0x8000);
  assert.equal(r.global, true);
  assert.equal(r.pa, 0x4100_0000);
  // SID 1 (ASID 2, VMID 0) hits the global entry even though its own tables do not map it
  assert.equal(xl(c, 1, 0x8000).pa, 0x4100_0000);
  c.t.invalidation.tlbiNhAsid(0, 1);
  assert.equal(xl(c, 0, 0x8000).pa, 0x4100_0000);
  c.t.invalidation.tlbiNhVa(tlbiOp(0, 5, 0x8000, true, NO_RANGE));
  assert.equal(xl(c, 0, 0x8000).pa, 0x4100_1000);
});

test('range TLBI (TG/NUM/SCALE): covers exactly the range; a wrong TTL hint never keeps a covered entry', () => {
  const c = setup();
  const vas = [0x10_0000, 0x10_1000, 0x10_7000, 0x10_8000];
  for (const va of vas) c.pts[0]!.map(BigInt(va), page(0x4100_0000 + (va - 0x10_0000)), 3);
  for (const va of vas) xl(c, 0, va);
  for (const va of vas) c.pts[0]!.map(BigInt(va), page(0x4200_0000 + (va - 0x10_0000)), 3);
  // TG 4K, NUM 3, SCALE 1: (3+1) * 2^1 = 8 pages from 0x10_0000; TTL 1 (level 1) is wrong on purpose
  c.t.invalidation.tlbiNhVa(tlbiOp(0, 1, 0x10_0000, true, { tg: 1, num: 3, scale: 1, ttl: 1 }));
  assert.equal(xl(c, 0, 0x10_0000).pa, 0x4200_0000);
  assert.equal(xl(c, 0, 0x10_1000).pa, 0x4200_1000);
  assert.equal(xl(c, 0, 0x10_7000).pa, 0x4200_7000);
  assert.equal(xl(c, 0, 0x10_8000).pa, 0x4100_8000, 'page 8 outside the range stays stale');
  // Linux's unmap of 4 x 4K at 0x10000: NUM 1, SCALE 1 -> qw1 0x10701 in the note (TTL 3)
  c.pts[0]!.map(0x1_3000n, page(0x4100_3000), 3);
  xl(c, 0, 0x1_3000);
  c.pts[0]!.map(0x1_3000n, page(0x4200_3000), 3);
  c.t.invalidation.tlbiNhVa(tlbiOp(0, 1, 0x1_0000, true, { tg: 1, num: 1, scale: 1, ttl: 3 }));
  assert.equal(xl(c, 0, 0x1_3000).pa, 0x4200_3000);
});

test('a block entry is invalidated by any address inside it', () => {
  const c = setup();
  c.pts[0]!.map(0x4000_0000n, encodeS1Leaf({ oa: 0x4000_0000n, level3: false, attrIndx: 1, ap: 1, sh: 3, ng: true }), 1);
  assert.equal(xl(c, 0, 0x4000_1234).size, 2 ** 30);
  c.pts[0]!.map(0x4000_0000n, encodeS1Leaf({ oa: 0x8000_0000n, level3: false, attrIndx: 1, ap: 1, sh: 3, ng: true }), 1);
  assert.equal(xl(c, 0, 0x4000_1234).pa, 0x4000_1234);
  c.t.invalidation.tlbiNhVa(tlbiOp(0, 1, 0x7fff_f000, true, NO_RANGE)); // last page of the block
  assert.equal(xl(c, 0, 0x4000_1234).pa, 0x8000_1234);
});

test('stage 2: TLBI_S2_IPA removes stage-2-only entries but not combined stage 1+2 ones (S12_VMALL does)', () => {
  const c = setup();
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5000_0010);
  c.pts[0]!.map(0x9000n, page(0x1000_0000), 3);
  assert.equal(xl(c, 6, 0x9010).pa, 0x5000_0010); // nested: VA 0x9000 -> IPA 0x1000_0000 -> PA 0x5000_0000
  c.s2.map(0x1000_0000n, encodeS2Leaf({ oa: 0x5100_0000n, level3: true }), 3);
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5000_0010, 'stale S2');
  c.t.invalidation.tlbiS2Ipa(tlbiOp(7, -1, 0x1000_0000, true, NO_RANGE));
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5100_0010);
  assert.equal(xl(c, 6, 0x9010).pa, 0x5000_0010, 'combined entry survives TLBI_S2_IPA');
  c.t.invalidation.tlbiS12Vmall(7);
  assert.equal(xl(c, 6, 0x9010).pa, 0x5100_0010);
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5100_0010);
  // NH_ALL(VMID) also covers combined entries; S2 range form
  c.s2.map(0x1000_0000n, encodeS2Leaf({ oa: 0x5200_0000n, level3: true }), 3);
  c.t.invalidation.tlbiNhAll(7);
  assert.equal(xl(c, 6, 0x9010).pa, 0x5200_0010);
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5100_0010, 'NH_ALL leaves stage-2-only entries');
  c.t.invalidation.tlbiS2Ipa(tlbiOp(7, -1, 0x0fff_e000, true, { tg: 1, num: 3, scale: 0, ttl: 0 })); // 4 pages ending at 0x1000_2000
  assert.equal(xl(c, 5, 0x1000_0010).pa, 0x5200_0010);
});

test('EL2 StreamWorld entries are only removed by TLBI_EL2_*', () => {
  const c = setup({ f: { hyp: true } });
  c.arena.writeWords(c.strtab + 3 * 64, c.arena.ste({ V: 1, CONFIG: 5, STRW: 2, S1_CONTEXT_PTR: BigInt(c.cds[3]!) >> 6n }));
  primeThenRemap(c, 3, 0x5000, 0x4100_0000, 0x4100_1000);
  c.t.invalidation.tlbiNsnhAll();
  c.t.invalidation.tlbiNhVaa(tlbiOp(0, -1, 0x5000, false, null));
  assert.equal(xl(c, 3, 0x5000).pa, 0x4100_0000);
  c.t.invalidation.tlbiEl2Va(tlbiOp(0, 4, 0x5000, true, NO_RANGE));
  assert.equal(xl(c, 3, 0x5000).pa, 0x4100_1000);
  c.pts[3]!.map(0x5000n, page(0x4100_2000), 3);
  c.t.invalidation.tlbiEl2All();
  assert.equal(xl(c, 3, 0x5000).pa, 0x4100_2000);
});

test('bounded caches evict (FIFO) and stay correct; disabled caches walk every access', () => {
  const c = setup({ tlbSize: 4, configCacheSize: 2 });
  for (let i = 0; i < 16; i++) c.pts[0]!.map(BigInt(0x20_0000 + i * 0x1000), page(0x4100_0000 + i * 0x1000), 3);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 16; i++) assert.equal(xl(c, 0, 0x20_0000 + i * 0x1000).pa, 0x4100_0000 + i * 0x1000);
    for (const sid of [1, 2, 4]) xl(c, sid, 0x10);
  }
  const s = c.t.stats();
  assert.ok(s.tlbEntries <= 4);
  assert.ok(s.tlbEvictions > 0);
  assert.ok(s.configEvictions > 0);
  assert.ok(s.configEntries <= 2);
  const off = setup({ caches: false });
  off.pts[0]!.map(0x3000n, page(0x4100_0000), 3);
  for (let i = 0; i < 5; i++) xl(off, 0, 0x3000);
  const so = off.t.stats();
  assert.equal(so.walks, 5);
  assert.equal(so.tlbHits, 0);
  assert.equal(so.configHits, 0);
  const on = setup();
  on.pts[0]!.map(0x3000n, page(0x4100_0000), 3);
  for (let i = 0; i < 5; i++) assert.equal(xl(on, 0, 0x3000).tlbHit, i > 0);
  assert.equal(on.t.stats().walks, 1);
  assert.equal(on.t.stats().tlbHits, 4);
});

test('a cached read-only entry does not block a write made possible by HTTU dirty state', () => {
  const c = setup();
  c.arena.writeWords(c.cds[0]!, c.arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, HA: 1, HD: 1, ASID: 1, TTB0: BigInt(c.pts[0]!.root) >> 4n }));
  const s = c.pts[0]!.map(0x6000n, encodeS1Leaf({ oa: 0x4100_0000n, level3: true, attrIndx: 1, ap: 3, sh: 3, ng: true, dbm: true }), 3);
  assert.equal(xl(c, 0, 0x6000).ok, true);
  assert.equal(xl(c, 0, 0x6000, true).ok, true);
  assert.equal((c.arena.read64(s) >> 7n) & 1n, 0n);
  assert.equal(xl(c, 0, 0x6000, true).tlbHit, true);
});

test('without stage 2 the command VMID is ignored; 8-bit ASIDs/VMIDs ignore the upper command bits', () => {
  const c = setup({ f: { s2p: false, asid16: false } });
  primeThenRemap(c, 0, 0x3000, 0x4100_0000, 0x4100_1000);
  c.t.invalidation.tlbiNhAsid(0x55, 0x301); // VMID ignored, ASID[15:8] ignored -> ASID 1
  assert.equal(xl(c, 0, 0x3000).pa, 0x4100_1000);
});

test('caches disabled: each access uses the STE and CD in memory, across StreamIDs that share a decode memo slot and CDs that alternate', () => {
  // SIDs 3 and 3 + 65,536 share a memo slot; SID 3 has a linear table of 4 CDs (S1CDMax 2),
  // SID 65,539 one CD. Each CD maps VA 0x1000 to its own page.
  const arena = new Arena(RAM_BASE, 16 << 20);
  const t = new Translator(arena.mem, { ...DEFAULT_FEATURES, sidBits: 17 }, { cachesEnabled: false });
  const strtab = arena.alloc(64 << 17, 64 << 17);
  t.setStreamTable({ base: strtab, log2Size: 17, fmt: 0, split: 0 });
  const pas = [0x4100_0000, 0x4100_1000, 0x4100_2000, 0x4100_3000, 0x4100_4000];
  const roots = pas.map((pa) => {
    const p = new PageTables(arena, 12, 48, 0);
    p.map(0x1000n, page(pa), 3);
    return p.root;
  });
  const cdOf = (root: number, asid: number): bigint[] =>
    arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: asid, TTB0: BigInt(root) >> 4n });
  const table = arena.alloc(4 * 64, 256);
  for (let i = 0; i < 4; i++) arena.writeWords(table + 64 * i, cdOf(roots[i]!, 1 + i));
  const single = arena.alloc(64, 64);
  arena.writeWords(single, cdOf(roots[4]!, 9));
  arena.writeWords(strtab + 3 * 64, arena.ste({ V: 1, CONFIG: 5, S1CDMAX: 2, S1DSS: 2, S1_CONTEXT_PTR: BigInt(table) >> 6n }));
  const far = 3 + 65536;
  arena.writeWords(strtab + far * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(single) >> 6n }));
  const pa = (sid: number, ssid: number | null): number | string => {
    const r = newResult();
    return t.translate(makeRequest(sid, ssid, 0x1234, {}), r) ? r.pa : `fault 0x${r.event.type.toString(16)}`;
  };
  // Alternating streams and substreams: each answer is the one its own STE and CD give.
  for (let round = 0; round < 3; round++) {
    assert.equal(pa(3, null), pas[0]! + 0x234, `round ${round}: SID 3, no SubstreamID (CD 0)`);
    assert.equal(pa(far, null), pas[4]! + 0x234, `round ${round}: SID ${far}`);
    assert.equal(pa(3, 2), pas[2]! + 0x234, `round ${round}: SID 3 SSID 2`);
    assert.equal(pa(3, 1), pas[1]! + 0x234, `round ${round}: SID 3 SSID 1`);
    assert.equal(pa(far, null), pas[4]! + 0x234, `round ${round}: SID ${far} again`);
  }
  // Changes made without any invalidation are used by the next access: a CD's TTB0, then the
  // STE's context pointer, then a CD made invalid.
  arena.writeWords(table + 64, cdOf(roots[3]!, 2));
  assert.equal(pa(3, 1), pas[3]! + 0x234);
  arena.writeWords(strtab + far * 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(table + 128) >> 6n }));
  assert.equal(pa(far, null), pas[2]! + 0x234);
  arena.writeWords(table + 128, [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  assert.equal(pa(far, null), `fault 0x${EVT.C_BAD_CD.toString(16)}`);
  assert.equal(pa(3, 2), `fault 0x${EVT.C_BAD_CD.toString(16)}`);
  assert.equal(pa(3, null), pas[0]! + 0x234);
  assert.equal(pa(3, 0), `fault 0x${EVT.F_STREAM_DISABLED.toString(16)}`);
  // A change confined to the first word of a structure: CD 0 of SID 3 with EPD0 (TTB0 walks
  // disabled), then SID 3's STE made a bypass STE (STE.Config).
  const cd0 = cdOf(roots[0]!, 1);
  arena.writeWords(table, [cd0[0]! | (1n << 14n), ...cd0.slice(1)]);
  assert.equal(pa(3, null), `fault 0x${EVT.F_TRANSLATION.toString(16)}`);
  const ste3 = arena.ste({ V: 1, CONFIG: 5, S1CDMAX: 2, S1DSS: 2, S1_CONTEXT_PTR: BigInt(table) >> 6n });
  arena.writeWords(strtab + 3 * 64, [(ste3[0]! & ~0xen) | (4n << 1n), ...ste3.slice(1)]);
  assert.equal(pa(3, null), 0x1234);
});

test('an IOTLB hit through a stream hit record reports the ASID and VMID the full path reports (stage 1 and nested)', () => {
  const c = setup();
  // SID 2: stage 1, ASID 3, VMID 0. SID 6: nested, ASID 1 (SID 0's tables), VMID 7.
  c.pts[2]!.map(0x5000n, page(0x4100_5000), 3);
  c.pts[0]!.map(0x6000n, page(0x4100_6000), 3);
  for (const [sid, va, asid, vmid] of [[2, 0x5000, 3, 0], [6, 0x6000, 1, 7]] as const) {
    const first = xl(c, sid, va);
    assert.equal(first.ok, true, `SID ${sid}: walk`);
    assert.equal(first.tlbHit, false);
    const before = c.t.stats().tlbHits;
    const hit = xl(c, sid, va + 8);
    assert.equal(hit.tlbHit, true, `SID ${sid}: hit`);
    assert.equal(c.t.stats().tlbHits, before + 1);
    assert.deepEqual([hit.asid, hit.vmid], [asid, vmid], `SID ${sid}: IDs of the hit`);
    assert.deepEqual([first.asid, first.vmid], [asid, vmid], `SID ${sid}: IDs of the walk`);
  }
});

test('caches enabled and disabled: stream tables (linear and 2-level), CDs and page tables at PAs with bit 31 set and above 4 GiB', () => {
  for (const base of [0x8000_0000, 0x1_8000_0000, 0xf_ffff_0000 - (8 << 20)]) {
    const arena = new Arena(base, 8 << 20);
    const strtab = arena.alloc(64 * 16, 1024);
    const data = arena.alloc(0x10_0000, 0x1000);
    const pt = new PageTables(arena, 12, 48, 0);
    pt.map(0x1000n, page(data + 0x3000), 3);
    const cd = arena.alloc(4 * 64, 256);
    arena.writeWords(cd + 64, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 3, TTB0: BigInt(pt.root) >> 4n }));
    arena.writeWords(strtab + 2 * 64, arena.ste({ V: 1, CONFIG: 5, S1CDMAX: 2, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
    // The same STE as StreamID 0x102 of a 2-level table (SPLIT 8).
    const l1 = arena.alloc(8 * 2, 64);
    const l2 = arena.alloc(64 << 8, 64 << 8);
    arena.write64(l1 + 8, BigInt(l2) | 9n);
    arena.writeWords(l2 + 2 * 64, arena.ste({ V: 1, CONFIG: 5, S1CDMAX: 2, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
    const tables = [
      { sid: 2, st: { base: strtab, log2Size: 4, fmt: 0, split: 0 } },
      { sid: 0x102, st: { base: l1, log2Size: 9, fmt: 1, split: 8 } },
    ];
    for (const cachesEnabled of [true, false]) {
      for (const { sid, st } of tables) {
        const t = new Translator(arena.mem, DEFAULT_FEATURES, { cachesEnabled });
        t.setStreamTable(st);
        for (let k = 0; k < 3; k++) {
          const r = newResult();
          const what = `base 0x${base.toString(16)}, SID 0x${sid.toString(16)}, caches ${cachesEnabled}, access ${k}`;
          assert.equal(t.translate(makeRequest(sid, 1, 0x1238, {}), r), true, `${what}: ${r.event.type}`);
          assert.equal(r.pa, data + 0x3238, what);
        }
      }
    }
  }
});
