// DMA and MSI routing by requester ID: lazily resolved identities (bus renumbering followed),
// per-function stream IDs, Bus Master Enable on the function and on every bridge above it,
// unassigned bus numbers, MSI through the SMMU's stage-1 doorbell mapping to an ITS and to a
// GICv2m frame, late-connected IOMMU and MSI controller, diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { IdMapping } from '../../src/pcie/id-map.js';
import { PcieDevice, RootComplex, type EndpointFunctionOptions, type RootComplexIdMaps } from '../../src/pcie/index.js';
import { EcamGuest, FakeIts, FakeSmmu, FakeV2m, ITS_BASE, ITS_TRANSLATER, msiRouter, PAGE, V2M_BASE, programMsi } from '../support/pcie-fakes.js';

const RAM = 0x4000_0000;
const SW_MSI_IOVA = 0x0800_0000; // Linux's MSI doorbell IOVA with a DMA domain
const FULL_SMMU: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'smmu0' }];
const FULL_ITS: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'its0' }];

const fnOpts = (pciDeviceId: number): EndpointFunctionOptions => ({ vendorId: 0x1af4, pciDeviceId, classCode: 0xff0000, msi: { vectors: 1 } });

function setup(ids: RootComplexIdMaps = { toSmmu: FULL_SMMU, toMsi: FULL_ITS }, functions = 1) {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x100_0000);
  const rc = new RootComplex({ name: 'pcie0', segment: 0, buses: { start: 0, end: 0xff }, memory: mem, ids });
  const smmu = new FakeSmmu(mem);
  const its = new FakeIts();
  const v2m = new FakeV2m();
  rc.attachIommu('smmu0', smmu);
  rc.connectMsi(msiRouter(its, v2m, mem));
  const rp = rc.addRootPort('rp0', 1);
  const dev = new PcieDevice('ep', Array.from({ length: functions }, (_, i) => fnOpts(0x1040 + i)));
  rp.plug(dev, 'cold');
  const g = new EcamGuest(rc.ecam, 0);
  return { mem, rc, smmu, its, v2m, rp, dev, g, f0: dev.functions[0]! };
}

/** Guest-side: number buses, enable memory + bus mastering on the port and the device's functions. */
function boot(s: ReturnType<typeof setup>): void {
  s.g.enumerate();
  s.g.enable(0, 8);
  for (let fn = 0; fn < s.dev.functions.length; fn++) s.g.enable(1, fn);
}

test('DMA goes through the SMMU with stream ID = RID; unmapped IOVA faults with the SMMU reason', () => {
  const s = setup();
  boot(s);
  s.smmu.map(0x100, 0x1_0000, RAM + 0x2000);
  assert.equal(s.f0.dma.write(0x1_0010, Uint8Array.of(1, 2, 3, 4)), null);
  assert.equal(s.mem.read32(RAM + 0x2010), 0x04030201);
  const dst = new Uint8Array(4);
  assert.equal(s.f0.dma.read(0x1_0010, dst), null);
  assert.deepEqual([...dst], [1, 2, 3, 4]);
  const f = s.f0.dma.read(0x9_0000, dst);
  assert.equal(f?.reason, 'F_TRANSLATION');
  assert.deepEqual(s.smmu.events.at(-1), { sid: 0x100, ssid: null, iova: 0x9_0000, write: false });
  assert.equal(s.rc.diagnostics.count('dma-fault'), 1);
});

test('bus renumbering by the guest is followed: DMA and MSI use the new stream ID and device ID', () => {
  const s = setup();
  boot(s);
  // Doorbell: the guest maps the ITS translation page at IOVA 0x0800_0000 for SID 0x100.
  s.smmu.map(0x100, SW_MSI_IOVA, ITS_BASE + 0x1_0000);
  s.smmu.map(0x100, 0x1000, RAM);
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 7);
  assert.equal(s.f0.signal(0), 'delivered');
  assert.deepEqual(s.its.received, [{ deviceId: 0x100, eventId: 7 }]);
  assert.equal(s.f0.dma.write(0x1000, Uint8Array.of(9)), null);

  // Renumber: root port secondary = subordinate = 7.
  s.g.write(0, 8, 0x18, 4, 0x00070700);
  assert.equal(s.f0.requesterId(), 0x700);
  assert.equal(s.f0.signal(0), 'aborted', 'SID 0x700 has no doorbell mapping yet');
  assert.deepEqual(s.smmu.events.at(-1), { sid: 0x700, ssid: null, iova: SW_MSI_IOVA + 0x40, write: true });
  assert.equal(s.f0.dma.write(0x1000, Uint8Array.of(9))?.reason, 'F_TRANSLATION');
  s.smmu.map(0x700, SW_MSI_IOVA, ITS_BASE + 0x1_0000);
  s.smmu.map(0x700, 0x1000, RAM + PAGE);
  assert.equal(s.f0.signal(0), 'delivered');
  assert.deepEqual(s.its.received.at(-1), { deviceId: 0x700, eventId: 7 });
  assert.equal(s.f0.dma.write(0x1000, Uint8Array.of(0x5a)), null);
  assert.equal(s.mem.read8(RAM + PAGE), 0x5a);
  // The device is now found by configuration requests on bus 7 only.
  assert.equal(s.g.read(7, 0, 0), 0x10401af4);
  assert.equal(s.g.read(1, 0, 0), 0xffff_ffff);
});

