// ITS register file and Linux 6.1's ITS bring-up replayed (Linux 6.1), ending in an
// MSI that makes LPI 8192 pending on CPU 1; qemu-7.2 profile reset values (QEMU 7.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CBASER_LINUX,
  COLLECTION_BASER_LINUX,
  DEVICE_BASER_LINUX,
  PENDBASE,
  PENDBASER_LINUX,
  PROPBASER_LINUX,
  PROPBASE,
  initIts,
  initRedistributors,
  makeRig,
  post,
  creadr,
  read64,
  write64,
} from '../../test/support/its-kit.js';
import { GITS } from '../spec/gic/its-registers.js';
import { GICD } from '../spec/gic/distributor-registers.js';
import { GICR } from '../spec/gic/redistributor-registers.js';
import { ID_REGS } from '../spec/gic/gic-common.js';

test('qemu-7.2 profile reproduces QEMU 7.2 register values', () => {
  const { its } = makeRig({}, { profile: 'qemu-7.2' });
  assert.equal(read64(its, GITS.TYPER), 0x0000_001f_0001_efb1n);
  assert.equal(its.read(GITS.IIDR, 4), 0x43b);
  assert.equal(its.read(GITS.CTLR, 4), 0x8000_0000);
  assert.equal(its.read(ID_REGS.PIDR2, 4), 0x3b);
  assert.equal(its.read(ID_REGS.PIDR0, 4), 0x94);
  assert.equal(read64(its, GITS.BASER0), 0x0107_0000_0000_0200n);
  assert.equal(read64(its, GITS.BASER0 + 8), 0x0407_0000_0000_0200n);
  for (let n = 2; n < 8; n++) {
    assert.equal(read64(its, GITS.BASER0 + 8 * n), 0n, `BASER${n}`);
    write64(its, GITS.BASER0 + 8 * n, 0xffff_ffff_ffff_ffffn);
    assert.equal(read64(its, GITS.BASER0 + 8 * n), 0n, `BASER${n} is WI`);
  }
});

test('GITS_TYPER follows the configuration', () => {
  const { its } = makeRig({ redistributorBase: 0x0800_0000 }, { deviceIdBits: 20, eventIdBits: 10, ittEntrySize: 8, pta: true, hcc: 4, collectionIdBits: 8 });
  const t = read64(its, GITS.TYPER);
  assert.equal(t & 1n, 1n); // Physical
  assert.equal((t >> 4n) & 0xfn, 7n); // ITT_entry_size
  assert.equal((t >> 8n) & 0x1fn, 9n); // IDbits
  assert.equal((t >> 13n) & 0x1fn, 19n); // Devbits
  assert.equal((t >> 19n) & 1n, 1n); // PTA
  assert.equal((t >> 24n) & 0xffn, 4n); // HCC
  assert.equal((t >> 32n) & 0xfn, 7n); // CIDbits
  assert.equal((t >> 36n) & 1n, 1n); // CIL
});

test('BASER: every writable field reads back exactly; Type and Entry_Size are read-only', () => {
  const { its } = makeRig();
  write64(its, GITS.BASER0, DEVICE_BASER_LINUX);
  assert.equal(read64(its, GITS.BASER0), DEVICE_BASER_LINUX);
  // Page size probing as Linux does it: 64K, 16K, 4K all stick.
  for (const ps of [2n, 1n, 0n]) {
    const v = (DEVICE_BASER_LINUX & ~(3n << 8n)) | (ps << 8n);
    write64(its, GITS.BASER0, v);
    assert.equal(read64(its, GITS.BASER0), v);
  }
  // Type [58:56] and Entry_Size [52:48] keep their reset values whatever is written.
  write64(its, GITS.BASER0, 0x0000_0000_4008_0600n | (7n << 56n) | (0x1fn << 48n));
  assert.equal(read64(its, GITS.BASER0), 0x0107_0000_4008_0600n);
  // 32-bit halves work too.
  its.write(GITS.BASER0 + 4, 4, 0xb807_0000);
  assert.equal(read64(its, GITS.BASER0) >> 32n, 0xb907_0000n);
});

