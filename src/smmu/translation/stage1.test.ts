// Stage-1 walk tests: every granule and start level, blocks only where legal, TTB0/TTB1, TBI,
// permissions (AP, XN/PXN, hierarchical, WXN, PAN, overrides), access flag and dirty state with
// HTTU, address-size faults, 52-bit output, fault recording (R/A/S), walk aborts, big-endian.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { EVT, EVT_CLASS } from '../../spec/smmuv3/events.js';
import { encodeS1Leaf, startLevel, tg0Of } from '../../spec/smmuv3/pagetable.js';
import { Translator } from './translator.js';
import { makeRequest, newResult, PERM_R, PERM_W, PERM_X, type TranslationResult } from './types.js';
import { Arena, PageTables } from '../../../test/support/smmu-structures.js';

interface Ctx {
  arena: Arena;
  t: Translator;
  pt: PageTables;
  pt1: PageTables | null;
}

function setup(o: { shift?: 12 | 14 | 16; ia?: number; ia1?: number; f?: Partial<SmmuFeatures>; cd?: Record<string, bigint | number | boolean>; ste?: Record<string, bigint | number | boolean>; be?: boolean; caches?: boolean } = {}): Ctx {
  const shift = o.shift ?? 12;
  const ia = o.ia ?? 48;
  const f: SmmuFeatures = { ...DEFAULT_FEATURES, ...o.f };
  const arena = new Arena();
  const t = new Translator(arena.mem, f, { cachesEnabled: o.caches ?? false });
  const strtab = arena.alloc(64 * 16, 1024);
  t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const pt = new PageTables(arena, shift, ia, startLevel(ia, shift), o.be ?? false);
  let pt1: PageTables | null = null;
  const cdf: Record<string, bigint | number | boolean> = {
    T0SZ: 64 - ia, TG0: tg0Of(shift), EPD1: 1, V: 1, IPS: f.oasBits === 52 ? 6 : 5, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 7,
    TTB0: BigInt(pt.root) >> 4n, MAIR0: 0xf404ff44n, ENDI: o.be ? 1 : 0,
  };
  if (o.ia1 !== undefined) {
    pt1 = new PageTables(arena, shift, o.ia1, startLevel(o.ia1, shift), o.be ?? false);
    Object.assign(cdf, { EPD1: 0, T1SZ: 64 - o.ia1, TG1: shift === 12 ? 2 : shift === 14 ? 1 : 3, TTB1: BigInt(pt1.root) >> 4n });
  }
  const cd = arena.alloc(64, 64);
  arena.writeWords(cd, arena.cd({ ...cdf, ...o.cd }));
  arena.writeWords(strtab + 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n, ...o.ste }));
  return { arena, t, pt, pt1 };
}

function xl(c: Ctx, addr: number | bigint, access: { write?: boolean; instr?: boolean; priv?: boolean } = {}): TranslationResult {
  const r = newResult();
  c.t.translate(makeRequest(1, null, addr, access), r);
  return r;
}

const leaf = (oa: bigint, level3: boolean, extra: Partial<Parameters<typeof encodeS1Leaf>[0]> = {}, g: 12 | 14 | 16 = 12): bigint =>
  encodeS1Leaf({ oa, level3, attrIndx: 1, ap: 1, sh: 3, ng: true, granuleShift: g, ...extra });

