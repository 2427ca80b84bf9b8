import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { sharedFileMemory } from './shared-ram.js';

const dir = mkdtempSync(join(tmpdir(), 'vsmmu-ram-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const BASE = 0x4000_0000;

test('stores from either side are seen by the other at once (no cache)', () => {
  const path = join(dir, 'a');
  writeFileSync(path, Buffer.alloc(0x4000));
  const { memory, backing } = sharedFileMemory(path, BASE);
  assert.equal(memory.write32(BASE + 0x100, 0xdeadbeef), true);
  assert.equal(readFileSync(path).readUInt32LE(0x100), 0xdeadbeef, 'the file holds the store');
  const other = Buffer.alloc(8);
  other.writeBigUInt64LE(0x1122_3344_5566_7788n);
  writeFileSync(path, Buffer.concat([readFileSync(path).subarray(0, 0x200), other, readFileSync(path).subarray(0x208)]));
  const out = { lo: 0, hi: 0 };
  assert.equal(memory.read64(BASE + 0x200, out), true);
  assert.deepEqual(out, { lo: 0x5566_7788, hi: 0x1122_3344 }, 'a store by the other side is read back');
  backing.close();
});

test('outside the region: scalar reads are -1, everything else false (the PhysMemory contract)', () => {
  const path = join(dir, 'b');
  writeFileSync(path, Buffer.alloc(0x1000));
  const { memory, backing } = sharedFileMemory(path, BASE);
  assert.equal(memory.read32(BASE - 4), -1);
  assert.equal(memory.read8(BASE + 0x1000), -1);
  assert.equal(memory.read32(BASE + 0xffe), -1, 'straddling the end');
  assert.equal(memory.write32(BASE + 0x1000, 1), false);
  assert.equal(memory.readBytes(BASE + 0xf00, new Uint8Array(0x200)), false);
  assert.equal(memory.writeBytes(BASE - 1, new Uint8Array(2)), false);
  backing.close();
});

test('a size larger than the file is refused', () => {
  const path = join(dir, 'c');
  writeFileSync(path, Buffer.alloc(0x1000));
  assert.throws(() => sharedFileMemory(path, BASE, 0x2000), /shorter/);
});

test('byte ranges agree with a plain buffer (property)', () => {
  const path = join(dir, 'd');
  const size = 0x2000;
  writeFileSync(path, Buffer.alloc(size));
  const { memory, backing } = sharedFileMemory(path, BASE);
  const ref = new Uint8Array(size);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: size - 1 }), fc.uint8Array({ minLength: 1, maxLength: 300 }), (off, data) => {
      const fits = off + data.length <= size;
      assert.equal(memory.writeBytes(BASE + off, data), fits);
      if (fits) ref.set(data, off);
      const back = new Uint8Array(data.length);
      assert.equal(memory.readBytes(BASE + off, back), fits);
      if (fits) assert.deepEqual(back, ref.subarray(off, off + data.length));
    }),
    { numRuns: 200 },
  );
  assert.deepEqual(new Uint8Array(readFileSync(path)), ref);
  backing.close();
});
