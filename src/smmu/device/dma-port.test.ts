// SmmuDmaPort's address forms and vectored transfers against a simple reference: the page tables
// of the benchmark fixture (Linux io-pgtable descriptors) say where every page lands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildFixture, RAM_BASE } from '../../../bench/fixture.js';
import { DmaSegments } from '../../memory/dma-segments.js';
import { tlbiOp } from '../../../test/support/smmu-structures.js';

const f = buildFixture({ pages: 64, streams: 1, layout: 'dense', cachesEnabled: true, seed: 3 });
const port = f.smmu.dma(0, null);
/** Where IOVA `iova` lands by the fixture's mapping (-1 when unmapped). */
function ref(iova: number): number {
  const page = Math.floor(iova / 4096);
  for (let i = 0; i < f.iovas.length; i++) if (f.iovas[i]! / 4096 === page) return f.pas[i]! + (iova % 4096) - RAM_BASE;
  return -1;
}

/** IOTLB lookups so far (hits and misses). */
function lookups(): number {
  const st = f.smmu.translator.stats();
  return st.tlbHits + st.tlbMisses;
}

test('readAt/writeAt take the IOVA as 32-bit halves, signed or unsigned, like read/write', () => {
  const iova = f.iovas[9]! + 0x10;
  const data = new Uint8Array(64).map((_, i) => 200 - i);
  assert.equal(port.writeAt(iova | 0, Math.floor(iova / 2 ** 32) | 0, data), null);
  assert.deepEqual(f.ram.subarray(ref(iova), ref(iova) + 64), data);
  const back = new Uint8Array(64);
  assert.equal(port.readAt(iova >>> 0, Math.floor(iova / 2 ** 32), back), null);
  assert.deepEqual(back, data);
  const viaNumber = new Uint8Array(64);
  assert.equal(port.read(iova, viaNumber), null);
  assert.deepEqual(viaNumber, data);
});

test('short and page-crossing transfers copy exactly their bytes, with one IOTLB lookup per page they touch (every length 0-72, both directions, RAM side aligned or not)', () => {
  // Two mapped pages that are adjacent in IOVA space, so that a transfer can run from one into the other.
  let first = -1;
  for (let i = 0; i < f.iovas.length && first < 0; i++) if (ref(f.iovas[i]! + 4096) >= 0) first = i;
  assert.ok(first >= 0, 'the fixture maps two adjacent pages');
  const base = f.iovas[first]!;
  for (let len = 0; len <= 72; len++) {
    for (const off of [100, 101, 4096 - 5, 4096 - 17, 4096 - len]) {
      const iova = base + off;
      const data = new Uint8Array(len).map((_, k) => (len * 7 + off + k * 13) & 0xff);
      // The bytes just before and after the transfer keep their values.
      const around = [iova - 1, iova + len, iova + len + 1, iova + len + 2].filter((a) => ref(a) >= 0);
      around.forEach((a, k) => (f.ram[ref(a)] = 0x30 + k));
      const pagesTouched = len === 0 ? 0 : Math.floor((off + len - 1) / 4096) + 1;
      let before = lookups();
      assert.equal(port.writeAt(iova | 0, Math.floor(iova / 2 ** 32) | 0, data), null);
      assert.equal(lookups() - before, pagesTouched, `write len ${len} off ${off}: IOTLB lookups`);
      for (let k = 0; k < len; k++) assert.equal(f.ram[ref(iova + k)], data[k], `write len ${len} off ${off} byte ${k}`);
      around.forEach((a, k) => assert.equal(f.ram[ref(a)], 0x30 + k, `write len ${len} off ${off}: byte at ${a - iova} changed`));
      // Read into the middle of a larger buffer through a vectored list: the bytes around stay.
      const back = new Uint8Array(len + 8).fill(0xee);
      const segs = new DmaSegments(1);
      segs.push(iova | 0, Math.floor(iova / 2 ** 32) | 0, back.subarray(4, 4 + len));
      assert.equal(port.readv(segs), null);
      assert.deepEqual(back.subarray(4, 4 + len), data, `read len ${len} off ${off}`);
      assert.ok(back.subarray(0, 4).every((b) => b === 0xee) && back.subarray(4 + len).every((b) => b === 0xee));
      const single = new Uint8Array(len);
      before = lookups();
      assert.equal(port.readAt(iova | 0, Math.floor(iova / 2 ** 32) | 0, single), null);
      assert.equal(lookups() - before, pagesTouched, `read len ${len} off ${off}: IOTLB lookups`);
      assert.deepEqual(single, data);
    }
  }
});

