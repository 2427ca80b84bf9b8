// SMMU statistics: commands by opcode name, CMD_SYNCs, event records as the driver reads them,
// and cache hit rates, counted against what the reference guest driver issued and did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../memory/guest-memory.js';
import { MmioBus } from '../../platform/runtime/mmio-bus.js';
import { GuestSmmuDriver } from '../../guest/smmu-driver.js';
import { PageAllocator } from '../../guest/allocator.js';
import { encodeEvent } from '../../spec/smmuv3/events.js';
import { DEFAULT_FEATURES } from '../features.js';
import { SmmuV3 } from './smmu-v3.js';
import { EventLog, smmuStats } from './stats.js';

const RAM = 0x4000_0000;

function setup(keep?: number) {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x800_0000);
  const smmu = new SmmuV3(mem, { features: DEFAULT_FEATURES });
  const log = new EventLog(keep).attach(smmu);
  const bus = new MmioBus(mem);
  bus.map(0x0905_0000, smmu);
  const drv = new GuestSmmuDriver(bus, mem, new PageAllocator(mem, RAM + 0x10_0000, 0x400_0000), { name: 's', base: 0x0905_0000, coherent: true });
  drv.probe();
  drv.reset();
  return { mem, smmu, log, drv };
}

test('commands by opcode name and CMD_SYNC count match what the driver issued', () => {
  const { smmu, drv } = setup();
  const d = drv.createDomain();
  drv.attach(0x8, d);
  drv.map(d, 0x10000, RAM + 0x700_0000, 0x2000, { read: true, write: true, cache: true });
  drv.unmap(d, 0x10000, 0x2000);
  const s = smmuStats(smmu);
  const issued = new Map<string, number>();
  for (const n of drv.cmdq!.historyNames()) issued.set(n, (issued.get(n) ?? 0) + 1);
  assert.deepEqual(s.commands, Object.fromEntries([...issued].sort()));
  assert.equal(s.commandsTotal, drv.cmdq!.stats.commands);
  assert.equal(s.cmdSync.count, drv.cmdq!.stats.syncs);
  assert.equal(s.cmdSync.irqCompletions, drv.cmdq!.stats.syncs, 'MSI-polled CMD_SYNCs complete with CS=IRQ');
  assert.equal(s.commandErrors, 0);
});

test('event records: the words reported are the ones the driver reads; counts by type; bounded log', () => {
  const { smmu, drv, log } = setup(2);
  const d = drv.createDomain();
  drv.attach(0x8, d);
  const buf = new Uint8Array(4);
  for (let i = 0; i < 3; i++) assert.notEqual(smmu.dma(0x8).read(0x5000_0000 + i * 0x1000, buf), null);
  const evs = drv.drainEvents();
  const s = smmuStats(smmu, log);
  assert.equal(s.events.written, 3);
  assert.deepEqual(s.events.byType, { F_TRANSLATION: 3 });
  assert.equal(s.events.records.length, 2, 'keeps the first `keep` records');
  for (let i = 0; i < 2; i++) {
    const want = encodeEvent(evs[i]!).map((w) => `0x${w.toString(16).padStart(16, '0')}`);
    assert.deepEqual(s.events.records[i]!.words, want);
    assert.equal(s.events.records[i]!.inputAddr, `0x${(0x5000_0000 + i * 0x1000).toString(16)}`);
    assert.equal(s.events.records[i]!.streamId, 8);
  }
});

test('cache hit rates: null before any lookup, then hits / lookups', () => {
  const { smmu, drv } = setup();
  assert.equal(smmuStats(smmu).iotlb.hitRate, null);
  const d = drv.createDomain();
  drv.attach(0x8, d);
  drv.map(d, 0x10000, RAM + 0x700_0000, 0x1000, { read: true, write: true, cache: true });
  const buf = new Uint8Array(4);
  for (let i = 0; i < 4; i++) assert.equal(smmu.dma(0x8).read(0x10000, buf), null);
  const s = smmuStats(smmu);
  assert.equal(s.iotlb.hits + s.iotlb.misses, 4);
  assert.equal(s.iotlb.misses, 1);
  assert.equal(s.iotlb.hitRate, 0.75);
  assert.ok(s.configCache.hitRate !== null && s.configCache.hitRate > 0);
});
