// One definition of the ID mappings drives both the firmware tables and the runtime routing:
// a platform description -> deriveIdMaps (the IORT / DT source) -> buildRootComplex. After the
// guest numbers the buses through ECAM the way Linux does, every function's RID equals the static
// enumeration's, and its stream ID and DeviceID — as reported and as actually used by DMA and MSI
// traffic — equal routeRid/mapId on the same mappings (including a stream-ID base, a bypass bus
// range, and a second segment with no SMMU). Plus a fast-check property over random mappings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { PlatformDescription, RootComplexDesc } from '../../src/platform/description.js';
import { deriveIdMaps, routeRid } from '../../src/platform/derive-ids.js';
import { enumerateRootComplex } from '../../src/platform/enumerate.js';
import { mapId, type IdMapping } from '../../src/pcie/id-map.js';
import { loadPreset } from '../../src/platform/presets/index.js';
import { PcieDevice, RootComplex } from '../../src/pcie/index.js';
import { buildRootComplex } from '../../src/platform/build-topology.js';
import { EcamGuest, FakeIts, FakeSmmu, ITS_BASE, msiRouter, findCap, programMsi } from '../support/pcie-fakes.js';

const DOORBELL = 0x0800_0000;

function rcDesc(over: Partial<RootComplexDesc> & Pick<RootComplexDesc, 'name' | 'segment' | 'buses' | 'ports' | 'endpoints'>): RootComplexDesc {
  return {
    ecam: { base: 0x40_1000_0000, size: (over.buses.end - over.buses.start + 1) << 20 },
    mmio32: null,
    mmio64: null,
    io: null,
    streamIdBase: 0,
    deviceIdBase: over.segment * 0x1_0000,
    iommuBypass: [],
    ats: false,
    addressLimitBits: 64,
    dmaCoherent: true,
    intx: null,
    ...over,
  };
}

function platform(): PlatformDescription {
  const base = loadPreset('qemu-virt');
  const pcie0 = rcDesc({
    name: 'pcie0',
    segment: 0,
    buses: { start: 0, end: 0x3f },
    streamIdBase: 0x4000,
    iommuBypass: [{ start: 5, end: 5 }],
    endpoints: [{ kind: 'endpoint', name: 'hb', device: 0, functions: 1 }],
    ports: [
      {
        name: 'rp0',
        device: 1,
        hotplug: true,
        child: {
          kind: 'switch',
          name: 'sw0',
          downstreamPorts: [
            { name: 'dp0', device: 0, hotplug: true, child: { kind: 'endpoint', name: 'mf', device: 0, functions: 3 } },
            { name: 'dp1', device: 0, hotplug: true, child: { kind: 'endpoint', name: 'nic', device: 0, functions: 1 } },
          ],
        },
      },
      { name: 'rp1', device: 2, hotplug: true, child: { kind: 'endpoint', name: 'nvme', device: 0, functions: 1 } },
      { name: 'rp2', device: 3, hotplug: true, child: null },
    ],
  });
  const pcie1 = rcDesc({
    name: 'pcie1',
    segment: 1,
    buses: { start: 0x80, end: 0x9f },
    endpoints: [],
    ports: [{ name: 'rpb', device: 0, hotplug: false, child: { kind: 'endpoint', name: 'disk', device: 0, functions: 2 } }],
  });
  return { ...base, rootComplexes: [pcie0, pcie1] };
}

