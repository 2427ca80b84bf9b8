// inspect core (no CLI): 2-level stream tables, --mappings for every stream, SMMUEN=0 / GBPA,
// and the IDR-derived feature profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { inspect, SmmuSnapshot } from '../../src/smmu/inspect/inspect.js';
import { parseRegisterDump, parseTranslateQuery } from '../../src/smmu/inspect/inputs.js';
import { deriveIdRegisters } from '../../src/smmu/id-registers.js';
import { QEMU_7_2_FEATURES } from '../../src/smmu/features.js';
import { DomainBuilder, PTE_RW } from './linux-domain.js';

const RAM = 0x4000_0000;

function image() {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x80_0000);
  const b = new DomainBuilder(mem, RAM, 0x80_0000);
  const st = b.twoLevelStreamTable(16);
  const l2a = b.installL2(st.base, 0x10);
  const l2b = b.installL2(st.base, 0x1ff);
  const pgd = b.newPgd();
  b.map4k(pgd, 0x8000, 0x4500_0000, PTE_RW);
  b.map4k(pgd, 0x9000, 0x4500_1000, PTE_RW);
  const cd = b.alloc(64, 64);
  b.writeWords(cd, b.linuxCd(3, pgd, 5));
  b.writeWords(l2a + 0x10 * 64, b.s1Ste(cd));
  b.writeWords(l2b + 0xff * 64, b.bypassSte());
  return { mem, st, pgd };
}

function dump(o: Record<string, unknown>) {
  return parseRegisterDump(JSON.stringify(o), 'test');
}

test('2-level stream table: valid STEs found through the L1 descriptors; mappings of every stream', () => {
  const { mem, st } = image();
  const snap = new SmmuSnapshot(mem, dump({ STRTAB_BASE: '0x' + st.strtabBase.toString(16), STRTAB_BASE_CFG: st.strtabBaseCfg }));
  assert.deepEqual(snap.validSids(), [0x10, 0x1ff]);
  const out = inspect(snap, { streams: true, mappings: true }) as { streams: { sid: number; config: string }[]; mappings: { sid: number; ssid: number | null; ranges: { iova: string; size: number; pa: string }[] }[] };
  assert.deepEqual(out.streams.map((s) => [s.sid, s.config]), [[0x10, 's1'], [0x1ff, 'bypass']]);
  assert.deepEqual(out.mappings[0], { sid: 0x10, ssid: null, ranges: [{ ...out.mappings[0]!.ranges[0]!, iova: '0x8000', pa: '0x45000000', size: 0x2000 }] });
  assert.equal(out.mappings[1]!.sid, 0x1ff);
});

test('SMMUEN = 0: translations follow GBPA (bypass or silent abort) without walking', () => {
  const { mem, st } = image();
  const base = { STRTAB_BASE: '0x' + st.strtabBase.toString(16), STRTAB_BASE_CFG: st.strtabBaseCfg, CR0: 0 };
  const q = [parseTranslateQuery('0x10:0x8000:w')];
  const byp = inspect(new SmmuSnapshot(mem, dump(base)), { translate: q }).translations as { ok: boolean; pa: string; steps: unknown[] }[];
  assert.deepEqual([byp[0]!.ok, byp[0]!.pa, byp[0]!.steps.length], [true, '0x8000', 0]);
  const ab = inspect(new SmmuSnapshot(mem, dump({ ...base, GBPA: '0x100000' })), { translate: q }).translations as { ok: boolean; event: unknown }[];
  assert.deepEqual([ab[0]!.ok, ab[0]!.event], [false, null]);
  const on = inspect(new SmmuSnapshot(mem, dump({ ...base, CR0: 1 })), { translate: q }).translations as { ok: boolean; pa: string }[];
  assert.deepEqual([on[0]!.ok, on[0]!.pa], [true, '0x45000000']);
});

test('ID registers in the dump select the feature profile (qemu-7.2: no 2-level CD, OAS 44)', () => {
  const { mem, st } = image();
  const ids = deriveIdRegisters(QEMU_7_2_FEATURES);
  const snap = new SmmuSnapshot(mem, dump({ IDR0: ids.idr0, IDR1: ids.idr1, IDR3: ids.idr3, IDR5: '0x' + ids.idr5.toString(16), STRTAB_BASE: '0x' + st.strtabBase.toString(16), STRTAB_BASE_CFG: st.strtabBaseCfg }));
  assert.equal(snap.features.oasBits, 44);
  assert.equal(snap.features.s2p, false);
  assert.equal(snap.features.cmdqLog2, 19);
});

test('the stream listing finds the STEs where the SMMU reads them: base aligned to the table, reserved SPLIT as 6, refused spans skipped', () => {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x80_0000);
  const b = new DomainBuilder(mem, RAM, 0x80_0000);
  // Linear, 32 STEs (2 KiB): STRTAB_BASE 0x40 past the table's start is aligned down to it, so
  // the bypass STE at index 3 is SID 3 (not SID 2, as it would be read from the base as written).
  const lin = b.linearStreamTable(5);
  b.writeWords(lin.base + 3 * 64, b.bypassSte());
  const misaligned = new SmmuSnapshot(mem, dump({ STRTAB_BASE: '0x' + (lin.strtabBase + 0x40n).toString(16), STRTAB_BASE_CFG: lin.strtabBaseCfg }));
  assert.deepEqual(misaligned.validSids(), [3]);
  const t = inspect(misaligned, { translate: [parseTranslateQuery('3:0x1234')] }).translations as { ok: boolean; pa: string }[];
  assert.deepEqual([t[0]!.ok, t[0]!.pa], [true, '0x1234'], 'the translation agrees: SID 3 bypasses');
  // 2-level with SPLIT = 7 (reserved: the SMMU uses 6): SID 0x45 is L1 descriptor 1, index 5.
  const two = b.twoLevelStreamTable(10);
  const l1 = two.base;
  const l2 = b.alloc(64 * 64, 4096);
  b.write64(l1 + 8, BigInt(l2) | 7n); // SPAN 7: 64 STEs
  b.writeWords(l2 + 5 * 64, b.bypassSte());
  // L1 descriptor 2 with SPAN 8 > SPLIT + 1: every SID of it is a bad StreamID, nothing is read.
  b.write64(l1 + 16, BigInt(l2) | 8n);
  const cfg = (1 << 16) | (7 << 6) | 10;
  const snap = new SmmuSnapshot(mem, dump({ STRTAB_BASE: '0x' + two.strtabBase.toString(16), STRTAB_BASE_CFG: cfg }));
  assert.deepEqual(snap.validSids(), [0x45]);
  const u = inspect(snap, { translate: [parseTranslateQuery('0x45:0x1000'), parseTranslateQuery('0x85:0x1000')] }).translations as { ok: boolean; event: { type: string } | null }[];
  assert.equal(u[0]!.ok, true);
  assert.equal(u[1]!.event?.type, 'C_BAD_STREAMID');
});
