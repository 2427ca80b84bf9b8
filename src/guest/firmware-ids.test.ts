// The reference guest reads its IDs from the firmware it boots with: for every preset the device
// tree and the IORT give exactly the IDs the hardware is wired with (checked RID by RID against
// the derived maps), and a firmware table with a wrong map makes the guest's DMA or MSIs fail
// visibly, as on a real machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildIort } from '../firmware/acpi/iort-build.js';
import { buildDeviceTree } from '../firmware/dt/build.js';
import { writeDtb } from '../firmware/fdt/writer.js';
import type { IdMapping } from '../pcie/id-map.js';
import { mapId } from '../pcie/id-map.js';
import type { PlatformDescription } from '../platform/description.js';
import { deriveIdMaps, smmuUsesMsi, type IdMaps } from '../platform/derive-ids.js';
import { DMA_ENGINE_CMD_IRQ, DMA_ENGINE_OP, DMA_ENGINE_REG, DMA_ENGINE_STATUS } from '../platform/devices/dma-engine.js';
import { loadPreset, PRESET_NAMES } from '../platform/presets/index.js';
import { qemuVirtWithDevices, rig, toDescription, type Rig } from '../../test/support/platform-fixtures.js';
import { firmwareIds, type GuestFirmware } from './firmware-ids.js';
import { ReferenceGuest } from './guest.js';

const dt = (desc: PlatformDescription, maps: IdMaps): GuestFirmware => ({ kind: 'dt', dtb: writeDtb(buildDeviceTree(desc, maps)) });
const acpi = (desc: PlatformDescription, maps: IdMaps): GuestFirmware => ({ kind: 'acpi', iort: buildIort(desc, { idMaps: maps }) });

function v2mPlatform(): PlatformDescription {
  return toDescription({
    memory: [{ base: 0x4000_0000, size: 0x2000_0000 }],
    cpus: { count: 1 },
    gic: { version: 2, distributor: { base: 0x0800_0000, size: 0x1_0000 }, cpuInterface: { base: 0x0801_0000, size: 0x1_0000 }, v2m: { base: 0x0802_0000, spiBase: 80, spiCount: 64 } },
    smmus: [{ name: 'smmu0', base: 0x0905_0000, rootComplexes: ['pcie0'], features: 'qemu-7.2', interrupts: { eventq: { spi: 74, trigger: 'edge' }, gerror: { spi: 77, trigger: 'edge' } } }],
    rootComplexes: [{ name: 'pcie0', ecam: { base: 0x40_1000_0000 }, mmio32: { base: 0x1000_0000, size: 0x1000_0000 }, ports: [{ name: 'rp0', device: 1, child: { kind: 'endpoint', name: 'dma0' } }] }],
  });
}

const descriptions: [string, PlatformDescription][] = [...PRESET_NAMES.map((n) => [n, loadPreset(n)] as [string, PlatformDescription]), ['GICv2m', v2mPlatform()], ['qemu-virt with a switch', qemuVirtWithDevices()]];

test('device tree and IORT give every RID the StreamID and DeviceID the hardware is wired with', () => {
  let checked = 0;
  for (const [name, desc] of descriptions) {
    const maps = deriveIdMaps(desc);
    for (const [kind, fw] of [['dt', dt(desc, maps)], ['acpi', acpi(desc, maps)]] as const) {
      const ids = firmwareIds(fw);
      for (const [i, rc] of desc.rootComplexes.entries()) {
        const m = maps.rootComplexes[i]!;
        for (let rid = rc.buses.start << 8; rid < (rc.buses.end + 1) << 8; rid += 7) {
          const s = mapId(m.toSmmu, rid);
          const want = s ? { smmuBase: desc.smmus.find((x) => x.name === s.target)!.base, sid: s.id } : null;
          assert.deepEqual(ids.stream(rc.segment, rid), want, `${name} ${kind} ${rc.name} RID ${rid.toString(16)} StreamID`);
          assert.equal(ids.deviceId(rc.segment, rid), mapId(m.toMsi, rid)?.id ?? null, `${name} ${kind} ${rc.name} RID ${rid.toString(16)} DeviceID`);
          checked++;
        }
      }
      for (const [i, s] of desc.smmus.entries()) {
        const own = maps.smmus[i]!.ownMsi;
        // A device tree gives an SMMU msi-parent only when it uses MSIs; the IORT has the mapping whenever it exists.
        if (own && (kind === 'acpi' || smmuUsesMsi(desc, s))) assert.equal(ids.smmuDeviceId(s.base), own.deviceId, `${name} ${kind} ${s.name} own DeviceID`);
        else if (kind === 'dt') assert.equal(ids.smmuDeviceId(s.base), null, `${name} ${kind} ${s.name} own DeviceID`);
      }
    }
  }
  assert.ok(checked > 10_000, `${checked} RIDs checked`);
});