test('all granules and start levels, pages and every legal block size', () => {
  const cases: { shift: 12 | 14 | 16; ia: number; level: number; size: number }[] = [
    { shift: 12, ia: 48, level: 3, size: 2 ** 12 }, { shift: 12, ia: 48, level: 2, size: 2 ** 21 }, { shift: 12, ia: 48, level: 1, size: 2 ** 30 },
    { shift: 12, ia: 39, level: 3, size: 2 ** 12 }, { shift: 12, ia: 39, level: 1, size: 2 ** 30 }, { shift: 12, ia: 32, level: 2, size: 2 ** 21 },
    { shift: 12, ia: 25, level: 3, size: 2 ** 12 },
    { shift: 14, ia: 48, level: 3, size: 2 ** 14 }, { shift: 14, ia: 47, level: 2, size: 2 ** 25 }, { shift: 14, ia: 36, level: 3, size: 2 ** 14 },
    { shift: 16, ia: 48, level: 3, size: 2 ** 16 }, { shift: 16, ia: 48, level: 2, size: 2 ** 29 }, { shift: 16, ia: 42, level: 2, size: 2 ** 29 },
    { shift: 16, ia: 29, level: 3, size: 2 ** 16 },
  ];
  for (const { shift, ia, level, size } of cases) {
    const c = setup({ shift, ia });
    const va = BigInt(2 ** (ia - 1)) + BigInt(size) * 3n;
    const pa = 0x2_0000_0000n + BigInt(size) * 5n;
    c.pt.map(va, leaf(pa, level === 3, {}, shift), level);
    const r = xl(c, va + 0x123n);
    assert.equal(r.ok, true, `${shift} ia${ia} L${level}`);
    assert.equal(r.pa, Number(pa) + 0x123);
    assert.equal(r.size, size);
    assert.equal(xl(c, va + BigInt(size)).event.type, EVT.F_TRANSLATION); // neighbour unmapped
  }
});

test('blocks where illegal (4K L0, 16K L1, 64K L1 without 52-bit OA) and level-3 block encodings fault', () => {
  const bad: { shift: 12 | 14 | 16; ia: number; level: number }[] = [{ shift: 12, ia: 48, level: 0 }, { shift: 14, ia: 48, level: 1 }, { shift: 16, ia: 48, level: 1 }];
  for (const { shift, ia, level } of bad) {
    const c = setup({ shift, ia });
    c.pt.map(0n, leaf(0n, false, {}, shift), level);
    const r = xl(c, 0x40);
    assert.equal(r.event.type, EVT.F_TRANSLATION, `${shift} L${level}`);
    assert.equal(r.event.cls, EVT_CLASS.IN);
    assert.equal(r.event.s2, false);
  }
  const c = setup();
  c.pt.map(0x5000n, leaf(0x9000n, false), 3); // block encoding at level 3
  assert.equal(xl(c, 0x5000).event.type, EVT.F_TRANSLATION);
});

test('52-bit output with the 64K granule (IDR5.OAS = 52): OA[51:48] from descriptor bits [15:12]; 4TB level-1 blocks', () => {
  const c = setup({ shift: 16, ia: 52, f: { oasBits: 52, vax: true } });
  c.pt.map(0x1_0000n, leaf(0xa_0000_1234_0000n, true, {}, 16), 3);
  const r = xl(c, 0x1_0010);
  assert.equal(r.ok, true);
  assert.equal(r.pa, 0xa_0000_1234_0010);
  c.pt.map(0x8_0000_0000_0000n, leaf(0x4_0000_0000_0000n, false, {}, 16), 1);
  const b = xl(c, 0x8_0000_0000_0040);
  assert.equal(b.size, 2 ** 42);
  assert.equal(b.pa, 0x4_0000_0000_0040);
  // 48-bit OAS: same descriptor bits are not address bits and the 52-bit VA range is illegal
  const d = setup({ shift: 16, ia: 48 });
  d.pt.map(0x1_0000n, leaf(0x1234_0000n, true, {}, 16), 3);
  assert.equal(xl(d, 0x1_0000).pa, 0x1234_0000);
});

test('output beyond the effective IPS: F_ADDR_SIZE (leaf and next-level table)', () => {
  const c = setup({ cd: { IPS: 2 } }); // 40 bits
  c.pt.map(0x1000n, leaf(0x100_0000_0000n, true), 3);
  const r = xl(c, 0x1000);
  assert.equal(r.event.type, EVT.F_ADDR_SIZE);
  assert.equal(r.event.s2, false);
  const d = setup({ cd: { IPS: 2 } });
  d.arena.write64(d.pt.root, 0x100_0000_0000n | 3n); // level-0 table descriptor beyond 40 bits
  assert.equal(xl(d, 0x40).event.type, EVT.F_ADDR_SIZE);
});

