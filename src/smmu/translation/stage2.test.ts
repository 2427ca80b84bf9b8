// Stage-2-only and nested translation tests: concatenated start tables, S2AP, S2 access flag and
// HTTU, S2 faults with S2 = 1 / CLASS / IPA, STE.S2R, nested CD fetches and stage-1 table walks
// through stage 2 (CLASS CD / TT / IN), S2PTW, IAS checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { EVT, EVT_CLASS } from '../../spec/smmuv3/events.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../spec/smmuv3/pagetable.js';
import { Translator } from './translator.js';
import { makeRequest, newResult, PERM_R, PERM_W, PERM_X, type TranslationResult } from './types.js';
import { Arena, PageTables } from '../../../test/support/smmu-structures.js';

interface Ctx {
  arena: Arena;
  t: Translator;
  s2: PageTables;
  steAddr: number;
}

/** SID 2: stage-2 STE with 4K granule, S2T0SZ = 64 - ia, start level `sl` (SL0 per VTCR encoding). */
function setup(o: { ia?: number; level?: number; shift?: 12 | 14 | 16; f?: Partial<SmmuFeatures>; ste?: Record<string, bigint | number | boolean>; be?: boolean; caches?: boolean } = {}): Ctx {
  const f: SmmuFeatures = { ...DEFAULT_FEATURES, ...o.f };
  const arena = new Arena();
  const t = new Translator(arena.mem, f, { cachesEnabled: o.caches ?? false });
  const strtab = arena.alloc(64 * 16, 1024);
  t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 0 });
  const shift = o.shift ?? 12;
  const ia = o.ia ?? 40;
  const level = o.level ?? 1;
  const s2 = new PageTables(arena, shift, ia, level, o.be ?? false);
  const sl0 = shift === 12 ? 2 - level : 3 - level;
  const steAddr = strtab + 2 * 64;
  arena.writeWords(steAddr, arena.ste({
    V: 1, CONFIG: 6, S2VMID: 5, S2T0SZ: 64 - ia, S2SL0: sl0, S2TG: shift === 12 ? 0 : shift === 16 ? 1 : 2, S2PS: 5, S2AA64: 1, S2R: 1,
    S2TTB: BigInt(s2.root) >> 4n, ...o.ste,
  }));
  return { arena, t, s2, steAddr };
}

function xl(c: Ctx, sid: number, addr: number | bigint, access: { write?: boolean; instr?: boolean; priv?: boolean } = {}, ssid: number | null = null): TranslationResult {
  const r = newResult();
  c.t.translate(makeRequest(sid, ssid, addr, access), r);
  return r;
}

const s2leaf = (oa: bigint, level3 = true, extra: Partial<Parameters<typeof encodeS2Leaf>[0]> = {}): bigint => encodeS2Leaf({ oa, level3, ...extra });

test('stage-2 only: concatenated level-1 start table (4K, 40-bit IPA = 2 tables), blocks, VMID tagging', () => {
  const c = setup({ ia: 40, level: 1 });
  c.s2.map(0x80_1234_5000n, s2leaf(0x4800_0000n), 3); // index 512+ at level 1: second concatenated table
  const r = xl(c, 2, 0x80_1234_5678);
  assert.equal(r.ok, true);
  assert.equal(r.pa, 0x4800_0678);
  assert.equal(r.vmid, 5);
  assert.equal(r.s2MemAttr, 0xf);
  assert.equal(r.mairAttr, -1);
  c.s2.map(0x4000_0000n, s2leaf(0x1_0000_0000n, false), 1);
  assert.equal(xl(c, 2, 0x4000_0010).size, 2 ** 30);
  // 16 concatenated tables: 4K, 42-bit IPA at level 1 (12 bits)
  const d = setup({ ia: 42, level: 1 });
  d.s2.map(0x3ff_c000_0000n, s2leaf(0x9000n), 3);
  assert.equal(xl(d, 2, 0x3ff_c000_0004).pa, 0x9004);
  // 16K and 64K granules
  const g16 = setup({ shift: 14, ia: 40, level: 2 });
  g16.s2.map(0x7f_0000_4000n, s2leaf(0xc000n, true, { granuleShift: 14 }), 3);
  assert.equal(xl(g16, 2, 0x7f_0000_4008).pa, 0xc008);
  const g64 = setup({ shift: 16, ia: 42, level: 2 });
  g64.s2.map(0x200_0001_0000n, s2leaf(0x3_0000n, true, { granuleShift: 16 }), 3);
  assert.equal(xl(g64, 2, 0x200_0001_0008).pa, 0x3_0008);
});

