// Tests for the ID-register derivation (IHI 0070 §6.3.1-6.3.8) against the values QEMU 7.2 and
// 10.0 report and the requirements of Linux 6.1's driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AIDR, IDR0, IDR1, IDR5, decodeIdr } from '../spec/smmuv3/idr.js';
import { deriveIdRegisters } from './id-registers.js';
import { DEFAULT_FEATURES, QEMU_10_0_FEATURES, QEMU_7_2_FEATURES } from './features.js';

test('qemu-7.2 profile reproduces QEMU 7.2 ID registers exactly', () => {
  const r = deriveIdRegisters(QEMU_7_2_FEATURES);
  assert.equal(r.idr0, 0x0d40101a);
  assert.equal(r.idr1, 0x02730010);
  assert.equal(r.idr2, 0);
  assert.equal(r.idr3, 0x00001404);
  assert.equal(r.idr4, 0);
  assert.equal(r.idr5, 0x00000074);
  assert.equal(r.aidr, 1);
  assert.equal(r.iidr, 0);
});

test('qemu-10.0 profile reproduces QEMU 10.0 ID registers exactly (virt, stage = nested)', () => {
  const r = deriveIdRegisters(QEMU_10_0_FEATURES);
  assert.equal(r.idr0, 0x0d44101b);
  assert.equal(r.idr1, 0x02730010);
  assert.equal(r.idr2, 0);
  assert.equal(r.idr3, 0x00001414);
  assert.equal(r.idr4, 0);
  assert.equal(r.idr5, 0x00000074);
  assert.equal(r.aidr, 1);
  assert.equal(r.iidr, 0);
});

test('default profile satisfies every Linux 6.1 probe requirement', () => {
  const r = deriveIdRegisters(DEFAULT_FEATURES);
  const i0 = decodeIdr(IDR0, r.idr0);
  const i1 = decodeIdr(IDR1, r.idr1);
  const i5 = decodeIdr(IDR5, r.idr5);
  assert.equal(i0.TTF, 2);
  assert.equal(i0.S1P, 1);
  assert.equal(i0.S2P, 1);
  assert.ok(i0.TTENDIAN === 0 || i0.TTENDIAN === 2);
  assert.equal(i0.ST_LEVEL, 1);
  assert.equal(i0.MSI, 1);
  assert.ok(i1.CMDQS! >= 7);
  assert.equal(i1.TABLES_PRESET, 0);
  assert.equal(i1.QUEUES_PRESET, 0);
  assert.equal(i1.REL, 0);
  assert.ok(i1.SSIDSIZE! > 0);
  assert.equal(i5.GRAN4K, 1);
  assert.equal(i5.OAS, 5);
  assert.equal(decodeIdr(AIDR, r.aidr).ARCH_MINOR_REV, DEFAULT_FEATURES.archMinor);
});

test('OAS 52 encodes as 6 and 16-bit STALL_MAX only with a stall model', () => {
  assert.equal(decodeIdr(IDR5, deriveIdRegisters({ ...DEFAULT_FEATURES, oasBits: 52 }).idr5).OAS, 6);
  const st = deriveIdRegisters({ ...DEFAULT_FEATURES, stallModel: 'stall', stallMax: 0x40 });
  assert.equal(decodeIdr(IDR5, st.idr5).STALL_MAX, 0x40);
  assert.equal(decodeIdr(IDR0, st.idr0).STALL_MODEL, 0);
});

test('featuresFromIdRegisters inverts deriveIdRegisters for both profiles', async () => {
  const { featuresFromIdRegisters } = await import('./id-registers.js');
  for (const f of [DEFAULT_FEATURES, QEMU_7_2_FEATURES, QEMU_10_0_FEATURES]) {
    const r = deriveIdRegisters(f);
    const back = featuresFromIdRegisters(r, f === DEFAULT_FEATURES ? QEMU_7_2_FEATURES : DEFAULT_FEATURES);
    assert.deepEqual(deriveIdRegisters(back), r);
  }
});