test('multi-function device: every function has its own stream ID and device ID', () => {
  const s = setup(undefined, 3);
  boot(s);
  for (let fn = 0; fn < 3; fn++) {
    s.smmu.map(0x100 + fn, 0x1000, RAM + fn * PAGE);
    s.smmu.map(0x100 + fn, SW_MSI_IOVA, ITS_BASE + 0x1_0000);
    programMsi(s.g, 1, fn, SW_MSI_IOVA + 0x40, 0x20 + fn);
  }
  s.dev.functions.forEach((f, fn) => {
    assert.equal(f.dma.write(0x1000, Uint8Array.of(0xa0 + fn)), null);
    assert.equal(f.signal(0), 'delivered');
  });
  assert.deepEqual([0, 1, 2].map((fn) => s.mem.read8(RAM + fn * PAGE)), [0xa0, 0xa1, 0xa2]);
  assert.deepEqual(s.its.received, [
    { deviceId: 0x100, eventId: 0x20 },
    { deviceId: 0x101, eventId: 0x21 },
    { deviceId: 0x102, eventId: 0x22 },
  ]);
  assert.deepEqual(
    s.dev.functions.map((f) => f.identity().streamId),
    [0x100, 0x101, 0x102],
  );
});

test('bus master disabled on the function: no DMA, no MSI, both recorded', () => {
  const s = setup();
  boot(s);
  s.smmu.map(0x100, 0x1000, RAM);
  s.smmu.map(0x100, SW_MSI_IOVA, ITS_BASE + 0x1_0000);
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 1);
  s.g.write(1, 0, 0x04, 2, 0x0002); // memory only, BME off
  const calls = s.smmu.dmaCalls.length;
  const f = s.f0.dma.write(0x1000, Uint8Array.of(0xee));
  assert.equal(f?.reason, 'bus-master-disabled');
  assert.equal(s.mem.read8(RAM), 0);
  assert.equal(s.smmu.dmaCalls.length, calls, 'the SMMU never saw the access');
  assert.equal(s.f0.signal(0), 'dropped');
  assert.equal(s.its.received.length, 0);
  assert.equal(s.rc.diagnostics.count('dma-bus-master-disabled'), 1);
  assert.equal(s.rc.diagnostics.count('msi-bus-master-disabled'), 1);
  assert.match(s.rc.diagnostics.messages().join('\n'), /msi-bus-master-disabled: ep/);
});

test('bus master disabled on the root port blocks DMA and MSI from below it', () => {
  const s = setup();
  boot(s);
  s.smmu.map(0x100, 0x1000, RAM);
  s.smmu.map(0x100, SW_MSI_IOVA, ITS_BASE + 0x1_0000);
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 1);
  s.g.write(0, 8, 0x04, 2, 0x0002);
  assert.equal(s.f0.dma.write(0x1000, Uint8Array.of(1))?.reason, 'bus-master-disabled');
  assert.equal(s.f0.signal(0), 'dropped');
  s.g.enable(0, 8);
  assert.equal(s.f0.dma.write(0x1000, Uint8Array.of(1)), null);
  assert.equal(s.f0.signal(0), 'delivered');
});

