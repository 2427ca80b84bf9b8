// The SMMU structure encoders of the spec layer (encodeSte, encodeCd, encodeL1Std, encodeL1Cd):
// known-answer words as Linux 6.1's arm-smmu-v3 writes them, field round trips, and what the
// model's own decoders make of encoded structures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFields, fromBigWords, inPlace } from '../../src/spec/bits.js';
import { CD, encodeCd } from '../../src/spec/smmuv3/cd.js';
import { encodeL1Cd, encodeL1Std, L1CD, L1STD } from '../../src/spec/smmuv3/l1-descriptors.js';
import { encodeSte, STE, STE_CONFIG } from '../../src/spec/smmuv3/ste.js';
import { DEFAULT_FEATURES } from '../../src/smmu/features.js';
import { decodeSte } from '../../src/smmu/translation/ste-config.js';
import { decodeCd } from '../../src/smmu/translation/cd-config.js';

test('known answers: Linux 6.1 S1 STE, DMA-domain CD, abort STE, L1STD and L1CD words', () => {
  const cdTable = 0x4321_0040;
  // arm_smmu_write_strtab_ent: qw0 = CD table | Config S1 | V, qw1 = S1DSS SSID0 | WBRA | ISH.
  const ste = encodeSte({ V: 1, CONFIG: STE_CONFIG.S1, S1_CONTEXT_PTR: inPlace(STE.S1_CONTEXT_PTR, cdTable), S1DSS: 2, S1CIR: 1, S1COR: 1, S1CSH: 3 });
  assert.deepEqual(ste.slice(0, 2), [BigInt(cdTable) | 0xbn, 0xd6n]);
  assert.equal(ste.length, 8);
  // Abort STE with SHCFG incoming (disable_bypass): V only in qw0, SHCFG = 1 at qw1 bit 44.
  assert.deepEqual(encodeSte({ V: 1, CONFIG: STE_CONFIG.ABORT, SHCFG: 1 }).slice(0, 2), [1n, 1n << 44n]);
  // DMA-domain CD 0 of ASID 3: T0SZ 16, TG0 4K, WBWA ISH walks, EPD1, V, IPS 48 bits, AA64, R, A, ASET.
  const cd = encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASET: 1, ASID: 3, TTB0: inPlace(CD.TTB0, 0x4500_0000), MAIR0: 0xf404ff44 });
  assert.equal(cd[0], 0x0003_e205_c000_3510n);
  assert.equal(cd[1], 0x4500_0000n);
  assert.equal(cd[3], 0xf404ff44n);
  // L1STD: Span 9 (256 STEs) at an L2 table; L1CD: V at an L2 CD table.
  assert.equal(encodeL1Std({ SPAN: 9, L2PTR: inPlace(L1STD.L2PTR, 0x4800_4000) }), 0x4800_4009n);
  assert.equal(encodeL1Cd({ V: 1, L2PTR: inPlace(L1CD.L2PTR, 0x4900_1000) }), 0x4900_1001n);
});

test('address fields take aligned addresses only; unknown field names are refused', () => {
  assert.throws(() => inPlace(STE.S1_CONTEXT_PTR, 0x4000_0020), /64-byte aligned/);
  assert.throws(() => inPlace(L1CD.L2PTR, 0x4000_0800), /4096-byte aligned/);
  assert.throws(() => encodeSte({ NOPE: 1 } as never), /unknown field/);
});

test('every STE and CD field round-trips through the encoder', () => {
  const values = (fields: Readonly<Record<string, { width: number }>>): fc.Arbitrary<Record<string, bigint>> =>
    fc.record(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fc.bigInt({ min: 0n, max: (1n << BigInt(f.width)) - 1n })])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, bigint>>;
  fc.assert(
    fc.property(values(STE), (v) => {
      const back = decodeFields(STE, encodeSte(v));
      for (const [k, x] of Object.entries(v)) assert.equal(back[k as keyof typeof STE], x, k);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(values(CD), (v) => {
      const back = decodeFields(CD, encodeCd(v));
      for (const [k, x] of Object.entries(v)) assert.equal(back[k as keyof typeof CD], x, k);
    }),
    { numRuns: 300 },
  );
});

test('the model decodes encoded structures to what was encoded (stage-1 STE, CD)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 25, max: 48 }), (cdBlock, asid, ia) => {
      const cdTable = 0x4000_0000 + cdBlock * 64;
      const d = decodeSte(fromBigWords(encodeSte({ V: 1, CONFIG: STE_CONFIG.S1, S1_CONTEXT_PTR: inPlace(STE.S1_CONTEXT_PTR, cdTable) })), DEFAULT_FEATURES, false);
      assert.ok(d.ok);
      assert.equal(d.ste.s1ContextPtr, cdTable);
      const ttb = 0x4400_0000 + (cdBlock % 0x1000) * 0x1000;
      const cd = decodeCd(fromBigWords(encodeCd({ T0SZ: 64 - ia, TG0: 0, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASET: 1, ASID: asid, TTB0: inPlace(CD.TTB0, ttb) })), d.ste, DEFAULT_FEATURES);
      assert.ok(cd !== null);
      assert.equal(cd.asid, asid);
      assert.equal(cd.tt[0].ttb, ttb);
      assert.equal(cd.tt[0].ia, ia);
      assert.equal(cd.tt[0].startLevel, 4 - Math.ceil((ia - 12) / 9));
    }),
    { numRuns: 200 },
  );
});