test('stage-2 faults carry S2 = 1, CLASS = IN and the IPA; recorded per STE.S2R', () => {
  const c = setup();
  const r = xl(c, 2, 0x12_3456_7890, { write: true });
  assert.equal(r.event.type, EVT.F_TRANSLATION);
  assert.equal(r.event.s2, true);
  assert.equal(r.event.cls, EVT_CLASS.IN);
  assert.equal(r.event.ipa, 0x12_3456_7000);
  assert.equal(r.event.rnw, false);
  assert.equal(r.record, true);
  const q = setup({ ste: { S2R: 0 } });
  assert.equal(xl(q, 2, 0x1000).record, false);
  // IPA beyond S2T0SZ: stage-2 translation fault
  assert.equal(xl(c, 2, 2 ** 40).event.type, EVT.F_TRANSLATION);
  assert.equal(xl(c, 2, 2 ** 40).event.s2, true);
  // input beyond IAS (= OAS 48): stage-1 address size fault
  const big = xl(c, 2, 2 ** 48);
  assert.equal(big.event.type, EVT.F_ADDR_SIZE);
  assert.equal(big.event.s2, false);
  // a SubstreamID with stage 1 disabled
  assert.equal(xl(c, 2, 0x1000, {}, 1).event.type, EVT.C_BAD_SUBSTREAMID);
});

test('stage-2 execute-only: S2AP = 0b00 with XN = 0 permits instruction fetches, not data (IHI 0070 §5.2 S2AA64 note, §13.7)', () => {
  const c = setup({ ste: { INSTCFG: 0 } });
  c.s2.map(0x5000n, s2leaf(0xd000n, true, { s2ap: 0 }), 3);
  const x = xl(c, 2, 0x5010, { instr: true });
  assert.equal(x.ok, true);
  assert.equal(x.pa, 0xd010);
  assert.equal(x.perms, PERM_X);
  const rd = xl(c, 2, 0x5010);
  assert.equal(rd.event.type, EVT.F_PERMISSION);
  assert.equal(rd.event.s2, true);
  assert.equal(rd.event.cls, EVT_CLASS.IN);
  assert.equal(xl(c, 2, 0x5010, { write: true }).event.type, EVT.F_PERMISSION);
});

test('S2TTB below 64-byte alignment is used as is unless the effective S2PS is 52 bits (IHI 0070 §5.2 S2TTB)', () => {
  // 2-entry (16-byte) start tables: 4K 40-bit IPA at level 0; 64K 43-bit IPA at level 1 with OAS 52.
  for (const [shift, ia, level, oas, moved] of [[12, 40, 0, 48, true], [16, 43, 1, 52, false]] as const) {
    const c = setup({ shift, ia, level, f: { oasBits: oas } });
    c.s2.map(0x1_0000n, s2leaf(0x9_0000n, true, { granuleShift: shift }), 3);
    if (moved) {
      c.arena.writeWords(c.s2.root + 16, [c.arena.read64(c.s2.root), c.arena.read64(c.s2.root + 8)]);
      c.arena.writeWords(c.s2.root, [0n, 0n]);
    }
    c.arena.writeWords(c.steAddr, c.arena.ste({
      V: 1, CONFIG: 6, S2VMID: 5, S2T0SZ: 64 - ia, S2SL0: shift === 12 ? 2 - level : 3 - level, S2TG: shift === 12 ? 0 : 1,
      S2PS: 6, S2AA64: 1, S2R: 1, S2TTB: BigInt(c.s2.root + 16) >> 4n,
    }));
    const r = xl(c, 2, 0x1_0234);
    assert.equal(r.ok, true, `granule ${shift}`);
    assert.equal(r.pa, 0x9_0234);
  }
});

test('S2AP read/write, XN, S2 access flag (fault, S2AFFD, S2HA) and dirty state (S2HD)', () => {
  const c = setup();
  c.s2.map(0x1000n, s2leaf(0x9000n, true, { s2ap: 1 }), 3);
  c.s2.map(0x2000n, s2leaf(0xa000n, true, { s2ap: 2 }), 3);
  c.s2.map(0x3000n, s2leaf(0xb000n, true, { xn: 2 }), 3);
  c.s2.map(0x4000n, s2leaf(0xc000n, true, { af: false }), 3);
  assert.equal(xl(c, 2, 0x1000).perms, PERM_R | PERM_X);
  assert.equal(xl(c, 2, 0x1000, { write: true }).event.type, EVT.F_PERMISSION);
  assert.equal(xl(c, 2, 0x2000).event.type, EVT.F_PERMISSION);
  assert.equal(xl(c, 2, 0x2000, { write: true }).perms, PERM_W | PERM_X); // XN = 0: executable whatever S2AP
  assert.equal(xl(c, 2, 0x3000, { instr: true }).event.type, EVT.F_PERMISSION);
  const af = xl(c, 2, 0x4000);
  assert.equal(af.event.type, EVT.F_ACCESS);
  assert.equal(af.event.s2, true);
  const affd = setup({ ste: { S2AFFD: 1 } });
  affd.s2.map(0x4000n, s2leaf(0xc000n, true, { af: false }), 3);
  assert.equal(xl(affd, 2, 0x4000).ok, true);
  const ha = setup({ ste: { S2HA: 1, S2HD: 1 } });
  const s = ha.s2.map(0x4000n, s2leaf(0xc000n, true, { af: false, s2ap: 1, dbm: true }), 3);
  assert.equal(xl(ha, 2, 0x4000, { write: true }).ok, true);
  const d = ha.arena.read64(s);
  assert.equal((d >> 10n) & 1n, 1n); // AF set
  assert.equal((d >> 7n) & 1n, 1n); // S2AP[1]: dirty
});

