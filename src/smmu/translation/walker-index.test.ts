import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indexBits } from './walker.js';

// The walker's table index from 32-bit halves equals the arithmetic definition floor(a / 2^lsb) mod 2^bits.
test('indexBits equals floor(a / 2^lsb) mod 2^bits for addresses below 2^56', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }), fc.integer({ min: 9, max: 55 }), fc.integer({ min: 1, max: 20 }), (a, lsb, bits) => {
      const lo = Number(a & 0xffff_ffffn);
      const hi = Number(a >> 32n);
      const want = Number((a >> BigInt(lsb)) & ((1n << BigInt(bits)) - 1n));
      assert.equal(indexBits(lo, hi, lsb, bits), want);
    }),
    { numRuns: 3000 },
  );
});
