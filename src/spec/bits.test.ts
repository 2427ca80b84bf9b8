import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addrInto, addrOf, bitsInPlace, field, fromBigWords, get32, get64, getBig, rd, setBig, toBigWords, wr } from './bits.js';

test('rd agrees with getBig for every field position and width <= 53', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 53 }), (v, lsb, width) => {
      fc.pre(lsb + width <= 64);
      const f = field('f', 0, lsb + width - 1, lsb);
      const w = fromBigWords([v]);
      assert.equal(BigInt(rd(w, f)), getBig([v], f));
    }),
    { numRuns: 2000 },
  );
});

test('wr then getBig round-trips (width <= 32) and leaves other bits alone', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 32 }), fc.bigInt({ min: 0n, max: 0xffff_ffffn }), (v, lsb, width, val) => {
      fc.pre(lsb + width <= 64);
      const f = field('f', 0, lsb + width - 1, lsb);
      const fv = val & ((1n << BigInt(width)) - 1n);
      const w = fromBigWords([v]);
      wr(w, f, Number(fv));
      const expect = [v];
      setBig(expect, f, fv);
      assert.deepEqual(toBigWords(w), expect);
    }),
    { numRuns: 2000 },
  );
});

test('bitsInPlace keeps an address field in place', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 52 }), fc.integer({ min: 0, max: 52 }), (v, a, b) => {
      const msb = Math.max(a, b);
      const lsb = Math.min(a, b);
      const m = ((1n << BigInt(msb + 1)) - 1n) & ~((1n << BigInt(lsb)) - 1n);
      const lo = Number(v & 0xffff_ffffn);
      const hi = Number(v >> 32n);
      assert.equal(BigInt(bitsInPlace(lo, hi, msb, lsb)), v & m);
    }),
    { numRuns: 2000 },
  );
  // Linux page descriptor PA|0xF47: output address [47:12]
  assert.equal(bitsInPlace(0x4020_0f47, 0x0000_0012, 47, 12), 0x12_4020_0000);
});

test('addrOf / addrInto: a field\'s bits in place, or -1 when it has bits set above bit 52', () => {
  const out = new Float64Array(2);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }), (v, a, b) => {
      const msb = Math.max(a, b);
      const lsb = Math.min(a, b);
      const f = field('F', 0, msb, lsb);
      const lo = Number(v & 0xffff_ffffn);
      const hi = Number(v >> 32n);
      const bits = v & (((1n << BigInt(msb + 1)) - 1n) & ~((1n << BigInt(lsb)) - 1n));
      const want = bits >> 53n !== 0n ? -1 : Number(bits);
      addrInto(lo, hi, f, out, 1);
      assert.equal(out[1], want, `[${msb}:${lsb}] of 0x${v.toString(16)}`);
      assert.equal(addrOf(lo, hi, f), want);
    }),
    { numRuns: 3000 },
  );
  // An L1STD: L2Ptr [55:6]; a pointer with bit 53 set is no address.
  assert.equal(addrOf(0x4020_0009, 0x0000_0012, field('L2Ptr', 0, 55, 6)), 0x12_4020_0000);
  assert.equal(addrOf(0x4020_0009, 0x0020_0012, field('L2Ptr', 0, 55, 6)), -1);
});

test('get64 and get32 agree with getBig for every field position and width (within one half, across both)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 53 }), (v, lsb, width) => {
      fc.pre(lsb + width <= 64);
      const f = field('f', 0, lsb + width - 1, lsb);
      const lo = Number(v & 0xffff_ffffn);
      const hi = Number(v >> 32n);
      assert.equal(get64(lo, hi, f), Number(getBig([v], f)));
      if (lsb + width <= 32) assert.equal(get32(lo, f), Number(getBig([v], f)));
    }),
    { numRuns: 3000 },
  );
});
