// Fault injection against the reference guest driver (which behaves as Linux 6.1's arm-smmu-v3
// does): each injection's architected outcome, what the driver sees, and the @when grammar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../memory/guest-memory.js';
import type { MsiOutcome } from '../../memory/types.js';
import { MmioBus } from '../../platform/runtime/mmio-bus.js';
import { GuestSmmuDriver } from '../../guest/smmu-driver.js';
import { PageAllocator } from '../../guest/allocator.js';
import { decodeEvent, EVT } from '../../spec/smmuv3/events.js';
import { GERROR, REG } from '../../spec/smmuv3/registers.js';
import { UserInputError } from '../../util/errors.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { FAULT_IOVA, parseInjection, parseInjections, SmmuInjector, type InjectionSpec } from './inject.js';
import { SmmuV3 } from './smmu-v3.js';
import { EventLog, smmuStats } from './stats.js';

const RAM = 0x4000_0000;
const SMMU_BASE = 0x0905_0000;
const SID = 0x8;

function setup(specs: readonly string[], features: SmmuFeatures = DEFAULT_FEATURES) {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x800_0000);
  const msis: number[] = [];
  const smmu = new SmmuV3(mem, {
    features,
    msiSink: { msiWrite: (a, d): MsiOutcome => (msis.push(a), mem.write32(a, d) ? 'memory' : 'aborted') },
  });
  let clock = 0;
  const inj = new SmmuInjector(smmu, parseInjections(specs), { now: () => clock });
  const log = new EventLog().attach(smmu);
  const bus = new MmioBus(mem);
  bus.map(SMMU_BASE, smmu);
  const alloc = new PageAllocator(mem, RAM + 0x10_0000, 0x400_0000);
  const drv = new GuestSmmuDriver(bus, mem, alloc, { name: 'smmu0', base: SMMU_BASE, coherent: true });
  const advance = (ms: number): void => {
    clock += ms;
  };
  return { mem, smmu, inj, log, drv, msis, advance };
}

/** Probe, reset, a DMA domain on SID with one page mapped at IOVA 0x10000. */
function attached(t: ReturnType<typeof setup>) {
  t.drv.probe();
  t.drv.reset();
  const d = t.drv.createDomain();
  assert.ok(t.drv.attach(SID, d));
  assert.deepEqual(t.drv.map(d, 0x10000, RAM + 0x700_0000, 0x1000, { read: true, write: true, cache: true }), { ok: true });
  return d;
}

test('grammar: NAME, NAME@boot, @after=N-commands, @after=Ns; bad input is a UserInputError', () => {
  assert.deepEqual(parseInjection('dma-fault'), { name: 'dma-fault', when: { kind: 'boot' } });
  assert.deepEqual(parseInjection('gerror@boot'), { name: 'gerror', when: { kind: 'boot' } });
  assert.deepEqual(parseInjection('cmd-error@after=40-commands'), { name: 'cmd-error', when: { kind: 'after-commands', count: 40 } });
  assert.deepEqual(parseInjection('cmdsync-stall@after=2.5s'), { name: 'cmdsync-stall', when: { kind: 'after-seconds', seconds: 2.5 } });
  for (const bad of ['nope', 'dma-fault@', 'dma-fault@soon', 'dma-fault@after=-1s', 'dma-fault@after=3', 'cmd-error@after=1e3-commands', '@boot', 'gerror@after=10000000000-commands']) {
    assert.throws(() => parseInjection(bad), UserInputError, bad);
  }
  assert.throws(() => parseInjections(['gerror', 'gerror@after=1s']), /more than once/);
  assert.equal(parseInjections(['gerror', 'dma-fault']).length, 2);
});

test('no injections: the command queue, MSIs and DMA behave as without an injector', () => {
  const t = setup([]);
  attached(t);
  const buf = new Uint8Array(4);
  assert.equal(t.inj.port(SID).read(0x10000, buf), null);
  assert.equal(t.drv.cmdq!.stats.timeouts, 0);
  assert.ok(t.msis.length > 0, 'MSI-polled CMD_SYNCs still write their completion');
  assert.deepEqual(t.inj.report(), []);
});