test('Indirect is RAZ/WI when two-level tables are not implemented', () => {
  const { its } = makeRig({}, { indirect: false });
  write64(its, GITS.BASER0, DEVICE_BASER_LINUX);
  assert.equal(read64(its, GITS.BASER0), DEVICE_BASER_LINUX & ~(1n << 62n));
});

test('CBASER and BASER are WI while the ITS is enabled; CBASER writes zero CREADR', () => {
  const rig = makeRig();
  initIts(rig);
  write64(rig.its, GITS.CBASER, 0x8000_0000_4002_0000n);
  assert.equal(read64(rig.its, GITS.CBASER), CBASER_LINUX);
  write64(rig.its, GITS.BASER0, 0n);
  assert.equal(read64(rig.its, GITS.BASER0), DEVICE_BASER_LINUX);
  post(rig, [0x5n, 0n, 0n, 0n]);
  assert.equal(creadr(rig), 1);
  rig.its.write(GITS.CTLR, 4, 0);
  assert.equal(rig.its.read(GITS.CTLR, 4), 0x8000_0000, 'disabled and quiescent');
  write64(rig.its, GITS.CBASER, CBASER_LINUX);
  assert.equal(creadr(rig), 0);
});

test('Linux 6.1 ITS init replayed, then MSI -> LPI 8192 pending on CPU 1', () => {
  const rig = makeRig({ peCount: 2 });
  const { its, gic, mem, sink } = rig;
  // Probe (§5.1): PIDR2.ArchRev 3 or 4, quiescent, TYPER fields.
  assert.ok([3, 4].includes((its.read(ID_REGS.PIDR2, 4) >> 4) & 0xf));
  const ctlr = its.read(GITS.CTLR, 4);
  assert.equal(ctlr & 1, 0);
  assert.equal(ctlr >>> 31, 1);
  const typer = read64(its, GITS.TYPER);
  const devBits = Number((typer >> 13n) & 0x1fn) + 1;
  assert.equal(devBits, 16);
  // Command queue.
  write64(its, GITS.CBASER, CBASER_LINUX);
  assert.equal(read64(its, GITS.CBASER), CBASER_LINUX, 'CBASER sticks (shareability included)');
  // Device table: esz 8 << 16 ids > 2 * 64K, so Linux asks for an indirect table.
  write64(its, GITS.BASER0, DEVICE_BASER_LINUX);
  assert.equal(read64(its, GITS.BASER0), DEVICE_BASER_LINUX);
  write64(its, GITS.BASER0 + 8, COLLECTION_BASER_LINUX);
  assert.equal(read64(its, GITS.BASER0 + 8), COLLECTION_BASER_LINUX);
  write64(its, GITS.CWRITER, 0n);
  its.write(GITS.CTLR, 4, ctlr | 1);
  assert.equal(its.read(GITS.CTLR, 4) & 1, 1);
  // Distributor: LPIS and IDbits.
  const gicdTyper = gic.distributor.read(GICD.TYPER, 4);
  assert.equal((gicdTyper >> 17) & 1, 1, 'GICD_TYPER.LPIS');
  const idBits = Math.min(((gicdTyper >> 19) & 0x1f) + 1, 16);
  assert.equal(idBits, 16);
  // Redistributors (§5.3).
  mem.writeBytes(PROPBASE, new Uint8Array(2 ** idBits).fill(0xa2));
  const region = gic.redistributorRegion;
  for (let cpu = 0; cpu < 2; cpu++) {
    const rd = cpu * 0x2_0000;
    const t = read64(region, rd + GICR.TYPER);
    assert.equal(t & 1n, 1n, 'PLPIS');
    assert.equal(Number((t >> 8n) & 0xffffn), cpu, 'Processor_Number');
    assert.equal(Number((t >> 4n) & 1n), cpu === 1 ? 1 : 0, 'Last');
    assert.equal(region.read(rd + GICR.CTLR, 4) & 1, 0, 'EnableLPIs boots 0');
    region.write(rd + GICR.WAKER, 4, region.read(rd + GICR.WAKER, 4) & ~2);
    assert.equal(region.read(rd + GICR.WAKER, 4) & 4, 0, 'ChildrenAsleep clears');
    write64(region, rd + GICR.PROPBASER, PROPBASER_LINUX);
    assert.equal(read64(region, rd + GICR.PROPBASER), PROPBASER_LINUX);
    const pend = PENDBASER_LINUX + BigInt(cpu * 0x1_0000);
    write64(region, rd + GICR.PENDBASER, pend);
    assert.equal(read64(region, rd + GICR.PENDBASER), pend);
    region.write(rd + GICR.CTLR, 4, region.read(rd + GICR.CTLR, 4) | 1);
    assert.equal(region.read(rd + GICR.CTLR, 4) & 1, 1);
    // MAPC(ICID = cpu, RDbase = processor number) + SYNC, then INVALL (raw Linux encodings).
    post(rig, [0x9n, 0n, 0x8000_0000_0000_0000n | (BigInt(cpu) << 16n) | BigInt(cpu), 0n], [0x5n, 0n, BigInt(cpu) << 16n, 0n]);
    post(rig, [0xdn, 0n, BigInt(cpu), 0n]);
  }
  // Device 0x10 behind an indirect table: Linux allocates the L2 page for its DeviceID.
  mem.write64(0x4008_0000, 0x4009_0000 + 0x10000, 0x8000_0000);
  post(rig, [0x0000001000000008n, 0x4n, 0x8000000041000000n, 0n]); // MAPD
  post(rig, [0x000000100000000an, 0x0000200000000000n, 0x1n, 0n], [0x5n, 0n, 0x10000n, 0n]); // MAPTI + SYNC
  // Unmask: 0xa3 then INV + SYNC.
  mem.write8(PROPBASE, 0xa3);
  post(rig, [0x000000100000000cn, 0x0n, 0n, 0n], [0x5n, 0n, 0x10000n, 0n]);
  assert.equal(creadr(rig), rig.widx, 'every command consumed');
  assert.equal(its.commandErrors, 0);
  assert.equal(its.isStalled, false);
  // The device's MSI: address ITS base + 0x10040, data = EventID 0, DeviceID 0x10.
  const itsBase = 0x0808_0000;
  const out = its.msiSink(itsBase).msiWrite(itsBase + 0x1_0040, 0, 0x10);
  assert.equal(out, 'delivered');
  assert.equal(mem.read8(PENDBASE + 0x1_0000 + 1024) & 1, 1, 'bit 0 of byte 1024 of CPU 1 pending table');
  assert.deepEqual(sink.pendingOn(1), [8192]);
  assert.equal(sink.priorityOf(1, 8192), 0xa0);
  assert.deepEqual(sink.pendingOn(0), []);
  // The CPU interface acknowledges it.
  assert.equal(gic.redistributors[1]!.acknowledge(8192), true);
  assert.deepEqual(sink.pendingOn(1), []);
  assert.equal(mem.read8(PENDBASE + 0x1_0000 + 1024) & 1, 0);
});

test('MSI routing by address: wrong address, missing DeviceID and CPU writes are dropped', () => {
  const rig = makeRig();
  initIts(rig);
  initRedistributors(rig);
  const sink = rig.its.msiSink(0x0808_0000);
  assert.equal(sink.msiWrite(0x0808_0040, 0, 0), 'dropped');
  assert.equal(sink.msiWrite(0x0809_0040, 0, null), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'no-device-id');
  rig.its.write(GITS.TRANSLATER, 4, 0);
  assert.equal(rig.its.lastMsiResult, 'no-device-id');
  assert.equal(rig.its.read(GITS.TRANSLATER, 4), 0);
});

test('MMIO: odd sizes and offsets are RAZ/WI, never throw', () => {
  const { its } = makeRig();
  assert.equal(its.read(GITS.CTLR, 1), 0);
  assert.equal(its.read(GITS.CTLR + 2, 2), 0);
  assert.equal(its.read(0x1234, 4), 0);
  its.write(GITS.CTLR, 2, 1);
  assert.equal(its.isEnabled, false);
  its.write(-4, 4, 1);
  its.write(0x2_0000, 4, 1);
  assert.equal(read64(its, GITS.CTLR + 4), 0n);
});
