// Known-answer tests for the STE and L1STD layouts (Linux arm-smmu-v3 values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFields, decodeFields, getBig } from '../bits.js';
import { STE, STE_CONFIG } from './ste.js';
import { L1STD, L1CD } from './l1-descriptors.js';

test('Linux S1 STE: qw0 = CD_PA | 0xB, qw1 = 0xD6 (S1DSS=SSID0, WBRA, ISH, NS-EL1)', () => {
  const cd = 0x4123_4000n;
  const w = encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.S1, S1_CONTEXT_PTR: cd >> 6n, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3 }, 8);
  assert.equal(w[0], cd | 0xbn);
  assert.equal(w[1], 0xd6n);
  assert.equal(encodeFields(STE, { S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3, S1STALLD: 1 }, 8)[1], 0x0800_00d6n);
});

test('KUnit cdtable STE with ATS, S1STALLD and 64K_L2: 0xF800F0F0F0F0F0EB / 0x180000D6', () => {
  const w = encodeFields(STE, { V: 1, CONFIG: 5, S1FMT: 2, S1_CONTEXT_PTR: 0xf0f0f0f0f0f0n >> 6n, S1CDMAX: 0x1f, S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3, EATS: 1, S1STALLD: 1 }, 8);
  assert.equal(w[0], 0xf800_f0f0_f0f0_f0ebn);
  assert.equal(w[1], 0x1800_00d6n);
  const b = encodeFields(STE, { S1DSS: 1, S1CIR: 1, S1COR: 1, S1CSH: 3, EATS: 1, S1STALLD: 1, SHCFG: 1 }, 8);
  assert.equal(b[1], 0x0000_1000_1800_00d5n);
});

test('KUnit S2 STE: qw2 0x0449B6C400000000 (S2S variant 0x0649...), qw3 0x000DBEEFDEADBEE0', () => {
  const vals = { S2VMID: 0, S2T0SZ: 4, S2SL0: 3, S2IR0: 2, S2OR0: 1, S2SH0: 3, S2TG: 2, S2PS: 1, S2AA64: 1, S2PTW: 1, S2R: 1, S2TTB: (0xdaedbeefdeadbeefn & ((1n << 52n) - 1n)) >> 4n };
  const w = encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.S2, EATS: 1, SHCFG: 1, ...vals }, 8);
  assert.equal(w[0], 0xdn);
  assert.equal(w[1], 0x0000_1000_1000_0000n);
  assert.equal(w[2], 0x0449_b6c4_0000_0000n);
  assert.equal(w[3], 0x000d_beef_dead_bee0n);
  assert.equal(encodeFields(STE, { ...vals, S2S: 1 }, 8)[2], 0x0649_b6c4_0000_0000n);
  const d = decodeFields(STE, w);
  assert.equal(d.S2TG, 2n);
  assert.equal(d.S2PS, 1n);
  assert.equal(d.S2SL0, 3n);
  assert.equal(d.S2T0SZ, 4n);
});

test('abort and bypass STEs (6.1): {0x1, 0x0000100000000000} and {0x9, ...}', () => {
  assert.deepEqual(encodeFields(STE, { V: 1, SHCFG: 1 }, 2), [0x1n, 0x0000_1000_0000_0000n]);
  assert.equal(encodeFields(STE, { V: 1, CONFIG: STE_CONFIG.BYPASS }, 1)[0], 0x9n);
});

test('STE field positions of every doubleword match §5.2 bit numbers', () => {
  // [bit number in the 512-bit STE, field]
  const spec: [number, keyof typeof STE][] = [
    [0, 'V'], [1, 'CONFIG'], [4, 'S1FMT'], [6, 'S1_CONTEXT_PTR'], [59, 'S1CDMAX'], [64, 'S1DSS'], [66, 'S1CIR'], [68, 'S1COR'],
    [70, 'S1CSH'], [72, 'S2HWU59'], [76, 'DRE'], [77, 'CONT'], [81, 'DCP'], [82, 'PPAR'], [83, 'MEV'], [91, 'S1STALLD'],
    [92, 'EATS'], [94, 'STRW'], [96, 'MEMATTR'], [100, 'MTCFG'], [101, 'ALLOCCFG'], [108, 'SHCFG'], [110, 'NSCFG'],
    [112, 'PRIVCFG'], [114, 'INSTCFG'], [128, 'S2VMID'], [160, 'S2T0SZ'], [166, 'S2SL0'], [168, 'S2IR0'], [170, 'S2OR0'],
    [172, 'S2SH0'], [174, 'S2TG'], [176, 'S2PS'], [179, 'S2AA64'], [180, 'S2ENDI'], [181, 'S2AFFD'], [182, 'S2PTW'],
    [183, 'S2HD'], [184, 'S2HA'], [185, 'S2S'], [186, 'S2R'], [194, 'S2SL0_2'], [195, 'S2DS'], [196, 'S2TTB'],
  ];
  for (const [bitNo, name] of spec) {
    const f = STE[name];
    assert.equal(f.dw * 64 + f.lsb, bitNo, name);
  }
  assert.equal(STE.S2TTB.width, 52);
  assert.equal(STE.S1_CONTEXT_PTR.width, 50);
});

test('L1STD: SPAN 9 | L2Ptr gives 0x0000000041234009; L1CD V | L2Ptr', () => {
  assert.equal(encodeFields(L1STD, { SPAN: 9, L2PTR: 0x4123_4000n >> 6n }, 1)[0], 0x0000_0000_4123_4009n);
  const l1cd = encodeFields(L1CD, { V: 1, L2PTR: 0x4567_8000n >> 12n }, 1);
  assert.equal(l1cd[0], 0x4567_8001n);
  assert.equal(getBig(l1cd, L1CD.L2PTR) << 12n, 0x4567_8000n);
});
