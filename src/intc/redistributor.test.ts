// Redistributor LPI side and distributor subset: register file (GICR_TYPER, WAKER, PROPBASER,
// PENDBASER read-back, EnableLPIs), DirectLPI registers, acknowledge, EnableLPIs scans, INTID
// range checks; GICD_TYPER/CTLR. Values from Linux 6.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { GicV3 } from './gicv3.js';
import { LpiRecorder } from './sinks.js';
import { GICR } from '../spec/gic/redistributor-registers.js';
import { GICD } from '../spec/gic/distributor-registers.js';
import { ID_REGS } from '../spec/gic/gic-common.js';
import { UserInputError } from '../util/errors.js';
import { read64, write64 } from '../../test/support/its-kit.js';

const PROP = 0x4010_0000;
const PEND = 0x4020_0000;

function rig(opts: { directLpi?: boolean; peCount?: number; idBits?: number } = {}) {
  const mem = new GuestMemory();
  mem.addRam(0x4000_0000, 0x0100_0000);
  const sink = new LpiRecorder();
  const gic = new GicV3(mem, { peCount: opts.peCount ?? 2, lpiSink: sink, directLpi: opts.directLpi ?? false, ...(opts.idBits ? { idBits: opts.idBits } : {}) });
  mem.writeBytes(PROP, new Uint8Array(0x1_0000).fill(0xa2));
  return { mem, gic, sink, region: gic.redistributorRegion };
}

function enableLpis(r: ReturnType<typeof rig>, cpu: number, pend = PEND + cpu * 0x1_0000): void {
  const o = cpu * 0x2_0000;
  write64(r.region, o + GICR.PROPBASER, 0x4010_078fn);
  write64(r.region, o + GICR.PENDBASER, BigInt(pend) | 0x780n);
  r.region.write(o + GICR.CTLR, 4, 1);
}

test('GICR_TYPER: PLPIS, DirectLPI, Last, Processor_Number, affinity; PIDR2 ArchRev 3', () => {
  const r = rig({ peCount: 20, directLpi: true });
  for (const pe of [0, 5, 19]) {
    const t = read64(r.region, pe * 0x2_0000 + GICR.TYPER);
    assert.equal(t & 1n, 1n);
    assert.equal((t >> 3n) & 1n, 1n);
    assert.equal((t >> 4n) & 1n, pe === 19 ? 1n : 0n);
    assert.equal(Number((t >> 8n) & 0xffffn), pe);
    assert.equal(Number(t >> 32n), ((pe >> 4) << 8) | (pe & 15), 'Aff1.Aff0 as QEMU virt');
    assert.equal((r.region.read(pe * 0x2_0000 + ID_REGS.PIDR2, 4) >> 4) & 0xf, 3);
  }
  assert.equal(read64(rig().region, GICR.TYPER) & 8n, 0n, 'no DirectLPI by default');
});

test('WAKER: ProcessorSleep resets to 1; ChildrenAsleep follows it', () => {
  const r = rig();
  assert.equal(r.region.read(GICR.WAKER, 4), 6);
  r.region.write(GICR.WAKER, 4, 0);
  assert.equal(r.region.read(GICR.WAKER, 4), 0);
});

