// The reference guest's SMMUv3 driver against the SMMUv3 model: Linux 6.1 known answers
// (Linux 6.1's reset values, CMD_SYNC encodings, STE, CD, TLBI
// range forms), lazily allocated L2 stream tables, event consumption and CMDQ_ERR recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { DEFAULT_FEATURES, QEMU_7_2_FEATURES, type SmmuFeatures } from '../smmu/features.js';
import { SmmuV3 } from '../smmu/device/smmu-v3.js';
import { MmioBus } from '../platform/runtime/mmio-bus.js';
import { EVT } from '../spec/smmuv3/events.js';
import { decodeCommand } from '../spec/smmuv3/commands.js';
import { PageAllocator } from './allocator.js';
import { readWord } from './cpu-bus.js';
import { GuestSmmuDriver } from './smmu-driver.js';

const RAM = 0x4000_0000;
const SMMU_BASE = 0x0905_0000;

function setup(features: SmmuFeatures = DEFAULT_FEATURES): { mem: GuestMemory; smmu: SmmuV3; drv: GuestSmmuDriver; alloc: PageAllocator } {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x800_0000);
  const smmu = new SmmuV3(mem, { features });
  const bus = new MmioBus(mem);
  bus.map(SMMU_BASE, smmu);
  const alloc = new PageAllocator(mem, RAM + 0x10_0000, 0x400_0000);
  const drv = new GuestSmmuDriver(bus, mem, alloc, { name: 'smmu0', base: SMMU_BASE, coherent: true });
  drv.probe();
  drv.reset();
  return { mem, smmu, drv, alloc };
}

test('reset programs the registers Linux 6.1 writes', () => {
  const { smmu, drv } = setup();
  assert.equal(smmu.register('CR0'), 0xdn);
  assert.equal(smmu.register('CR1'), 0xd75n);
  assert.equal(smmu.register('IRQ_CTRL'), 0x5n);
  assert.equal(smmu.register('STRTAB_BASE_CFG'), 0x10210n); // 2-level, SPLIT 8, LOG2SIZE 16
  assert.equal(smmu.register('STRTAB_BASE'), (1n << 62n) | BigInt(drv.streamTableBase));
  const cmdq = smmu.register('CMDQ_BASE');
  assert.equal(cmdq & 0x1fn, 8n); // 256 entries
  assert.equal(cmdq >> 62n, 1n);
  assert.deepEqual(drv.cmdq!.historyNames(), ['CFGI_STE_RANGE', 'SYNC', 'TLBI_NSNH_ALL', 'SYNC']);
  assert.deepEqual(drv.cmdq!.history[0], [0x4n, 0x1fn]);
});

test('CMD_SYNC: MSI-polled form when IDR0.MSI and coherent, SEV form otherwise', () => {
  const a = setup(DEFAULT_FEATURES);
  const sync = a.drv.cmdq!.history[1]!;
  assert.equal(sync[0], 0x0fc0_1046n);
  assert.equal(sync[1], BigInt(a.drv.cmdq!.base + 16)); // its own slot (index 1)
  const b = setup(QEMU_7_2_FEATURES);
  assert.equal(b.drv.cmdq!.history[1]![0], 0x0fc0_2046n);
  assert.equal(b.drv.cmdq!.history[1]![1], 0n);
});

test('DMA domain: CD and STE as Linux writes them, L2 table allocated lazily', () => {
  const { mem, drv, smmu } = setup(QEMU_7_2_FEATURES);
  const d = drv.createDomain();
  assert.equal(d.asid, 1);
  assert.equal(drv.cdWords(d)[0], 0x0001_e204_c000_3510n); // OAS 44 -> IPS 4
  assert.equal(drv.cdWords(d)[3], 0x0000_0000_f404_ff44n);
  assert.equal(drv.cdWords(d)[1], BigInt(d.pgtable.pgd));
  const sid = 0x0108;
  assert.ok(drv.attach(sid, d));
  const ste = drv.steAddress(sid)!;
  assert.equal(readWord(mem, ste), BigInt(d.cdTable) | 0xbn);
  assert.equal(readWord(mem, ste + 8), 0xd6n);
  const l1 = readWord(mem, drv.streamTableBase + 8 * (sid >> 8))!;
  assert.equal(l1 & 0x1fn, 9n);
  assert.equal(l1 & ~0x3fn, BigInt(ste - (sid & 0xff) * 64));
  assert.equal(readWord(mem, drv.streamTableBase), 0n); // untouched L1 slots stay invalid
  // The device reaches memory through the mapping.
  assert.deepEqual(drv.map(d, 0x10000, RAM + 0x700_0000, 0x1000, { read: true, write: true, cache: true }), { ok: true });
  mem.write32(RAM + 0x700_0000, 0xdeadbeef);
  const buf = new Uint8Array(4);
  assert.equal(smmu.dma(sid).read(0x10000, buf), null);
  assert.deepEqual([...buf], [0xef, 0xbe, 0xad, 0xde]);
  // STE writes follow the 6.1 protocol: qw1.. / CFGI+SYNC / qw0 / CFGI+SYNC / PREFETCH_CFG.
  const names = drv.cmdq!.historyNames();
  assert.deepEqual(names.slice(-5), ['CFGI_STE', 'SYNC', 'CFGI_STE', 'SYNC', 'PREFETCH_CONFIG']);
});