test('FEAT_XNX (IDR3.XNX): stage-2 XN[1:0] gives execute permission per privilege; without it only XN[1] counts', () => {
  // XN[1:0]: 0b00 both, 0b01 unprivileged only, 0b10 neither, 0b11 privileged only (Arm ARM D8.5).
  const expect = { 0: [true, true], 1: [false, true], 2: [false, false], 3: [true, false] } as const;
  // With caches on, the second access of each pair may hit the entry the first one filled.
  for (const [xnx, caches] of [[true, false], [false, false], [true, true]] as const) {
    const c = setup({ f: { xnx }, ste: { INSTCFG: 0 }, caches });
    for (const xn of [0, 1, 2, 3] as const) c.s2.map(BigInt(0x1000 * (xn + 1)), s2leaf(BigInt(0x9000 + 0x1000 * xn), true, { xn }), 3);
    for (const xn of [0, 1, 2, 3] as const) {
      const [p, u] = xnx ? expect[xn] : [xn < 2, xn < 2];
      for (const [priv, want] of [[true, p], [false, u]] as const) {
        const r = xl(c, 2, 0x1000 * (xn + 1) + 8, { instr: true, priv });
        assert.equal(r.ok, want, `xnx=${xnx} caches=${caches} XN=${xn} priv=${priv}`);
        if (!want) assert.equal(r.event.type, EVT.F_PERMISSION);
        // Data reads never depend on XN.
        assert.equal(xl(c, 2, 0x1000 * (xn + 1) + 16, { priv }).ok, true);
      }
    }
  }
});

test('S2 output beyond effective S2PS: F_ADDR_SIZE at stage 2', () => {
  const c = setup({ ste: { S2PS: 2 } }); // 40 bits
  c.s2.map(0x1000n, s2leaf(0x100_0000_0000n), 3);
  const r = xl(c, 2, 0x1000);
  assert.equal(r.event.type, EVT.F_ADDR_SIZE);
  assert.equal(r.event.s2, true);
});

// ---------------------------------------------------------------- nested

/** SID 3 nested: CD and stage-1 tables live at IPAs; stage 2 maps IPA 0x1000_0000 + x -> PA 0x4100_0000 + x (1 MiB window, 4K pages). */
function nested(o: { ste?: Record<string, bigint | number | boolean>; cd?: Record<string, bigint | number | boolean> } = {}) {
  const c = setup();
  const { arena } = c;
  const window = arena.alloc(0x10_0000, 0x10_0000);
  const ipaBase = 0x1000_0000;
  for (let off = 0; off < 0x10_0000; off += 0x1000) c.s2.map(BigInt(ipaBase + off), s2leaf(BigInt(window + off)), 3);
  // Stage-1 tables built in the window, addressed by IPA: build with a shadow arena view.
  const toIpa = (pa: number): number => pa - window + ipaBase;
  let next = window;
  const allocW = (): number => {
    const a = next;
    next += 0x1000;
    return a;
  };
  const cdPa = allocW();
  const l0 = allocW();
  const l1 = allocW();
  const l2 = allocW();
  const l3 = allocW();
  arena.write64(l0, BigInt(toIpa(l1)) | 3n);
  arena.write64(l1, BigInt(toIpa(l2)) | 3n);
  arena.write64(l2, BigInt(toIpa(l3)) | 3n);
  // VA 0x5000 -> IPA 0x1008_0000 (inside the window) ; VA 0x6000 -> IPA 0x2000_0000 (unmapped at S2)
  arena.write64(l3 + 5 * 8, encodeS1Leaf({ oa: 0x1008_0000n, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }));
  arena.write64(l3 + 6 * 8, encodeS1Leaf({ oa: 0x2000_0000n, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }));
  arena.writeWords(cdPa, arena.cd({ T0SZ: 16, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 9, TTB0: BigInt(toIpa(l0)) >> 4n, MAIR0: 0xf404ff44n, ...o.cd }));
  const strtab = c.t.streamTable.base;
  arena.writeWords(strtab + 3 * 64, arena.ste({
    V: 1, CONFIG: 7, S1_CONTEXT_PTR: BigInt(toIpa(cdPa)) >> 6n, S2VMID: 5, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1,
    S2TTB: BigInt(c.s2.root) >> 4n, ...o.ste,
  }));
  return { ...c, window, ipaBase, toIpa, l2, l3, cdPa };
}