test('TTB1 for sign-extended addresses, EPD0/EPD1, range checks and TBI', () => {
  const c = setup({ ia: 39, ia1: 39 });
  c.pt.map(0x1000n, leaf(0x9000n, true), 3);
  c.pt1!.map(0x40_0000_1000n - (1n << 39n) + (1n << 39n) - 0x40_0000_0000n, leaf(0xa000n, true), 3);
  const hiVa = (1n << 64n) - (1n << 39n) + 0x1000n; // 0xffffff8000001000
  const r = xl(c, hiVa + 4n);
  assert.equal(r.ok, true);
  assert.equal(r.pa, 0xa004);
  assert.equal(xl(c, 0x1004).pa, 0x9004);
  // not sign-extended from bit 38
  const bad = xl(c, 0x80_0000_1000n);
  assert.equal(bad.event.type, EVT.F_TRANSLATION);
  assert.equal(bad.event.inputHi, 0x80);
  assert.equal(xl(c, 0x0100_0000_0000_1000n).event.type, EVT.F_TRANSLATION); // tag without TBI
  const tbi = setup({ ia: 39, cd: { TBI0: 1 } });
  tbi.pt.map(0x1000n, leaf(0x9000n, true), 3);
  const tagged = xl(tbi, 0x5a00_0000_0000_1008n);
  assert.equal(tagged.pa, 0x9008);
  const e0 = setup({ ia: 39, ia1: 39, cd: { EPD0: 1 } });
  e0.pt.map(0x1000n, leaf(0x9000n, true), 3);
  assert.equal(xl(e0, 0x1000).event.type, EVT.F_TRANSLATION);
  const e1 = setup({ ia: 39 }); // EPD1 = 1
  assert.equal(xl(e1, hiVa).event.type, EVT.F_TRANSLATION);
});

test('AP[2:1] by privilege, XN/PXN and instruction fetch, untagged PCIe = unprivileged data', () => {
  const c = setup();
  const pages: [bigint, number, boolean, boolean][] = [
    // ap, expected [privR privW unprivR unprivW] as bitmasks via (priv, unpriv)
  ];
  void pages;
  const map = (va: number, extra: Partial<Parameters<typeof encodeS1Leaf>[0]>): void => void c.pt.map(BigInt(va), leaf(BigInt(va) + 0x1000_0000n, true, extra), 3);
  map(0x1000, { ap: 0 }); // EL1 RW, EL0 none
  map(0x2000, { ap: 1 }); // RW both
  map(0x3000, { ap: 2 }); // EL1 RO, EL0 none
  map(0x4000, { ap: 3 }); // RO both
  map(0x5000, { ap: 3, uxn: true }); // RO, EL0 XN
  map(0x6000, { ap: 2, pxn: true }); // EL1 RO, PXN
  const perms = (va: number): [number, number] => {
    const r = xl(c, va, { priv: true });
    return [r.permsPriv, r.permsUnpriv];
  };
  assert.deepEqual(perms(0x1000), [PERM_R | PERM_W | PERM_X, PERM_X]);
  assert.deepEqual(perms(0x2000), [PERM_R | PERM_W, PERM_R | PERM_W | PERM_X]); // EL0-writable: implicit PXN
  assert.deepEqual(perms(0x3000), [PERM_R | PERM_X, PERM_X]);
  assert.deepEqual(perms(0x4000), [PERM_R | PERM_X, PERM_R | PERM_X]);
  assert.deepEqual(perms(0x5000), [PERM_R | PERM_X, PERM_R]);
  assert.deepEqual(perms(0x6000), [PERM_R, PERM_X]);
  // default request = unprivileged data: an EL1-only page faults
  const u = xl(c, 0x1000);
  assert.equal(u.event.type, EVT.F_PERMISSION);
  assert.equal(u.event.pnu, false);
  assert.equal(u.event.rnw, true);
  assert.equal(xl(c, 0x1000, { priv: true }).ok, true);
  const i = xl(c, 0x6000, { instr: true, priv: true });
  assert.equal(i.event.type, EVT.F_PERMISSION);
  assert.equal(i.event.ind, true);
  assert.equal(i.event.pnu, true);
  assert.equal(xl(c, 0x5000, { instr: true }).event.type, EVT.F_PERMISSION);
  assert.equal(xl(c, 0x4000, { instr: true }).ok, true);
  const w = xl(c, 0x4000, { write: true, instr: true }); // writes are always data
  assert.equal(w.event.ind, false);
  assert.equal(w.event.rnw, false);
});