test('PROPBASER/PENDBASER read back as written; PTZ reads 0; WI while EnableLPIs = 1', () => {
  const r = rig();
  write64(r.region, GICR.PROPBASER, 0x0000_0000_4010_078fn);
  assert.equal(read64(r.region, GICR.PROPBASER), 0x0000_0000_4010_078fn);
  write64(r.region, GICR.PENDBASER, 0x4000_0000_4020_0780n);
  assert.equal(read64(r.region, GICR.PENDBASER), 0x0000_0000_4020_0780n);
  // RES0 bits are dropped.
  write64(r.region, GICR.PROPBASER, 0xffff_ffff_ffff_ffffn);
  assert.equal(read64(r.region, GICR.PROPBASER), 0x070f_ffff_ffff_ff9fn);
  write64(r.region, GICR.PROPBASER, 0x4010_078fn);
  // GICR_CTLR.CES [1] = 1 (IHI 0069 §12.11.2): EnableLPIs can be cleared once set.
  assert.equal(r.region.read(GICR.CTLR, 4), 0b10, 'EnableLPIs boots 0, CES = 1');
  r.region.write(GICR.CTLR, 4, 1);
  assert.equal(r.region.read(GICR.CTLR, 4), 0b11);
  write64(r.region, GICR.PROPBASER, 0x4050_078fn);
  assert.equal(read64(r.region, GICR.PROPBASER), 0x4010_078fn);
  // EnableLPIs can be cleared (Linux checks this at boot when it finds LPIs enabled).
  r.region.write(GICR.CTLR, 4, 0);
  assert.equal(r.region.read(GICR.CTLR, 4), 0b10);
});

test('pending state lives in the guest pending table; acknowledge clears it', () => {
  const r = rig();
  enableLpis(r, 0);
  const rd0 = r.gic.redistributors[0]!;
  r.mem.write8(PROP + 5, 0x63);
  assert.equal(rd0.setPending(8197), 'delivered');
  assert.equal(r.mem.read8(PEND + 1024), 1 << 5);
  assert.deepEqual(r.sink.pendingOn(0), [8197]);
  assert.equal(r.sink.priorityOf(0, 8197), 0x60);
  assert.equal(rd0.acknowledge(8197), true);
  assert.equal(rd0.acknowledge(8197), false);
  assert.equal(r.mem.read8(PEND + 1024), 0);
  assert.deepEqual(r.sink.pendingOn(0), []);
});

test('INTID range: below 8192, beyond PROPBASER.IDbits or GICD IDbits are dropped', () => {
  const r = rig({ idBits: 15 });
  enableLpis(r, 0); // PROPBASER.IDbits = 15 (16 bits) but the GIC implements 15 bits
  const rd0 = r.gic.redistributors[0]!;
  assert.equal(rd0.setPending(8191), 'dropped');
  assert.equal(rd0.setPending(2 ** 15), 'dropped');
  assert.equal(rd0.setPending(2 ** 15 - 1), 'delivered');
  assert.equal(rd0.lpiLimit(), 2 ** 15);
  // PROPBASER.IDbits < 13 means no LPIs at all.
  const r2 = rig();
  write64(r2.region, GICR.PROPBASER, 0x4010_0780n | 12n);
  write64(r2.region, GICR.PENDBASER, 0x4020_0780n);
  r2.region.write(GICR.CTLR, 4, 1);
  assert.equal(r2.gic.redistributors[0]!.setPending(8192), 'dropped');
});

test('EnableLPIs 0 -> 1 forwards LPIs already pending in the table; PTZ skips the scan; 1 -> 0 withdraws them', () => {
  const r = rig();
  r.mem.write8(PEND + 1024 + 2, 0x81); // LPIs 8208 and 8215
  r.mem.write8(PROP + 16, 0xa3);
  r.mem.write8(PROP + 23, 0xa3);
  enableLpis(r, 0);
  assert.deepEqual(r.sink.pendingOn(0), [8208, 8215]);
  r.region.write(GICR.CTLR, 4, 0);
  assert.deepEqual(r.sink.pendingOn(0), []);
  // PTZ = 1: software promises a zero table, nothing is scanned.
  write64(r.region, 0x2_0000 + GICR.PROPBASER, 0x4010_078fn);
  r.mem.write8(PEND + 0x1_0000 + 1024, 1);
  r.mem.write8(PROP, 0xa3);
  write64(r.region, 0x2_0000 + GICR.PENDBASER, 0x4000_0000_0000_0000n | BigInt(PEND + 0x1_0000) | 0x780n);
  r.region.write(0x2_0000 + GICR.CTLR, 4, 1);
  assert.deepEqual(r.sink.pendingOn(1), []);
});

