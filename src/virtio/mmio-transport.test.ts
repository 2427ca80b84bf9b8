// virtio-mmio transport registers (virtio 1.2 §4.2.2), status and reset, feature negotiation,
// queue setup, interrupts, and the polled-window mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioBlk } from './blk.js';
import { MemoryBlockBackend } from './block-backend.js';
import { VirtioRng } from './rng.js';
import { VirtioMmioTransport } from './mmio-transport.js';
import {
  F_ACCESS_PLATFORM,
  F_EVENT_IDX,
  F_INDIRECT,
  F_VERSION_1,
  REG,
  S_ACK,
  S_DRIVER,
  S_DRIVER_OK,
  S_FEATURES_OK,
  S_NEEDS_RESET,
  physPort,
  rig,
} from '../../test/support/virtio-kit.js';
import { GuestMemory } from '../memory/guest-memory.js';

const blk = (): VirtioBlk => new VirtioBlk(new MemoryBlockBackend(1 << 20));

test('identity registers: magic "virt", version 2, device and vendor IDs', () => {
  const { drv } = rig(blk());
  assert.equal(drv.r(REG.magic), 0x74726976);
  assert.equal(drv.r(REG.version), 2);
  assert.equal(drv.r(REG.deviceId), 2);
  assert.notEqual(drv.r(REG.vendorId), 0);
  const r = rig(new VirtioRng());
  assert.equal(r.drv.r(REG.deviceId), 4);
});

test('control registers: only aligned 32-bit accesses; write-only registers read as zero', () => {
  const { t, drv } = rig(blk());
  assert.equal(t.read(REG.magic, 2), 0);
  assert.equal(t.read(REG.magic + 1, 4), 0);
  assert.equal(t.read(REG.magic, 1), 0);
  t.write(REG.status, 1, S_ACK); // byte write to Status: ignored
  assert.equal(drv.r(REG.status), 0);
  drv.w(REG.queueNum, 8);
  assert.equal(drv.r(REG.queueNum), 0);
  drv.w(REG.magic, 0); // read-only: WI
  assert.equal(drv.r(REG.magic), 0x74726976);
  // No shared memory regions: SHMLen reads all ones.
  assert.equal(drv.r(0x0b0), 0xffff_ffff);
  assert.equal(drv.r(0x0b4), 0xffff_ffff);
});

test('device features by selector: VERSION_1 and ACCESS_PLATFORM always, ring and blk bits in word 0', () => {
  const { drv } = rig(blk());
  drv.w(REG.deviceFeaturesSel, 1);
  assert.equal(drv.r(REG.deviceFeatures), 0x3); // bits 32, 33
  drv.w(REG.deviceFeaturesSel, 0);
  const lo = drv.r(REG.deviceFeatures);
  // INDIRECT_DESC 28, EVENT_IDX 29, SIZE_MAX 1, SEG_MAX 2, BLK_SIZE 6, FLUSH 9.
  assert.equal(lo, (1 << 28) | (1 << 29) | (1 << 1) | (1 << 2) | (1 << 6) | (1 << 9));
  drv.w(REG.deviceFeaturesSel, 2);
  assert.equal(drv.r(REG.deviceFeatures), 0);
});

