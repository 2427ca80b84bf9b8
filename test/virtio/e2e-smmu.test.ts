// End to end: virtio-mmio devices whose DMA goes through vsmmu's SmmuV3. The reference guest
// driver programs the SMMU (stream table, a stage-1 DMA domain per device, page tables, TLB
// invalidation); a test-side virtio driver with its own ring writer allocates its rings and
// buffers in guest RAM and hands the devices IOVAs mapped in those domains. Checks: blk data by
// checksum, rng bytes, translation faults (IOERR + the F_TRANSLATION event record), a ring the
// guest unmapped (DEVICE_NEEDS_RESET), the polled-window mode, and a fast-check property against a
// reference disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { MmioBus } from '../../src/platform/runtime/mmio-bus.js';
import { SmmuV3 } from '../../src/smmu/device/smmu-v3.js';
import { DEFAULT_FEATURES } from '../../src/smmu/features.js';
import { GuestSmmuDriver, type DmaDomain } from '../../src/guest/smmu-driver.js';
import { PageAllocator } from '../../src/guest/allocator.js';
import { EVT } from '../../src/spec/smmuv3/events.js';
import { MemoryBlockBackend, VirtioBlk, VirtioMmioTransport, VirtioRng } from '../../src/virtio/index.js';
import { CountingIrq, F_ACCESS_PLATFORM, F_INDIRECT, F_VERSION_1, REG, S_NEEDS_RESET, TestBlkDriver, TestVirtioDriver, type DmaMapper } from '../support/virtio-kit.js';

const RAM = 0x4000_0000;
const SMMU_BASE = 0x0905_0000;
const BLK_BASE = 0x0a00_0000;
const RNG_BASE = 0x0a00_0200;
const BLK_SID = 0x08;
const RNG_SID = 0x09;

interface System {
  mem: GuestMemory;
  smmu: SmmuV3;
  smmuDrv: GuestSmmuDriver;
  disk: MemoryBlockBackend;
  blkDev: VirtioBlk;
  blkT: VirtioMmioTransport;
  rngT: VirtioMmioTransport;
  blkDomain: DmaDomain;
  blk: TestBlkDriver;
  rng: TestVirtioDriver;
  irq: CountingIrq;
}

/** Maps each buffer the driver allocates at a fresh IOVA of `d` (like dma_map_single). */
function domainMapper(drv: GuestSmmuDriver, d: DmaDomain): DmaMapper {
  return {
    map(pa: number, bytes: number): number {
      const iova = d.allocIova(bytes);
      if (iova === null) throw new Error('IOVA space exhausted');
      const r = drv.map(d, iova, pa, bytes, { read: true, write: true, cache: true });
      if (!r.ok) throw new Error(`map failed: ${r.reason}`);
      return iova;
    },
  };
}

function system(opts: { polledWindow?: boolean; diskBytes?: number; rngBytes?: (d: Uint8Array) => void } = {}): System {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x800_0000);
  const smmu = new SmmuV3(mem, { features: DEFAULT_FEATURES });
  const bus = new MmioBus(mem);
  bus.map(SMMU_BASE, smmu);
  const alloc = new PageAllocator(mem, RAM + 0x10_0000, 0x700_0000);
  const smmuDrv = new GuestSmmuDriver(bus, mem, alloc, { name: 'smmu0', base: SMMU_BASE, coherent: true });
  smmuDrv.probe();
  smmuDrv.reset();
  const disk = new MemoryBlockBackend(opts.diskBytes ?? 4 << 20);
  const blkDev = new VirtioBlk(disk, { serial: 'e2e' });
  const irq = new CountingIrq();
  const polled = opts.polledWindow === true;
  const blkT = new VirtioMmioTransport(blkDev, { dma: smmu.dma(BLK_SID, null), irq, polledWindow: polled });
  const rngT = new VirtioMmioTransport(new VirtioRng({ random: opts.rngBytes ?? ((d) => d.fill(0xa5)) }), { dma: smmu.dma(RNG_SID, null), polledWindow: polled });
  bus.map(BLK_BASE, blkT);
  bus.map(RNG_BASE, rngT);
  const blkDomain = smmuDrv.createDomain();
  assert.ok(smmuDrv.attach(BLK_SID, blkDomain));
  const rngDomain = smmuDrv.createDomain();
  assert.ok(smmuDrv.attach(RNG_SID, rngDomain));
  const blkV = new TestVirtioDriver(bus, mem, alloc, BLK_BASE, domainMapper(smmuDrv, blkDomain));
  const rng = new TestVirtioDriver(bus, mem, alloc, RNG_BASE, domainMapper(smmuDrv, rngDomain));
  const accept = F_VERSION_1 | F_ACCESS_PLATFORM | (polled ? 0n : F_INDIRECT);
  blkV.init(accept, 64);
  rng.init(accept, 16);
  // Polled-window mode: no QueueNotify; the host's poll loop calls service() until quiescent.
  const serviceBlk = polled ? (): void => void drain(blkT) : (): void => blkV.kick();
  const blk = new TestBlkDriver(blkV, 0x4_0000, serviceBlk);
  return { mem, smmu, smmuDrv, disk, blkDev, blkT, rngT, blkDomain, blk, rng, irq };
}

