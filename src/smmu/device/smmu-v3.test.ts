// Per-register tests of the SmmuV3 register file (IHI 0070 §6.2-6.3), GBPA (§6.3.14), the event
// queue (§3.5, §7.2 overflow), interrupts/MSIs (§3.18), DMA/MSI paths, save/restore, and MMIO fuzzing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import type { IrqLine, MsiOutcome } from '../../memory/types.js';
import { REG, REGISTERS } from '../../spec/smmuv3/registers.js';
import { deriveIdRegisters } from '../id-registers.js';
import { encodeCommand } from '../../spec/smmuv3/commands.js';
import { decodeEvent, EVT } from '../../spec/smmuv3/events.js';
import { DEFAULT_FEATURES, QEMU_7_2_FEATURES } from '../features.js';
import { SmmuV3 } from './smmu-v3.js';
import { DomainBuilder, PTE_RO, PTE_RW } from '../../../test/smmu/linux-domain.js';

const RAM = 0x4000_0000;

function counter(): IrqLine & { n: number } {
  const c = { n: 0, setLevel(): void {}, pulse(): void { c.n++; } };
  return c;
}

function make(features = DEFAULT_FEATURES) {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x0100_0000);
  const msis: [number, number, number | null][] = [];
  const smmu = new SmmuV3(mem, {
    features,
    msiSink: { msiWrite: (a, d, id): MsiOutcome => (msis.push([a, d, id]), mem.write32(a, d) ? 'memory' : 'delivered') },
  });
  const b = new DomainBuilder(mem, RAM, 0x0100_0000);
  return { mem, smmu, b, msis };
}

/** An enabled SMMU with a linear stream table (SIDSIZE 8), cmdq and eventq, and one S1 domain on SID 3. */
function running(features = DEFAULT_FEATURES, evtqLog2 = 3) {
  const t = make(features);
  const { smmu, b } = t;
  const st = b.linearStreamTable(8);
  smmu.write64(REG.STRTAB_BASE, Number(st.strtabBase & 0xffff_ffffn), Number(st.strtabBase >> 32n));
  smmu.write(REG.STRTAB_BASE_CFG, 4, st.strtabBaseCfg);
  const cmdq = b.alloc(16 << 4, 256);
  smmu.write64(REG.CMDQ_BASE, cmdq | 4, 0);
  const evtq = b.alloc(32 << evtqLog2, 32 << evtqLog2);
  smmu.write64(REG.EVENTQ_BASE, evtq | evtqLog2, 0);
  smmu.write(REG.CR0, 4, 0xd);
  const pgd = b.newPgd();
  b.attachS1(st.base, 3, 1, pgd, 5);
  let prod = 0;
  const cmd = (c: [bigint, bigint]): void => {
    const slot = cmdq + (prod & 15) * 16;
    b.write64(slot, c[0]);
    b.write64(slot + 8, c[1]);
    prod = (prod + 1) & 31;
    smmu.write(REG.CMDQ_PROD, 4, prod);
  };
  return { ...t, st, cmdq, evtq, pgd, cmd };
}

test('ID registers read their derived values and ignore writes', () => {
  for (const f of [DEFAULT_FEATURES, QEMU_7_2_FEATURES]) {
    const { smmu } = make(f);
    const ids = deriveIdRegisters(f);
    const want = [ids.idr0, ids.idr1, ids.idr2, ids.idr3, ids.idr4, ids.idr5, ids.iidr, ids.aidr];
    for (let i = 0; i < 8; i++) {
      smmu.write(i * 4, 4, 0xffff_ffff);
      assert.equal(smmu.read(i * 4, 4), want[i]);
    }
  }
});

test('reset values and RES0 masks of every register', () => {
  const { smmu } = make();
  for (const r of REGISTERS) {
    if (r.offset < 0x20) continue;
    assert.equal(smmu.read(r.offset, 4), r.resetLo, `${r.name} reset`);
  }
  assert.equal(smmu.read(REG.GBPA, 4), 0x1000);
  smmu.write(REG.CR1, 4, 0xffff_ffff);
  assert.equal(smmu.read(REG.CR1, 4), 0xfff);
  smmu.write(REG.CR2, 4, 0xffff_ffff);
  assert.equal(smmu.read(REG.CR2, 4), 0x2, 'only RECINVSID without HYP/BTM/ATSRECERR');
  smmu.write(REG.IRQ_CTRL, 4, 0xffff_ffff);
  assert.equal(smmu.read(REG.IRQ_CTRL, 4), 0x5, 'PRIQ_IRQEN is RES0 without PRI');
  assert.equal(smmu.read(REG.IRQ_CTRLACK, 4), 0x5);
  smmu.write(REG.STRTAB_BASE_CFG, 4, 0xffff_ffff);
  assert.equal(smmu.read(REG.STRTAB_BASE_CFG, 4), 0x307ff);
  smmu.write64(REG.STRTAB_BASE, 0xffff_ffff, 0xffff_ffff);
  assert.equal(smmu.register('STRTAB_BASE'), 0x40ff_ffff_ffff_ffc0n);
  // Read-only and RAZ/WI locations.
  smmu.write(REG.GERROR, 4, 0xffff);
  assert.equal(smmu.read(REG.GERROR, 4), 0);
  for (const off of [0x30, 0xa8, 0xac, 0xc8, 0x100, 0x8000, 0xfd0, 0x10000, 0x1fffc]) {
    smmu.write(off, 4, 0xffff_ffff);
    assert.equal(smmu.read(off, 4), 0, `0x${off.toString(16)} RAZ/WI`);
  }
  // PRIQ and IRQ_CFG registers are RES0 when PRI / MSI are not implemented.
  smmu.write64(REG.PRIQ_BASE, 0x1234_5000, 0);
  assert.equal(smmu.read(REG.PRIQ_BASE, 4), 0);
  const q = make(QEMU_7_2_FEATURES).smmu;
  q.write64(REG.EVENTQ_IRQ_CFG0, 0x1000, 0);
  assert.equal(q.read(REG.EVENTQ_IRQ_CFG0, 4), 0);
});

