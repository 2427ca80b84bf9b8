// Test devices under guest-controlled input: random register writes and doorbells with random
// queue contents never throw, stay bounded, and end in an error status when DMA faults; a
// well-formed queue command round-trips data through the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import { RootComplex } from '../../pcie/root-complex.js';
import { PcieDevice } from '../../pcie/endpoint.js';
import { HDR } from '../../spec/pcie/config-header.js';
import { DMA_ENGINE_MAX_LEN, DMA_ENGINE_OP, DMA_ENGINE_REG, DMA_ENGINE_SLICE, DMA_ENGINE_STATUS, DmaEngine } from './dma-engine.js';
import { QDEV_CQE, QDEV_DISK_BYTES, QDEV_MAX_ENTRIES, QDEV_OP, QDEV_REG, QDEV_SC, QDEV_SLICE_BYTES, QDEV_SLICE_ENTRIES, QDEV_SQE, QueueDevice } from './queue-device.js';

const RAM = 0x4000_0000;

function attach(fn: DmaEngine['fn'], ram = 0x10_0000): GuestMemory {
  const mem = new GuestMemory();
  mem.addRam(RAM, ram);
  const rc = new RootComplex({ name: 'rc', segment: 0, buses: { start: 0, end: 0 }, memory: mem });
  rc.addIntegratedDevice(new PcieDevice('d', [fn]), 1);
  fn.config.guestWrite(HDR.COMMAND.offset, 2, 0x6); // memory + bus master
  return mem;
}

test('DMA engine: copy and fill with physical addresses (no SMMU), faults outside RAM', () => {
  const e = new DmaEngine('dma');
  const mem = attach(e.fn);
  mem.writeBytes(RAM, Uint8Array.from([1, 2, 3, 4]));
  const w = (o: number, v: number): void => e.write(0, o, 4, v);
  w(DMA_ENGINE_REG.SRC_LO, RAM);
  w(DMA_ENGINE_REG.DST_LO, RAM + 0x8000);
  w(DMA_ENGINE_REG.LEN, 0x2001);
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.COPY);
  assert.equal(e.read(0, DMA_ENGINE_REG.STATUS, 4), DMA_ENGINE_STATUS.DONE);
  assert.equal(mem.read32(RAM + 0x8000), 0x0403_0201);
  w(DMA_ENGINE_REG.DST_LO, RAM + 0x10_0000 - 0x800);
  w(DMA_ENGINE_REG.LEN, 0x1000);
  w(DMA_ENGINE_REG.PATTERN, 0xaabbccdd);
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.FILL);
  assert.equal(e.read(0, DMA_ENGINE_REG.STATUS, 4), DMA_ENGINE_STATUS.ERROR);
  assert.equal(e.read(0, DMA_ENGINE_REG.DONE, 4), 0);
  assert.equal(e.lastFault?.reason, 'external-abort');
});

test('DMA engine: a maximal (16 MiB) copy moves at most DMA_ENGINE_SLICE bytes per access; service() completes it', () => {
  const e = new DmaEngine('dma');
  const mem = attach(e.fn, 2 * DMA_ENGINE_MAX_LEN);
  mem.writeBytes(RAM + DMA_ENGINE_MAX_LEN - 4, Uint8Array.from([9, 8, 7, 6]));
  const w = (o: number, v: number): void => e.write(0, o, 4, v);
  w(DMA_ENGINE_REG.SRC_LO, RAM);
  w(DMA_ENGINE_REG.DST_LO, RAM + DMA_ENGINE_MAX_LEN);
  w(DMA_ENGINE_REG.LEN, DMA_ENGINE_MAX_LEN);
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.COPY);
  assert.ok(e.lastSliceBytes > 0 && e.lastSliceBytes <= DMA_ENGINE_SLICE, `${e.lastSliceBytes} bytes in the CMD write`);
  assert.equal(e.read(0, DMA_ENGINE_REG.STATUS, 4), DMA_ENGINE_STATUS.BUSY);
  w(DMA_ENGINE_REG.LEN, 4); // operands are latched: no effect on the running transfer
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.FILL); // ignored while busy
  let worst = 0;
  let calls = 0;
  while (e.service()) {
    worst = Math.max(worst, e.lastSliceBytes);
    calls++;
  }
  assert.ok(worst <= DMA_ENGINE_SLICE);
  assert.ok(calls >= DMA_ENGINE_MAX_LEN / DMA_ENGINE_SLICE - 2);
  assert.equal(e.read(0, DMA_ENGINE_REG.STATUS, 4), DMA_ENGINE_STATUS.DONE);
  assert.equal(e.read(0, DMA_ENGINE_REG.DONE, 4), DMA_ENGINE_MAX_LEN);
  assert.equal(e.read(0, DMA_ENGINE_REG.COUNT, 4), 1, 'one command completed');
  assert.equal(mem.read32(RAM + 2 * DMA_ENGINE_MAX_LEN - 4), 0x0607_0809);
});

