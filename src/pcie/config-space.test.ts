// Configuration-space register semantics (RO/RW/RW1C, bounds, capability list) and a fast-check
// fuzz of guest writes: never throw, never change read-only bytes, respect RW1C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigSpace } from './config-space.js';
import { EndpointFunction } from './endpoint.js';
import { PciePort } from './port.js';

test('write masks: RO bits keep their value, RW bits take the write, RW1C bits clear on 1', () => {
  const c = new ConfigSpace();
  c.set(0x40, 2, 0xa5a5);
  c.setWriteMask(0x40, 2, 0x00ff);
  c.guestWrite(0x40, 2, 0x1234);
  assert.equal(c.guestRead(0x40, 2), 0xa534);
  c.set(0x44, 2, 0xf00f);
  c.setW1cMask(0x44, 2, 0xf000);
  c.guestWrite(0x44, 2, 0x3001);
  assert.equal(c.guestRead(0x44, 2), 0xc00f);
});

test('accesses outside 4 KiB read all-ones and are ignored on write; sizes 1/2/4 are little-endian', () => {
  const c = new ConfigSpace();
  assert.equal(c.guestRead(4096, 4), 0xffff_ffff);
  assert.equal(c.guestRead(4094, 4), 0xffff_ffff);
  assert.equal(c.guestRead(-1, 1), 0xff);
  c.guestWrite(4095, 2, 0xffff);
  c.set(0x10, 4, 0x11223344);
  assert.equal(c.guestRead(0x10, 1), 0x44);
  assert.equal(c.guestRead(0x11, 2), 0x2233);
  assert.equal(c.guestRead(0x10, 4), 0x11223344);
});

test('capability list links 0x34 -> first -> next -> 0 and sets Status.CAP_LIST', () => {
  const c = new ConfigSpace();
  const a = c.addCapability(0x10, 0x3c);
  const b = c.addCapability(0x05, 0x0e);
  assert.equal(a, 0x40);
  assert.equal(b, 0x7c);
  assert.equal(c.guestRead(0x34, 1), 0x40);
  assert.equal(c.guestRead(0x41, 1), 0x7c);
  assert.equal(c.guestRead(0x7d, 1), 0);
  assert.equal(c.guestRead(0x06, 2) & 0x10, 0x10);
  assert.equal(c.findCapability(0x05), 0x7c);
  assert.equal(c.findCapability(0x11), -1);
  assert.throws(() => c.addCapability(0x09, 0x100), RangeError);
});

test('a capability-list loop written into RAM-like bytes cannot hang findCapability', () => {
  const c = new ConfigSpace();
  c.set(0x34, 1, 0x40);
  c.set(0x40, 2, 0x4001); // id 1, next -> itself
  assert.equal(c.findCapability(0x05), -1);
});

function roBytes(f: { config: ConfigSpace }): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4096; i++) if (f.config.wmask[i] === 0 && f.config.w1cmask[i] === 0) out.push(i);
  return out;
}

test('fuzz: random guest config writes to an endpoint and a root port never throw and never change read-only bytes', () => {
  const ep = new EndpointFunction('ep', {
    vendorId: 0x1234,
    pciDeviceId: 0x5678,
    classCode: 0xff0000,
    bars: [{ index: 0, size: 0x4000 }, { index: 2, size: 0x1000, kind: 'mem32' }],
    msi: { vectors: 4 },
    msix: { vectors: 8, tableBar: 0, tableOffset: 0, pbaOffset: 0x800 },
  });
  const rp = new PciePort('rp', { kind: 'root' });
  for (const f of [ep, rp]) {
    const ro = roBytes(f);
    const before = ro.map((i) => f.config.bytes[i]);
    fc.assert(
      fc.property(
        fc.array(fc.record({ off: fc.integer({ min: -8, max: 4200 }), size: fc.constantFrom(1 as const, 2 as const, 4 as const), v: fc.integer({ min: 0, max: 0xffff_ffff }) }), { maxLength: 60 }),
        (writes) => {
          for (const w of writes) {
            f.config.guestWrite(w.off, w.size, w.v);
            const r = f.config.guestRead(w.off, w.size);
            assert.ok(Number.isInteger(r) && r >= 0 && r <= 0xffff_ffff);
          }
          // Pending-bit and presence registers are host-set RO bits that may legitimately change
          // (a masked MSI sets pending); none is triggered without a signal, so RO stays put.
          ro.forEach((i, k) => assert.equal(f.config.bytes[i], before[k], `RO byte 0x${i.toString(16)} changed`));
        },
      ),
      { numRuns: 300 },
    );
  }
});