test('FEATURES_OK only for a subset of the offer that includes VERSION_1 and ACCESS_PLATFORM', () => {
  const { drv } = rig(blk());
  assert.equal(drv.negotiate(F_VERSION_1), false); // no ACCESS_PLATFORM: refused
  assert.equal(drv.r(REG.status), S_ACK | S_DRIVER);
  assert.equal(drv.negotiate(F_VERSION_1 | F_ACCESS_PLATFORM | F_INDIRECT), true);
  // A bit never offered (e.g. 34, RING_PACKED): refused.
  drv.w(REG.status, 0);
  drv.w(REG.status, S_ACK | S_DRIVER);
  drv.w(REG.driverFeaturesSel, 1);
  drv.w(REG.driverFeatures, 0x7);
  drv.w(REG.status, S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.equal(drv.r(REG.status) & S_FEATURES_OK, 0);
});

test('driver features are frozen once FEATURES_OK is set', () => {
  const { drv, t } = rig(blk());
  assert.ok(drv.negotiate(F_VERSION_1 | F_ACCESS_PLATFORM));
  drv.w(REG.driverFeaturesSel, 0);
  drv.w(REG.driverFeatures, 1 << 28);
  assert.deepEqual(t.negotiated, { lo: 0, hi: 3 });
});

test('queue setup: QueueNumMax per selector, registers frozen while ready, ready read-back', () => {
  const { drv, t } = rig(blk());
  drv.w(REG.queueSel, 0);
  assert.equal(drv.r(REG.queueNumMax), 128);
  drv.w(REG.queueSel, 1);
  assert.equal(drv.r(REG.queueNumMax), 0); // no queue 1
  drv.w(REG.queueReady, 1);
  assert.equal(drv.r(REG.queueReady), 0);
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 32);
  assert.equal(drv.r(REG.queueReady), 1);
  const q = t.queues[0]!;
  assert.equal(q.size, 32);
  drv.w(REG.queueNum, 64); // ignored while ready
  assert.equal(q.size, 32);
  assert.equal(q.descLo, drv.descIova);
  drv.w(REG.queueReady, 0);
  assert.equal(drv.r(REG.queueReady), 0);
});

test('invalid queue configuration at QueueReady sets DEVICE_NEEDS_RESET', () => {
  for (const bad of [
    { num: 0 },
    { num: 48 }, // not a power of two
    { num: 256 }, // above QueueNumMax
    { num: 16, desc: 0x4020_0008 }, // descriptor table not 16-aligned
    { num: 16, used: 0x4020_0002 }, // used ring not 4-aligned
    { num: 16, descHi: 0x0100_0000 }, // beyond 2^53
  ]) {
    const { drv, t } = rig(blk());
    assert.ok(drv.negotiate(F_VERSION_1 | F_ACCESS_PLATFORM));
    drv.w(REG.queueNum, bad.num);
    drv.w(REG.queueDescLow, bad.desc ?? 0x4020_0000);
    drv.w(REG.queueDescHigh, bad.descHi ?? 0);
    drv.w(REG.queueDriverLow, 0x4021_0000);
    drv.w(REG.queueDeviceLow, bad.used ?? 0x4022_0000);
    drv.w(REG.queueReady, 1);
    assert.equal(drv.r(REG.queueReady), 0, JSON.stringify(bad));
    assert.equal(drv.r(REG.status) & S_NEEDS_RESET, S_NEEDS_RESET, JSON.stringify(bad));
    assert.ok(t.stats.lastError !== null);
  }
});

test('Status = 0 resets features, queues, interrupt status; the driver can start again', () => {
  const { drv, t, irq } = rig(new VirtioRng({ random: (d) => d.fill(7) }));
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  const buf = drv.buffer(16);
  drv.add([{ iova: buf.iova, len: 16, write: true }]);
  drv.kick();
  assert.equal(drv.r(REG.interruptStatus), 1);
  assert.equal(irq.pulses, 1);
  drv.w(REG.status, 0);
  assert.equal(drv.r(REG.status), 0);
  assert.equal(drv.r(REG.interruptStatus), 0);
  assert.equal(drv.r(REG.queueReady), 0);
  assert.deepEqual(t.negotiated, { lo: 0, hi: 0 });
  assert.equal(t.stats.resets, 2); // the driver's own reset in negotiate() and this one
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  drv.add([{ iova: buf.iova, len: 16, write: true }]);
  drv.kick();
  assert.deepEqual(drv.takeUsed(), [{ id: 0, len: 16 }]);
});