test('cmdsync-stall: CONS never passes the CMD_SYNC; the driver times out; nothing behind it is consumed', () => {
  const t = setup(['cmdsync-stall@after=3-commands']);
  t.drv.probe();
  t.drv.reset(); // CFGI_STE_RANGE, SYNC, TLBI_NSNH_ALL, SYNC: the second SYNC is the 4th command
  const msgs = t.drv.messages.join('\n');
  assert.match(msgs, /CMD_SYNC timeout at 0x00000003 \[hwprod 0x00000004, hwcons 0x00000003\]/);
  const [r] = t.inj.report();
  assert.equal(r!.fired, true);
  assert.deepEqual(r!.at, { commands: 3, seconds: 0 });
  assert.match(r!.effect, /CMD_SYNC at CMDQ_CONS 0x3 held/);
  // Further commands queue up behind the held CMD_SYNC and are never consumed.
  const executed = t.smmu.cmdq.stats.executed;
  t.drv.cmdq!.issue([], true);
  t.smmu.write(REG.CMDQ_PROD, 4, t.smmu.read(REG.CMDQ_PROD, 4));
  assert.equal(t.smmu.cmdq.stats.executed, executed);
  assert.equal(t.smmu.read(REG.CMDQ_CONS, 4), 3);
  assert.equal(t.drv.cmdq!.stats.timeouts, 2);
});

test('cmd-error: the next command other than CMD_SYNC fails with CERROR_ILL; the driver skips it and the queue resumes', () => {
  // Reset issues CFGI_STE_RANGE, SYNC, TLBI_NSNH_ALL, SYNC: armed after the first, it skips the SYNC.
  const t = setup(['cmd-error@after=1-commands']);
  t.drv.probe();
  t.drv.reset();
  const msgs = t.drv.messages.join('\n');
  assert.match(msgs, /CMDQ error \(cons 0x01000002\): Illegal command/);
  assert.match(msgs, /skipping command in error state/);
  assert.doesNotMatch(msgs, /timeout/);
  const [r] = t.inj.report();
  assert.equal(r!.fired, true);
  assert.match(r!.effect, /^TLBI_NSNH_ALL at CMDQ_CONS 0x2 failed with CERROR_ILL$/);
  const s = smmuStats(t.smmu);
  assert.equal(s.commandErrors, 1);
  assert.equal(s.commands['TLBI_NSNH_ALL'], undefined, 'the failed command was replaced by a CMD_SYNC');
  assert.equal(s.commands['SYNC'], 3);
  // Exactly once: later commands run normally.
  attached(t);
  assert.equal(smmuStats(t.smmu).commandErrors, 1);
});

test('gerror: EVENTQ_ABT_ERR once the event queue and GERROR interrupt are enabled; events are not written until it is acknowledged', () => {
  const t = setup(['gerror']);
  t.inj.tick();
  assert.equal(t.inj.report()[0]!.fired, false, 'waits for EVENTQEN');
  assert.match(t.inj.report()[0]!.effect, /never both enabled/);
  attached(t);
  t.smmu.write(REG.IRQ_CTRL, 4, 0);
  t.inj.tick();
  assert.equal(t.inj.report()[0]!.fired, false, 'waits for GERROR_IRQEN');
  t.smmu.write(REG.IRQ_CTRL, 4, 0x5);
  t.inj.tick();
  const g = t.smmu.read(REG.GERROR, 4) ^ t.smmu.read(REG.GERRORN, 4);
  assert.equal(g, 1 << GERROR.EVENTQ_ABT_ERR.lsb);
  // §7.2.1: the queue is not writable while EVENTQ_ABT_ERR is active: a fault's record is discarded.
  const buf = new Uint8Array(4);
  assert.notEqual(t.smmu.dma(SID).read(0x20000, buf), null);
  assert.equal(t.smmu.eventStats.written, 0);
  assert.equal(t.smmu.eventStats.discarded, 1);
  // The driver acknowledges; the next fault is recorded.
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  assert.notEqual(t.smmu.dma(SID).read(0x20000, buf), null);
  assert.equal(t.drv.drainEvents().length, 1);
  assert.deepEqual(smmuStats(t.smmu).gerrorActive, []);
  t.inj.tick();
  assert.equal(t.smmu.read(REG.GERROR, 4) ^ t.smmu.read(REG.GERRORN, 4), 0, 'fires once');
});

