// io-pgtable known answers (Linux 6.1: descriptor low bits, start level / PGD size,
// TCR) and a fast-check property against a plain Map reference of page mappings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../memory/guest-memory.js';
import { PageAllocator } from './allocator.js';
import { IoPageTable } from './io-pgtable.js';

const RAM = 0x4000_0000;

function setup(ias = 48, oas = 48): { mem: GuestMemory; pt: IoPageTable } {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x400_0000);
  const alloc = new PageAllocator(mem, RAM, 0x400_0000);
  return { mem, pt: new IoPageTable(mem, alloc, { ias, oas, coherentWalk: true }) };
}

test('leaf descriptors carry Linux io-pgtable bits', () => {
  const pa = 0x4123_4000;
  assert.equal(IoPageTable.leafDescriptor(pa, { read: true, write: true, cache: true }, 3), BigInt(pa) | 0xf47n);
  assert.equal(IoPageTable.leafDescriptor(pa, { read: true, write: false, cache: true }, 3), BigInt(pa) | 0xfc7n);
  assert.equal(IoPageTable.leafDescriptor(pa, { read: true, write: true, cache: false }, 3), BigInt(pa) | 0xe43n);
  assert.equal(IoPageTable.leafDescriptor(pa, { read: false, write: true, noexec: true, mmio: true }, 3), BigInt(pa) | 0x0060_0000_0000_0e4bn);
  assert.equal(IoPageTable.leafDescriptor(0x4000_0000, { read: true, write: true, cache: true, noexec: true }, 3), 0x0060_0000_4000_0f47n);
  // Block (level 2): type bits 0b01.
  assert.equal(IoPageTable.leafDescriptor(0x4020_0000, { read: true, write: true, cache: true, noexec: true }, 2), 0x0060_0000_4020_0f45n);
  assert.equal(IoPageTable.tableDescriptor(0x4567_8000), 0x4567_8003n);
});

test('start level and PGD size follow the input size', () => {
  const cases: [number, number, number][] = [
    [48, 0, 512],
    [44, 0, 32],
    [40, 0, 2],
    [39, 1, 512],
    [32, 1, 4],
  ];
  for (const [ias, level, entries] of cases) {
    const { pt } = setup(ias, 48);
    assert.equal(pt.startLevel, level, `ias ${ias}`);
    assert.equal(pt.pgdEntries, entries, `ias ${ias}`);
  }
  const { pt } = setup(48, 44);
  assert.deepEqual(pt.tcr(), { t0sz: 16, tg0: 0, irgn0: 1, orgn0: 1, sh0: 3, ips: 4 });
});

test('map picks blocks when aligned, rejects double maps, unmap splits blocks (6.1)', () => {
  const { pt } = setup();
  const rw = { read: true, write: true, cache: true };
  assert.deepEqual(pt.map(0x4000_0000, 0x4000_0000, 0x20_0000, rw), { ok: true });
  assert.equal(pt.leafOf(0x4000_0000)?.level, 2);
  assert.equal(pt.map(0x4000_1000, 0x4100_0000, 0x1000, rw).ok, false);
  assert.equal(pt.iovaToPhys(0x4001_2345), 0x4001_2345);
  const r = pt.unmap(0x4000_1000, 0x1000);
  assert.equal(r.unmapped, 0x1000);
  assert.deepEqual(r.gather, [{ iova: 0x4000_1000, size: 0x1000, leaf: true }]);
  assert.equal(pt.iovaToPhys(0x4000_1000), null);
  assert.equal(pt.iovaToPhys(0x4000_2008), 0x4000_2008);
  assert.equal(pt.leafOf(0x4000_2000)?.level, 3);
  assert.equal(pt.unmap(0x4000_1000, 0x1000).unmapped, 0);
});

test('map/unmap agree with a simple page map (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom('map', 'unmap'), page: fc.integer({ min: 0, max: 63 }), n: fc.integer({ min: 1, max: 4 }), pa: fc.integer({ min: 0, max: 1023 }) }), { maxLength: 40 }),
      (ops) => {
        const { pt } = setup();
        const ref = new Map<number, number>();
        const base = 0x1_0000_0000;
        for (const o of ops) {
          const iova = base + o.page * 0x1000;
          if (o.op === 'map') {
            const free = Array.from({ length: o.n }, (_, i) => !ref.has(o.page + i)).every(Boolean);
            const r = pt.map(iova, 0x5000_0000 + o.pa * 0x1000, o.n * 0x1000, { read: true, write: true, cache: true });
            assert.equal(r.ok, free);
            if (free) for (let i = 0; i < o.n; i++) ref.set(o.page + i, 0x5000_0000 + (o.pa + i) * 0x1000);
          } else {
            const r = pt.unmap(iova, o.n * 0x1000);
            let expect = 0;
            while (expect < o.n && ref.has(o.page + expect)) ref.delete(o.page + expect++);
            assert.equal(r.unmapped, expect * 0x1000);
          }
        }
        for (let p = 0; p < 68; p++) assert.equal(pt.iovaToPhys(base + p * 0x1000 + 8), ref.has(p) ? ref.get(p)! + 8 : null);
      },
    ),
    { numRuns: 60 },
  );
});