test('32-bit halves and 64-bit accesses of 64-bit registers; other sizes and misaligned accesses are RAZ/WI', () => {
  const { smmu } = make();
  smmu.write(REG.CMDQ_BASE, 4, 0x4010_0008);
  smmu.write(REG.CMDQ_BASE + 4, 4, 0x4000_0000);
  assert.equal(smmu.register('CMDQ_BASE'), 0x4000_0000_4010_0008n);
  const o = { lo: 0, hi: 0 };
  smmu.read64(REG.CMDQ_BASE, o);
  assert.deepEqual(o, { lo: 0x4010_0008, hi: 0x4000_0000 });
  smmu.write(REG.CR1, 2, 0xffff);
  smmu.write(REG.CR1 + 1, 4, 0xffff);
  assert.equal(smmu.read(REG.CR1, 4), 0);
  assert.equal(smmu.read(REG.CR0, 1), 0);
  // 64-bit access to two 32-bit registers acts as two 32-bit accesses.
  smmu.write64(REG.CR1, 0xd75, 0x6);
  assert.equal(smmu.read(REG.CR1, 4), 0xd75);
  assert.equal(smmu.read(REG.CR2, 4), 0x2);
});

test('CR0ACK and IRQ_CTRLACK follow their registers immediately', () => {
  const { smmu } = make();
  smmu.write(REG.CR0, 4, 0xd);
  assert.equal(smmu.read(REG.CR0ACK, 4), 0xd);
  smmu.write(REG.CR0, 4, 0xffff_ffff);
  assert.equal(smmu.read(REG.CR0, 4), 0xd | 0x8 | 0x4 | 0x1, 'PRIQEN/ATSCHK/VMW are RES0 in the default profile');
  assert.equal(smmu.read(REG.CR0ACK, 4), smmu.read(REG.CR0, 4));
});

test('GBPA: only an Update write changes it; with SMMUEN=0 ABORT aborts DMA silently, else bypass', () => {
  const { smmu, mem } = make();
  smmu.write(REG.GBPA, 4, 0x0010_0000); // no Update: ignored
  assert.equal(smmu.read(REG.GBPA, 4), 0x1000);
  const port = smmu.dma(5, null);
  assert.equal(port.write(RAM + 0x100, new Uint8Array([1, 2, 3, 4])), null, 'bypass while SMMUEN=0');
  assert.equal(mem.read32(RAM + 0x100), 0x04030201);
  smmu.write(REG.GBPA, 4, 0x8010_1000);
  assert.equal(smmu.read(REG.GBPA, 4), 0x0010_1000, 'Update completes at once');
  const f = port.write(RAM + 0x100, new Uint8Array(4));
  assert.equal(f?.reason, 'abort');
  assert.equal(smmu.eventStats.written + smmu.eventStats.discarded, 0, 'no event');
});

test('DMA is split on translation granules and faults at the first unmapped page with the bytes done', () => {
  const t = running();
  t.b.map4k(t.pgd, 0x10000, RAM + 0x80_0000, PTE_RW);
  t.b.map4k(t.pgd, 0x11000, RAM + 0x90_0000, PTE_RW); // discontiguous PA
  const port = t.smmu.dma(3, null);
  const data = new Uint8Array(0x1800).map((_, i) => i & 0xff);
  assert.equal(port.write(0x10800, data), null);
  assert.equal(t.mem.read8(RAM + 0x80_0800), 0);
  assert.equal(t.mem.read8(RAM + 0x90_0000), 0x800 & 0xff);
  assert.equal(t.mem.read8(RAM + 0x90_0fff), 0x17ff & 0xff);
  const f = port.write(0x11800, new Uint8Array(0x1000));
  assert.deepEqual(f && { iova: f.iova, reason: f.reason, done: f.done }, { iova: 0x12000, reason: 'F_TRANSLATION', done: 0x800 });
  // Read-only page: a write is a permission fault, a read works.
  t.b.map4k(t.pgd, 0x20000, RAM + 0xa0_0000, PTE_RO);
  assert.equal(port.read(0x20000, new Uint8Array(16)), null);
  assert.equal(port.write(0x20000, new Uint8Array(16))?.reason, 'F_PERMISSION');
  assert.equal(t.smmu.dma(3, null), port, 'ports are cached');
});

test('event queue: records at PROD, interrupt on empty -> non-empty, overflow toggles OVFLG (not GERROR) until acknowledged', () => {
  const t = running(DEFAULT_FEATURES, 1); // 2 entries
  const irq = counter();
  t.smmu.connectIrqs({ eventq: irq });
  t.smmu.write(REG.IRQ_CTRL, 4, 0x5);
  const port = t.smmu.dma(3, null);
  for (let i = 0; i < 2; i++) assert.equal(port.read(0x5000_0000 + i * 0x1000, new Uint8Array(4))?.reason, 'F_TRANSLATION');
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 2);
  assert.equal(irq.n, 1, 'one interrupt: only the first record found the queue empty (§3.18.2)');
  const ev = decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + 32 + 8 * i)));
  assert.equal(ev.type, EVT.F_TRANSLATION);
  assert.equal(ev.inputLo, 0x5000_1000);
  assert.equal(ev.rnw, true);
  // Full: the next fault overflows.
  port.read(0x6000_0000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4) >>> 31, 1, 'OVFLG toggled');
  assert.equal(t.smmu.read(REG.GERROR, 4), 0, 'overflow is not a global error');
  port.read(0x6000_1000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4) >>> 31, 1, 'not toggled again before acknowledgement');
  // Linux: consume, write CONS with OVACKFLG = OVFLG.
  t.smmu.write(REG.EVENTQ_CONS, 4, 0x8000_0002);
  port.read(0x6000_2000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 0x8000_0003);
  assert.equal(t.smmu.eventStats.overflowed, 2);
  assert.equal(irq.n, 2, 'the queue was empty again (CONS = PROD) when the third record arrived');
});

