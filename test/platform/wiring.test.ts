// Platform wiring: the Platform built from a description, driven by the reference guest through
// its CPU bus — DMA through the SMMU, MSIs through the SMMU to the ITS (LPI pending via the
// VMM's LpiSink), GICv2m SPIs, MSI routing by address, hot-plug, and bus renumbering followed by
// DMA and MSIs with the new IDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_ENGINE_CMD_IRQ, DMA_ENGINE_OP, DMA_ENGINE_REG, DMA_ENGINE_STATUS } from '../../src/platform/devices/dma-engine.js';
import { GITS } from '../../src/spec/gic/its-registers.js';
import { V2M } from '../../src/spec/gic/gicv2m-registers.js';
import { toDescription, qemuVirtWithDevices, rig, type Rig } from '../support/platform-fixtures.js';
import type { FoundFunction } from '../../src/guest/pci-enum.js';

function dmaFn(r: Rig, rc: string, name: string): FoundFunction {
  const host = r.platform.device(name)!.device.functions[0]!;
  const rid = host.requesterId();
  const f = r.guest.findFunction(rc, rid >> 8, (rid >> 3) & 31, rid & 7);
  assert.ok(f, `${name} enumerated`);
  return f;
}

function copy(r: Rig, f: FoundFunction, from: number, to: number, len: number): number {
  const bar = f.bars[0]!.base;
  const w = (o: number, v: number): void => r.platform.bus.write(bar + o, 4, v >>> 0);
  w(DMA_ENGINE_REG.SRC_LO, from);
  w(DMA_ENGINE_REG.DST_LO, to);
  w(DMA_ENGINE_REG.LEN, len);
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.COPY | DMA_ENGINE_CMD_IRQ);
  return r.platform.bus.read(bar + DMA_ENGINE_REG.STATUS, 4);
}

test('DMA through the SMMU and its completion MSI through the SMMU to an ITS LPI', () => {
  const r = rig(qemuVirtWithDevices());
  r.guest.boot();
  const f = dmaFn(r, 'pcie0', 'dma0');
  assert.equal(f.bdf, '0000:01:00.0');
  const b = r.guest.bindDevice('dma0', f, 2);
  assert.equal(b.streamId, 0x100);
  assert.equal(b.deviceId, 0x100);
  // DMA-domain MSI doorbell: top of the 32-bit IOVA space, GITS_TRANSLATER's page offset.
  assert.equal(b.vectors[0]!.address, 0xffff_f000 + (GITS.TRANSLATER & 0xfff));
  const src = r.guest.buffers.alloc(0x1000);
  const dst = r.guest.buffers.alloc(0x1000);
  r.platform.memory.writeBytes(src, Uint8Array.from([9, 8, 7, 6]));
  const s = r.guest.dmaMap('dma0', src, 0x1000, { read: true, write: false, cache: true });
  const d = r.guest.dmaMap('dma0', dst, 0x1000, { read: true, write: true, cache: true });
  assert.ok(s.ok && d.ok);
  assert.notEqual(s.iova, src);
  assert.equal(copy(r, f, s.iova, d.iova, 0x1000), DMA_ENGINE_STATUS.DONE);
  assert.equal(r.platform.memory.read32(dst), 0x0607_0809);
  assert.ok(r.lpis.pendingOn(0).includes(b.vectors[0]!.intid));
  // Untranslated address: fault, event, error vector.
  assert.equal(copy(r, f, 0x4321_0000, d.iova, 16), DMA_ENGINE_STATUS.ERROR);
  const ev = r.guest.drainEvents();
  assert.equal(ev[0]?.events[0]?.sid, 0x100);
  assert.ok(r.lpis.pendingOn(0).includes(b.vectors[1]!.intid));
  // The eventq wired interrupt (SPI 74 -> INTID 106) fired.
  assert.ok(r.spis.spis.includes(106));
});

test('MSI routing by address: RAM is written, unknown addresses are dropped and counted', () => {
  const r = rig(qemuVirtWithDevices());
  assert.equal(r.platform.msi.msiWrite(0x4800_0000, 0x1234, null), 'memory');
  assert.equal(r.platform.memory.read32(0x4800_0000), 0x1234);
  assert.equal(r.platform.msi.msiWrite(0x0700_0000, 1, 5), 'dropped');
  assert.equal(r.platform.msi.counts.unrouted, 1);
  assert.deepEqual(r.platform.msi.recentDrops(), [{ address: 0x0700_0000, data: 1, deviceId: 5 }]);
  // Writing GITS_TRANSLATER without a DeviceID is dropped by the ITS.
  assert.equal(r.platform.msi.msiWrite(0x0808_0000 + GITS.TRANSLATER, 0, null), 'dropped');
});