test('queue device: a write then a read command round-trip through the disk', () => {
  const q = new QueueDevice('q');
  const mem = attach(q.fn);
  const sq = RAM + 0x1000;
  const cq = RAM + 0x2000;
  const data = RAM + 0x3000;
  mem.writeBytes(data, new Uint8Array(512).fill(0x5c));
  const w = (o: number, v: number): void => q.write(0, o, 4, v);
  w(QDEV_REG.SQ_BASE_LO, sq);
  w(QDEV_REG.CQ_BASE_LO, cq);
  w(QDEV_REG.QSIZE, 4);
  w(QDEV_REG.CTRL, 1);
  const sqe = (slot: number, op: number, cid: number, buf: number): void => {
    const b = new Uint8Array(QDEV_SQE.BYTES);
    const v = new DataView(b.buffer);
    v.setUint8(QDEV_SQE.OPCODE, op);
    v.setUint16(QDEV_SQE.CID, cid, true);
    v.setBigUint64(QDEV_SQE.BUFFER, BigInt(buf), true);
    v.setUint32(QDEV_SQE.LBA, 3, true);
    v.setUint32(QDEV_SQE.LENGTH, 512, true);
    mem.writeBytes(sq + slot * QDEV_SQE.BYTES, b);
  };
  sqe(0, QDEV_OP.WRITE, 7, data);
  sqe(1, QDEV_OP.READ, 8, data + 0x1000);
  w(QDEV_REG.SQ_TAIL, 2);
  assert.equal(mem.read16(cq + QDEV_CQE.CID), 7);
  assert.equal(mem.read16(cq + QDEV_CQE.STATUS), QDEV_SC.OK);
  assert.equal(mem.read32(cq + QDEV_CQE.PHASE), 1);
  assert.equal(mem.read16(cq + QDEV_CQE.BYTES + QDEV_CQE.CID), 8);
  assert.equal(mem.read32(data + 0x1000 + 508), 0x5c5c_5c5c);
  assert.equal(q.disk[3 * 512], 0x5c);
});

test('queue device: a full queue of maximal transfers moves one slice per access; service() drains it, one interrupt', () => {
  const q = new QueueDevice('q');
  const mem = attach(q.fn, 0x20_0000);
  const sq = RAM + 0x1_0000;
  const cq = RAM + 0x2_0000;
  const data = RAM + 0x10_0000;
  const w = (o: number, v: number): void => q.write(0, o, 4, v);
  w(QDEV_REG.SQ_BASE_LO, sq);
  w(QDEV_REG.CQ_BASE_LO, cq);
  w(QDEV_REG.QSIZE, QDEV_MAX_ENTRIES);
  w(QDEV_REG.CTRL, 1);
  const n = QDEV_MAX_ENTRIES - 1;
  for (let i = 0; i < n; i++) {
    const b = new Uint8Array(QDEV_SQE.BYTES);
    const v = new DataView(b.buffer);
    v.setUint8(QDEV_SQE.OPCODE, i % 2 === 0 ? QDEV_OP.READ : QDEV_OP.WRITE);
    v.setUint16(QDEV_SQE.CID, i, true);
    v.setBigUint64(QDEV_SQE.BUFFER, BigInt(data), true);
    v.setUint32(QDEV_SQE.LENGTH, QDEV_DISK_BYTES, true); // the whole disk: 64 KiB per command
    mem.writeBytes(sq + i * QDEV_SQE.BYTES, b);
  }
  w(QDEV_REG.SQ_TAIL, n); // 255 commands x 64 KiB = 16 MiB of DMA behind one doorbell
  const bounded = (): void => {
    assert.ok(q.lastSlice.entries <= QDEV_SLICE_ENTRIES, `${q.lastSlice.entries} entries`);
    assert.ok(q.lastSlice.bytes <= QDEV_SLICE_BYTES, `${q.lastSlice.bytes} bytes`);
  };
  bounded();
  assert.ok(q.lastSlice.bytes > 0);
  assert.ok(q.read(0, QDEV_REG.SQ_HEAD, 4) < n, 'the doorbell did not run the whole queue');
  assert.equal(q.stats.interrupts, 0);
  let calls = 0;
  while (q.service()) {
    bounded();
    calls++;
  }
  assert.ok(calls >= (n * QDEV_DISK_BYTES) / QDEV_SLICE_BYTES - 2, `${calls} slices`);
  assert.equal(q.read(0, QDEV_REG.SQ_HEAD, 4), n);
  assert.equal(q.stats.commands, n);
  assert.equal(q.stats.errors, 0);
  assert.equal(q.stats.interrupts, 1, 'one interrupt for the drained batch');
  assert.equal(mem.read16(cq + (n - 1) * QDEV_CQE.BYTES + QDEV_CQE.CID), n - 1);
});

test('random guest register writes never throw and stay bounded (fuzz)', () => {
  const regs = fc.constantFrom(...Object.values(DMA_ENGINE_REG), ...Object.values(QDEV_REG), 0x3c, 0xfff);
  const word = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 1, 2, 4, RAM, RAM + 0xff000, 0xffff_ffff));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), regs, word), { maxLength: 40 }), fc.uint8Array({ minLength: 64, maxLength: 512 }), (writes, junk) => {
      const e = new DmaEngine('dma');
      const q = new QueueDevice('q');
      const mem = attach(e.fn);
      const rc = new RootComplex({ name: 'rc2', segment: 1, buses: { start: 0, end: 0 }, memory: mem });
      rc.addIntegratedDevice(new PcieDevice('q', [q.fn]), 2);
      q.fn.config.guestWrite(HDR.COMMAND.offset, 2, 0x6);
      mem.writeBytes(RAM, junk); // queue entries and data are whatever the guest left there
      for (const [toQueue, off, v] of writes) {
        if (toQueue) q.write(0, off, 4, v);
        else e.write(0, off, 4, v);
        assert.ok([0, 1, 2, 3].includes(e.read(0, DMA_ENGINE_REG.STATUS, 4))); // 3: busy (sliced transfer)
        assert.ok(q.read(0, QDEV_REG.SQ_HEAD, 4) < 256);
        assert.ok(q.lastSlice.entries <= QDEV_SLICE_ENTRIES && q.lastSlice.bytes <= QDEV_SLICE_BYTES);
      }
    }),
    { numRuns: 150 },
  );
});