test('events are discarded while EVENTQEN=0; an event-queue write abort is GERROR.EVENTQ_ABT_ERR', () => {
  const t = running();
  t.smmu.write(REG.CR0, 4, 0x9);
  t.smmu.dma(3, null).read(0x7000_0000, new Uint8Array(4));
  assert.equal(t.smmu.eventStats.discarded, 1);
  t.smmu.write(REG.CR0, 4, 0x1);
  t.smmu.write64(REG.EVENTQ_BASE, 0x1000_0000 | 3, 0); // outside RAM
  t.smmu.write(REG.CR0, 4, 0xd);
  t.smmu.dma(3, null).read(0x7000_0000, new Uint8Array(4));
  assert.equal((t.smmu.read(REG.GERROR, 4) ^ t.smmu.read(REG.GERRORN, 4)) & 0x4, 0x4);
});

test('GERROR MSI and wired gerror line; GERRORN toggle acknowledges', () => {
  const t = running();
  const g = counter();
  t.smmu.connectIrqs({ gerror: g });
  t.smmu.write64(REG.GERROR_IRQ_CFG0, 0x0809_0040, 0);
  t.smmu.write(REG.GERROR_IRQ_CFG1, 4, 7);
  t.smmu.write(REG.IRQ_CTRL, 4, 0x1);
  t.smmu.msiDeviceId = 0x42;
  t.cmd([0xffn, 0n]);
  assert.equal(g.n, 1);
  assert.deepEqual(t.msis.at(-1), [0x0809_0040, 7, 0x42]);
  assert.equal(t.smmu.cmdqErrorActive(), true);
  // Acknowledging without fixing the command re-executes it and errors again (CONS stays on it).
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  assert.equal(t.smmu.cmdqErrorActive(), true);
  assert.equal(g.n, 2);
  t.b.write64(t.cmdq, 0x46n); // overwrite with CMD_SYNC, then acknowledge
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  assert.equal(t.smmu.cmdqErrorActive(), false);
  assert.equal(t.smmu.read(REG.CMDQ_CONS, 4), 1);
});

test('cache staleness: a rewritten STE/CD and a remapped page are used until CFGI/TLBI, not after', () => {
  const t = running();
  t.b.map4k(t.pgd, 0x30000, RAM + 0xb0_0000, PTE_RW);
  const port = t.smmu.dma(3, null);
  assert.equal(port.write(0x30000, new Uint8Array([0xaa])), null);
  assert.equal(t.mem.read8(RAM + 0xb0_0000), 0xaa);
  // Remap the page to a new PA: stale until TLBI_NH_ASID.
  t.b.map4k(t.pgd, 0x30000, RAM + 0xc0_0000, PTE_RW);
  port.write(0x30000, new Uint8Array([0xbb]));
  assert.equal(t.mem.read8(RAM + 0xb0_0000), 0xbb, 'stale translation used');
  t.cmd(encodeCommand('TLBI_NH_ASID', { ASID: 1 }));
  t.cmd(encodeCommand('SYNC', { CS: 0 }));
  port.write(0x30000, new Uint8Array([0xcc]));
  assert.equal(t.mem.read8(RAM + 0xc0_0000), 0xcc, 'new translation after TLBI');
  // Turn the STE into abort: the cached STE is used until CFGI_STE.
  t.b.writeWords(t.st.base + 3 * 64, t.b.abortSte());
  t.cmd(encodeCommand('TLBI_NH_ALL', {}));
  assert.equal(port.write(0x30000, new Uint8Array([1])), null, 'cached STE still translates');
  t.cmd(encodeCommand('CFGI_STE', { SID: 3, LEAF: 1 }));
  assert.equal(port.write(0x30000, new Uint8Array([1]))?.reason, 'abort', 'STE abort after CFGI_STE: silent');
});

test('translateMsi: a device MSI is translated as a write and forwarded with its DeviceID', () => {
  const t = running();
  t.b.map4k(t.pgd, 0xffff_f000, 0x0809_0000, 0x0060000000000e4bn); // Linux doorbell PTE
  const got: [number, number, number | null][] = [];
  const sink = { msiWrite: (a: number, d: number, id: number | null): MsiOutcome => (got.push([a, d, id]), 'delivered') };
  assert.equal(t.smmu.translateMsi(3, 0xffff_f040, 5, 0x18, sink), 'delivered');
  assert.deepEqual(got, [[0x0809_0040, 5, 0x18]]);
  assert.equal(t.smmu.translateMsi(3, 0x0800_0040, 5, 0x18, sink), 'aborted');
  assert.equal(t.smmu.eventStats.written, 1);
});

test('save/restore round-trips the whole register state through JSON', () => {
  const t = running();
  t.smmu.write(REG.IRQ_CTRL, 4, 0x5);
  t.cmd(encodeCommand('SYNC', { CS: 0 }));
  const json = JSON.parse(JSON.stringify(t.smmu.saveState()));
  assert.equal(json.registers.CMDQ_BASE, '0x' + (BigInt(t.cmdq) | 4n).toString(16));
  const other = make();
  const b2 = new SmmuV3(t.mem, {});
  b2.restoreState(json);
  for (const r of REGISTERS) assert.equal(b2.register(r.name), t.smmu.register(r.name), r.name);
  void other;
  // The restored SMMU translates through the same tables.
  t.b.map4k(t.pgd, 0x40000, RAM + 0xd0_0000, PTE_RW);
  assert.equal(b2.dma(3, null).write(0x40000, new Uint8Array([9])), null);
  assert.equal(t.mem.read8(RAM + 0xd0_0000), 9);
  assert.throws(() => b2.restoreState({ kind: 'x' }));
  b2.reset();
  assert.equal(b2.read(REG.CR0, 4), 0);
});

