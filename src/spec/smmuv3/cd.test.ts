// Known-answer tests for the CD layout (Linux DMA domain and KUnit values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFields, decodeFields } from '../bits.js';
import { CD, CD_TG1_SHIFT, PS_BITS } from './cd.js';
import { TG0_SHIFT } from './pagetable.js';

const dma = { T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 4, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 1 };

test('Linux DMA-domain CD qw0 0x0001E204C0003510 (coherent, 4K, ias 48, OAS 44, ASID 1)', () => {
  assert.equal(encodeFields(CD, dma, 8)[0], 0x0001_e204_c000_3510n);
  assert.equal(encodeFields(CD, { ...dma, IR0: 0, OR0: 0, SH0: 2 }, 8)[0], 0x0001_e204_c000_2010n);
  assert.equal(encodeFields(CD, { ...dma, IPS: 5 }, 8)[0], 0x0001_e205_c000_3510n);
});

test('KUnit S1 CDs: ASID 1997 and 778, TTB0 and MAIR placement', () => {
  const ttb = 0xdaedbeefdeadbeefn & ((1n << 52n) - 1n) & ~0xfn;
  const base = { T0SZ: 4, TG0: 2, IR0: 2, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 1, AA64: 1, R: 1, A: 1, ASET: 1, TTB0: ttb >> 4n, MAIR0: 0x12345678n, MAIR1: 0x0abcdef0n };
  const w = encodeFields(CD, { ...base, ASID: 1997 }, 8);
  assert.deepEqual(w.slice(0, 4), [0x07cd_e201_c000_3684n, 0x000d_beef_dead_bee0n, 0n, 0x0abc_def0_1234_5678n]);
  assert.equal(encodeFields(CD, { ...base, ASID: 778 }, 8)[0], 0x030a_e201_c000_3684n);
  const d = decodeFields(CD, w);
  assert.equal(d.ASID, 1997n);
  assert.equal(d.TTB0 << 4n, ttb);
});

test('TG0/TG1 and IPS encodings', () => {
  assert.deepEqual([...TG0_SHIFT], [12, 16, 14, 0]);
  assert.deepEqual([...CD_TG1_SHIFT], [0, 14, 12, 16]);
  assert.deepEqual(PS_BITS.slice(0, 7), [32, 36, 40, 42, 44, 48, 52]);
});

test('CD field bit numbers match §5.4', () => {
  const spec: [number, keyof typeof CD][] = [
    [0, 'T0SZ'], [6, 'TG0'], [8, 'IR0'], [10, 'OR0'], [12, 'SH0'], [14, 'EPD0'], [15, 'ENDI'], [16, 'T1SZ'], [22, 'TG1'],
    [30, 'EPD1'], [31, 'V'], [32, 'IPS'], [35, 'AFFD'], [36, 'WXN'], [37, 'UWXN'], [38, 'TBI0'], [39, 'TBI1'], [40, 'PAN'],
    [41, 'AA64'], [42, 'HD'], [43, 'HA'], [44, 'S'], [45, 'R'], [46, 'A'], [47, 'ASET'], [48, 'ASID'], [64, 'NSCFG0'],
    [65, 'HAD0'], [66, 'E0PD0'], [67, 'HAFT'], [68, 'TTB0'], [128, 'NSCFG1'], [129, 'HAD1'], [132, 'TTB1'], [186, 'DS'],
    [192, 'MAIR0'], [224, 'MAIR1'], [256, 'AMAIR0'],
  ];
  for (const [bitNo, name] of spec) assert.equal(CD[name].dw * 64 + CD[name].lsb, bitNo, name);
});