test('GICv2m: an MSI through the SMMU sets the SPI the frame owns', () => {
  const desc = toDescription({
    memory: [{ base: 0x4000_0000, size: 0x2000_0000 }],
    cpus: { count: 1 },
    gic: { version: 2, distributor: { base: 0x0800_0000, size: 0x1_0000 }, cpuInterface: { base: 0x0801_0000, size: 0x1_0000 }, v2m: { base: 0x0802_0000, spiBase: 80, spiCount: 64 } },
    smmus: [{ name: 'smmu0', base: 0x0905_0000, rootComplexes: ['pcie0'], features: 'qemu-7.2', interrupts: { eventq: { spi: 74, trigger: 'edge' }, gerror: { spi: 77, trigger: 'edge' } } }],
    rootComplexes: [{ name: 'pcie0', ecam: { base: 0x40_1000_0000 }, mmio32: { base: 0x1000_0000, size: 0x1000_0000 }, ports: [{ name: 'rp0', device: 1, child: { kind: 'endpoint', name: 'dma0' } }] }],
  });
  const r = rig(desc, { dma0: 'dma-engine' });
  r.guest.boot();
  const b = r.guest.bindDevice('dma0', dmaFn(r, 'pcie0', 'dma0'), 2);
  assert.equal(b.deviceId, null);
  assert.deepEqual(b.vectors.map((v) => v.intid), [112, 113]);
  assert.equal(b.vectors[0]!.address, 0xffff_f000 + V2M.MSI_SETSPI_NS);
  assert.equal(r.platform.device('dma0')!.device.functions[0]!.signal(1), 'delivered');
  assert.deepEqual(r.spis.spis, [113]);
  assert.equal(r.platform.v2m!.rejected, 0);
});

test('hot-plug raises the port interrupt; the new device is enumerated and works', () => {
  const r = rig(qemuVirtWithDevices(), { dma0: 'dma-engine', hp0: 'dma-engine' });
  r.guest.boot();
  const portHost = r.platform.port('rp2')!.port;
  const prid = portHost.requesterId();
  const port = r.guest.findFunction('pcie0', prid >> 8, (prid >> 3) & 31, prid & 7)!;
  const pb = r.guest.bindDevice('rp2', port, 1);
  assert.ok(r.guest.pci.get('pcie0')!.enableHotplug(port));
  r.lpis.clearLog();
  r.platform.hotplug('rp2', { kind: 'endpoint', name: 'hp0', device: 0, functions: 1 });
  assert.deepEqual(r.lpis.log.filter((l) => l.kind === 'pending').map((l) => l.intid), [pb.vectors[0]!.intid]);
  r.guest.enumerate(0, 'pcie0');
  const f = dmaFn(r, 'pcie0', 'hp0');
  const b = r.guest.bindDevice('hp0', f, 2);
  assert.equal(b.streamId, f.rid);
  const buf = r.guest.buffers.alloc(0x1000);
  const m = r.guest.dmaMap('hp0', buf, 0x1000, { read: true, write: true, cache: true });
  assert.ok(m.ok);
  assert.equal(copy(r, f, m.iova, m.iova, 0x100), DMA_ENGINE_STATUS.DONE);
  assert.equal(r.platform.unplug('rp2'), 'hp0');
  assert.equal(r.platform.device('hp0'), null);
});

test('bus renumbering: new RID, stream ID and DeviceID; DMA and MSI follow after rebinding', () => {
  const r = rig(qemuVirtWithDevices());
  r.guest.boot();
  const b0 = r.guest.bindDevice('dma0', dmaFn(r, 'pcie0', 'dma0'), 2);
  const buf = r.guest.buffers.alloc(0x1000);
  const m = r.guest.dmaMap('dma0', buf, 0x1000, { read: true, write: true, cache: true });
  assert.ok(m.ok);
  r.guest.enumerate(8, 'pcie0');
  const f = dmaFn(r, 'pcie0', 'dma0');
  assert.equal(f.bus, 9);
  // Before the guest rebinds, the new stream ID has an abort STE: DMA faults.
  assert.equal(copy(r, f, m.iova, m.iova, 16), DMA_ENGINE_STATUS.ERROR);
  const b = r.guest.rebindDevice('dma0', f)!;
  assert.equal(b.streamId, 0x900);
  assert.equal(b.deviceId, 0x900);
  assert.notEqual(b.vectors[0]!.intid, b0.vectors[0]!.intid);
  r.lpis.clearLog();
  assert.equal(copy(r, f, m.iova, m.iova, 16), DMA_ENGINE_STATUS.DONE);
  assert.ok(r.lpis.log.some((l) => l.kind === 'pending' && l.intid === b.vectors[0]!.intid));
  // The old stream ID is aborted again.
  const old = r.platform.smmus.get('smmu0')!.dma(0x100).read(m.iova, new Uint8Array(4));
  assert.notEqual(old, null);
});

test('the MMIO bus dispatches every window and ignores unassigned accesses', () => {
  const r = rig(qemuVirtWithDevices());
  const names = r.platform.bus.mappings.map((m) => m.device.name);
  for (const n of ['smmu0', 'its0', 'gicr', 'pcie0-ecam', 'pcie0-mmio32']) assert.ok(names.some((x) => x === n || x.startsWith(n)), `${n} mapped (${names.join(', ')})`);
  assert.equal(r.platform.bus.read(0x0700_0000, 4), 0);
  r.platform.bus.write(0x0700_0000, 4, 1);
  assert.deepEqual(r.platform.bus.unassigned, { reads: 1, writes: 1, lastAddress: 0x0700_0000 });
});