test('fuzz: random MMIO writes (any offset, size, value) never throw and leave the device usable', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0x1ffff }), fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff_ffff })), { maxLength: 60 }),
      (ops) => {
        const t = running();
        for (const [off, size, lo, hi] of ops) {
          const o = off & ~(size === 8 ? 7 : size === 1 ? 0 : size - 1);
          if (size === 8) t.smmu.write64(o, lo, hi);
          else t.smmu.write(o, size as 1 | 2 | 4, lo);
          t.smmu.dma(3, null).write(0x1000, new Uint8Array(4));
        }
        for (let off = 0; off < 0x200; off += 4) assert.ok(t.smmu.read(off, 4) >= 0);
      },
    ),
    { numRuns: 150 },
  );
});

test('PRI queue (IDR0.PRI = 1): records, interrupt, PRI_RESP, overflow auto-responses, rejection when disabled', () => {
  const f = { ...DEFAULT_FEATURES, pri: true, priqLog2: 8 };
  const t = running(f);
  const responses: string[] = [];
  t.smmu.onPriResponse = (sid, ssid, prg, code, auto) => responses.push(`${sid}/${ssid}/${prg}/${code}/${auto}`);
  const req = { sid: 3, ssid: 5, address: 0x1234_5000, read: true, write: true, last: true, prgIndex: 7 };
  assert.equal(t.smmu.pageRequest(req), 'rejected', 'PRIQEN = 0');
  assert.deepEqual(responses, ['3/null/7/15/true'], '§8.2: Response Failure without a PASID prefix');
  const priq = t.b.alloc(16 * 2, 32);
  t.smmu.write64(REG.PRIQ_BASE, priq | 1, 0); // 2 entries
  t.smmu.write(REG.PRIQ_PROD, 4, 0);
  t.smmu.write(REG.PRIQ_CONS, 4, 0);
  t.smmu.write(REG.CR0, 4, 0xf);
  const line = counter();
  t.smmu.connectIrqs({ priq: line });
  t.smmu.write(REG.IRQ_CTRL, 4, 0x7);
  assert.equal(t.smmu.pageRequest(req), 'queued');
  assert.equal(line.n, 1);
  // Linux's decode: SID [31:0], SSID [51:32], R [60], W [61], Last [62], SSV [63]; PRGIndex, address.
  assert.equal(t.b.read64(priq), (1n << 63n) | (1n << 62n) | (1n << 61n) | (1n << 60n) | (5n << 32n) | 3n);
  assert.equal(t.b.read64(priq + 8), 0x1234_5000n | 7n);
  assert.equal(t.smmu.pageRequest({ ...req, last: false }), 'queued');
  assert.equal(t.smmu.pageRequest(req), 'discarded', 'full -> overflow');
  assert.equal(t.smmu.read(REG.PRIQ_PROD, 4) >>> 31, 1);
  assert.equal(t.smmu.pageRequest(req), 'discarded', 'overflow active');
  assert.deepEqual(responses.slice(1), ['3/5/7/0/true', '3/5/7/0/true']);
  t.smmu.write(REG.PRIQ_CONS, 4, 0x8000_0002); // consume + acknowledge
  assert.equal(t.smmu.pageRequest(req), 'queued');
  t.cmd(encodeCommand('PRI_RESP', { SID: 3, SSV: 1, SSID: 5, PRGINDEX: 7, RESP: 2 }));
  assert.deepEqual(responses.at(-1), '3/5/7/0/false');
});

test('stall model: a stalling fault records STALL+STAG, CMD_RESUME retires it, a wrong STAG is a no-op', () => {
  const f = { ...DEFAULT_FEATURES, stallModel: 'stall' as const, termModel: false, stallMax: 4 };
  const t = running(f);
  // Make the CD stall on faults (CD.S = 1), then invalidate the cached CD.
  const cd = Number(t.b.read64(t.st.base + 3 * 64) & 0x000f_ffff_ffff_ffc0n);
  t.b.write64(cd, t.b.read64(cd) | (1n << 44n));
  t.cmd(encodeCommand('CFGI_CD', { SID: 3, LEAF: 1 }));
  const fault = t.smmu.dma(3, null).read(0x9000_0000, new Uint8Array(4));
  assert.equal(fault?.reason, 'stalled');
  assert.equal(t.smmu.stalls.size, 1);
  const ev = decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + 8 * i)));
  assert.equal(ev.stall, true);
  t.cmd(encodeCommand('RESUME', { SID: 4, STAG: ev.stag, AC: 1 }));
  assert.equal(t.smmu.stalls.size, 1, 'wrong StreamID: no effect');
  t.cmd(encodeCommand('RESUME', { SID: 3, STAG: ev.stag, AC: 0, AB: 1 }));
  assert.equal(t.smmu.stalls.size, 0);
  assert.deepEqual(t.smmu.stalls.resolved(), [{ sid: 3, stag: ev.stag, action: 'terminate-abort' }]);
});