test('description -> deriveIdMaps -> runtime: RIDs, stream IDs and DeviceIDs agree with routeRid, in reports and in traffic', () => {
  const desc = platform();
  const maps = deriveIdMaps(desc);
  let checked = 0;
  desc.rootComplexes.forEach((rd, i) => {
    const mem = new GuestMemory();
    mem.addRam(0x4000_0000, 0x10_0000);
    const { rc } = buildRootComplex(rd, maps.rootComplexes[i]!, { memory: mem });
    const smmu = new FakeSmmu(mem);
    const its = new FakeIts();
    rc.attachIommu('smmu0', smmu);
    rc.connectMsi(msiRouter(its, null, mem));
    const g = new EcamGuest(rc.ecam, rd.buses.start);
    g.enumerate();
    const staticRids = new Map(enumerateRootComplex(rd).functions.map((f) => [f.path.split('/').at(-1)! + (f.kind === 'endpoint' ? `#${f.function}` : ''), f.rid]));
    const fns = rc.functions();
    assert.equal(fns.length, staticRids.size);
    for (const f of fns) {
      const key = f.name.replace(/\.(\d)$/, '#$1').replace(/^([^#.]+)$/, (n) => (staticRids.has(`${n}#0`) ? `${n}#0` : n)).replace(/^sw0\.up$/, 'sw0');
      const rid = f.requesterId();
      assert.equal(rid, staticRids.get(key), `RID of ${f.name}`);
      const want = routeRid(desc, maps, rd.name, rid);
      const id = f.identity();
      assert.equal(id.streamId, want.streamId, `SID of ${f.name}`);
      assert.equal(id.smmu, want.smmu);
      assert.equal(id.deviceId, want.deviceId, `DeviceID of ${f.name}`);
      // Traffic: enable the whole path, then DMA and an MSI.
      for (let b: typeof f.bus = f.bus; b !== null && b.bridge !== null; b = (b.bridge.bus as typeof f.bus)) {
        const br = b.bridge as unknown as { config: { set(o: number, s: 2, v: number): void } };
        br.config.set(0x04, 2, 0x0006);
      }
      f.config.set(0x04, 2, 0x0006);
      if (want.streamId !== null) {
        smmu.map(want.streamId, 0x1000, 0x4000_0000);
        smmu.map(want.streamId, DOORBELL, ITS_BASE + 0x1_0000);
      }
      assert.equal(f.dma.write(want.streamId === null ? 0x4000_0000 : 0x1000, Uint8Array.of(1)), null, `DMA of ${f.name}`);
      if (want.streamId !== null) assert.equal(smmu.dmaCalls.at(-1), want.streamId);
      const busNo = rid >> 8;
      assert.ok(findCap(g, busNo, rid & 0xff, 0x05) > 0);
      programMsi(g, busNo, rid & 0xff, want.streamId === null ? ITS_BASE + 0x1_0040 : DOORBELL + 0x40, 0x33);
      assert.equal(f.signal(0), 'delivered', `MSI of ${f.name}`);
      assert.deepEqual(its.received.at(-1), { deviceId: want.deviceId, eventId: 0x33 });
      if (want.streamId !== null) assert.deepEqual(smmu.msiCalls.at(-1), { sid: want.streamId, deviceId: want.deviceId });
      checked++;
    }
  });
  assert.equal(checked, 1 + 1 + 1 + 2 + 3 + 1 + 1 + 1 + 1 + 1 + 2, 'every function of both segments was exercised');
});

test('property: for random mappings and bus assignments, the routing equals mapId on the same IdMapping[]', () => {
  const mapping = (target: string): fc.Arbitrary<IdMapping> =>
    fc.record({ inputBase: fc.integer({ min: 0, max: 0xffff }), count: fc.integer({ min: 1, max: 0x1_0000 }), outputBase: fc.integer({ min: 0, max: 0xffff_0000 }), target: fc.constant(target) });
  fc.assert(
    fc.property(
      fc.array(mapping('smmu0'), { maxLength: 4 }),
      fc.option(fc.array(mapping('its0'), { maxLength: 4 }), { nil: undefined }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 1, max: 0xfe }),
      fc.integer({ min: 0, max: 2 }),
      (toSmmu, toMsi, segment, sec, fnCount) => {
        const mem = new GuestMemory();
        mem.addRam(0, 0x1000);
        const rc = new RootComplex({ name: 'r', segment, buses: { start: 0, end: 0xff }, memory: mem, ids: { toSmmu, toMsi } });
        const smmu = new FakeSmmu(mem);
        const its = new FakeIts();
        rc.attachIommu('smmu0', smmu);
        rc.connectMsi({ msiWrite: (a, d, id) => (its.received.push({ deviceId: id ?? -1, eventId: d }), 'delivered') });
        const rp = rc.addRootPort('rp', 4);
        const dev = new PcieDevice('d', Array.from({ length: fnCount + 1 }, () => ({ vendorId: 1, pciDeviceId: 2, classCode: 0, msi: { vectors: 1 } })));
        rp.plug(dev, 'cold');
        rp.config.guestWrite(0x18, 4, (sec << 8) | (sec << 16));
        rp.config.guestWrite(0x04, 2, 0x6);
        for (const f of dev.functions) {
          f.config.guestWrite(0x04, 2, 0x6);
          const rid = f.requesterId();
          assert.equal(rid, (sec << 8) | f.devfn);
          const s = mapId(toSmmu, rid);
          const m = toMsi === undefined ? { id: segment * 0x1_0000 + rid } : mapId(toMsi, rid);
          const id = f.identity();
          assert.equal(id.streamId, s?.id ?? null);
          assert.equal(id.deviceId, m?.id ?? null);
          if (s) smmu.map(s.id, 0, 0);
          assert.equal(f.dma.read(0x10, new Uint8Array(1)), null);
          if (s) assert.equal(smmu.dmaCalls.at(-1), s.id);
          const p = f.msi!.start;
          f.config.guestWrite(p + 4, 4, 0x40);
          f.config.guestWrite(p + 2, 2, 1);
          f.signal(0);
          if (s) assert.deepEqual(smmu.msiCalls.at(-1), { sid: s.id, deviceId: m?.id ?? null });
          else assert.deepEqual(its.received.at(-1), { deviceId: m?.id ?? -1, eventId: 0 });
        }
      },
    ),
    { numRuns: 150 },
  );
});