function drain(t: VirtioMmioTransport): number {
  let calls = 0;
  while (t.service()) if (++calls > 1000) throw new Error('service() never quiescent');
  return calls;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed * 2654435761;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('blk through the SMMU: writes and reads match by checksum; every access was translated', () => {
  const s = system();
  const writes = [
    { sector: 0, data: pattern(0x4_0000, 1) },
    { sector: 2048, data: pattern(0x1_0000, 2), pieces: 16, indirect: true },
    { sector: 7000, data: pattern(4096, 3), pieces: 8 },
  ];
  for (const w of writes) assert.equal(s.blk.write(w.sector, w.data, { pieces: w.pieces ?? 1, indirect: w.indirect ?? false }).status, 0);
  for (const w of writes) {
    const r = s.blk.read(w.sector, w.data.length, { pieces: 4 });
    assert.equal(r.status, 0);
    assert.equal(sha(r.bytes), sha(w.data));
    assert.equal(sha(s.disk.bytes.subarray(w.sector * 512, w.sector * 512 + w.data.length)), sha(w.data));
  }
  assert.equal(s.blkDev.stats.bytesWritten, 0x4_0000 + 0x1_0000 + 4096);
  assert.equal(s.blkDev.stats.bytesRead, s.blkDev.stats.bytesWritten);
  assert.equal(s.blkDev.stats.faults, 0);
  assert.equal(s.irq.pulses, 6);
  assert.deepEqual(s.smmuDrv.drainEvents(), []);
  // The SMMU translated the device's accesses (the IOVAs are not the physical addresses).
  assert.notEqual(s.blk.data.iova, s.blk.data.pa);
  assert.ok(s.smmu.translator.stats().tlbHits > 0);
});

test('rng through the SMMU: the injected source lands in the guest buffer', () => {
  let n = 0;
  const s = system({ rngBytes: (d) => d.forEach((_, i) => (d[i] = (n++ * 7) & 0xff)) });
  const buf = s.rng.buffer(64);
  s.rng.add([{ iova: buf.iova, len: 64, write: true }]);
  s.rng.kick();
  assert.deepEqual(s.rng.takeUsed(), [{ id: 0, len: 64 }]);
  const got = new Uint8Array(64);
  s.mem.readBytes(buf.pa, got);
  assert.deepEqual([...got], Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff));
});

test('a buffer IOVA the guest never mapped: IOERR status and an F_TRANSLATION event for the stream', () => {
  const s = system();
  const unmapped = 0x7000_0000;
  assert.equal(s.smmuDrv.domainOf(BLK_SID)!.pgtable.iovaToPhys(unmapped), null);
  const r = s.blk.read(0, 4096, { dataIova: unmapped });
  assert.equal(r.status, 1);
  assert.equal(s.blkDev.stats.faults, 1);
  const ev = s.smmuDrv.drainEvents();
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.type, EVT.F_TRANSLATION);
  assert.equal(ev[0]!.sid, BLK_SID);
  assert.equal(ev[0]!.inputLo, unmapped);
  // The device carries on.
  assert.equal(s.blk.read(0, 512).status, 0);
  assert.equal(s.blkT.deviceStatus & S_NEEDS_RESET, 0);
});

