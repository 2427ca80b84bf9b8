// The reference guest's ITS driver against the ITS model: Linux 6.1 register values
// (Linux 6.1: CBASER, PROPBASER 0x..78F, PENDBASER 0x..780, property bytes 0xA2 /
// 0xA3) and an MSI translated to LPI 8192 on the collection's redistributor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { GicV3 } from '../intc/gicv3.js';
import { GicIts } from '../intc/its.js';
import { LpiRecorder } from '../intc/sinks.js';
import { MmioBus } from '../platform/runtime/mmio-bus.js';
import { GITS } from '../spec/gic/its-registers.js';
import { GICR } from '../spec/gic/redistributor-registers.js';
import { PageAllocator } from './allocator.js';
import { readQ } from './cpu-bus.js';
import { GuestItsDriver, LPI_PROP_ENABLED, LPI_PROP_MASKED } from './its-driver.js';

const RAM = 0x4000_0000;
const ITS = 0x0808_0000;
const GICR_BASE = 0x080a_0000;

function setup(): { mem: GuestMemory; bus: MmioBus; its: GicIts; drv: GuestItsDriver; sink: LpiRecorder } {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x400_0000);
  const sink = new LpiRecorder();
  const gic = new GicV3(mem, { peCount: 2, redistributorBase: GICR_BASE, lpiSink: sink });
  const its = new GicIts(mem, gic, {});
  const bus = new MmioBus(mem);
  bus.map(ITS, its);
  bus.map(GICR_BASE, gic.redistributorRegion);
  const drv = new GuestItsDriver(bus, mem, new PageAllocator(mem, RAM + 0x10_0000, 0x200_0000), { base: ITS, redistributorBase: GICR_BASE, peCount: 2 });
  drv.init();
  return { mem, bus, its, drv, sink };
}

test('ITS and redistributor registers take Linux 6.1 values', () => {
  const { bus, its } = setup();
  const cbaser = readQ(bus, ITS + GITS.CBASER);
  assert.equal(cbaser & ~0x000f_ffff_ffff_f000n, 0xb800_0000_0000_040fn);
  assert.ok(its.isEnabled);
  for (const pe of [0, 1]) {
    const prop = readQ(bus, GICR_BASE + pe * 0x2_0000 + GICR.PROPBASER);
    const pend = readQ(bus, GICR_BASE + pe * 0x2_0000 + GICR.PENDBASER);
    assert.equal(prop & 0xfffn, 0x78fn);
    assert.equal(pend & 0xffffn, 0x780n);
    assert.equal(bus.read(GICR_BASE + pe * 0x2_0000 + GICR.CTLR, 4) & 1, 1);
  }
  const dev = readQ(bus, ITS + GITS.BASER0);
  assert.equal(dev >> 63n, 1n);
  assert.equal((dev >> 56n) & 7n, 1n); // device table, kept as written
  assert.equal(LPI_PROP_ENABLED, 0xa3);
  assert.equal(LPI_PROP_MASKED, 0xa2);
});

test('a mapped device event becomes LPI 8192 on the collection PE', () => {
  const { its, drv, sink } = setup();
  const d = drv.allocDevice(0x10, 2, 1)!;
  assert.deepEqual(d.lpis, [8192, 8193]);
  assert.equal(its.signalMsi(0x10, 0), 'delivered');
  assert.deepEqual(sink.pendingOn(1), [8192]);
  assert.equal(its.signalMsi(0x10, 2), 'dropped'); // beyond the 2-entry ITT
  assert.equal(its.signalMsi(0x11, 0), 'dropped'); // unmapped device
  drv.freeDevice(0x10);
  assert.equal(its.signalMsi(0x10, 1), 'dropped');
});

test('a second initialisation (kexec-like) disables LPIs first, as Linux does, then sets them up again', () => {
  const { mem, bus } = setup();
  const before = readQ(bus, GICR_BASE + GICR.PROPBASER);
  // EnableLPIs is 1 on both PEs now; a fresh driver must clear it (the model allows it: CES = 1)
  // and program new tables instead of giving up with "Failed to disable LPIs".
  const again = new GuestItsDriver(bus, mem, new PageAllocator(mem, RAM + 0x240_0000, 0x100_0000), { base: ITS, redistributorBase: GICR_BASE, peCount: 2 });
  again.init();
  assert.ok(!again.messages.some((m) => m.includes('Failed to disable LPIs')), again.messages.join('\n'));
  const after = readQ(bus, GICR_BASE + GICR.PROPBASER);
  assert.notEqual(after & ~0xfffn, before & ~0xfffn, 'new property table programmed');
  for (const pe of [0, 1]) assert.equal(bus.read(GICR_BASE + pe * 0x2_0000 + GICR.CTLR, 4) & 1, 1);
});
