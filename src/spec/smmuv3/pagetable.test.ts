// Known-answer tests for VMSAv8-64 descriptors (Linux io-pgtable-arm values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeS1Leaf, encodeS2Leaf, encodeTable, mairByte, GRANULES } from './pagetable.js';

const PA = 0x8765_4000n;

test('stage-1 page descriptors: coherent RW PA|0xF47, RO PA|0xFC7, non-coherent RW PA|0xE43', () => {
  assert.equal(encodeS1Leaf({ oa: PA, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true }), PA | 0xf47n);
  assert.equal(encodeS1Leaf({ oa: PA, level3: true, attrIndx: 1, ap: 3, sh: 3, ng: true }), PA | 0xfc7n);
  assert.equal(encodeS1Leaf({ oa: PA, level3: true, attrIndx: 0, ap: 1, sh: 2, ng: true }), PA | 0xe43n);
});

test('MSI doorbell PTE 0x0060000000000E4B and selftest blocks/pages', () => {
  assert.equal(encodeS1Leaf({ oa: 0, level3: true, attrIndx: 2, ap: 1, sh: 2, ng: true, pxn: true, uxn: true }), 0x0060_0000_0000_0e4bn);
  assert.equal(encodeS1Leaf({ oa: PA, level3: true, attrIndx: 1, ap: 1, sh: 3, ng: true, pxn: true, uxn: true }), PA | 0x0060_0000_0000_0f47n);
  assert.equal(encodeS1Leaf({ oa: 0x4000_0000n, level3: false, attrIndx: 1, ap: 1, sh: 3, ng: true, pxn: true, uxn: true }), 0x4000_0000n | 0x0060_0000_0000_0f45n);
});

test('stage-2 page RW+NOEXEC+CACHE = 0x00600000000007FF; table = PA | 3', () => {
  assert.equal(encodeS2Leaf({ oa: 0, level3: true, memAttr: 0xf, s2ap: 3, sh: 3, xn: 3 }), 0x0060_0000_0000_07ffn);
  assert.equal(encodeTable(PA), PA | 3n);
  assert.equal(encodeTable(0x000f_0000_1234_0000n, 16), 0x1234_0000n | (0xfn << 12n) | 3n); // 52-bit NLTA[51:48] in [15:12]
});

test('MAIR 0xF404FF44 bytes and granule geometry', () => {
  const lo = 0xf404ff44;
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => mairByte(lo, 0, i)), [0x44, 0xff, 0x04, 0xf4, 0]);
  assert.deepEqual(GRANULES[12].blockLevels, [1, 2]);
  assert.deepEqual(GRANULES[14].blockLevels, [2]);
  assert.equal(GRANULES[16].stride, 13);
});
