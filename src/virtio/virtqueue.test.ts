// Split virtqueue consumption (virtio 1.2 §2.7) with everything the driver controls bounded:
// loops, chains longer than the queue, out-of-range indexes, malformed indirect tables and DMA
// faults on the rings all end in DEVICE_NEEDS_RESET plus a configuration-change interrupt
// (§2.1.2), never a throw; every service() call visits a bounded number of descriptors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtioRng } from './rng.js';
import { D_INDIRECT, D_NEXT, D_WRITE, F_ACCESS_PLATFORM, F_INDIRECT, F_VERSION_1, REG, S_NEEDS_RESET, rig, type Rig } from '../../test/support/virtio-kit.js';
import { SplitVirtqueue } from './virtqueue.js';

const BASIC = F_VERSION_1 | F_ACCESS_PLATFORM;

function rngRig(size = 8, accept = BASIC, chainsPerSlice?: number): Rig & { buf: { pa: number; iova: number } } {
  const r = rig(new VirtioRng({ random: (d) => d.fill(0x5a) }), chainsPerSlice === undefined ? {} : { chainsPerSlice });
  r.drv.init(accept, size);
  return { ...r, buf: r.drv.buffer(0x1000) };
}

/** The device stopped with DEVICE_NEEDS_RESET and told the driver with a config interrupt. */
function assertNeedsReset(r: Rig, reason: RegExp): void {
  assert.equal(r.drv.r(REG.status) & S_NEEDS_RESET, S_NEEDS_RESET);
  assert.equal(r.drv.r(REG.interruptStatus) & 2, 2);
  assert.ok(r.irq.pulses >= 1);
  assert.match(r.t.stats.lastError ?? '', reason);
  // Stopped: further polls do nothing and say so.
  const before = r.t.queues[0]!.stats.descriptors;
  assert.equal(r.t.service(), false);
  assert.equal(r.t.queues[0]!.stats.descriptors, before);
}

test('a descriptor loop is cut at the queue size', () => {
  const r = rngRig(8);
  r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 8, D_WRITE | D_NEXT, 1);
  r.drv.writeDesc(r.drv.descPa, 1, r.buf.iova, 8, D_WRITE | D_NEXT, 0);
  r.drv.publish(0);
  r.drv.kick();
  assertNeedsReset(r, /longer than queue size 8/);
  assert.ok(r.t.queues[0]!.stats.descriptors <= 9);
  assert.equal(r.t.stats.needsReset, 1);
});

test('a chain longer than the queue (through an indirect table) is refused', () => {
  const r = rngRig(4, BASIC | F_INDIRECT);
  const table = r.drv.buffer(16 * 5);
  for (let i = 0; i < 5; i++) r.drv.writeDesc(table.pa, i, r.buf.iova, 8, D_WRITE | (i < 4 ? D_NEXT : 0), i + 1);
  r.drv.writeDesc(r.drv.descPa, 0, table.iova, 16 * 5, D_INDIRECT, 0);
  r.drv.publish(0);
  r.drv.kick();
  assertNeedsReset(r, /longer than queue size 4/);
});

test('out-of-range indexes: head, next, next inside an indirect table, avail idx too far ahead', () => {
  const head = rngRig(8);
  head.drv.publish(8);
  head.drv.kick();
  assertNeedsReset(head, /entry 8 beyond queue size 8/);

  const next = rngRig(8);
  next.drv.writeDesc(next.drv.descPa, 0, next.buf.iova, 8, D_WRITE | D_NEXT, 200);
  next.drv.publish(0);
  next.drv.kick();
  assertNeedsReset(next, /next index 200 beyond queue size/);

  const ind = rngRig(8, BASIC | F_INDIRECT);
  const table = ind.drv.buffer(32);
  ind.drv.writeDesc(table.pa, 0, ind.buf.iova, 8, D_WRITE | D_NEXT, 2);
  ind.drv.writeDesc(ind.drv.descPa, 0, table.iova, 32, D_INDIRECT, 0);
  ind.drv.publish(0);
  ind.drv.kick();
  assertNeedsReset(ind, /beyond indirect table size 2/);

  const ahead = rngRig(8);
  ahead.drv.mem.write16(ahead.drv.availPa + 2, 9);
  ahead.drv.kick();
  assertNeedsReset(ahead, /9 entries ahead/);
});

