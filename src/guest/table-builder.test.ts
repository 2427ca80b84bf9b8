import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { s2Sl0Of, startLevel, startTableEntries, levelShift, tg0Of } from '../spec/smmuv3/pagetable.js';
import { SLOT_BLOCKED, TableBuilder, type TableWrite } from './table-builder.js';

test('walk geometry: start levels, concatenated start tables, S2SL0 and TG encodings (DDI 0487 D8.2 tables)', () => {
  // [input bits, granule, start level]
  const cases: [number, 12 | 14 | 16, number][] = [
    [48, 12, 0], [39, 12, 1], [32, 12, 1], [30, 12, 2], [25, 12, 2], [21, 12, 3],
    [48, 14, 0], [47, 14, 1], [36, 14, 2], [25, 14, 3],
    [48, 16, 1], [42, 16, 2], [29, 16, 3],
  ];
  for (const [ia, g, level] of cases) assert.equal(startLevel(ia, g), level, `${ia} bits, granule 2^${g}`);
  assert.equal(levelShift(12, 0), 39);
  assert.equal(levelShift(14, 1), 36);
  assert.equal(levelShift(16, 2), 29);
  assert.equal(startTableEntries(48, 12, 0), 512);
  assert.equal(startTableEntries(32, 12, 1), 4);
  assert.equal(startTableEntries(40, 12, 1), 1024, 'a 40-bit IPA from level 1: two concatenated tables');
  assert.equal(s2Sl0Of(12, 0), 2);
  assert.equal(s2Sl0Of(12, 2), 0);
  assert.equal(s2Sl0Of(16, 1), 2);
  assert.deepEqual([tg0Of(12), tg0Of(16), tg0Of(14)], [0, 1, 2]);
});

/** A bump allocator over a sparse memory image (Map of 8-byte words). */
function world() {
  const words = new Map<number, bigint>();
  const tables: [number, number][] = [];
  let next = 0x4000_0000;
  const alloc = (size: number, align: number): number => {
    const a = Math.ceil(next / align) * align;
    next = a + size;
    tables.push([a, a + size]);
    return a;
  };
  const apply = (ws: readonly TableWrite[]): void => ws.forEach((w) => words.set(w.addr, w.value));
  return { words, tables, alloc, apply, read: (a: number): bigint => words.get(a) ?? 0n };
}

/** An independent lookup: walks the written words from `root` the way the VMSA defines it. */
function lookup(read: (a: number) => bigint, root: number, g: number, ia: number, va: bigint, level: number): bigint | null {
  const start = 4 - Math.ceil((ia - g) / (g - 3));
  let table = root;
  for (let l = start; ; l++) {
    const lsb = g + (g - 3) * (3 - l);
    const bits = l === start ? ia - lsb : g - 3;
    const d = read(table + Number((va >> BigInt(lsb)) & ((1n << BigInt(bits)) - 1n)) * 8);
    if (l === level) return d;
    if ((d & 3n) !== 3n) return null;
    table = Number(d & ((1n << 48n) - 1n) & ~((1n << BigInt(g)) - 1n));
  }
}

test('built tables: every mapped address is found by an independent walk, writes stay inside allocated tables, the read-back and self-tracking modes agree', () => {
  const granule = fc.constantFrom<12 | 14 | 16>(12, 14, 16);
  fc.assert(
    fc.property(granule, fc.integer({ min: 25, max: 48 }), fc.array(fc.tuple(fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 30 }), (g, ia, maps) => {
      const a = world();
      const b = world();
      const own = new TableBuilder({ granuleShift: g, inputBits: ia, alloc: a.alloc });
      const readBack = new TableBuilder({ granuleShift: g, inputBits: ia, alloc: b.alloc, read: b.read });
      for (const [raw, lvl] of maps) {
        const level = Math.max(lvl, own.startLevel);
        const va = (raw & ((1n << BigInt(ia)) - 1n)) & ~((1n << BigInt(levelShift(g, level))) - 1n);
        const leaf = (va | 1n) ^ BigInt(level << 2); // a marker value, Type bit clear
        const wa = own.map(va, leaf, level);
        const wb = readBack.map(va, leaf, level);
        assert.deepEqual(wa, wb);
        a.apply(wa);
        b.apply(wb);
        for (const w of wa) assert.ok(a.tables.some(([s, e]) => w.addr >= s && w.addr + 8 <= e), 'write inside a table');
        assert.equal(lookup(a.read, own.root, g, ia, va, level), leaf, 'the walk finds the leaf just mapped');
      }
      assert.equal(own.tables, readBack.tables);
    }),
    { numRuns: 200 },
  );
});

test('mapping the same page twice allocates no table; a block in the way stops the walk when asked', () => {
  const w = world();
  const t = new TableBuilder({ granuleShift: 12, inputBits: 48, alloc: w.alloc, read: w.read });
  w.apply(t.map(0x1234_5000n, 0x8000_0003n, 3));
  const n = t.tables;
  const again = t.map(0x1234_5000n, 0x9000_0003n, 3);
  assert.equal(again.length, 1);
  assert.equal(t.tables, n);
  w.apply(t.map(0x4000_0000n, 0x4000_0001n, 1)); // a 1 GiB block at level 1
  const out: TableWrite[] = [];
  assert.equal(t.slot(0x4000_1000n, 3, out, {}, true), SLOT_BLOCKED);
  assert.deepEqual(out, []);
  assert.equal(t.existingSlot(0x4000_1000n, 3), -1);
  assert.ok(t.existingSlot(0x1234_5000n, 3) > 0);
});
