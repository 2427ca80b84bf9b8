// Hot-plug onto root ports and switch downstream ports after boot (PCIe Base r5.0 §6.7.3):
// presence detect / DLL link active state, RW1C change bits, the port's MSI raised once per
// FALSE->TRUE transition of HPIE AND an enabled event, sent as the port's own requester through
// the SMMU to the ITS; the hot-added devices get correct IDs and are translated at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { IdMapping } from '../../src/pcie/id-map.js';
import { PcieDevice, PcieSwitch, RootComplex } from '../../src/pcie/index.js';
import { EcamGuest, FakeIts, FakeSmmu, ITS_BASE, msiRouter, findCap, programMsi } from '../support/pcie-fakes.js';

const RAM = 0x4000_0000;
const DOORBELL = 0x0800_0000;
const toSmmu: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0x1_0000, target: 'smmu0' }]; // stream ID base 0x10000
const toMsi: IdMapping[] = [{ inputBase: 0, count: 0x1_0000, outputBase: 0x2_0000, target: 'its0' }]; // segment 2

const PDS = 1 << 6;
const PDC = 1 << 3;
const DLLSC = 1 << 8;
const HPIE = 1 << 5;
const PDCE = 1 << 3;
const DLLSCE = 1 << 12;
const DLLLA = 1 << 13;

function setup() {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x10_0000);
  const rc = new RootComplex({ name: 'pcie2', segment: 2, buses: { start: 0, end: 0x3f }, memory: mem, ids: { toSmmu, toMsi } });
  const smmu = new FakeSmmu(mem);
  const its = new FakeIts();
  rc.attachIommu('smmu0', smmu);
  rc.connectMsi(msiRouter(its, null, mem));
  const rp = rc.addRootPort('rp0', 0);
  const g = new EcamGuest(rc.ecam, 0);
  return { mem, rc, smmu, its, rp, g };
}

/** pciehp-like setup of a downstream-facing port: MSI to the doorbell, events enabled. */
function armPort(s: ReturnType<typeof setup>, bus: number, devfn: number, sid: number, eventId: number): number {
  s.smmu.map(sid, DOORBELL, ITS_BASE + 0x1_0000);
  s.g.enable(bus, devfn);
  programMsi(s.g, bus, devfn, DOORBELL + 0x40, eventId);
  const e = findCap(s.g, bus, devfn, 0x10);
  s.g.write(bus, devfn, e + 0x18, 2, HPIE | PDCE | DLLSCE);
  return e;
}

test('slot registers of a hot-plug capable root port: HPC, NCCS, slot number, DLLLA reporting', () => {
  const s = setup();
  const e = findCap(s.g, 0, 0, 0x10);
  const caps = s.g.read(0, 0, e + 2, 2);
  assert.equal((caps >> 4) & 0xf, 4);
  assert.equal(caps & 0x100, 0x100, 'slot implemented');
  const slotCap = s.g.read(0, 0, e + 0x14);
  assert.equal(slotCap & (1 << 6), 1 << 6, 'hot-plug capable');
  assert.equal(slotCap & (1 << 18), 1 << 18, 'no command completed support');
  assert.equal(slotCap >>> 19, 1, 'physical slot number = device + 1');
  assert.equal(s.g.read(0, 0, e + 0x0c) & (1 << 20), 1 << 20);
  assert.equal(s.g.read(0, 0, e + 0x1a, 2) & PDS, 0, 'empty slot');
});