test('property: the event queue matches a simple reference queue (records, wrap, overflow flag, acknowledgement)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.oneof(fc.constant<['fault']>(['fault']), fc.tuple(fc.constant('consume' as const), fc.integer({ min: 0, max: 8 }), fc.boolean())), { maxLength: 60 }),
      (log2, ops) => {
        const t = running(DEFAULT_FEATURES, log2);
        const size = 1 << log2;
        // Reference: a list of pending IOVAs, a PROD/CONS pair with wrap, and the overflow flag pair.
        let prod = 0;
        let cons = 0;
        let ovf = 0;
        let ack = 0;
        const slots: number[] = new Array(size).fill(-1);
        let n = 0;
        for (const op of ops) {
          if (op[0] === 'fault') {
            const iova = 0x7000_0000 + n++ * 0x1000;
            t.smmu.dma(3, null).read(iova, new Uint8Array(1));
            const count = (prod - cons + 2 * size) % (2 * size);
            if (count === size) {
              if (ovf === ack) ovf ^= 1;
            } else {
              slots[prod % size] = iova;
              prod = (prod + 1) % (2 * size);
            }
          } else {
            const count = (prod - cons + 2 * size) % (2 * size);
            cons = (cons + Math.min(op[1], count)) % (2 * size);
            if (op[2]) ack = ovf;
            t.smmu.write(REG.EVENTQ_CONS, 4, ((ack << 31) | cons) >>> 0);
          }
          assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), ((ovf << 31) | prod) >>> 0);
        }
        for (let i = 0; i < size; i++) {
          if (slots[i] === -1) continue;
          assert.equal(t.b.read64(t.evtq + i * 32 + 16), BigInt(slots[i]!), `slot ${i}`);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('cache staleness through the command queue: the wrong invalidation keeps stale entries, the right one removes them', () => {
  const t = running();
  t.b.map4k(t.pgd, 0x50000, RAM + 0xe0_0000, PTE_RW);
  const port = t.smmu.dma(3, null);
  assert.equal(port.write(0x50000, new Uint8Array([1])), null);
  t.b.unmap4k(t.pgd, 0x50000);
  // TLBI for another ASID, and for another page of this ASID: the entry stays.
  t.cmd(encodeCommand('TLBI_NH_ASID', { ASID: 2 }));
  t.cmd(encodeCommand('TLBI_NH_VA', { ASID: 1, VA: 0x51n, LEAF: 1 }));
  assert.equal(port.write(0x50000, new Uint8Array([2])), null, 'still stale');
  // Range TLBI (RIL) covering it: gone.
  t.cmd(encodeCommand('TLBI_NH_VA', { ASID: 1, VA: 0x4fn, TG: 1, NUM: 1, SCALE: 0, TTL: 3, LEAF: 1 }));
  assert.equal(port.write(0x50000, new Uint8Array([3]))?.reason, 'F_TRANSLATION');
  // CD change (new ASID and table) is used only after CFGI_CD.
  const pgd2 = t.b.newPgd();
  t.b.map4k(pgd2, 0x50000, RAM + 0xf0_0000, PTE_RW);
  const cd = Number(t.b.read64(t.st.base + 3 * 64) & 0x000f_ffff_ffff_ffc0n);
  t.b.writeWords(cd, t.b.linuxCd(7, pgd2, 5));
  assert.equal(port.write(0x50000, new Uint8Array([4]))?.reason, 'F_TRANSLATION', 'cached CD still points at the old table');
  t.cmd(encodeCommand('CFGI_CD', { SID: 3, SSID: 0, LEAF: 1 }));
  assert.equal(port.write(0x50000, new Uint8Array([5])), null);
  assert.equal(t.mem.read8(RAM + 0xf0_0000), 5);
  // CFGI_ALL drops everything.
  t.b.writeWords(t.st.base + 3 * 64, t.b.bypassSte());
  t.cmd(encodeCommand('CFGI_STE_RANGE', { RANGE: 31 }));
  assert.equal(port.write(RAM + 0x10, new Uint8Array([6])), null, 'bypass after CFGI_ALL');
  assert.equal(t.mem.read8(RAM + 0x10), 6);
});

test('property: DMA port writes and reads equal a byte-by-byte reference over random mappings', () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(fc.integer({ min: 0, max: 15 }), { nil: null }), { minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 8 * 4096 - 1 }),
      fc.integer({ min: 0, max: 3 * 4096 }),
      (map, off, len) => {
        const t = running();
        const POOL = RAM + 0xc0_0000;
        const used = new Set<number>();
        const pages = map.map((p) => (p === null || used.has(p) ? null : (used.add(p), p)));
        pages.forEach((p, i) => {
          if (p !== null) t.b.map4k(t.pgd, 0x100000 + i * 4096, POOL + p * 4096, PTE_RW);
        });
        const data = new Uint8Array(len).map((_, i) => (i * 31 + 7) & 0xff);
        const before = new Uint8Array(t.mem.bytesAt(POOL, 16 * 4096)!);
        // Reference: byte by byte.
        const expect = new Uint8Array(before);
        let fault: { iova: number; done: number } | null = null;
        for (let i = 0; i < len; i++) {
          const a = off + i;
          const pg = Math.floor(a / 4096);
          const p = pg < 8 ? pages[pg]! : null;
          if (p === null) {
            fault = { iova: 0x100000 + a, done: i };
            break;
          }
          expect[p * 4096 + (a % 4096)] = data[i]!;
        }
        const f = t.smmu.dma(3, null).write(0x100000 + off, data);
        assert.deepEqual(f === null ? null : { iova: f.iova, done: f.done }, fault);
        assert.deepEqual(new Uint8Array(t.mem.bytesAt(POOL, 16 * 4096)!), expect);
        const back = new Uint8Array(len);
        const r = t.smmu.dma(3, null).read(0x100000 + off, back);
        assert.deepEqual(r === null ? null : { iova: r.iova, done: r.done }, fault);
        const n = fault === null ? len : fault.done;
        assert.deepEqual(back.subarray(0, n), data.subarray(0, n));
      },
    ),
    { numRuns: 80 },
  );
});