test('dma-fault: the device reads an IOVA its driver never mapped; the record the driver reads is the one reported', () => {
  const t = setup(['dma-fault']);
  attached(t);
  const port = t.inj.port(SID);
  const buf = new Uint8Array(4);
  t.mem.write32(RAM + 0x700_0000, 0x1234_5678);
  assert.equal(port.read(0x10000, buf), null, "the device's own access still succeeds");
  assert.deepEqual([...buf], [0x78, 0x56, 0x34, 0x12]);
  const evs = t.drv.drainEvents();
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.type, EVT.F_TRANSLATION);
  assert.equal(evs[0]!.sid, SID);
  assert.equal(evs[0]!.inputLo, FAULT_IOVA);
  const [r] = t.inj.report();
  assert.equal(r!.fired, true);
  assert.match(r!.effect, /read unmapped IOVA 0xdead0000: F_TRANSLATION, event 0x10 written/);
  const rec = r!.records![0]!;
  assert.equal(rec.type, 'F_TRANSLATION');
  assert.equal(rec.inputAddr, '0xdead0000');
  // The reported words decode to the record in the queue.
  assert.deepEqual(decodeEvent(rec.words.map((w) => BigInt(w))), evs[0]);
  assert.equal(rec.words[0], '0x0000000800000010');
  // Once only.
  port.read(0x10000, buf);
  assert.equal(t.drv.drainEvents().length, 0);
  assert.deepEqual(smmuStats(t.smmu, t.log).events.byType, { F_TRANSLATION: 1 });
});

test('dma-fault on a bypass stream: no fault, and the report says so', () => {
  const t = setup(['dma-fault']);
  t.drv.probe();
  t.drv.reset();
  assert.ok(t.drv.installBypass(SID));
  t.inj.port(SID).read(0x10000, new Uint8Array(4));
  assert.match(t.inj.report()[0]!.effect, /without a translation fault/);
  assert.equal(t.smmu.eventStats.written, 0);
});

test('evtq-overflow: genuine faults fill the queue, the last is dropped, OVFLG toggles; the driver sees the overflow', () => {
  const t = setup(['evtq-overflow@after=1s']);
  attached(t);
  const port = t.inj.port(SID);
  const buf = new Uint8Array(4);
  port.read(0x10000, buf);
  assert.equal(t.smmu.eventStats.written, 0, 'not armed before its time');
  t.advance(1000);
  port.read(0x10000, buf);
  const size = 1 << t.drv.info!.evtqLog2;
  assert.equal(t.smmu.eventStats.written, size);
  assert.equal(t.smmu.eventStats.overflowed, 1);
  assert.equal((t.smmu.read(REG.EVENTQ_PROD, 4) >>> 31) & 1, 1, 'OVFLG toggled');
  const evs = t.drv.drainEvents();
  assert.equal(evs.length, size);
  assert.ok(evs.every((e) => e.type === EVT.F_TRANSLATION && e.sid === SID));
  assert.ok(t.drv.messages.includes('smmu0: EVTQ overflow detected -- events lost'));
  const [r] = t.inj.report();
  assert.equal(r!.at!.seconds, 1);
  assert.match(r!.effect, new RegExp(`${size + 1} faulting reads into a ${size}-entry event queue: ${size} records written, 1 dropped`));
  assert.equal(r!.records!.length, 2);
});

test('msi-unmapped: the next CMD_SYNC completion MSI aborts: MSI_CMDQ_ABT_ERR, and the driver times out', () => {
  const t = setup(['msi-unmapped@after=1-commands']);
  t.drv.probe();
  t.drv.reset();
  const g = t.smmu.read(REG.GERROR, 4);
  assert.equal(g & (1 << GERROR.MSI_CMDQ_ABT_ERR.lsb), 1 << GERROR.MSI_CMDQ_ABT_ERR.lsb);
  assert.match(t.drv.messages.join('\n'), /CMD_SYNC timeout/);
  const [r] = t.inj.report();
  assert.match(r!.effect, /^MSI write of 0x0 to 0x[0-9a-f]+ aborted; GERROR MSI_CMDQ_ABT_ERR$/);
  // Later MSIs are delivered again.
  const n = t.msis.length;
  t.drv.cmdq!.issue([], true);
  assert.equal(t.msis.length, n + 1);
});

test('an injection whose trigger never comes reports why', () => {
  const specs: InjectionSpec[] = parseInjections(['cmd-error@after=100000-commands', 'msi-unmapped']);
  const t = setup([]);
  const inj = new SmmuInjector(t.smmu, specs, { now: () => 0 });
  const [a, b] = inj.report();
  assert.equal(a!.effect, 'not fired: its trigger never came');
  assert.equal(b!.effect, 'not fired: the SMMU wrote no MSI after the trigger');
});

test('evtq-overflow waits until the event queue is writable (no unacknowledged EVENTQ_ABT_ERR)', () => {
  const t = setup(['gerror', 'evtq-overflow']);
  attached(t);
  t.inj.tick();
  const port = t.inj.port(SID);
  port.read(0x10000, new Uint8Array(4));
  assert.equal(t.inj.report()[1]!.fired, false);
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  port.read(0x10000, new Uint8Array(4));
  assert.equal(t.inj.report()[1]!.fired, true);
  assert.equal(t.smmu.eventStats.overflowed, 1);
});
