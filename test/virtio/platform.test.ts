// virtio-mmio inside the runtime Platform, without QEMU: a transport mapped on the platform's MMIO
// bus, its DMA through the platform's SMMU (programmed by the reference guest), its interrupt an
// SPI through the platform's sink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QEMU_VIRT_INPUT } from '../../src/platform/presets/qemu-virt.js';
import { Platform } from '../../src/platform/runtime/platform.js';
import { ReferenceGuest } from '../../src/guest/guest.js';
import { SpiRecorder } from '../../src/intc/sinks.js';
import { MemoryBlockBackend, VirtioBlk, VirtioMmioTransport } from '../../src/virtio/index.js';
import { toDescription } from '../support/platform-fixtures.js';
import { TestBlkDriver, TestVirtioDriver } from '../support/virtio-kit.js';

test('a virtio-blk transport on the Platform bus does DMA through the platform SMMU and raises its SPI', () => {
  const desc = toDescription(QEMU_VIRT_INPUT);
  const spis = new SpiRecorder();
  const platform = new Platform(desc, { callbacks: { spi: spis } });
  const guest = new ReferenceGuest(desc, platform.bus, platform.memory);
  guest.boot();
  const SID = 0x1000;
  const INTID = 32 + 80;
  const disk = new MemoryBlockBackend(1 << 20);
  const t = new VirtioMmioTransport(new VirtioBlk(disk), { dma: platform.smmus.get('smmu0')!.dma(SID, null), irq: platform.spiLine(INTID) });
  platform.bus.map(0x0a00_0000, t);

  const smmu = guest.smmus.get('smmu0')!;
  const d = smmu.createDomain();
  assert.ok(smmu.attach(SID, d));
  const mapper = {
    map(pa: number, bytes: number): number {
      const iova = d.allocIova(bytes)!;
      assert.ok(smmu.map(d, iova, pa, bytes, { read: true, write: true, cache: true }).ok);
      return iova;
    },
  };
  const v = new TestVirtioDriver(platform.bus, platform.memory, guest.buffers, 0x0a00_0000, mapper);
  v.init(undefined, 32);
  const blk = new TestBlkDriver(v, 0x2000);
  const data = new Uint8Array(0x2000).map((_, i) => (i * 13) & 0xff);
  assert.equal(blk.write(8, data).status, 0);
  assert.deepEqual(disk.bytes.subarray(8 * 512, 8 * 512 + 0x2000), data);
  assert.deepEqual(blk.read(8, 0x2000).bytes, data);
  assert.equal(platform.spiCounts.get(INTID), 2);
  assert.deepEqual(spis.spis.filter((i) => i === INTID).length, 2);
  assert.deepEqual(smmu.drainEvents(), []);
});