test('TLBI after unmap: one command per page without RIL, range form with RIL', () => {
  const noRil = setup({ ...DEFAULT_FEATURES, ril: false });
  assert.deepEqual(noRil.drv.tlbiRange(1, 0x10000, 0x4000, 0x1000, true), [
    [0x0001_0000_0000_0012n, 0x10001n],
    [0x0001_0000_0000_0012n, 0x11001n],
    [0x0001_0000_0000_0012n, 0x12001n],
    [0x0001_0000_0000_0012n, 0x13001n],
  ]);
  const ril = setup(DEFAULT_FEATURES);
  assert.deepEqual(ril.drv.tlbiRange(1, 0x10000, 0x4000, 0x1000, true), [[0x0001_0000_0020_0012n, 0x0000_0000_0001_0701n]]);
  assert.deepEqual(ril.drv.tlbiRange(1, 0xffff_f000, 0x1000, 0x1000, true), [[0x0001_0000_0000_0012n, 0x0000_0000_ffff_f701n]]);
  // Unmapping issues the TLBI and a CMD_SYNC; afterwards the DMA faults with an event.
  const { drv, smmu } = ril;
  const d = drv.createDomain();
  drv.attach(0x20, d);
  drv.map(d, 0x10000, RAM + 0x700_0000, 0x4000, { read: true, write: true, cache: true });
  assert.equal(smmu.dma(0x20).read(0x11000, new Uint8Array(8)), null);
  assert.equal(drv.unmap(d, 0x10000, 0x4000), 0x4000);
  assert.deepEqual(drv.cmdq!.historyNames().slice(-2), ['TLBI_NH_VA', 'SYNC']);
  assert.equal(smmu.dma(0x20).read(0x11000, new Uint8Array(8))?.reason, 'F_TRANSLATION');
  const ev = drv.drainEvents();
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.type, EVT.F_TRANSLATION);
  assert.equal(ev[0]!.sid, 0x20);
  assert.equal(ev[0]!.inputLo, 0x11000);
  assert.deepEqual(drv.drainEvents(), []);
});

test('an illegal command is skipped by the GERROR handler and the queue keeps working', () => {
  const { drv, smmu } = setup(QEMU_7_2_FEATURES);
  assert.equal(drv.cmdq!.issue([[0x7fn, 0n]]), true);
  assert.equal(drv.cmdq!.stats.errors, 1);
  assert.ok(drv.messages.some((m) => m.includes('CMDQ error') && m.includes('Illegal command')));
  assert.equal(smmu.register('GERROR'), smmu.register('GERRORN'));
  assert.equal(drv.cmdq!.issue([[0x4n, 0x1fn]]), true);
  const cons = Number(smmu.register('CMDQ_CONS') & 0xfffffn);
  assert.equal(cons, Number(smmu.register('CMDQ_PROD')));
  assert.equal(decodeCommand(drv.cmdq!.history.at(-2)!).name, 'CFGI_STE_RANGE');
  assert.equal(Number(smmu.register('CMDQ_CONS') >> 24n) & 0x7f, 0);
});

test('event queue overflow is detected, acknowledged, and consumption continues', () => {
  const { drv, smmu } = setup(DEFAULT_FEATURES);
  const d = drv.createDomain();
  drv.attach(0x30, d);
  const size = 1 << drv.info!.evtqLog2;
  const buf = new Uint8Array(4);
  for (let i = 0; i < size + 10; i++) smmu.dma(0x30).read(0x100_0000 + i * 0x1000, buf);
  const first = drv.drainEvents();
  assert.ok(drv.messages.some((m) => m.includes('EVTQ overflow detected -- events lost')));
  assert.ok(first.length <= size && first.length > 0);
  assert.equal(first.every((e) => e.type === EVT.F_TRANSLATION && e.sid === 0x30), true);
  smmu.dma(0x30).read(0x7000_0000, buf);
  const next = drv.drainEvents();
  assert.equal(next.length, 1);
  assert.equal(next[0]!.inputLo, 0x7000_0000);
});