test('interrupts: edge pulses per notification, ACK clears, level mode follows InterruptStatus', () => {
  const { drv, irq } = rig(new VirtioRng({ random: (d) => d.fill(1) }));
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  const buf = drv.buffer(8);
  drv.add([{ iova: buf.iova, len: 8, write: true }]);
  drv.kick();
  assert.equal(irq.pulses, 1);
  assert.equal(drv.ack(), 1);
  assert.equal(drv.r(REG.interruptStatus), 0);
  // avail->flags NO_INTERRUPT: the device suppresses the notification (no EVENT_IDX).
  drv.mem.write16(drv.availPa, 1);
  drv.add([{ iova: buf.iova, len: 8, write: true }]);
  drv.kick();
  assert.equal(irq.pulses, 1);
  assert.equal(drv.takeUsed().length, 2);

  const l = rig(new VirtioRng({ random: (d) => d.fill(1) }), { trigger: 'level' });
  l.drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  const b = l.drv.buffer(8);
  l.drv.add([{ iova: b.iova, len: 8, write: true }]);
  l.drv.kick();
  assert.equal(l.irq.level, true);
  assert.equal(l.irq.pulses, 0);
  l.drv.ack();
  assert.equal(l.irq.level, false);
});

test('EVENT_IDX: notification only when used_event is crossed; avail_event follows', () => {
  const { drv, irq } = rig(new VirtioRng({ random: (d) => d.fill(2) }));
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM | F_EVENT_IDX, 8);
  const buf = drv.buffer(8);
  // used_event (after avail ring entries) = 2: notify when used idx passes from <=2 to >2.
  drv.mem.write16(drv.availPa + 4 + 2 * 8, 2);
  for (let i = 0; i < 2; i++) {
    drv.add([{ iova: buf.iova, len: 8, write: true }]);
    drv.kick();
  }
  assert.equal(irq.pulses, 0);
  drv.add([{ iova: buf.iova, len: 8, write: true }]);
  drv.kick();
  assert.equal(irq.pulses, 1);
  assert.equal(drv.mem.read16(drv.usedPa + 4 + 8 * 8), 3); // avail_event
});

test('config space: naturally aligned reads of any size; misaligned or beyond the structure read 0', () => {
  const { drv, t } = rig(blk());
  assert.equal(drv.config32(0), 2048); // 1 MiB = 2048 sectors
  assert.equal(drv.config32(4), 0);
  assert.equal(t.read(0x100, 2), 2048);
  assert.equal(t.read(0x101, 1), 8);
  assert.equal(t.read(0x101, 2), 0); // misaligned
  assert.equal(t.read(0x100 + 0x14, 4), 512); // blk_size
  assert.equal(t.read(0x1fc, 4), 0); // beyond virtio_blk_config
  const out = { lo: 0, hi: 0 };
  t.read64(0x100, out);
  assert.deepEqual(out, { lo: 2048, hi: 0 });
  assert.equal(drv.r(REG.configGeneration), 0);
  t.configChanged();
  assert.equal(drv.r(REG.configGeneration), 1);
});