test('hierarchical APTable/XNTable/PXNTable, disabled by HAD when IDR3.HAD', () => {
  const mk = (had: boolean) => {
    const c = setup({ cd: had ? { HAD0: 1 } : {} });
    c.pt.map(0x20_0000n, leaf(0x9000n, true, { ap: 1 }), 3, { apTable: 3, xnTable: true, pxnTable: true });
    return xl(c, 0x20_0000, { priv: true });
  };
  const h = mk(false);
  assert.equal(h.permsPriv, PERM_R); // APTable[1] read-only, APTable[0] no EL0, PXNTable
  assert.equal(h.permsUnpriv, 0);
  const n = mk(true);
  assert.equal(n.permsPriv, PERM_R | PERM_W);
  assert.equal(n.permsUnpriv, PERM_R | PERM_W | PERM_X);
});

test('WXN and PAN', () => {
  const w = setup({ cd: { WXN: 1 } });
  w.pt.map(0x1000n, leaf(0x9000n, true, { ap: 0 }), 3);
  assert.equal(w.arena !== null, true);
  assert.equal(xl(w, 0x1000, { priv: true }).permsPriv, PERM_R | PERM_W);
  const p = setup({ cd: { PAN: 1 } });
  p.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3 }), 3);
  const r = xl(p, 0x1000, { priv: true });
  assert.equal(r.event.type, EVT.F_PERMISSION);
  assert.equal(xl(p, 0x1000).ok, true);
});

test('STE.PRIVCFG / INSTCFG override the incoming attributes (IDR1.ATTR_PERMS_OVR)', () => {
  const c = setup({ f: { attrPermsOvr: true }, ste: { PRIVCFG: 3, INSTCFG: 3 } });
  c.pt.map(0x1000n, leaf(0x9000n, true, { ap: 0, pxn: true }), 3);
  const r = xl(c, 0x1000); // untagged read becomes privileged instruction fetch
  assert.equal(r.event.type, EVT.F_PERMISSION);
  assert.equal(r.event.pnu, true);
  assert.equal(r.event.ind, true);
  const w = xl(c, 0x1000, { write: true }); // writes stay data
  assert.equal(w.ok, true);
  const off = setup({ f: { attrPermsOvr: false }, ste: { PRIVCFG: 3 } });
  off.pt.map(0x1000n, leaf(0x9000n, true, { ap: 0 }), 3);
  assert.equal(xl(off, 0x1000).event.type, EVT.F_PERMISSION); // RES0 without ATTR_PERMS_OVR
});

test('access flag: F_ACCESS before permission, AFFD, hardware update with CD.HA', () => {
  const c = setup();
  const slot = c.pt.map(0x1000n, leaf(0x9000n, true, { af: false, ap: 3 }), 3);
  const r = xl(c, 0x1000, { write: true });
  assert.equal(r.event.type, EVT.F_ACCESS);
  assert.equal(r.record, true);
  const d = setup({ cd: { AFFD: 1 } });
  d.pt.map(0x1000n, leaf(0x9000n, true, { af: false }), 3);
  assert.equal(xl(d, 0x1000).ok, true);
  const h = setup({ cd: { HA: 1 } });
  const hs = h.pt.map(0x1000n, leaf(0x9000n, true, { af: false }), 3);
  assert.equal(xl(h, 0x1000).ok, true);
  assert.equal((h.arena.read64(hs) >> 10n) & 1n, 1n);
  void slot;
});