test('the guest unmaps the used ring: DEVICE_NEEDS_RESET, a config interrupt and the SMMU event', () => {
  const s = system();
  const v = s.blk.v;
  assert.equal(s.smmuDrv.unmap(s.blkDomain, v.usedIova, 0x1000), 0x1000);
  s.mem.writeBytes(s.blk.hdr.pa, new Uint8Array(16)); // an IN of sector 0
  v.add([
    { iova: s.blk.hdr.iova, len: 16, write: false },
    { iova: s.blk.data.iova, len: 512, write: true },
    { iova: s.blk.status.iova, len: 1, write: true },
  ]);
  const pulses = s.irq.pulses;
  assert.doesNotThrow(() => v.kick());
  assert.equal(v.r(REG.status) & S_NEEDS_RESET, S_NEEDS_RESET);
  assert.equal(v.r(REG.interruptStatus) & 2, 2);
  assert.equal(s.irq.pulses, pulses + 1);
  assert.match(s.blkT.stats.lastError!, /used ring entry not writable \(F_TRANSLATION/);
  const ev = s.smmuDrv.drainEvents();
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.type, EVT.F_TRANSLATION);
  assert.equal(ev[0]!.inputLo, v.usedIova + 4);
});

test('polled-window mode through the SMMU: no QueueNotify, service() drains, data intact', () => {
  const s = system({ polledWindow: true });
  const data = pattern(0x2_0000, 9);
  assert.equal(s.blk.write(100, data).status, 0);
  assert.equal(sha(s.blk.read(100, data.length).bytes), sha(data));
  assert.equal(s.blkT.stats.notifies, 0);
  assert.equal(s.blk.v.r(REG.interruptStatus) & 1, 1);
  // GET_ID works over the same queue.
  const id = s.blk.simple(8, 20);
  assert.equal(new TextDecoder().decode(id.bytes.subarray(0, 3)), 'e2e');
});

test('property: random request sequences give the same disk as a reference Uint8Array', () => {
  const SECTORS = 256;
  const op = fc.oneof(
    fc.record({ kind: fc.constant('write' as const), sector: fc.nat(SECTORS + 8), count: fc.integer({ min: 1, max: 16 }), seed: fc.nat(1000), pieces: fc.integer({ min: 1, max: 6 }), indirect: fc.boolean() }),
    fc.record({ kind: fc.constant('read' as const), sector: fc.nat(SECTORS + 8), count: fc.integer({ min: 1, max: 16 }), pieces: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('flush' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), fc.boolean(), (ops, polled) => {
      const s = system({ diskBytes: SECTORS * 512, polledWindow: polled });
      const ref = new Uint8Array(SECTORS * 512);
      for (const o of ops) {
        if (o.kind === 'flush') {
          assert.equal(s.blk.simple(4).status, 0);
          continue;
        }
        const inRange = o.sector + o.count <= SECTORS;
        const opt = { pieces: o.pieces, indirect: !polled && 'indirect' in o && o.indirect };
        if (o.kind === 'write') {
          const data = pattern(o.count * 512, o.seed);
          assert.equal(s.blk.write(o.sector, data, opt).status, inRange ? 0 : 1);
          if (inRange) ref.set(data, o.sector * 512);
        } else {
          const r = s.blk.read(o.sector, o.count * 512, opt);
          assert.equal(r.status, inRange ? 0 : 1);
          if (inRange) assert.deepEqual(r.bytes, ref.subarray(o.sector * 512, (o.sector + o.count) * 512));
        }
      }
      assert.deepEqual(s.disk.bytes, ref);
      assert.deepEqual(s.smmuDrv.drainEvents(), []);
    }),
    { numRuns: 25 },
  );
});