test('unassigned bus number: no requester ID, so no DMA (not even untranslated) and no MSI', () => {
  const s = setup();
  // No bus numbers assigned yet (the function is not even reachable by configuration requests):
  // set Bus Master Enable from the host side to model a device that would master anyway.
  s.f0.config.set(0x04, 2, 0x0006);
  s.rp.config.set(0x04, 2, 0x0006);
  assert.equal(s.f0.requesterId(), -1);
  assert.equal(s.f0.dma.write(RAM, Uint8Array.of(1))?.reason, 'no-requester-id');
  assert.equal(s.mem.read8(RAM), 0);
  assert.equal(s.smmu.dmaCalls.length, 0);
  assert.equal(s.f0.sendMsi(ITS_TRANSLATER, 3), 'dropped');
  assert.equal(s.rc.diagnostics.count('dma-no-requester-id'), 1);
  assert.equal(s.rc.diagnostics.count('msi-no-requester-id'), 1);
  // A secondary bus number not above the port's own bus is unassigned; a subordinate below the
  // secondary still lets the secondary bus itself be reached (the bridge matches it exactly).
  s.g.write(0, 8, 0x18, 4, 0x00000000);
  assert.equal(s.f0.requesterId(), -1);
  s.g.write(0, 8, 0x18, 4, 0x00020300);
  assert.equal(s.f0.requesterId(), 0x300);
  s.g.write(0, 8, 0x18, 4, 0x00030300);
  assert.equal(s.f0.requesterId(), 0x300);
});

test('MSI through the SMMU doorbell mapping to a GICv2m frame raises the SPI (no device ID)', () => {
  const s = setup({ toSmmu: FULL_SMMU, toMsi: [] });
  boot(s);
  s.smmu.map(0x100, SW_MSI_IOVA, V2M_BASE);
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 90);
  assert.equal(s.f0.signal(0), 'delivered');
  assert.deepEqual(s.v2m.spis, [90]);
  assert.equal(s.f0.identity().deviceId, null);
  // Out of the frame's SPI range: the controller drops it and we record why.
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 200);
  assert.equal(s.f0.signal(0), 'dropped');
  assert.equal(s.rc.diagnostics.count('msi-dropped'), 1);
});

test('RIDs outside the SMMU mappings go straight to memory; default device ID is (segment << 16) | RID', () => {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x10_0000);
  const its = new FakeIts();
  const rc = new RootComplex({ name: 'pcie1', segment: 3, buses: { start: 0x40, end: 0x7f }, memory: mem });
  rc.connectMsi(msiRouter(its, null, mem));
  const dev = new PcieDevice('edu', [fnOpts(0x11e8)]);
  rc.addIntegratedDevice(dev, 2);
  const f = dev.functions[0]!;
  const g = new EcamGuest(rc.ecam, 0x40);
  g.enable(0x40, 0x10);
  assert.equal(f.dma.write(RAM + 8, Uint8Array.of(0x77)), null);
  assert.equal(mem.read8(RAM + 8), 0x77);
  assert.equal(f.dma.write(0x10, Uint8Array.of(1))?.reason, 'external-abort');
  programMsi(g, 0x40, 0x10, ITS_TRANSLATER, 4);
  assert.equal(f.signal(0), 'delivered');
  assert.deepEqual(its.received, [{ deviceId: (3 << 16) | 0x4010, eventId: 4 }]);
  assert.deepEqual(f.identity(), { name: 'edu', device: 2, function: 0, busMaster: true, segment: 3, rid: 0x4010, bdf: '0003:40:02.0', smmu: null, streamId: null, deviceId: 0x34010, bus: 0x40 });
});

test('late binding: SMMU not attached -> DMA fault and MSI dropped; MSI controller not connected -> dropped', () => {
  const s = setup();
  boot(s);
  s.rc.attachIommu('smmu0', null);
  assert.equal(s.f0.dma.read(0, new Uint8Array(1))?.reason, 'iommu-missing');
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 1);
  assert.equal(s.f0.signal(0), 'dropped');
  assert.equal(s.rc.diagnostics.count('msi-iommu-missing'), 1);
  s.rc.attachIommu('smmu0', s.smmu);
  s.rc.connectMsi(null);
  assert.equal(s.f0.signal(0), 'dropped');
  assert.equal(s.rc.diagnostics.count('msi-disconnected'), 1);
});

test('an MSI whose translated address is RAM lands in memory and is recorded', () => {
  const s = setup();
  boot(s);
  s.smmu.map(0x100, SW_MSI_IOVA, RAM);
  programMsi(s.g, 1, 0, SW_MSI_IOVA + 0x40, 0x1234);
  assert.equal(s.f0.signal(0), 'memory');
  assert.equal(s.mem.read32(RAM + 0x40), 0x1234);
  assert.equal(s.rc.diagnostics.count('msi-to-memory'), 1);
});

test('no MSI enabled: signal is dropped with msi-not-enabled (INTx is not modelled)', () => {
  const s = setup();
  boot(s);
  assert.equal(s.f0.signal(0), 'dropped');
  assert.equal(s.rc.diagnostics.count('msi-not-enabled'), 1);
});
