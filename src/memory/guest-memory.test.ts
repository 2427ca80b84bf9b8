import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory } from './guest-memory.js';
import { FileBacking } from './file-backing.js';
import { u64 } from './types.js';

test('little-endian scalar accesses of every width', () => {
  const m = new GuestMemory();
  m.addRam(0x4000_0000, 0x1000);
  assert.ok(m.write64(0x4000_0010, 0x4433_2211, 0x8877_6655));
  assert.equal(m.read8(0x4000_0010), 0x11);
  assert.equal(m.read16(0x4000_0010), 0x2211);
  assert.equal(m.read32(0x4000_0014), 0x8877_6655);
  const o = u64();
  assert.ok(m.read64(0x4000_0010, o));
  assert.deepEqual(o, { lo: 0x4433_2211, hi: 0x8877_6655 });
});

test('accesses outside RAM report an abort instead of throwing', () => {
  const m = new GuestMemory();
  m.addRam(0x1000, 0x1000);
  assert.equal(m.read32(0x0), -1);
  assert.equal(m.read32(0x1ffe), -1, 'straddles the end');
  assert.equal(m.write32(0x2000, 1), false);
  assert.equal(m.read64(0x1ffc, u64()), false);
  assert.equal(m.readBytes(0x1f00, new Uint8Array(0x200)), false);
  assert.equal(m.writeBytes(0x1f00, new Uint8Array(0x200)), false);
  assert.equal(m.read32(2 ** 52), -1);
});

test('byte ranges span adjacent regions; overlapping regions are rejected', () => {
  const m = new GuestMemory();
  m.addRam(0x0, 0x100, 'a');
  m.addRam(0x100, 0x100, 'b');
  const src = Uint8Array.from({ length: 0x40 }, (_, i) => i);
  assert.ok(m.writeBytes(0xe0, src));
  const dst = new Uint8Array(0x40);
  assert.ok(m.readBytes(0xe0, dst));
  assert.deepEqual(dst, src);
  assert.throws(() => m.addRam(0x80, 0x100));
});

test('file-backed regions read on demand and reject writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-'));
  const p = join(dir, 'ram.bin');
  const img = new Uint8Array(300_000);
  img[200_000] = 0xab;
  img[200_001] = 0xcd;
  writeFileSync(p, img);
  const m = new GuestMemory();
  m.addBacking(0x4000_0000, new FileBacking(p));
  assert.equal(m.read16(0x4000_0000 + 200_000), 0xcdab);
  assert.equal(m.read8(0x4000_0000 + 300_000), -1);
  assert.equal(m.write8(0x4000_0000, 1), false);
});

test('ramWords: the 32-bit words of RAM held in memory, valid for later reads and writes; false across a region edge, outside RAM or in a backing', () => {
  const mem = new GuestMemory();
  const ram = mem.addRam(0x1000, 0x100);
  mem.addRam(0x1100, 0x100);
  ram.forEach((_, i) => (ram[i] = i));
  const out = { words: null as Uint32Array | null, base: 0, end: 0 };
  assert.equal(mem.ramWords(0x1004, 12, out), true);
  assert.deepEqual([out.base, out.end], [0x1000, 0x1100]);
  assert.deepEqual([...out.words!.subarray(1, 4)], [0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  assert.equal(mem.write32(0x1008, 0xdeadbeef), true);
  assert.equal(out.words![2], 0xdeadbeef, 'the view sees later writes');
  const stale = { words: null as Uint32Array | null, base: 7, end: 9 };
  assert.equal(mem.ramWords(0x10f8, 16, stale), false, 'spans two regions');
  assert.equal(mem.ramWords(0x0ff8, 16, stale), false, 'starts outside RAM');
  const img = new Uint8Array(0x100);
  mem.addBacking(0x9000, { size: img.length, readAt: (off: number, dst: Uint8Array) => dst.set(img.subarray(off, off + dst.length)) });
  assert.equal(mem.ramWords(0x9000, 8, stale), false, 'backing regions have no word view');
  assert.deepEqual([stale.words, stale.base, stale.end], [null, 7, 9], 'untouched when false');
  // A region whose bytes do not start 4-byte aligned in their buffer has no word view either.
  const odd = new Uint8Array(new ArrayBuffer(0x101), 1);
  mem.addRam(0x2000, odd);
  assert.equal(mem.ramWords(0x2000, 8, stale), false);
});
