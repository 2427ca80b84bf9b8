// MSI-X (PCIe Base r5.0 §7.7.2): capability registers, table and PBA through BAR accesses,
// entries masked at reset, per-vector and function masks setting pending bits, delivery on unmask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MsiOutcome } from '../memory/types.js';
import { ConfigSpace } from './config-space.js';
import { MsixCapability } from './msix-capability.js';

function make(vectors = 70) {
  const cfg = new ConfigSpace();
  const sent: [number, number][] = [];
  const x = new MsixCapability(cfg, { vectors, tableBar: 2, tableOffset: 0x1000, pbaOffset: 0x3000 }, { sendMsi: (a: number, d: number): MsiOutcome => (sent.push([a, d]), 'delivered') });
  return { cfg, x, sent, p: x.start };
}

const entry = (v: number, reg: number): number => 0x1000 + v * 16 + reg;

test('capability registers: table size N-1, BIR/offset, only enable and function mask writable', () => {
  const { cfg, p } = make();
  assert.equal(cfg.guestRead(p, 1), 0x11);
  assert.equal(cfg.guestRead(p + 2, 2), 69);
  assert.equal(cfg.guestRead(p + 4, 4), 0x1002);
  assert.equal(cfg.guestRead(p + 8, 4), 0x3002);
  cfg.guestWrite(p + 2, 2, 0xffff);
  assert.equal(cfg.guestRead(p + 2, 2), 0xc000 | 69);
});

test('table entries reset masked; address low bits and reserved control bits read zero; PBA read-only', () => {
  const { x } = make();
  assert.equal(x.read(2, entry(5, 12), 4), 1);
  x.write(2, entry(5, 0), 4, 0x0808_0043);
  x.write(2, entry(5, 4), 4, 0x1);
  x.write(2, entry(5, 8), 4, 0xdead_beef);
  x.write(2, entry(5, 12), 4, 0xffff_fffe);
  assert.equal(x.read(2, entry(5, 0), 4), 0x0808_0040);
  assert.equal(x.read(2, entry(5, 8), 4), 0xdead_beef);
  assert.equal(x.read(2, entry(5, 8) + 2, 2), 0xdead);
  assert.equal(x.read(2, entry(5, 12), 4), 0);
  assert.equal(x.entryAddress(5), 0x1_0808_0040);
  x.write(2, 0x3000, 4, 0xffff_ffff);
  assert.equal(x.read(2, 0x3000, 4), 0);
  assert.equal(x.claims(2, 0x1000 + 70 * 16), false);
  assert.equal(x.claims(1, 0x1000), false);
});

test('masked vector sets its PBA bit; unmasking the entry delivers it and clears the bit', () => {
  const { cfg, x, sent, p } = make();
  cfg.guestWrite(p + 2, 2, 0x8000);
  x.write(2, entry(65, 0), 4, 0x40);
  x.write(2, entry(65, 8), 4, 65);
  assert.equal(x.notify(65), 'pending');
  assert.equal(x.read(2, 0x3008, 4), 0x2, 'vector 65 = bit 1 of the second qword');
  x.write(2, entry(65, 12), 4, 0);
  assert.deepEqual(sent, [[0x40, 65]]);
  assert.equal(x.read(2, 0x3008, 4), 0);
});

test('function mask holds every vector pending; clearing it delivers the unmasked ones only', () => {
  const { cfg, x, sent, p } = make(4);
  for (let v = 0; v < 4; v++) {
    x.write(2, entry(v, 0), 4, 0x1000 + 4 * v);
    x.write(2, entry(v, 8), 4, v);
  }
  cfg.guestWrite(p + 2, 2, 0xc000);
  for (const v of [0, 1, 3]) x.write(2, entry(v, 12), 4, 0);
  for (let v = 0; v < 4; v++) assert.equal(x.notify(v), 'pending');
  cfg.guestWrite(p + 2, 2, 0x8000);
  assert.deepEqual(sent, [[0x1000, 0], [0x1004, 1], [0x100c, 3]]);
  assert.equal(x.pending(2), true);
  x.write(2, entry(2, 12), 4, 0);
  assert.deepEqual(sent.at(-1), [0x1008, 2]);
});

test('fuzz: arbitrary table/PBA accesses never throw and every read is a size-bounded unsigned value', () => {
  const { x } = make(9);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 0x4000 }), fc.constantFrom(1 as const, 2 as const, 4 as const), fc.integer({ min: 0, max: 0xffff_ffff })), { maxLength: 50 }), (ops) => {
      for (const [bar, off, size, v] of ops) {
        x.write(bar, off, size, v);
        const r = x.read(bar, off, size);
        assert.ok(r >= 0 && r < 2 ** (8 * size));
      }
    }),
    { numRuns: 200 },
  );
});
