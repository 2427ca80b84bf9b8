// Inspector views: uncached STE/CD decode, verbose walk steps, mapped-range enumeration
// (coalescing, TTB1 addresses, stage 2 and nested composition, bounded work).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURES } from '../features.js';
import { EVT } from '../../spec/smmuv3/events.js';
import { encodeS1Leaf, encodeS2Leaf } from '../../spec/smmuv3/pagetable.js';
import { Translator } from './translator.js';
import { decodeStream, mappings, translateVerbose } from './inspect.js';
import { makeRequest, PERM_R, PERM_W, PERM_X } from './types.js';
import { Arena, PageTables } from '../../../test/support/smmu-structures.js';

function setup() {
  const arena = new Arena();
  const t = new Translator(arena.mem, DEFAULT_FEATURES);
  const strtab = arena.alloc(64 * 16, 1024);
  t.setStreamTable({ base: strtab, log2Size: 4, fmt: 0, split: 6 });
  const pt = new PageTables(arena, 12, 39, 1);
  const pt1 = new PageTables(arena, 12, 39, 1);
  const cd = arena.alloc(64, 64);
  arena.writeWords(cd, arena.cd({ T0SZ: 25, TG0: 0, T1SZ: 25, TG1: 2, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 4, TTB0: BigInt(pt.root) >> 4n, TTB1: BigInt(pt1.root) >> 4n, MAIR0: 0xf404ff44n }));
  arena.writeWords(strtab + 64, arena.ste({ V: 1, CONFIG: 5, S1_CONTEXT_PTR: BigInt(cd) >> 6n }));
  const leaf = (pa: number, ap = 1): bigint => encodeS1Leaf({ oa: BigInt(pa), level3: true, attrIndx: 1, ap, sh: 3, ng: true });
  for (let i = 0; i < 3; i++) pt.map(BigInt(0x10_0000 + i * 0x1000), leaf(0x4100_0000 + i * 0x1000), 3);
  pt.map(0x10_3000n, leaf(0x4100_3000, 3), 3); // contiguous PA but read-only: separate range
  pt.map(0x20_0000n, encodeS1Leaf({ oa: 0x4200_0000n, level3: false, attrIndx: 1, ap: 1, sh: 3, ng: true }), 2);
  pt1.map(0x1000n, leaf(0x4300_0000), 3);
  return { arena, t, strtab, cd };
}

test('decodeStream: STE and CD fields, config name, faults for invalid streams', () => {
  const { t, cd } = setup();
  const r = decodeStream(t, 1);
  assert.equal(r.config, 's1');
  assert.equal(r.fault, null);
  assert.equal(r.steFields!.S1_CONTEXT_PTR! << 6n, BigInt(cd));
  assert.equal(r.cds.length, 1);
  assert.equal(r.cds[0]!.fields.ASID, 4n);
  assert.equal(r.cds[0]!.address, cd);
  const bad = decodeStream(t, 2); // zeroed STE
  assert.equal(bad.config, 'invalid');
  assert.equal(bad.fault!.type, EVT.C_BAD_STE);
  assert.equal(decodeStream(t, 99).fault!.type, EVT.C_BAD_STREAMID);
  assert.equal(t.stats().configEntries, 0, 'inspection does not fill the caches');
});

test('translateVerbose: one step per structure and descriptor read', () => {
  const { t } = setup();
  const tr = translateVerbose(t, makeRequest(1, null, 0x10_1234));
  assert.deepEqual(tr.steps.map((s) => s.kind), ['ste', 'cd', 's1', 's1', 's1']);
  assert.deepEqual(tr.steps.slice(2).map((s) => s.level), [1, 2, 3]);
  assert.equal(tr.steps[4]!.value! & ~0xfffn, 0x4100_1000n);
  assert.equal(tr.result.ok, true);
  assert.equal(tr.result.pa, 0x4100_1234);
  const f = translateVerbose(t, makeRequest(1, null, 0x40_0000));
  assert.equal(f.result.event.type, EVT.F_TRANSLATION);
});

test('mappings: coalesced ranges with permissions, blocks, TTB1 addresses', () => {
  const { t } = setup();
  const m = mappings(t, 1, null);
  const rows = m.map((r) => [r.iova, r.size, r.pa, r.permsUnpriv]);
  assert.deepEqual(rows, [
    [0x10_0000n, 0x3000, 0x4100_0000, PERM_R | PERM_W | PERM_X],
    [0x10_3000n, 0x1000, 0x4100_3000, PERM_R | PERM_X],
    [0x20_0000n, 0x20_0000, 0x4200_0000, PERM_R | PERM_W | PERM_X],
    [(1n << 64n) - (1n << 39n) + 0x1000n, 0x1000, 0x4300_0000, PERM_R | PERM_W | PERM_X],
  ]);
  assert.equal(m[0]!.mairAttr, 0xff);
  assert.equal(mappings(t, 1, null, { limit: 2 }).length, 2);
  assert.deepEqual(mappings(t, 1, 3), []); // no substreams
});

test('mappings: stage 2 only and nested (stage-1 ranges split by stage 2)', () => {
  const { arena, t, strtab } = setup();
  const s2 = new PageTables(arena, 12, 40, 1);
  s2.map(0x10_0000n, encodeS2Leaf({ oa: 0x4400_0000n, level3: true }), 3);
  s2.map(0x10_1000n, encodeS2Leaf({ oa: 0x4500_0000n, level3: true, s2ap: 1 }), 3);
  // stage-1 tables of SID 1 are at PAs; for the nested SID, identity-map the table pages at stage 2
  for (let a = 0x4000_0000; a < 0x4001_0000; a += 0x1000) s2.map(BigInt(a), encodeS2Leaf({ oa: BigInt(a), level3: true }), 3);
  const s2f = { S2VMID: 1, S2T0SZ: 24, S2SL0: 1, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: BigInt(s2.root) >> 4n };
  arena.writeWords(strtab + 2 * 64, arena.ste({ V: 1, CONFIG: 6, ...s2f }));
  const m2 = mappings(t, 2, null).filter((r) => r.iova < 0x4000_0000n);
  assert.deepEqual(m2.map((r) => [r.iova, r.size, r.pa, r.permsPriv]), [
    [0x10_0000n, 0x1000, 0x4400_0000, PERM_R | PERM_W | PERM_X],
    [0x10_1000n, 0x1000, 0x4500_0000, PERM_R | PERM_X],
  ]);
  const cdAddr = Number(decodeStream(t, 1).steFields!.S1_CONTEXT_PTR! << 6n);
  arena.writeWords(strtab + 3 * 64, arena.ste({ V: 1, CONFIG: 7, S1_CONTEXT_PTR: BigInt(cdAddr) >> 6n, ...s2f }));
  // SID 3 stage 1 maps VA 0x10_0000.. -> IPA 0x4100_0000.. which stage 2 does not map: nothing
  assert.deepEqual(mappings(t, 3, null), []);
  s2.map(0x4100_0000n, encodeS2Leaf({ oa: 0x4600_0000n, level3: false }), 2);
  const n = mappings(t, 3, null);
  assert.equal(n[0]!.iova, 0x10_0000n);
  assert.equal(n[0]!.pa, 0x4600_0000);
  assert.equal(n[0]!.size, 0x3000);
  assert.equal(n[0]!.s2MemAttr, 0xf);
});
