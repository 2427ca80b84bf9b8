// TableReader's descriptor reads equal what guest memory holds (byte-swapped for big-endian tables)
// across regions, at region edges and in on-demand backings, and abort outside RAM and past the OAS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import type { PhysMemory } from '../../memory/types.js';
import { TableReader } from './table-reader.js';

test('reads equal guest memory over two RAM regions, a backing region, holes and the OAS limit', () => {
  const mem = new GuestMemory();
  const a = mem.addRam(0x4000_0000, 0x2000, 'a');
  const b = mem.addRam(0x4000_2000, 0x1000, 'b'); // adjacent: a read may straddle the two
  const img = new Uint8Array(0x1000).map((_, i) => (i * 7 + 3) & 0xff);
  mem.addBacking(0x9000_0000, { size: img.length, readAt: (off: number, dst: Uint8Array) => dst.set(img.subarray(off, off + dst.length)) });
  for (let i = 0; i < a.length; i++) a[i] = (i * 13 + 1) & 0xff;
  for (let i = 0; i < b.length; i++) b[i] = (i * 29 + 5) & 0xff;
  const reader = new TableReader(mem, 32);
  const addr = fc.oneof(
    fc.integer({ min: 0x4000_0000 - 16, max: 0x4000_3000 + 8 }),
    fc.integer({ min: 0x9000_0000 - 8, max: 0x9000_1000 }),
    fc.integer({ min: 0xffff_fff0, max: 0x1_0000_0010 }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(addr, fc.boolean()), { minLength: 1, maxLength: 50 }), (reads) => {
      for (const [at, be] of reads) {
        const got = { lo: 0, hi: 0 };
        const want = { lo: 0, hi: 0 };
        const ok = reader.read64(at, be, got);
        const wantOk = at + 8 <= 2 ** 32 && mem.read64(at, want);
        assert.equal(ok, wantOk, `0x${at.toString(16)}`);
        if (!ok) continue;
        const swap = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
        assert.deepEqual(got, be ? { lo: swap(want.hi), hi: swap(want.lo) } : want, `0x${at.toString(16)}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('a 64-byte structure read at once (bulk) equals one read doubleword by doubleword, aborts and read counts included', () => {
  const mem = new GuestMemory();
  const a = mem.addRam(0x4000_0000, 0x2000, 'a');
  const b = mem.addRam(0x4000_2000, 0x1000, 'b');
  const img = new Uint8Array(0x1000).map((_, i) => (i * 11 + 7) & 0xff);
  mem.addBacking(0x9000_0000, { size: img.length, readAt: (off: number, dst: Uint8Array) => dst.set(img.subarray(off, off + dst.length)) });
  for (let i = 0; i < a.length; i++) a[i] = (i * 13 + 1) & 0xff;
  for (let i = 0; i < b.length; i++) b[i] = (i * 29 + 5) & 0xff;
  // The same memory without the bulk read: the reader falls back to doubleword reads.
  const piecewise: PhysMemory = {
    read8: (x) => mem.read8(x), read16: (x) => mem.read16(x), read32: (x) => mem.read32(x), read64: (x, o) => mem.read64(x, o),
    write8: (x, v) => mem.write8(x, v), write16: (x, v) => mem.write16(x, v), write32: (x, v) => mem.write32(x, v), write64: (x, l, h) => mem.write64(x, l, h),
    readBytes: (x, d) => mem.readBytes(x, d), writeBytes: (x, s) => mem.writeBytes(x, s),
  };
  const bulk = new TableReader(mem, 32);
  const slow = new TableReader(piecewise, 32);
  const addr = fc.oneof(
    fc.integer({ min: 0x4000_0000 - 72, max: 0x4000_3000 + 8 }).map((x) => x - (x % 8)),
    fc.integer({ min: 0x9000_0000 - 72, max: 0x9000_1000 }).map((x) => x - (x % 8)),
    fc.integer({ min: 0xffff_ff80, max: 0x1_0000_0010 }).map((x) => x - (x % 8)),
  );
  let whole = 0;
  fc.assert(
    fc.property(addr, (at) => {
      const wb = new Uint32Array(16);
      const ws = new Uint32Array(16);
      const rb = bulk.reads;
      const rs = slow.reads;
      const okB = bulk.readWords(at, 8, wb, { lo: 0, hi: 0 });
      const okS = slow.readWords(at, 8, ws, { lo: 0, hi: 0 });
      assert.equal(okB, okS, `0x${at.toString(16)}`);
      if (okB) {
        whole++;
        assert.deepEqual(wb, ws, `0x${at.toString(16)}`);
        assert.equal(bulk.reads - rb, 8);
        assert.equal(slow.reads - rs, 8);
      }
    }),
    { numRuns: 1000 },
  );
  assert.ok(whole > 100, `${whole} whole structures read`);
});

test('sameWords: true exactly when the compared leading words of a structure read with readWords equal the reference words (counted as the whole structure\'s reads); false counts nothing', () => {
  const mem = new GuestMemory();
  const a = mem.addRam(0x4000_0000, 0x2000, 'a');
  const b = mem.addRam(0x4000_2000, 0x1000, 'b');
  for (let i = 0; i < a.length; i++) a[i] = (i * 13 + 1) & 0xff;
  for (let i = 0; i < b.length; i++) b[i] = (i * 29 + 5) & 0xff;
  const reader = new TableReader(mem, 32);
  const reference = new TableReader(mem, 32);
  const addr = fc.oneof(
    fc.integer({ min: 0x4000_0000 - 72, max: 0x4000_3000 + 8 }).map((x) => x - (x % 8)),
    fc.integer({ min: 0xffff_ff80, max: 0x1_0000_0010 }).map((x) => x - (x % 8)),
  );
  // The reference words: those at the address, with one word changed by a nonzero XOR, or (half
  // the time, so that enough compare equal) none: -1.
  const change = fc.tuple(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 15 })), fc.integer({ min: 1, max: 0xffff_ffff }), fc.integer({ min: 0, max: 8 }));
  const counts = { same: 0, differ: 0, unreadable: 0, changedPast: 0 };
  fc.assert(
    fc.property(addr, change, fc.oneof(fc.constantFrom(8, 16), fc.integer({ min: 1, max: 16 })), (at, [word, xor, offset], compare) => {
      const held = new Uint32Array(16);
      const readable = reference.readWords(at, 8, held, { lo: 0, hi: 0 });
      const ref = new Uint32Array(32);
      ref.set(held, offset);
      if (word >= 0) ref[offset + word] = (ref[offset + word]! ^ xor) >>> 0;
      const before = reader.reads;
      const same = reader.sameWords(at | 0, Math.floor(at / 2 ** 32), 8, compare, ref, offset);
      // A structure straddling the two regions is not in one word view: sameWords says false, and
      // the caller reads it with readWords. A word changed past the first `compare` is not looked at.
      const seen = word >= 0 && word < compare;
      assert.equal(same, readable && !seen && (at + 64 <= 0x4000_2000 || at >= 0x4000_2000), `0x${at.toString(16)} word ${word} of ${compare}`);
      assert.equal(reader.reads - before, same ? 8 : 0);
      counts[!readable ? 'unreadable' : same ? (word >= 0 ? 'changedPast' : 'same') : 'differ']++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(counts.same > 100 && counts.differ > 100 && counts.unreadable > 20 && counts.changedPast > 20, JSON.stringify(counts));
});

test('reads alternating between RAM regions ask the memory for each region\'s word view once, up to four regions, and read the right words', () => {
  const mem = new GuestMemory();
  const bases = [0x4000_0000, 0x8_0000_0000, 0x10_0000_0000, 0x20_0000_0000, 0x40_0000_0000];
  const regions = bases.map((b, r) => mem.addRam(b, 0x1000, `r${r}`));
  regions.forEach((bytes, r) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * (r + 3) + r) & 0xff;
  });
  let asked = 0;
  const counting: PhysMemory = {
    read8: (a) => mem.read8(a),
    read16: (a) => mem.read16(a),
    read32: (a) => mem.read32(a),
    read64: (a, o) => mem.read64(a, o),
    write8: (a, v) => mem.write8(a, v),
    write16: (a, v) => mem.write16(a, v),
    write32: (a, v) => mem.write32(a, v),
    write64: (a, lo, hi) => mem.write64(a, lo, hi),
    readBytes: (a, d) => mem.readBytes(a, d),
    writeBytes: (a, s) => mem.writeBytes(a, s),
    ramWords: (a, l, o) => {
      asked++;
      return mem.ramWords(a, l, o);
    },
  };
  const reader = new TableReader(counting, 48);
  const out = { lo: 0, hi: 0 };
  const check = (r: number, off: number): void => {
    assert.equal(reader.read64(bases[r]! + off, false, out), true);
    const want = { lo: 0, hi: 0 };
    assert.equal(mem.read64(bases[r]! + off, want), true);
    assert.deepEqual(out, want, `region ${r} offset ${off}`);
  };
  // Four regions in turn: each region's view is asked for once.
  for (let i = 0; i < 400; i++) check(i % 4, (i * 8) & 0xff8);
  assert.equal(asked, 4);
  // A fifth region replaces the oldest view: asking again, but every read still right.
  for (let i = 0; i < 50; i++) check(i % 5, (i * 8) & 0xff8);
  assert.ok(asked > 5, `asked ${asked} times`);
});