/** The maps with every output ID of `which` shifted by one (a firmware bug). */
function shifted(maps: IdMaps, which: 'stream' | 'device'): IdMaps {
  const bump = (ms: readonly IdMapping[], when: (m: IdMapping) => boolean): IdMapping[] => ms.map((m) => (when(m) ? { ...m, outputBase: m.outputBase + 1 } : m));
  const smmus = new Set(maps.smmus.map((s) => s.smmu));
  return {
    rootComplexes: maps.rootComplexes.map((r) => ({
      ...r,
      toSmmu: which === 'stream' ? bump(r.toSmmu, () => true) : r.toSmmu,
      toMsi: which === 'device' ? bump(r.toMsi, () => true) : r.toMsi,
      // IORT: RC -> SMMU ranges carry the StreamIDs, RC -> ITS ranges (SMMU bypass) the DeviceIDs.
      iort: bump(r.iort, (m) => smmus.has(m.target) === (which === 'stream')),
    })),
    smmus: maps.smmus.map((s) => ({ ...s, toMsi: which === 'device' ? bump(s.toMsi, () => true) : s.toMsi })),
  };
}

/** Boots the guest with `fw` on correctly wired hardware, binds dma0 and runs a 4 KiB copy with its completion MSI. */
function copyWith(fw: (desc: PlatformDescription, maps: IdMaps) => GuestFirmware, which: 'stream' | 'device' | null): { r: Rig; status: number; sid: number | null; deviceId: number | null; lpi: boolean } {
  const desc = qemuVirtWithDevices();
  const maps = deriveIdMaps(desc);
  const r = rig(desc, { dma0: 'dma-engine' });
  const guest = new ReferenceGuest(desc, r.platform.bus, r.platform.memory, { firmware: fw(desc, which ? shifted(maps, which) : maps) });
  guest.boot();
  const host = r.platform.device('dma0')!.device.functions[0]!;
  const rid = host.requesterId();
  const f = guest.findFunction('pcie0', rid >> 8, (rid >> 3) & 31, rid & 7)!;
  const b = guest.bindDevice('dma0', f, 2);
  const src = guest.buffers.alloc(0x1000);
  const dst = guest.buffers.alloc(0x1000);
  const s = guest.dmaMap('dma0', src, 0x1000, { read: true, write: false, cache: true });
  const d = guest.dmaMap('dma0', dst, 0x1000, { read: true, write: true, cache: true });
  assert.ok(s.ok && d.ok);
  const bar = f.bars[0]!.base;
  const w = (o: number, v: number): void => r.platform.bus.write(bar + o, 4, v >>> 0);
  w(DMA_ENGINE_REG.SRC_LO, s.iova);
  w(DMA_ENGINE_REG.DST_LO, d.iova);
  w(DMA_ENGINE_REG.LEN, 0x1000);
  w(DMA_ENGINE_REG.CMD, DMA_ENGINE_OP.COPY | DMA_ENGINE_CMD_IRQ);
  r.platform.settle();
  const status = r.platform.bus.read(bar + DMA_ENGINE_REG.STATUS, 4);
  return { r, status, sid: b.streamId, deviceId: b.deviceId, lpi: r.lpis.pendingOn(0).includes(b.vectors[0]!.intid) };
}

for (const [kind, fw] of [['device tree', dt], ['IORT', acpi]] as const) {
  test(`${kind}: right maps -> DMA done and its MSI taken; a wrong StreamID map -> the DMA faults; a wrong DeviceID map -> the MSI is lost`, () => {
    const ok = copyWith(fw, null);
    assert.equal(ok.sid, 0x100);
    assert.equal(ok.deviceId, 0x100);
    assert.equal(ok.status, DMA_ENGINE_STATUS.DONE);
    assert.equal(ok.lpi, true);

    const badSid = copyWith(fw, 'stream');
    assert.equal(badSid.sid, 0x101, 'the guest believes the firmware');
    assert.equal(badSid.status, DMA_ENGINE_STATUS.ERROR, 'SID 0x100 still has its abort STE');
    assert.equal(badSid.lpi, false);

    const badDev = copyWith(fw, 'device');
    assert.equal(badDev.sid, 0x100);
    assert.equal(badDev.deviceId, 0x101, 'the guest believes the firmware');
    assert.equal(badDev.status, DMA_ENGINE_STATUS.DONE);
    assert.equal(badDev.lpi, false, 'the ITS has no mapping for DeviceID 0x100');
  });
}