test('malformed indirect descriptors and buffer order', () => {
  const cases: [string, (r: ReturnType<typeof rngRig>) => void, RegExp][] = [
    ['not negotiated', (r) => r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 16, D_INDIRECT, 0), /without VIRTIO_F_INDIRECT_DESC/],
    ['with NEXT', (r) => r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 16, D_INDIRECT | D_NEXT, 1), /with NEXT/],
    ['bad length', (r) => r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 20, D_INDIRECT, 0), /not a non-zero multiple of 16/],
    ['empty', (r) => r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 0, D_INDIRECT, 0), /not a non-zero multiple of 16/],
    [
      'nested',
      (r) => {
        r.drv.writeDesc(r.buf.pa, 0, r.buf.iova, 16, D_INDIRECT, 0);
        r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 16, D_INDIRECT, 0);
      },
      /inside an indirect table/,
    ],
    [
      'readable after writable',
      (r) => {
        r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 8, D_WRITE | D_NEXT, 1);
        r.drv.writeDesc(r.drv.descPa, 1, r.buf.iova, 8, 0, 0);
      },
      /readable descriptor after a device-writable/,
    ],
    ['address beyond 2^53', (r) => r.drv.writeDesc(r.drv.descPa, 0, 2 ** 60, 8, D_WRITE, 0), /beyond 2\^53/],
  ];
  for (const [name, setup, reason] of cases) {
    const r = rngRig(8, name === 'not negotiated' ? BASIC : BASIC | F_INDIRECT);
    setup(r);
    r.drv.publish(0);
    assert.doesNotThrow(() => r.drv.kick(), name);
    assertNeedsReset(r, reason);
  }
});

test('DMA faults on the descriptor table, available ring and used ring set DEVICE_NEEDS_RESET', () => {
  for (const [where, reason] of [
    ['desc', /descriptor table unreadable \(F_TRANSLATION at/],
    ['availIdx', /available ring index unreadable/],
    ['availRing', /available ring entry unreadable/],
    ['usedRing', /used ring entry not writable/],
    ['usedIdx', /used ring index not writable/],
  ] as const) {
    const r = rngRig(8);
    r.drv.writeDesc(r.drv.descPa, 0, r.buf.iova, 8, D_WRITE, 0);
    r.drv.publish(0);
    const d = r.drv;
    const hole: [number, number] = {
      desc: [d.descIova, 16],
      availIdx: [d.availIova + 2, 2],
      availRing: [d.availIova + 4, 2],
      usedRing: [d.usedIova + 4, 8],
      usedIdx: [d.usedIova + 2, 2],
    }[where] as [number, number];
    r.port.holes.push(hole);
    assert.equal(r.t.service(), false);
    assertNeedsReset(r, reason);
    // Reset and reinitialise: the device works again.
    r.port.holes = [];
    r.drv.init(BASIC, 8);
    r.drv.add([{ iova: r.buf.iova, len: 8, write: true }]);
    r.drv.kick();
    assert.deepEqual(r.drv.takeUsed(), [{ id: 0, len: 8 }]);
    assert.equal(r.drv.r(REG.status) & S_NEEDS_RESET, 0);
  }
});

test('each service() call serves at most chainsPerSlice chains and returns true while some remain', () => {
  const r = rngRig(64, BASIC, 8);
  for (let i = 0; i < 60; i++) r.drv.add([{ iova: r.buf.iova, len: 4, write: true }]);
  const q = r.t.queues[0]!;
  let calls = 0;
  let more = true;
  while (more) {
    const before = q.stats.descriptors;
    const chains = q.stats.chains;
    more = r.t.service();
    calls++;
    assert.ok(q.stats.chains - chains <= 8);
    assert.ok(q.stats.descriptors - before <= 8 * 64);
    assert.ok(calls <= 8);
  }
  assert.equal(calls, 8); // ceil(60 / 8)
  assert.equal(r.drv.takeUsed().length, 60);
});

test('fuzz: random descriptor tables and ring indexes never throw and stay bounded', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ len: fc.nat(64), flags: fc.nat(7), next: fc.nat(20) }), { minLength: 8, maxLength: 8 }),
      fc.array(fc.nat(12), { minLength: 1, maxLength: 10 }),
      fc.nat(20),
      fc.boolean(),
      (descs, heads, idx, indirect) => {
        const r = rngRig(8, indirect ? BASIC | F_INDIRECT : BASIC, 4);
        descs.forEach((d, i) => r.drv.writeDesc(r.drv.descPa, i, d.flags & D_INDIRECT ? r.drv.descIova : r.buf.iova, d.len, d.flags, d.next));
        heads.forEach((h, i) => r.drv.mem.write16(r.drv.availPa + 4 + 2 * i, h));
        r.drv.mem.write16(r.drv.availPa + 2, idx);
        let calls = 0;
        while (r.t.service()) if (++calls > 8) break;
        assert.ok(calls <= 3);
        // At most 4 chains per call, each at most 8 buffers plus one indirect hop.
        assert.ok(r.t.queues[0]!.stats.descriptors <= (calls + 1) * 4 * (8 + 8 + 1));
        const st = r.drv.r(REG.status);
        if (st & S_NEEDS_RESET) assert.ok(r.t.stats.lastError !== null);
      },
    ),
    { numRuns: 150 },
  );
});

test('queue maximum must be a power of two (host misuse)', () => {
  assert.throws(() => new SplitVirtqueue(48, { read: () => null, write: () => null }), /power of two/);
});
