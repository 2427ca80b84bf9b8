// inspect on big generated images does work and output proportional to what it shows: list views
// stop at --limit (default 1000) and say where to resume, identical STEs fold into one text line,
// and both outputs are written in bounded chunks as they are produced (never held whole).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { DEFAULT_LIMIT, JsonSink, SmmuSnapshot, writeReport, type InspectRequest } from '../../src/smmu/inspect/inspect.js';
import { parseRegisterDump } from '../../src/smmu/inspect/inputs.js';
import { TextSink } from '../../src/smmu/inspect/render.js';
import { encodeCommand } from '../../src/spec/smmuv3/commands.js';
import { DomainBuilder } from './linux-domain.js';

const RAM = 0x4000_0000;

/** Runs a report into counting sinks: total bytes, number of writes, largest single write. */
function measure(snap: SmmuSnapshot, req: InspectRequest, json: boolean) {
  const m = { bytes: 0, writes: 0, maxWrite: 0, text: '' as string, keep: 0 };
  const write = (s: string): void => {
    m.bytes += s.length;
    m.writes++;
    m.maxWrite = Math.max(m.maxWrite, s.length);
    if (m.text.length < 4 << 20) m.text += s; // keep the head only, for assertions
  };
  const readsBefore = snap.mem.reads;
  writeReport(snap, req, json ? new JsonSink(write) : new TextSink(write, () => {}));
  return { ...m, reads: snap.mem.reads - readsBefore };
}

function streamTable(sidBits: number, fill: (b: DomainBuilder, base: number) => void) {
  const size = 2 ** sidBits * 64 + 0x10_0000;
  const mem = new GuestMemory();
  mem.addRam(RAM, size);
  const b = new DomainBuilder(mem, RAM, size);
  const st = b.linearStreamTable(sidBits);
  fill(b, st.base);
  const regs = parseRegisterDump(JSON.stringify({ IDR1: (20 << 0) | (8 << 6) | (19 << 21), STRTAB_BASE: '0x' + st.strtabBase.toString(16), STRTAB_BASE_CFG: st.strtabBaseCfg }), 'test');
  return { mem, regs, b, st };
}

test('65,536 bypass STEs: one text line, JSON stops at the limit and names the next SID', () => {
  const { mem, regs } = streamTable(16, (b, base) => {
    const ste = b.bypassSte();
    for (let sid = 0; sid < 1 << 16; sid++) b.writeWords(base + sid * 64, ste);
  });
  const snap = new SmmuSnapshot(mem, regs);
  const text = measure(snap, { streams: true }, false);
  assert.deepEqual(text.text.trim().split('\n').slice(1).map((l) => l.replace(/\s+/g, ' ').trim()), ['SIDs 0x0-0xffff bypass STE.Config = bypass: addresses pass through untranslated'].map((l) => l));
  const json = measure(snap, { streams: true }, true);
  const j = JSON.parse(json.text);
  assert.equal(j.streams.length, DEFAULT_LIMIT);
  assert.deepEqual(j.truncated.streams, { limit: DEFAULT_LIMIT, next: '0x3e8' });
  assert.ok(json.bytes < 1500 * DEFAULT_LIMIT, `JSON ${json.bytes} bytes`);
  assert.ok(json.reads < 40 * DEFAULT_LIMIT + 20, `${json.reads} reads`);
  const page = JSON.parse(measure(snap, { streams: { first: 0xfff0, last: 0x1_0010 }, limit: 5 }, true).text);
  assert.deepEqual(page.streams.map((s: { sid: number }) => s.sid), [0xfff0, 0xfff1, 0xfff2, 0xfff3, 0xfff4]);
  assert.deepEqual(page.truncated.streams, { limit: 5, next: '0xfff5-0x10010' });
  // Unlimited: every entry, still written in bounded pieces.
  const all = measure(snap, { streams: { first: 0, last: 0x3fff }, limit: 0 }, true);
  assert.ok(all.writes > 100 && all.maxWrite < 128 * 1024, `${all.writes} writes, largest ${all.maxWrite}`);
  const perEntry = json.bytes / DEFAULT_LIMIT;
  assert.ok(Math.abs(all.bytes / 0x4000 - perEntry) < 64, `${all.bytes} bytes for 0x4000 entries`);
});

test('2^20 STEs: the scan reads each STE once and the output stays small', () => {
  const { mem, regs } = streamTable(20, (b, base) => {
    for (const sid of [5, 0x8_0000, 0xf_ffff]) b.writeWords(base + sid * 64, b.bypassSte());
  });
  const snap = new SmmuSnapshot(mem, regs);
  const r = measure(snap, { streams: true }, true);
  assert.deepEqual(JSON.parse(r.text).streams.map((s: { sid: number }) => s.sid), [5, 0x8_0000, 0xf_ffff]);
  assert.ok(r.reads <= (1 << 20) + 3 * 40, `${r.reads} reads for 2^20 STEs`);
  assert.ok(r.bytes < 8192, `${r.bytes} bytes`);
});

test('a full 2^19-entry command queue: default limit, index ranges, unlimited output streamed', () => {
  const size = (1 << 19) * 16 + 0x1000;
  const mem = new GuestMemory();
  const ram = mem.addRam(RAM, size);
  const cmd = encodeCommand('CFGI_STE', { SID: 7, LEAF: 1 });
  const one = new Uint8Array(16);
  new DataView(one.buffer).setBigUint64(0, cmd[0]!, true);
  new DataView(one.buffer).setBigUint64(8, cmd[1]!, true);
  for (let i = 0; i < 1 << 19; i++) ram.set(one, i * 16);
  // PROD one lap ahead of CONS (full queue).
  const regs = parseRegisterDump(JSON.stringify({ IDR1: (20 << 0) | (19 << 21), CMDQ_BASE: '0x' + (BigInt(RAM) | 19n).toString(16), CMDQ_PROD: 0x8_0000, CMDQ_CONS: 0, EVENTQ_BASE: '0x' + (BigInt(RAM) | 0n).toString(16) }), 'test');
  const snap = new SmmuSnapshot(mem, regs);
  const def = measure(snap, { queues: true }, true);
  const j = JSON.parse(def.text);
  assert.equal(j.queues.cmdq.entries.length, DEFAULT_LIMIT);
  assert.deepEqual(j.truncated.cmdq, { limit: DEFAULT_LIMIT, next: DEFAULT_LIMIT });
  assert.ok(def.reads <= 2 * DEFAULT_LIMIT + 4, `${def.reads} reads`);
  const page = JSON.parse(measure(snap, { queues: { first: 0x7fffe, last: 0x7ffff } }, true).text);
  assert.deepEqual(page.queues.cmdq.entries.map((e: { index: number; command: string }) => [e.index, e.command]), [[0x7fffe, 'CMD_CFGI_STE'], [0x7ffff, 'CMD_CFGI_STE']]);
  const text = measure(snap, { queues: true, limit: 20 }, false);
  assert.equal(text.text.split('\n').filter((l) => l.includes('CMD_CFGI_STE')).length, 20);
  const all = measure(snap, { queues: true, limit: 0 }, true);
  assert.ok(all.bytes > (1 << 19) * 100, `${all.bytes} bytes for 2^19 entries`);
  assert.ok(all.maxWrite < 128 * 1024, `largest write ${all.maxWrite}`);
});
