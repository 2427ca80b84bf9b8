// MSI capability (PCIe Base r5.0 §7.7.1): layout offsets for 32/64-bit and per-vector masking,
// multiple-message aliasing, mask -> pending -> delivery on unmask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MsiOutcome } from '../memory/types.js';
import { ConfigSpace } from './config-space.js';
import { MsiCapability } from './msi-capability.js';

function make(vectors: number, addr64: boolean, pvm: boolean) {
  const cfg = new ConfigSpace();
  const sent: [number, number][] = [];
  const msi = new MsiCapability(cfg, { vectors, addr64, perVectorMask: pvm }, { sendMsi: (a: number, d: number): MsiOutcome => (sent.push([a, d]), 'delivered') });
  return { cfg, msi, sent, p: msi.start };
}

test('message control advertises MMC, 64-bit and per-vector masking; capability lengths', () => {
  const a = make(8, true, true);
  assert.equal(a.cfg.guestRead(a.p, 1), 0x05);
  assert.equal(a.cfg.guestRead(a.p + 2, 2), 0x0186); // PVM | 64-bit | MMC=3
  assert.equal(a.msi.end - a.msi.start, 0x18);
  const b = make(1, false, false);
  assert.equal(b.cfg.guestRead(b.p + 2, 2), 0x0000);
  assert.equal(b.msi.end - b.msi.start, 0x0a);
  assert.throws(() => make(3, true, true), RangeError);
});

test('32-bit layout: data at +8; address low bits read as zero; enable and MME writable only', () => {
  const { cfg, msi, sent, p } = make(4, false, true);
  cfg.guestWrite(p + 4, 4, 0x0808_0043);
  assert.equal(cfg.guestRead(p + 4, 4), 0x0808_0040);
  cfg.guestWrite(p + 8, 4, 0xffff_1234);
  assert.equal(cfg.guestRead(p + 8, 4), 0x1234, 'data is 16 bits');
  cfg.guestWrite(p + 2, 2, 0xffff);
  assert.equal(cfg.guestRead(p + 2, 2), 0x0175, 'PVM, MME=7 stored, MMC=2, enable');
  assert.equal(msi.allocated, 4, 'MME larger than MMC is capped');
  cfg.guestWrite(p + 2, 2, 0x0011); // MME = 1: two vectors
  assert.equal(msi.notify(3), 'delivered');
  assert.deepEqual(sent, [[0x0808_0040, 0x1235]], 'vector 3 aliases to 1 in a block of 2');
});

test('64-bit layout: address hi at +8, data at +0xc; mask -> pending -> delivered on unmask', () => {
  const { cfg, msi, sent, p } = make(2, true, true);
  cfg.guestWrite(p + 4, 4, 0x0000_0040);
  cfg.guestWrite(p + 8, 4, 0x0000_0001);
  cfg.guestWrite(p + 0xc, 2, 0x10);
  cfg.guestWrite(p + 0x10, 4, 0xffff_ffff);
  assert.equal(cfg.guestRead(p + 0x10, 4), 0x3, 'mask bits only for implemented vectors');
  cfg.guestWrite(p + 2, 2, 0x0011);
  assert.equal(msi.notify(1), 'pending');
  assert.equal(cfg.guestRead(p + 0x14, 4), 0x2);
  cfg.guestWrite(p + 0x14, 4, 0); // pending bits are read-only
  assert.equal(cfg.guestRead(p + 0x14, 4), 0x2);
  assert.deepEqual(sent, []);
  cfg.guestWrite(p + 0x10, 4, 0x1); // unmask vector 1
  assert.deepEqual(sent, [[0x1_0000_0040, 0x11]]);
  assert.equal(cfg.guestRead(p + 0x14, 4), 0);
  assert.equal(msi.notify(1), 'delivered');
  assert.equal(sent.length, 2);
});