test('substream DMA ports: dma(sid, ssid) uses the CD at index ssid; an out-of-range SSID is C_BAD_SUBSTREAMID', () => {
  const t = running();
  const cds = t.b.alloc(8 * 64, 512);
  const pgd2 = t.b.newPgd();
  t.b.map4k(pgd2, 0x7000, RAM + 0x70_0000, PTE_RW);
  t.b.writeWords(cds, t.b.linuxCd(1, t.pgd, 5));
  t.b.writeWords(cds + 2 * 64, t.b.linuxCd(9, pgd2, 5));
  t.b.writeWords(t.st.base + 5 * 64, t.b.s1Ste(cds, 3)); // S1CDMax = 3: 8 CDs
  assert.equal(t.smmu.dma(5, 2).write(0x7000, new Uint8Array([0x5a])), null);
  assert.equal(t.mem.read8(RAM + 0x70_0000), 0x5a);
  assert.equal(t.smmu.dma(5, 9).write(0x7000, new Uint8Array([1]))?.reason, 'C_BAD_SUBSTREAMID');
  assert.equal(t.smmu.dma(5, null).write(0x7000, new Uint8Array([1]))?.reason, 'F_TRANSLATION', 'untagged uses CD 0 (S1DSS = SSID0)');
  const evs = [0, 1].map((k) => decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + k * 32 + 8 * i))));
  assert.deepEqual(evs.map((e) => [e.type, e.sid, e.ssid]), [[EVT.C_BAD_SUBSTREAMID, 5, 9], [EVT.F_TRANSLATION, 5, 0]]);
});

// ---------------------------------------------------------------- spec-conformance review fixes

test('guarded registers ignore writes while their enable is set (§6.3.11-12, 6.3.21, 6.3.24-29, 6.3.33, 6.3.95; v3.2+ IGNORED)', () => {
  const t = running();
  const { smmu } = t;
  const page = t.b.alloc(4096, 4096);
  const probe = (): number | null => {
    const buf = new Uint8Array(4);
    return smmu.dma(3, null).read(0x1000, buf) === null ? 0 : null;
  };
  t.b.map4k(t.pgd, 0x1000, page, PTE_RW);
  assert.equal(probe(), 0, 'mapped before the test');
  const before = new Map<number, number>();
  const guarded = [REG.CR1, REG.CR2, REG.STRTAB_BASE, REG.STRTAB_BASE + 4, REG.STRTAB_BASE_CFG, REG.CMDQ_BASE, REG.CMDQ_BASE + 4, REG.CMDQ_CONS, REG.EVENTQ_BASE, REG.EVENTQ_PROD];
  for (const off of guarded) before.set(off, smmu.read(off, 4));
  for (const off of guarded) smmu.write(off, 4, 0x0000_0003);
  smmu.write64(REG.STRTAB_BASE, 0x1000_0000, 0);
  for (const off of guarded) assert.equal(smmu.read(off, 4), before.get(off), `0x${off.toString(16)} ignored`);
  assert.equal(probe(), 0, 'translation still uses the original stream table');
  // Not guarded: the consumer-owned EVENTQ_CONS and CMDQ_PROD.
  smmu.write(REG.EVENTQ_CONS, 4, 0);
  assert.equal(smmu.read(REG.EVENTQ_CONS, 4), 0);
  // IRQ_CFG registers are guarded by their IRQ_CTRL enable.
  smmu.write(REG.IRQ_CTRL, 4, 0x5);
  smmu.write64(REG.EVENTQ_IRQ_CFG0, 0x4000_0000, 0);
  smmu.write(REG.GERROR_IRQ_CFG1, 4, 0x55);
  assert.equal(smmu.read(REG.EVENTQ_IRQ_CFG0, 4), 0);
  assert.equal(smmu.read(REG.GERROR_IRQ_CFG1, 4), 0);
  smmu.write(REG.IRQ_CTRL, 4, 0);
  smmu.write(REG.GERROR_IRQ_CFG1, 4, 0x55);
  assert.equal(smmu.read(REG.GERROR_IRQ_CFG1, 4), 0x55);
  // CR1: TABLE_* guarded by SMMUEN, QUEUE_* by the queue enables (§6.3.11).
  smmu.write(REG.CR0, 4, 0x1); // queues off, SMMUEN on
  smmu.write(REG.CR1, 4, 0xfff);
  assert.equal(smmu.read(REG.CR1, 4), (before.get(REG.CR1)! & 0xfc0) | 0x3f);
  smmu.write(REG.CR0, 4, 0);
  smmu.write(REG.CR2, 4, 0x2);
  assert.equal(smmu.read(REG.CR2, 4), 0x2, 'writable with SMMUEN = 0');
  // SMMUv3.1 (the qemu-7.2 profile): taking the write is one of the permitted behaviours, as QEMU
  // does; the SMMU-owned CMDQ_CONS stays read-only while CMDQEN = 1.
  const q = running(QEMU_7_2_FEATURES);
  q.smmu.write(REG.STRTAB_BASE_CFG, 4, 0x7);
  assert.equal(q.smmu.read(REG.STRTAB_BASE_CFG, 4), 0x7);
  q.smmu.write(REG.CMDQ_CONS, 4, 5);
  assert.equal(q.smmu.read(REG.CMDQ_CONS, 4), 0);
});

test('CMD_PRI_RESP Resp: 0b00 ResponseFailure, 0b01 InvalidRequest, 0b10 Success (§4.5.2)', () => {
  const t = running({ ...DEFAULT_FEATURES, pri: true, priqLog2: 8 });
  const codes: number[] = [];
  t.smmu.onPriResponse = (_sid, _ssid, _prg, code, auto) => {
    if (!auto) codes.push(code);
  };
  for (const resp of [0, 1, 2]) t.cmd(encodeCommand('PRI_RESP', { SID: 3, PRGINDEX: 1, RESP: resp }));
  assert.deepEqual(codes, [0b1111, 0b0001, 0b0000]);
});