test('dirty state: DBM + CD.HD makes a read-only page writable by clearing AP[2] in memory', () => {
  const c = setup({ cd: { HA: 1, HD: 1 } });
  const s = c.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3, dbm: true }), 3);
  assert.equal(xl(c, 0x1000).ok, true);
  assert.equal((c.arena.read64(s) >> 7n) & 1n, 1n); // a read leaves it clean
  const w = xl(c, 0x1000, { write: true });
  assert.equal(w.ok, true);
  assert.equal((c.arena.read64(s) >> 7n) & 1n, 0n);
  const n = setup({ cd: { HA: 1 } });
  n.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3, dbm: true }), 3);
  assert.equal(xl(n, 0x1000, { write: true }).event.type, EVT.F_PERMISSION);
  const httu1 = setup({ f: { httu: 1 }, cd: { HA: 1 } });
  httu1.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3, dbm: true }), 3);
  assert.equal(xl(httu1, 0x1000, { write: true }).event.type, EVT.F_PERMISSION);
});

test('a writable-clean descriptor (DBM with CD.HD) counts as writable for WXN and implicit PXN (IHI 0070 §3.13.3 note)', () => {
  // WXN: AP = 0b10 (read-only) + DBM is writable-clean with HD, so it is not executable.
  const w = setup({ cd: { WXN: 1, HA: 1, HD: 1 } });
  w.pt.map(0x1000n, leaf(0x9000n, true, { ap: 2, dbm: true }), 3);
  const wf = xl(w, 0x1000, { instr: true, priv: true });
  assert.equal(wf.event.type, EVT.F_PERMISSION);
  assert.equal(wf.event.ind, true);
  assert.equal(xl(w, 0x1000, { priv: true }).permsPriv, PERM_R); // data read still allowed, still clean
  // Without HD the same descriptor is read-only, hence executable under WXN.
  const nw = setup({ cd: { WXN: 1, HA: 1 } });
  nw.pt.map(0x1000n, leaf(0x9000n, true, { ap: 2, dbm: true }), 3);
  assert.equal(xl(nw, 0x1000, { instr: true, priv: true }).permsPriv, PERM_R | PERM_X);
  // Implicit PXN: AP = 0b11 + DBM with HD is EL0-writable-clean, so privileged execute-never.
  const p = setup({ cd: { HA: 1, HD: 1 } });
  p.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3, dbm: true }), 3);
  assert.equal(xl(p, 0x1000, { instr: true, priv: true }).event.type, EVT.F_PERMISSION);
  assert.equal(xl(p, 0x1000, { instr: true }).ok, true); // unprivileged execute unaffected (UXN = 0)
  const np = setup({ cd: { HA: 1 } });
  np.pt.map(0x1000n, leaf(0x9000n, true, { ap: 3, dbm: true }), 3);
  assert.equal(xl(np, 0x1000, { instr: true, priv: true }).ok, true);
  // APTable removing write disables the dirty mechanism: executable again.
  const at = setup({ cd: { WXN: 1, HA: 1, HD: 1 } });
  at.pt.map(0x1000n, leaf(0x9000n, true, { ap: 2, dbm: true }), 3, { apTable: 2 });
  assert.equal(xl(at, 0x1000, { instr: true, priv: true }).permsPriv, PERM_R | PERM_X);
});