test('polled-window mode: one DeviceFeatures word, features taken as VERSION_1|ACCESS_PLATFORM', () => {
  const { drv, t } = rig(blk(), { polledWindow: true });
  for (const sel of [0, 1, 7]) {
    drv.w(REG.deviceFeaturesSel, sel);
    assert.equal(drv.r(REG.deviceFeatures), 0x3);
  }
  assert.deepEqual(t.offered, { lo: 3, hi: 3 });
  // Whatever the driver writes (or fails to write) as DriverFeatures, FEATURES_OK is accepted.
  drv.w(REG.status, S_ACK | S_DRIVER);
  drv.w(REG.driverFeatures, 0);
  drv.w(REG.status, S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.equal(drv.r(REG.status), S_ACK | S_DRIVER | S_FEATURES_OK);
  assert.deepEqual(t.negotiated, { lo: 0, hi: 3 });
});

test('polled-window mode: QueueSel ignored, used-buffer bit sticky after DRIVER_OK, polls without QueueNotify', () => {
  const { drv, t, irq } = rig(new VirtioRng({ random: (d) => d.fill(3) }), { polledWindow: true });
  drv.w(REG.queueSel, 5);
  assert.equal(drv.r(REG.queueNumMax), 64);
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  assert.equal(drv.r(REG.interruptStatus) & 1, 1);
  drv.ack();
  assert.equal(drv.r(REG.interruptStatus) & 1, 1);
  const buf = drv.buffer(8);
  drv.add([{ iova: buf.iova, len: 8, write: true }]); // no kick: the host polls
  assert.equal(t.service(), false);
  assert.deepEqual(drv.takeUsed(), [{ id: 0, len: 8 }]);
  assert.equal(irq.pulses, 1);
  assert.equal(t.stats.notifies, 0);
});

test('polled-window mode: a Status store that clears bits implies the reset the host did not see', () => {
  const { drv, t } = rig(new VirtioRng(), { polledWindow: true });
  drv.init(F_VERSION_1 | F_ACCESS_PLATFORM, 8);
  const resets = t.stats.resets;
  drv.w(REG.status, S_ACK); // the 0 store was overwritten before the poll
  assert.equal(t.stats.resets, resets + 1);
  assert.equal(drv.r(REG.status), S_ACK);
  assert.equal(drv.r(REG.queueReady), 0);
  assert.throws(() => new VirtioMmioTransport({ ...new VirtioRng(), queueCount: 2, handle: () => 0, readConfig: () => 0, reset: () => {} }, { dma: physPort(new GuestMemory()), polledWindow: true }), /one-queue/);
});

test('DRIVER_OK before FEATURES_OK: the device does not run', () => {
  const { drv, t } = rig(new VirtioRng());
  drv.w(REG.status, S_ACK | S_DRIVER | S_DRIVER_OK);
  assert.equal(t.service(), false);
  assert.equal(t.stats.services, 0);
});

test('polled-window mode: QueueReady applied before the ring addresses of the same poll still works', () => {
  const { drv, t } = rig(new VirtioRng({ random: (d) => d.fill(4) }), { polledWindow: true });
  assert.ok(drv.negotiate(F_VERSION_1 | F_ACCESS_PLATFORM));
  const desc = drv.buffer(16 * 8), avail = drv.buffer(22), used = drv.buffer(70);
  // Address order, as a bridge scanning the window applies one poll's changed words.
  drv.w(REG.queueNum, 8);
  drv.w(REG.queueReady, 1);
  drv.w(REG.status, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  drv.w(REG.queueDescLow, desc.iova);
  drv.w(REG.queueDriverLow, avail.iova);
  drv.w(REG.queueDeviceLow, used.iova);
  assert.equal(drv.r(REG.queueReady), 1);
  Object.assign(drv, { qsize: 8, descPa: desc.pa, availPa: avail.pa, usedPa: used.pa });
  const buf = drv.buffer(8);
  drv.writeDesc(desc.pa, 0, buf.iova, 8, 2, 0);
  drv.publish(0);
  assert.equal(t.service(), false);
  assert.deepEqual(drv.takeUsed(), [{ id: 0, len: 8 }]);
  // Once served, the configuration is latched: later stores are ignored.
  drv.w(REG.queueDescLow, 0x1230);
  assert.equal(t.queues[0]!.descLo, desc.iova);
});

test('polled-window mode: an unusable queue configuration is reported at the first service', () => {
  const { drv, t } = rig(new VirtioRng(), { polledWindow: true });
  assert.ok(drv.negotiate(F_VERSION_1 | F_ACCESS_PLATFORM));
  drv.w(REG.queueNum, 6);
  drv.w(REG.queueReady, 1);
  drv.w(REG.status, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  assert.equal(t.service(), false);
  assert.equal(drv.r(REG.status) & S_NEEDS_RESET, S_NEEDS_RESET);
  assert.equal(drv.r(REG.interruptStatus) & 2, 2);
  assert.match(t.stats.lastError!, /not a power of two/);
});