test('PRI queue interrupt: empty -> non-empty, or only Last = 1 messages with PRIQ_IRQ_CFG2.LO (§3.18.2, §6.3.36)', () => {
  const t = running({ ...DEFAULT_FEATURES, pri: true, priqLog2: 8 });
  const priq = t.b.alloc(16 * 4, 64);
  t.smmu.write64(REG.PRIQ_BASE, priq | 2, 0); // 4 entries
  t.smmu.write(REG.CR0, 4, 0xf);
  const line = counter();
  t.smmu.connectIrqs({ priq: line });
  t.smmu.write(REG.IRQ_CTRL, 4, 0x2);
  const req = { sid: 3, ssid: null, address: 0x5000, read: true, write: false, last: false, prgIndex: 1 };
  t.smmu.pageRequest(req);
  t.smmu.pageRequest(req);
  assert.equal(line.n, 1, 'only the empty -> non-empty transition');
  t.smmu.write(REG.IRQ_CTRL, 4, 0);
  t.smmu.write(REG.PRIQ_IRQ_CFG2, 4, 0x8000_0000);
  assert.equal(t.smmu.read(REG.PRIQ_IRQ_CFG2, 4), 0x8000_0000, 'LO is a stored field');
  t.smmu.write(REG.PRIQ_CONS, 4, 2); // empty again
  t.smmu.write(REG.IRQ_CTRL, 4, 0x2);
  t.smmu.pageRequest(req);
  assert.equal(line.n, 1, 'LO: no interrupt for Last = 0');
  t.smmu.pageRequest({ ...req, last: true });
  assert.equal(line.n, 2, 'LO: interrupt for Last = 1');
  t.smmu.pageRequest(req);
  t.smmu.pageRequest(req);
  t.smmu.pageRequest({ ...req, last: true }); // full: discarded by overflow, still interrupts
  assert.equal(t.smmu.read(REG.PRIQ_PROD, 4) >>> 31, 1);
  assert.equal(line.n, 3);
});

test('SMMUEN 1 -> 0 terminates every stalled transaction with abort (§6.3.9.6)', () => {
  const f = { ...DEFAULT_FEATURES, stallModel: 'stall' as const, termModel: false, stallMax: 4 };
  const t = running(f);
  const cd = Number(t.b.read64(t.st.base + 3 * 64) & 0x000f_ffff_ffff_ffc0n);
  t.b.write64(cd, t.b.read64(cd) | (1n << 44n));
  t.cmd(encodeCommand('CFGI_CD', { SID: 3, LEAF: 1 }));
  assert.equal(t.smmu.dma(3, null).read(0x9000_0000, new Uint8Array(4))?.reason, 'stalled');
  assert.equal(t.smmu.stalls.size, 1);
  t.smmu.write(REG.CR0, 4, 0xc);
  assert.equal(t.smmu.stalls.size, 0);
  assert.equal(t.smmu.stalls.resolved()[0]?.action, 'terminate-abort');
});

test('an unacknowledged EVENTQ_ABT_ERR makes the event queue unwritable until GERRORN acknowledges it (§7.2.1)', () => {
  const t = running();
  const good = t.smmu.read(REG.EVENTQ_BASE, 4);
  t.smmu.write(REG.CR0, 4, 0x9);
  t.smmu.write64(REG.EVENTQ_BASE, 0x1000_0000 | 3, 0); // outside RAM
  t.smmu.write(REG.CR0, 4, 0xd);
  const port = t.smmu.dma(3, null);
  port.read(0x7000_0000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.GERROR, 4) & 0x4, 0x4, 'EVENTQ_ABT_ERR active');
  // Software repairs the queue but has not acknowledged the error yet.
  t.smmu.write(REG.CR0, 4, 0x9);
  t.smmu.write(REG.EVENTQ_BASE, 4, good);
  t.smmu.write(REG.CR0, 4, 0xd);
  port.read(0x7000_1000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 0, 'not written while the abort is unacknowledged');
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4) >>> 31, 0, 'and no overflow');
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  port.read(0x7000_2000, new Uint8Array(4));
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 1);
  assert.equal(decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + 8 * i))).inputLo, 0x7000_2000);
});

test('a stall record that finds the queue full is not discarded, does not overflow, and is written once there is room (§7.4, §3.12.2)', () => {
  const f = { ...DEFAULT_FEATURES, stallModel: 'stall' as const, termModel: false, stallMax: 4 };
  const t = running(f, 1); // 2 entries
  const port = t.smmu.dma(3, null);
  port.read(0x5000_0000, new Uint8Array(4));
  port.read(0x5000_1000, new Uint8Array(4)); // queue full (terminate model for now: CD.S = 0)
  const cd = Number(t.b.read64(t.st.base + 3 * 64) & 0x000f_ffff_ffff_ffc0n);
  t.b.write64(cd, t.b.read64(cd) | (1n << 44n));
  t.cmd(encodeCommand('CFGI_CD', { SID: 3, LEAF: 1 }));
  assert.equal(port.read(0x9000_0000, new Uint8Array(4))?.reason, 'stalled');
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4) >>> 31, 0, 'a stall record never causes an overflow');
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 2);
  t.smmu.write(REG.EVENTQ_CONS, 4, 2); // software consumed both records
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 3, 'the held stall record is written');
  const ev = decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + 8 * i)));
  assert.equal(ev.stall, true);
  assert.equal(ev.inputLo, 0x9000_0000);
  assert.ok(t.smmu.stalls.size === 1);
  t.cmd(encodeCommand('RESUME', { SID: 3, STAG: ev.stag, AC: 1 }));
  assert.equal(t.smmu.stalls.size, 0);
});