test('TTB0 below 64-byte alignment is used as is unless the effective IPS is 52 bits (IHI 0070 §5.4 TTB0)', () => {
  // Start-level tables of 2 entries (16 bytes): 4K with T0SZ = 24 (level 0), 64K with T0SZ = 21 (level 1).
  for (const [shift, ia, oas, moved] of [[12, 40, 48, true], [16, 43, 52, false]] as const) {
    const f: SmmuFeatures = { ...DEFAULT_FEATURES, oasBits: oas };
    const arena = new Arena();
    const t = new Translator(arena.mem, f, { cachesEnabled: false });
    const strtab = arena.alloc(64 * 16, 1024);
    t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
    const pt = new PageTables(arena, shift, ia, startLevel(ia, shift));
    pt.map(0x1_0000n, leaf(0x9_0000n, true, {}, shift), 3);
    if (moved) {
      // Effective IPS 48: the table is aligned to its own size, so TTB0 = root + 16 is where it is.
      arena.writeWords(pt.root + 16, [arena.read64(pt.root), arena.read64(pt.root + 8)]);
      arena.writeWords(pt.root, [0n, 0n]);
    } // else effective IPS 52: bits [5:0] of TTB0 are treated as zero, so root + 16 means root.
    const cd = arena.alloc(64, 64);
    arena.writeWords(cd, arena.cd({ T0SZ: 64 - ia, TG0: tg0Of(shift), EPD1: 1, V: 1, IPS: 6, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 7, TTB0: BigInt(pt.root + 16) >> 4n }));
    arena.writeWords(strtab + 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
    const r = newResult();
    t.translate(makeRequest(1, null, 0x1_0234, {}), r);
    assert.equal(r.ok, true, `granule ${shift}`);
    assert.equal(r.pa, 0x9_0234);
  }
});

test('fault recording: R = 0 suppresses, A = 0 terminates RAZ/WI (no TERM_MODEL), S = 1 stalls', () => {
  const r0 = setup({ cd: { R: 0 } });
  const a = xl(r0, 0x1000);
  assert.equal(a.event.type, EVT.F_TRANSLATION);
  assert.equal(a.record, false);
  const raz = setup({ f: { termModel: false }, cd: { A: 0, R: 0 } });
  const b = xl(raz, 0x1000);
  assert.equal(b.razWi, true);
  assert.equal(b.record, false);
  const st = setup({ f: { stallModel: 'stall' }, cd: { S: 1, R: 0 } });
  const s = xl(st, 0x1000);
  assert.equal(s.stall, true);
  assert.equal(s.record, true);
  assert.equal(s.event.stall, true);
});

test('walk external abort: F_WALK_EABT with FetchAddr, CLASS TT, always recorded', () => {
  const c = setup({ cd: { R: 0 } });
  c.arena.write64(c.pt.root, 0x80_0000_0000n | 3n); // next table outside RAM
  const r = xl(c, 0x1000);
  assert.equal(r.event.type, EVT.F_WALK_EABT);
  assert.equal(r.event.cls, EVT_CLASS.TT);
  assert.equal(r.event.s2, false);
  assert.equal(r.event.fetchAddr, 0x80_0000_0000);
  assert.equal(r.record, true);
});

test('big-endian translation tables with CD.ENDI (TTENDIAN mixed)', () => {
  const c = setup({ be: true });
  c.pt.map(0x7000n, leaf(0x1234_5000n, true), 3);
  assert.equal(xl(c, 0x7008).pa, 0x1234_5008);
  const le = setup({ be: true, cd: { ENDI: 0 } });
  le.pt.map(0x7000n, leaf(0x1234_5000n, true), 3);
  assert.equal(xl(le, 0x7008).ok, false); // tables read with the wrong endianness
});

test('EL2 StreamWorld (IDR0.HYP): single privilege, entries global, TTB1 unused', () => {
  const c = setup({ f: { hyp: true }, ste: { STRW: 2 } });
  c.pt.map(0x1000n, leaf(0x9000n, true, { ap: 0 }), 3);
  const r = xl(c, 0x1000);
  assert.equal(r.ok, true);
  assert.equal(r.global, true);
  assert.equal(r.permsUnpriv, r.permsPriv);
});