test('vectored transfers move every segment where its pages map (random lists, within and across pages, IOTLB entries dropped between and within)', () => {
  // Each mapped page, and how many bytes from its start stay mapped (it and the mapped pages right after it).
  const pages = [...f.iovas].sort((a, b) => a - b);
  const runBytes = pages.map((p) => {
    let n = 4096;
    while (ref(p + n) >= 0) n += 4096;
    return n;
  });
  assert.ok(runBytes.some((n) => n > 4096), 'the fixture maps adjacent pages');
  // Segments at any offset of a mapped page, mostly inside it, sometimes running on into the next mapped pages.
  const segArb = fc
    .record({ page: fc.nat(pages.length - 1), off: fc.nat(4095), len: fc.integer({ min: 0, max: 4096 }), more: fc.constantFrom(0, 0, 0, 4096, 8192) })
    .map((s) => ({ iova: pages[s.page]! + s.off, len: Math.min(s.len + s.more, runBytes[s.page]! - s.off) }));
  // Before the transfer: nothing, every entry dropped, or one page's entry dropped (a miss amid hits).
  const dropArb = fc.oneof(fc.constant(-1), fc.constant(-2), fc.nat(pages.length - 1));
  const drop = (d: number): void => {
    const inv = f.smmu.translator.invalidation;
    if (d === -2) inv.tlbiNhAll(0);
    else if (d >= 0) inv.tlbiNhVa(tlbiOp(0, 1, pages[d]!, true, null));
  };
  const chunksOf = (list: { iova: number; len: number }[]): number =>
    list.reduce((n, s) => n + (s.len === 0 ? 0 : Math.floor((s.iova + s.len - 1) / 4096) - Math.floor(s.iova / 4096) + 1), 0);
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 40 }), dropArb, dropArb, fc.integer(), (list, d1, d2, seed) => {
      const segs = new DmaSegments(40);
      const bufs = list.map((s, i) => new Uint8Array(s.len).map((_, k) => (seed + i * 31 + k) & 0xff));
      list.forEach((s, i) => segs.push(s.iova | 0, Math.floor(s.iova / 2 ** 32), bufs[i]!));
      drop(d1);
      const before = lookups();
      assert.equal(port.writev(segs), null);
      // One IOTLB lookup per chunk (the part of a segment in one page), whether answered ahead or not.
      assert.equal(lookups() - before, chunksOf(list), 'IOTLB lookups of the write');
      // Later segments win where segments overlap, as the transfer is in order.
      const expect = new Map<number, number>();
      list.forEach((s, i) => bufs[i]!.forEach((b, k) => expect.set(ref(s.iova + k), b)));
      for (const [at, b] of expect) assert.equal(f.ram[at], b);
      const reads = list.map((s) => new Uint8Array(s.len));
      const rsegs = new DmaSegments(40);
      list.forEach((s, i) => rsegs.push(s.iova | 0, Math.floor(s.iova / 2 ** 32), reads[i]!));
      drop(d2);
      assert.equal(port.readv(rsegs), null);
      list.forEach((s, i) => reads[i]!.forEach((b, k) => assert.equal(b, f.ram[ref(s.iova + k)])));
    }),
    { numRuns: 200, seed: 0x5e9 },
  );
});

test('a vectored transfer that meets an unmapped page copies what came before and reports the fault there', () => {
  // The fixture maps 64 random pages in a range of 256: find a page that is not mapped.
  let hole = 0;
  while (ref(hole * 4096) >= 0) hole++;
  // The fixture enables no event queue: the record the SMMU produces is counted as discarded.
  const recorded = (): number => f.smmu.eventStats.written + f.smmu.eventStats.discarded;
  const before = recorded();
  const a = new Uint8Array(4096).fill(0x11);
  const b = new Uint8Array(100).fill(0x22);
  const c = new Uint8Array(10).fill(0x33);
  const segs = new DmaSegments(4);
  segs.push(f.iovas[1]! | 0, 0, a);
  segs.push((hole * 4096 + 8) | 0, 0, b);
  segs.push(f.iovas[2]! | 0, 0, c);
  f.ram.fill(0, ref(f.iovas[2]!), ref(f.iovas[2]!) + 10);
  const fault = port.writev(segs);
  assert.ok(fault !== null);
  assert.equal(fault.iova, hole * 4096 + 8);
  assert.equal(fault.done, 4096);
  assert.equal(fault.reason, 'F_TRANSLATION');
  assert.equal(recorded(), before + 1, 'one event record');
  assert.ok(f.ram.subarray(ref(f.iovas[1]!), ref(f.iovas[1]!) + 4096).every((x) => x === 0x11), 'the first segment landed');
  assert.ok(f.ram.subarray(ref(f.iovas[2]!), ref(f.iovas[2]!) + 10).every((x) => x === 0), 'nothing after the fault');
});
