import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntIndex } from './int-index.js';

// Model: a Map. Keys from a small pool (so that collisions, clusters and wrap-around deletions are
// frequent) mixed with large keys above 2^32.
test('IntIndex behaves as a Map under random sets and deletes', () => {
  const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 20 }).map((k) => k * 2 ** 32 + 7), fc.integer({ min: 0, max: 2 ** 53 - 1 }));
  const op = fc.tuple(fc.constantFrom('set', 'del', 'get'), key, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 48 }), fc.array(op, { maxLength: 400 }), (cap, ops) => {
      const x = new IntIndex(cap);
      const m = new Map<number, number>();
      for (const [o, k, v] of ops) {
        if (o === 'set') {
          if (!m.has(k) && m.size >= cap) continue;
          m.set(k, v);
          x.set(k, v);
        } else if (o === 'del') {
          m.delete(k);
          x.delete(k);
        }
        assert.equal(x.get(k), m.get(k) ?? -1);
        assert.equal(x.size, m.size);
      }
      for (const [k, v] of m) assert.equal(x.get(k), v);
    }),
    { numRuns: 500 },
  );
});

test('IntIndex refuses a key beyond its capacity', () => {
  const x = new IntIndex(2);
  x.set(1, 1);
  x.set(2, 2);
  x.set(2, 3);
  assert.throws(() => x.set(3, 3), RangeError);
  x.delete(1);
  x.set(3, 3);
  assert.equal(x.get(3), 3);
  assert.equal(x.get(2), 3);
  assert.equal(x.get(1), -1);
});