test('switch hot-plugged into a root port after boot: port MSI through the SMMU, then the switch and a device below it get correct IDs', () => {
  const s = setup();
  s.g.enumerate(); // boot: rp0 -> bus 1, nothing below
  assert.equal(s.g.read(0, 0, 0x18), 0x00010100);
  const rpSid = 0x1_0000 + 0x0000; // rp0 is 00:00.0
  const e = armPort(s, 0, 0, rpSid, 33);

  const sw = new PcieSwitch('sw', { downstreamPorts: 2 });
  s.rp.plug(sw);
  assert.deepEqual(s.its.received, [{ deviceId: 0x2_0000, eventId: 33 }], 'hot-plug MSI carries the root port RID, translated by the SMMU');
  const st = s.g.read(0, 0, e + 0x1a, 2);
  assert.equal(st & (PDS | PDC | DLLSC), PDS | PDC | DLLSC);
  assert.equal(s.g.read(0, 0, e + 0x12, 2) & DLLLA, DLLLA);

  // pciehp acknowledges (RW1C), then rescans: rp0 window grows to 1..4.
  s.g.write(0, 0, e + 0x1a, 2, PDC | DLLSC);
  assert.equal(s.g.read(0, 0, e + 0x1a, 2) & (PDC | DLLSC), 0);
  assert.equal(s.its.received.length, 1);
  s.g.write(0, 0, 0x18, 4, 0x00040100);
  s.g.write(1, 0, 0x18, 4, 0x00040201); // upstream port: bus 2 internal
  s.g.write(2, 0, 0x18, 4, 0x00030302); // dp0 -> bus 3
  s.g.write(2, 1, 0x18, 4, 0x00040402); // dp1 -> bus 4
  assert.equal(s.g.read(2, 1, 0), 0x000e1b36);
  for (const [b, d] of [[1, 0], [2, 0], [2, 1]] as const) s.g.enable(b, d);

  // Hot-add an endpoint below dp1 (RID 04:00.0) after arming dp1's hot-plug interrupt.
  const dpSid = 0x1_0000 + 0x0201;
  armPort(s, 2, 1, dpSid, 34);
  const dev = new PcieDevice('nic', [{ vendorId: 0x8086, pciDeviceId: 0x10d3, classCode: 0x020000, msi: { vectors: 1 } }]);
  sw.downstream[1]!.plug(dev);
  assert.deepEqual(s.its.received.at(-1), { deviceId: 0x2_0201, eventId: 34 });
  assert.equal(s.g.read(4, 0, 0), 0x10d38086);
  s.g.enable(4, 0);
  const f = dev.functions[0]!;
  assert.deepEqual(
    { rid: f.identity().rid, sid: f.identity().streamId, devid: f.identity().deviceId, bdf: f.identity().bdf },
    { rid: 0x400, sid: 0x1_0400, devid: 0x2_0400, bdf: '0002:04:00.0' },
  );
  s.smmu.map(0x1_0400, 0x8000, RAM);
  assert.equal(f.dma.write(0x8004, Uint8Array.of(0x42)), null);
  assert.equal(s.mem.read8(RAM + 4), 0x42);
  assert.ok(s.smmu.dmaCalls.includes(0x1_0400));
});

test('edge semantics: an event with HPIE clear raises nothing; enabling HPIE later with the event still set raises one MSI', () => {
  const s = setup();
  s.g.enumerate();
  const e = armPort(s, 0, 0, 0x1_0000, 5);
  s.g.write(0, 0, e + 0x18, 2, 0); // events off
  s.rp.plug(new PcieDevice('d', [{ vendorId: 1, pciDeviceId: 2, classCode: 0 }]));
  assert.equal(s.its.received.length, 0);
  s.g.write(0, 0, e + 0x18, 2, HPIE | PDCE);
  assert.equal(s.its.received.length, 1);
  s.g.write(0, 0, e + 0x18, 2, HPIE | PDCE); // no new transition
  assert.equal(s.its.received.length, 1);
});

test('unplug clears presence and link, sets the change bits and raises the MSI; the removed device has no identity', () => {
  const s = setup();
  const dev = new PcieDevice('d', [{ vendorId: 1, pciDeviceId: 2, classCode: 0 }]);
  s.rp.plug(dev, 'cold');
  s.g.enumerate();
  const e = armPort(s, 0, 0, 0x1_0000, 9);
  assert.equal(s.g.read(0, 0, e + 0x1a, 2) & (PDS | PDC), PDS, 'cold plug: present, no change event');
  assert.equal(s.rp.unplug(), dev);
  assert.equal(s.g.read(0, 0, e + 0x1a, 2) & (PDS | PDC | DLLSC), PDC | DLLSC);
  assert.equal(s.g.read(0, 0, e + 0x12, 2) & DLLLA, 0);
  assert.deepEqual(s.its.received, [{ deviceId: 0x2_0000, eventId: 9 }]);
  assert.equal(dev.functions[0]!.requesterId(), -1);
  assert.equal(dev.functions[0]!.dma.read(0, new Uint8Array(1))?.reason, 'not-attached');
  assert.equal(s.g.read(1, 0, 0), 0xffff_ffff);
});

test('host misuse: plugging into an occupied or non-hot-plug port, or into an upstream port', () => {
  const s = setup();
  const cold = s.rc.addRootPort('rp1', 1, { hotplug: false });
  assert.throws(() => cold.plug(new PcieDevice('x', [{ vendorId: 1, pciDeviceId: 1, classCode: 0 }])), /not hot-plug capable/);
  cold.plug(new PcieDevice('y', [{ vendorId: 1, pciDeviceId: 1, classCode: 0 }]), 'cold');
  assert.throws(() => cold.plug(new PcieDevice('z', [{ vendorId: 1, pciDeviceId: 1, classCode: 0 }]), 'cold'), /occupied/);
  const sw = new PcieSwitch('sw', { downstreamPorts: 1 });
  assert.throws(() => sw.upstream.plug(new PcieDevice('w', [{ vendorId: 1, pciDeviceId: 1, classCode: 0 }])), /upstream/);
});