test('DirectLPI: SETLPIR, CLRLPIR, INVLPIR, INVALLR, SYNCR', () => {
  const r = rig({ directLpi: true });
  enableLpis(r, 1);
  const o = 0x2_0000;
  write64(r.region, o + GICR.SETLPIR, 8192n);
  assert.equal(r.mem.read8(PEND + 0x1_0000 + 1024) & 1, 1);
  assert.deepEqual(r.sink.pendingOn(1), [], 'disabled: pending but not forwarded');
  r.mem.write8(PROP, 0xa3);
  write64(r.region, o + GICR.INVLPIR, 8192n);
  assert.equal(r.region.read(o + GICR.SYNCR, 4), 0, 'SYNCR.Busy = 0');
  assert.deepEqual(r.sink.pendingOn(1), [8192]);
  r.mem.write8(PROP, 0xa2);
  write64(r.region, o + GICR.INVALLR, 0n);
  assert.deepEqual(r.sink.pendingOn(1), []);
  write64(r.region, o + GICR.CLRLPIR, 8192n);
  assert.equal(r.mem.read8(PEND + 0x1_0000 + 1024) & 1, 0);
  // Without DirectLPI these registers are WI.
  const r2 = rig();
  enableLpis(r2, 0);
  write64(r2.region, GICR.SETLPIR, 8192n);
  assert.equal(r2.mem.read8(PEND + 1024), 0);
});

test('SGI_base frame and unknown offsets are RAZ/WI', () => {
  const r = rig();
  r.region.write(0x1_0080, 4, 0xffff_ffff);
  assert.equal(r.region.read(0x1_0080, 4), 0);
  assert.equal(r.region.read(GICR.CTLR, 1), 0);
  assert.equal(r.region.read(r.region.mmioSize + 8, 4), 0);
  r.region.write(r.region.mmioSize, 4, 1);
});

test('GICD: TYPER advertises LPIS and IDbits; CTLR keeps ARE and the group enables, DS reads 1', () => {
  const r = rig({ idBits: 16 });
  const t = r.gic.distributor.read(GICD.TYPER, 4);
  assert.equal((t >> 17) & 1, 1);
  assert.equal((t >> 19) & 0x1f, 15);
  assert.equal(t & 0x1f, 8, 'ITLinesNumber for 256 SPIs');
  r.gic.distributor.write(GICD.CTLR, 4, 0x13);
  assert.equal(r.gic.distributor.read(GICD.CTLR, 4), 0x53);
  assert.equal((r.gic.distributor.read(ID_REGS.PIDR2, 4) >> 4) & 0xf, 3);
  const noLpi = new GicV3(new GuestMemory(), { peCount: 1, lpis: false });
  assert.equal((noLpi.distributor.read(GICD.TYPER, 4) >> 17) & 1, 0);
  assert.equal(read64(noLpi.redistributorRegion, GICR.TYPER) & 1n, 0n);
  // GICD_TYPER.RSS [26] (IHI 0069 §12.9.38): 0 with the default Aff0 0..15, 1 when a PE's Aff0 > 15.
  assert.equal((t >>> 26) & 1, 0);
  const wide = new GicV3(new GuestMemory(), { peCount: 2, affinities: [0x0000, 0x0010] });
  assert.equal((wide.distributor.read(GICD.TYPER, 4) >>> 26) & 1, 1);
});

test('bad GIC configuration is a UserInputError naming the option', () => {
  const mem = new GuestMemory();
  assert.throws(() => new GicV3(mem, { peCount: 0 }), (e: unknown) => e instanceof UserInputError && /gic.peCount/.test(e.message));
  assert.throws(() => new GicV3(mem, { peCount: 1, idBits: 13 }), /gic.idBits/);
  assert.throws(() => new GicV3(mem, { peCount: 1, redistributorBase: 0x1234 }), /gic.redistributorBase/);
  assert.throws(() => new GicV3(mem, { peCount: 2, affinities: [0] }), /gic.affinities/);
});