test('nested: CD and stage-1 tables fetched through stage 2, output IPA translated by stage 2', () => {
  const n = nested();
  const r = xl(n, 3, 0x5abc, { write: true });
  assert.equal(r.ok, true);
  assert.equal(r.pa, n.window + 0x8_0000 + 0xabc);
  assert.equal(r.asid, 9);
  assert.equal(r.vmid, 5);
  assert.equal(r.mairAttr, 0xff);
  assert.equal(r.s2MemAttr, 0xf);
  assert.equal(r.permsUnpriv & (PERM_R | PERM_W), PERM_R | PERM_W);
  const out = xl(n, 3, 0x6000);
  assert.equal(out.event.type, EVT.F_TRANSLATION);
  assert.equal(out.event.s2, true);
  assert.equal(out.event.cls, EVT_CLASS.IN);
  assert.equal(out.event.ipa, 0x2000_0000);
  assert.equal(out.event.inputLo, 0x6000);
});

test('nested: stage-2 fault on a stage-1 table walk is CLASS TT (TTRnW = read) with the descriptor IPA', () => {
  const n = nested();
  n.arena.write64(n.l2, 0x3000_0000n | 3n); // level-3 table at an IPA stage 2 does not map
  const r = xl(n, 3, 0x5000);
  assert.equal(r.event.type, EVT.F_TRANSLATION);
  assert.equal(r.event.s2, true);
  assert.equal(r.event.cls, EVT_CLASS.TT);
  assert.equal(r.event.ttrnw, true);
  assert.equal(r.event.ipa, 0x3000_0000);
});

test('nested: stage-2 fault on the CD fetch is CLASS CD with the CD IPA; S2PTW makes Device-memory walks fault', () => {
  const n = nested({ ste: { S1_CONTEXT_PTR: 0x3000_0040n >> 6n } });
  const r = xl(n, 3, 0x5000);
  assert.equal(r.event.type, EVT.F_TRANSLATION);
  assert.equal(r.event.s2, true);
  assert.equal(r.event.cls, EVT_CLASS.CD);
  assert.equal(r.event.ipa, 0x3000_0000);
  const p = nested({ ste: { S2PTW: 1 } });
  // make the level-2 table page Device memory at stage 2
  p.s2.map(BigInt(p.toIpa(p.l2)), s2leaf(BigInt(p.l2), true, { memAttr: 0x1 }), 3);
  const q = xl(p, 3, 0x5000);
  assert.equal(q.event.type, EVT.F_PERMISSION);
  assert.equal(q.event.cls, EVT_CLASS.TT);
  assert.equal(q.event.s2, true);
});

test('nested: stage-1 HTTU update needs stage-2 write permission (TTRnW = write on fault)', () => {
  const n = nested({ cd: { HA: 1 } });
  n.arena.write64(n.l3 + 5 * 8, encodeS1Leaf({ oa: 0x1008_0000n, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true, af: false }));
  // level-3 table page read-only at stage 2
  n.s2.map(BigInt(n.toIpa(n.l3)), s2leaf(BigInt(n.l3), true, { s2ap: 1 }), 3);
  const r = xl(n, 3, 0x5000);
  assert.equal(r.event.type, EVT.F_PERMISSION);
  assert.equal(r.event.cls, EVT_CLASS.TT);
  assert.equal(r.event.ttrnw, false);
  n.s2.map(BigInt(n.toIpa(n.l3)), s2leaf(BigInt(n.l3), true, { s2ap: 3 }), 3);
  assert.equal(xl(n, 3, 0x5000).ok, true);
  assert.equal((n.arena.read64(n.l3 + 5 * 8) >> 10n) & 1n, 1n);
});

test('nested with S1DSS bypass: untagged traffic is stage-2 only', () => {
  const n = nested({ ste: { S1CDMAX: 2, S1DSS: 1 } });
  const r = xl(n, 3, 0x1000_2010);
  assert.equal(r.pa, n.window + 0x2010);
  assert.equal(r.mairAttr, -1);
});

test('big-endian stage-2 tables with STE.S2ENDI', () => {
  const c = setup({ be: true, ste: { S2ENDI: 1 } });
  c.s2.map(0x5000n, s2leaf(0x7000n), 3);
  assert.equal(xl(c, 2, 0x5010).pa, 0x7010);
  assert.equal(xl(c, 2, 0x5010, { write: true }).perms & PERM_W, PERM_W);
});