test('save/restore keeps a stall record that is waiting for the event queue (§3.12.2)', () => {
  const f = { ...DEFAULT_FEATURES, stallModel: 'stall' as const, termModel: false, stallMax: 4 };
  const t = running(f, 1);
  const port = t.smmu.dma(3, null);
  const cd = Number(t.b.read64(t.st.base + 3 * 64) & 0x000f_ffff_ffff_ffc0n);
  t.b.write64(cd, t.b.read64(cd) | (1n << 44n));
  t.cmd(encodeCommand('CFGI_CD', { SID: 3, LEAF: 1 }));
  t.smmu.write(REG.CR0, 4, 0x9); // event queue disabled: the stall record is held
  assert.equal(port.read(0x9000_0000, new Uint8Array(4))?.reason, 'stalled');
  assert.equal(t.smmu.read(REG.EVENTQ_PROD, 4), 0);
  const copy = new SmmuV3(t.mem, { features: f });
  copy.restoreState(JSON.parse(JSON.stringify(t.smmu.saveState())));
  copy.write(REG.CR0, 4, 0xd);
  assert.equal(copy.read(REG.EVENTQ_PROD, 4), 1, 'written once the queue is enabled');
  const ev = decodeEvent([0, 1, 2, 3].map((i) => t.b.read64(t.evtq + 8 * i)));
  assert.equal(ev.stall, true);
  assert.equal(copy.stalls.snapshot()[0]?.stag, ev.stag);
});

test('an active PRIQ_ABT_ERR discards every PPR with an automatic Response Failure without PASID (§8.2); IDR3.PPS with PRI', () => {
  const f = { ...DEFAULT_FEATURES, pri: true, priqLog2: 8 };
  assert.equal((deriveIdRegisters(f).idr3 >>> 5) & 1, 1, 'PPS: overflow auto-responses carry the PASID (§8.1)');
  assert.equal((deriveIdRegisters(DEFAULT_FEATURES).idr3 >>> 5) & 1, 0, 'RES0 without PRI');
  const t = running(f);
  const responses: string[] = [];
  t.smmu.onPriResponse = (sid, ssid, prg, code, auto) => responses.push(`${sid}/${ssid}/${prg}/${code}/${auto}`);
  t.smmu.write64(REG.PRIQ_BASE, 0x1000_0000 | 2, 0); // outside RAM
  t.smmu.write(REG.CR0, 4, 0xf);
  const req = { sid: 3, ssid: 5, address: 0x5000, read: true, write: false, last: true, prgIndex: 2 };
  assert.equal(t.smmu.pageRequest(req), 'discarded');
  assert.equal(t.smmu.read(REG.GERROR, 4) & 0x8, 0x8, 'PRIQ_ABT_ERR');
  const priq = t.b.alloc(16 * 4, 64);
  t.smmu.write(REG.CR0, 4, 0xd);
  t.smmu.write64(REG.PRIQ_BASE, priq | 2, 0);
  t.smmu.write(REG.CR0, 4, 0xf);
  assert.equal(t.smmu.pageRequest(req), 'rejected', 'not written while PRIQ_ABT_ERR is active');
  assert.equal(t.smmu.read(REG.PRIQ_PROD, 4), 0);
  assert.deepEqual(responses, ['3/null/2/15/true', '3/null/2/15/true']);
  t.smmu.write(REG.GERRORN, 4, t.smmu.read(REG.GERROR, 4));
  assert.equal(t.smmu.pageRequest(req), 'queued');
});

test('out of stall slots: the evicted oldest stall is reported as terminated, not lost silently', async () => {
  const { StallTable } = await import('./stall.js');
  const s = new StallTable({ ...DEFAULT_FEATURES, stallModel: 'stall', stallMax: 1 });
  const a = s.add(7);
  s.add(8);
  assert.equal(s.size, 1);
  assert.deepEqual(s.resolved(), [{ sid: 7, stag: a, action: 'terminate-abort' }]);
});

test('CMDQ_CONS.RD bits above the wrap flag are RAZ (§6.3.28)', () => {
  const { smmu } = make();
  smmu.write64(REG.CMDQ_BASE, 0x4010_0000 | 4, 0); // 16 entries: index [3:0], wrap bit 4
  smmu.write(REG.CMDQ_CONS, 4, 0xf_ffff);
  assert.equal(smmu.read(REG.CMDQ_CONS, 4), 0x1f);
});

test('a Stop PASID marker never gets an automatic PRG response (§8.1, §8.2)', () => {
  const t = running({ ...DEFAULT_FEATURES, pri: true, priqLog2: 8 });
  const responses: string[] = [];
  t.smmu.onPriResponse = (sid, ssid, prg, code) => responses.push(`${sid}/${ssid}/${prg}/${code}`);
  const stop = { sid: 3, ssid: 5, address: 0, read: false, write: false, last: true, prgIndex: 0 };
  assert.equal(t.smmu.pageRequest(stop), 'rejected', 'PRIQEN = 0');
  const priq = t.b.alloc(16, 32);
  t.smmu.write64(REG.PRIQ_BASE, priq | 0, 0); // one entry
  t.smmu.write(REG.CR0, 4, 0xf);
  assert.equal(t.smmu.pageRequest({ ...stop, read: true }), 'queued');
  assert.equal(t.smmu.pageRequest(stop), 'discarded', 'overflow');
  assert.deepEqual(responses, [], 'no response to a Stop Marker');
  assert.equal(t.smmu.pageRequest({ ...stop, read: true }), 'discarded');
  assert.deepEqual(responses, ['3/5/0/0'], 'a Page Request with Last = 1 still gets its automatic Success');
});
