// ITS commands end to end: MSIs -> LPIs for several devices, collections and redistributors;
// MOVI, MOVALL, DISCARD, INT/CLEAR, INV/INVALL, MAPD/MAPC unmapping; every command error and
// memory-error path; table formats (indirect and flat, 4K/16K/64K pages, HCC, PTA = 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLLECTION_BASER_LINUX,
  DEV_L1,
  DEV_L2,
  PENDBASE,
  initIts,
  initRedistributors,
  ittFor,
  makeRig,
  pendingBit,
  post,
  creadr,
  read64,
  setLpiConfig,
  write64,
  type Rig,
} from '../../test/support/its-kit.js';
import { ITS_OPCODE as OP, encodeItsCommand } from '../spec/gic/its-commands.js';
import { GITS } from '../spec/gic/its-registers.js';
import { GICR } from '../spec/gic/redistributor-registers.js';
import type { GicV3Options } from './gicv3.js';
import type { GicItsOptions } from './its.js';

const mapd = (dev: number, itt: number, size = 4, v = 1): bigint[] => encodeItsCommand(OP.MAPD, { DeviceID: dev, ITT_addr: itt / 256, Size: size, V: v });
const mapc = (icid: number, rdbase: number, v = 1): bigint[] => encodeItsCommand(OP.MAPC, { ICID: icid, RDbase: rdbase, V: v });
const mapti = (dev: number, ev: number, intid: number, icid: number): bigint[] => encodeItsCommand(OP.MAPTI, { DeviceID: dev, EventID: ev, pINTID: intid, ICID: icid });
const ev = (op: number, dev: number, e: number): bigint[] => encodeItsCommand(op, { DeviceID: dev, EventID: e });
const movi = (dev: number, e: number, icid: number): bigint[] => encodeItsCommand(OP.MOVI, { DeviceID: dev, EventID: e, ICID: icid });
const invall = (icid: number): bigint[] => encodeItsCommand(OP.INVALL, { ICID: icid });
const movall = (from: number, to: number): bigint[] => encodeItsCommand(OP.MOVALL, { RDbase: from, RDbase2: to });
const sync = (rd = 0): bigint[] => encodeItsCommand(OP.SYNC, { RDbase: rd });

/** A booted system: ITS + 4 redistributors with LPIs on, collections 0..3 -> PE 0..3. */
function booted(gicOpts: Partial<GicV3Options> = {}, itsOpts: GicItsOptions = {}): Rig {
  const rig = makeRig(gicOpts, itsOpts);
  initIts(rig);
  initRedistributors(rig);
  post(rig, mapc(0, 0), mapc(1, 1), mapc(2, 2), mapc(3, 3), sync());
  assert.equal(rig.its.commandErrors, 0);
  return rig;
}

function enable(rig: Rig, ...intids: number[]): void {
  for (const i of intids) setLpiConfig(rig, i, 0xa3);
}

test('several devices, collections and redistributors: each MSI lands on its PE', () => {
  const rig = booted();
  // DeviceID 0x2000 lives in the second L2 page of the indirect device table.
  rig.mem.write64(DEV_L1 + 8, DEV_L2 + 0x1_0000, 0x8000_0000);
  post(rig, mapc(7, 2)); // a second collection on PE 2
  const devs = [0x10, 0x100, 0x2000];
  const plan: [dev: number, e: number, intid: number, icid: number, pe: number][] = [
    [0x10, 0, 8192, 1, 1],
    [0x10, 1, 8193, 0, 0],
    [0x100, 0, 8200, 3, 3],
    [0x100, 31, 8300, 7, 2],
    [0x2000, 5, 9000, 2, 2],
  ];
  post(rig, ...devs.map((d, i) => mapd(d, ittFor(i))), ...plan.map(([d, e, intid, icid]) => mapti(d, e, intid, icid)), sync());
  assert.equal(rig.its.commandErrors, 0);
  enable(rig, ...plan.map((p) => p[2]));
  for (const [d, e] of plan) assert.equal(rig.its.signalMsi(d, e), 'delivered', `dev ${d} ev ${e}`);
  for (const [, , intid, , pe] of plan) {
    assert.ok(pendingBit(rig, pe, intid), `LPI ${intid} pending on PE ${pe}`);
    for (let other = 0; other < 4; other++) if (other !== pe) assert.ok(!pendingBit(rig, other, intid));
  }
  assert.deepEqual(rig.sink.pendingOn(2), [8300, 9000]);
  assert.deepEqual(rig.gic.redistributors[2]!.pendingLpis(), [8300, 9000]);
  assert.deepEqual(rig.sink.pendingOn(0), [8193]);
  // Unmapped pairs are dropped with a reason.
  assert.equal(rig.its.signalMsi(0x10, 2), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'unmapped-interrupt');
  assert.equal(rig.its.signalMsi(0x10, 32), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'event-oor');
  assert.equal(rig.its.signalMsi(0x11, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'unmapped-device');
  assert.equal(rig.its.signalMsi(0x4000, 0), 'dropped', 'L1 entry 2 is not valid');
  assert.equal(rig.its.lastMsiResult, 'unmapped-device');
  assert.equal(rig.its.signalMsi(0x1_0000, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'device-oor');
});

test('MAPI maps EventID = pINTID', () => {
  const rig = booted();
  post(rig, encodeItsCommand(OP.MAPD, { DeviceID: 1, ITT_addr: ittFor(0) / 256, Size: 15, V: 1 }));
  post(rig, encodeItsCommand(OP.MAPI, { DeviceID: 1, EventID: 8195, ICID: 2 }));
  enable(rig, 8195);
  assert.equal(rig.its.signalMsi(1, 8195), 'delivered');
  assert.ok(pendingBit(rig, 2, 8195));
});

test('MOVI moves the pending state and later MSIs', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 0, 8192, 0));
  enable(rig, 8192);
  rig.its.signalMsi(0x10, 0);
  assert.deepEqual(rig.sink.pendingOn(0), [8192]);
  post(rig, movi(0x10, 0, 3), sync(3));
  assert.ok(!pendingBit(rig, 0, 8192));
  assert.ok(pendingBit(rig, 3, 8192));
  assert.deepEqual(rig.sink.pendingOn(0), []);
  assert.deepEqual(rig.sink.pendingOn(3), [8192]);
  rig.gic.redistributors[3]!.acknowledge(8192);
  rig.its.signalMsi(0x10, 0);
  assert.ok(pendingBit(rig, 3, 8192) && !pendingBit(rig, 0, 8192));
  // Not pending: MOVI only retargets.
  rig.gic.redistributors[3]!.acknowledge(8192);
  post(rig, movi(0x10, 0, 1));
  assert.ok(!pendingBit(rig, 1, 8192));
  rig.its.signalMsi(0x10, 0);
  assert.ok(pendingBit(rig, 1, 8192));
});

test('MOVALL moves every pending LPI between redistributors', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), ...[0, 1, 2].map((e) => mapti(0x10, e, 8192 + 100 * e, 1)));
  enable(rig, 8192, 8292);
  for (const e of [0, 1, 2]) rig.its.signalMsi(0x10, e);
  assert.deepEqual(rig.gic.redistributors[1]!.pendingLpis(), [8192, 8292, 8392]);
  post(rig, movall(1, 2));
  assert.deepEqual(rig.gic.redistributors[1]!.pendingLpis(), []);
  assert.deepEqual(rig.gic.redistributors[2]!.pendingLpis(), [8192, 8292, 8392]);
  assert.deepEqual(rig.sink.pendingOn(1), []);
  assert.deepEqual(rig.sink.pendingOn(2), [8192, 8292], '8392 is pending but disabled');
  post(rig, movall(2, 2));
  assert.deepEqual(rig.gic.redistributors[2]!.pendingLpis(), [8192, 8292, 8392]);
  assert.equal(rig.its.commandErrors, 0);
});

test('DISCARD clears the pending state and the translation', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 4, 8196, 2));
  enable(rig, 8196);
  rig.its.signalMsi(0x10, 4);
  assert.ok(pendingBit(rig, 2, 8196));
  post(rig, ev(OP.DISCARD, 0x10, 4), sync(2));
  assert.ok(!pendingBit(rig, 2, 8196));
  assert.deepEqual(rig.sink.pendingOn(2), []);
  assert.equal(rig.its.signalMsi(0x10, 4), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'unmapped-interrupt');
  assert.equal(rig.mem.read32(ittFor(0) + 4 * 8), 0, 'ITE invalidated in memory');
});

test('INT and CLEAR set and clear the pending state', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 0, 8192, 1));
  enable(rig, 8192);
  post(rig, ev(OP.INT, 0x10, 0));
  assert.ok(pendingBit(rig, 1, 8192));
  assert.deepEqual(rig.sink.pendingOn(1), [8192]);
  post(rig, ev(OP.CLEAR, 0x10, 0));
  assert.ok(!pendingBit(rig, 1, 8192));
  assert.deepEqual(rig.sink.pendingOn(1), []);
});

test('INV/INVALL: a configuration change reaches the CPU interface only after invalidation', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 0, 8192, 1), mapti(0x10, 1, 8193, 1));
  // Disabled (0xa2): the LPI becomes pending in the table but is not forwarded.
  assert.equal(rig.its.signalMsi(0x10, 0), 'delivered');
  assert.ok(pendingBit(rig, 1, 8192));
  assert.deepEqual(rig.sink.pendingOn(1), []);
  setLpiConfig(rig, 8192, 0xa3);
  assert.deepEqual(rig.sink.pendingOn(1), [], 'no effect before INV');
  post(rig, ev(OP.INV, 0x10, 0), sync(1));
  assert.deepEqual(rig.sink.pendingOn(1), [8192]);
  assert.equal(rig.sink.priorityOf(1, 8192), 0xa0);
  // Masking: still pending in memory, no longer forwarded after INV.
  setLpiConfig(rig, 8192, 0xa2);
  post(rig, ev(OP.INV, 0x10, 0));
  assert.deepEqual(rig.sink.pendingOn(1), []);
  assert.ok(pendingBit(rig, 1, 8192));
  // INVALL re-reads every pending LPI of the collection's redistributor, with new priorities.
  rig.its.signalMsi(0x10, 1);
  setLpiConfig(rig, 8192, 0x43);
  setLpiConfig(rig, 8193, 0x83);
  post(rig, invall(1));
  assert.deepEqual(rig.sink.pendingOn(1), [8192, 8193]);
  assert.equal(rig.sink.highestPending(1), 8192);
  assert.equal(rig.sink.priorityOf(1, 8192), 0x40);
});

test('MAPD V=0 and MAPC V=0 unmap', () => {
  const rig = booted();
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 0, 8192, 1));
  post(rig, mapc(1, 0, 0));
  assert.equal(rig.its.signalMsi(0x10, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'unmapped-collection');
  post(rig, mapc(1, 1), mapd(0x10, 0, 0, 0));
  assert.equal(rig.its.signalMsi(0x10, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'unmapped-device');
  // Remapping the device onto the same ITT brings the old ITEs back (the ITT is guest memory).
  post(rig, mapd(0x10, ittFor(0)));
  assert.equal(rig.its.signalMsi(0x10, 0), 'delivered');
});

test('every command error is recorded with its code, skipped, and the queue goes on', () => {
  const rig = booted({}, { collectionIdBits: 16 });
  post(rig, mapd(0x10, ittFor(0)), mapti(0x10, 0, 8192, 1), mapti(0x10, 1, 8193, 9));
  assert.equal(rig.its.commandErrors, 0);
  const cases: [string, bigint[], number][] = [
    ['MAPD DeviceID >= 2^Devbits', mapd(0x1_0000, ittFor(1)), 0x010801],
    ['MAPD DeviceID without L2 page', mapd(0x4000, ittFor(1)), 0x010801],
    ['MAPD Size > IDbits', mapd(0x11, ittFor(1), 16), 0x010802],
    ['MAPC RDbase not a PE', mapc(5, 4), 0x010902],
    ['MAPC ICID beyond the collection table', mapc(9000, 0), 0x010903],
    ['MAPTI unmapped device', mapti(0x11, 0, 8200, 1), 0x010a04],
    ['MAPTI EventID >= 2^(Size+1)', mapti(0x10, 32, 8200, 1), 0x010a05],
    ['MAPTI pINTID below 8192', mapti(0x10, 2, 100, 1), 0x010a06],
    ['MAPTI pINTID beyond IDbits', mapti(0x10, 2, 0x1_0000, 1), 0x010a06],
    ['MAPI EventID not an LPI', encodeItsCommand(OP.MAPI, { DeviceID: 0x10, EventID: 3, ICID: 1 }), 0x010b06],
    ['INT unmapped interrupt', ev(OP.INT, 0x10, 5), 0x010307],
    ['INT unmapped collection', ev(OP.INT, 0x10, 1), 0x010309],
    ['INT DeviceID out of range', ev(OP.INT, 0x1_0000, 0), 0x010301],
    ['CLEAR unmapped interrupt', ev(OP.CLEAR, 0x10, 5), 0x010407],
    ['CLEAR unmapped device', ev(OP.CLEAR, 0x12, 0), 0x010404],
    ['INV unmapped interrupt', ev(OP.INV, 0x10, 5), 0x010c07],
    ['INV EventID out of range', ev(OP.INV, 0x10, 99), 0x010c05],
    ['INVALL unmapped collection', invall(9), 0x010d09],
    ['INVALL ICID beyond the collection table', invall(9000), 0x010d09],
    ['MOVI unmapped interrupt', movi(0x10, 5, 1), 0x010107],
    ['MOVI to an unmapped collection', movi(0x10, 0, 9), 0x010109],
    ['MOVALL RDbase not a PE', movall(0, 7), 0x010e01],
    ['DISCARD unmapped interrupt', ev(OP.DISCARD, 0x10, 5), 0x010f07],
    ['DISCARD with an unmapped collection', ev(OP.DISCARD, 0x10, 1), 0x010f09],
    ['GICv4 VMAPTI on a GICv3 ITS', encodeItsCommand(0x2a), 0x012a00],
    ['unknown opcode', encodeItsCommand(0xff), 0x01ff00],
  ];
  let n = 0;
  for (const [name, cmd, code] of cases) {
    const before = creadr(rig);
    post(rig, cmd);
    n++;
    assert.equal(rig.its.commandErrors, n, name);
    assert.equal(rig.its.lastCommandError?.code, code, `${name}: code 0x${rig.its.lastCommandError?.code.toString(16)}`);
    assert.equal(rig.its.lastCommandError?.kind, 'command-error');
    assert.equal(rig.its.lastCommandError?.offset, before * 32);
    assert.equal(creadr(rig), before + 1, `${name}: skipped`);
    assert.equal(rig.its.isStalled, false);
  }
  assert.equal(rig.mem.read32(ittFor(0) + 8) & 1, 1, 'the failed DISCARD left the ITE in place');
  // A valid command after the errors still runs, and the earlier mapping is intact.
  enable(rig, 8192);
  post(rig, ev(OP.INT, 0x10, 0));
  assert.ok(pendingBit(rig, 1, 8192));
  assert.equal(rig.its.commandErrors, n);
});

test("commandErrorPolicy 'stall' stops on the bad command until software fixes it and writes CWRITER", () => {
  const errors: number[] = [];
  const rig = booted({}, { commandErrorPolicy: 'stall', onCommandError: (e) => errors.push(e.code) });
  const bad = rig.widx;
  post(rig, mapd(0x10, ittFor(0), 20), mapd(0x10, ittFor(0)));
  assert.equal(rig.its.isStalled, true);
  assert.equal(creadr(rig), bad);
  assert.equal(Number(read64(rig.its, GITS.CREADR) & 1n), 1, 'CREADR.Stalled');
  assert.deepEqual(errors, [0x010802]);
  // Software rewrites the bad slot as a SYNC. A CWRITER write with Retry = 0 has no effect on a
  // stalled queue (IHI 0069 §12.19.5 GITS_CWRITER.Retry); Retry = 1 restarts it.
  const at = 0x4001_0000 + bad * 32;
  rig.mem.write64(at, 5, 0);
  write64(rig.its, GITS.CWRITER, BigInt(rig.widx * 32));
  assert.equal(rig.its.isStalled, true, 'Retry = 0 leaves the queue stalled');
  assert.equal(creadr(rig), bad);
  write64(rig.its, GITS.CWRITER, BigInt(rig.widx * 32) | 1n);
  assert.equal(rig.its.isStalled, false);
  assert.equal(creadr(rig), rig.widx);
  assert.equal(rig.its.commandErrors, 1);
});

test('memory errors: command fetch, device table, L1 entry, ITT and pending table', () => {
  // Command queue outside RAM: CREADR stays, Stalled = 1.
  {
    const rig = makeRig();
    write64(rig.its, GITS.CBASER, 0x8000_0000_0001_0000n); // PA 0x10000: no RAM there
    rig.its.write(GITS.CTLR, 4, 1);
    write64(rig.its, GITS.CWRITER, 0x20n);
    assert.equal(rig.its.isStalled, true);
    assert.equal(Number(read64(rig.its, GITS.CREADR)), 1, 'offset 0, Stalled');
    assert.equal(rig.its.lastCommandError?.kind, 'memory-error');
  }
  // Device table outside RAM.
  {
    const rig = makeRig();
    initIts(rig);
    rig.its.write(GITS.CTLR, 4, 0);
    write64(rig.its, GITS.BASER0, 0x8107_0000_0002_0200n); // flat, 64K pages, PA 0x20000 (no RAM)
    rig.its.write(GITS.CTLR, 4, 1);
    post(rig, mapd(1, ittFor(0)));
    assert.equal(rig.its.isStalled, true);
    assert.equal(rig.its.lastCommandError?.code, 0x0108ff);
    assert.equal(rig.its.signalMsi(1, 0), 'aborted');
    assert.equal(rig.its.lastMsiResult, 'table-abort');
  }
  // Indirect table whose L1 table is outside RAM.
  {
    const rig = makeRig();
    initIts(rig);
    rig.its.write(GITS.CTLR, 4, 0);
    write64(rig.its, GITS.BASER0, 0xc107_0000_0002_0200n);
    rig.its.write(GITS.CTLR, 4, 1);
    post(rig, mapd(1, ittFor(0)));
    assert.equal(rig.its.isStalled, true);
    assert.equal(rig.its.signalMsi(1, 0), 'aborted');
  }
  // Collection table outside RAM: MAPC stalls; a translation through it aborts.
  {
    const rig = makeRig();
    initIts(rig);
    initRedistributors(rig);
    post(rig, mapd(1, ittFor(0)), mapti(1, 0, 8192, 0));
    rig.its.write(GITS.CTLR, 4, 0);
    write64(rig.its, GITS.BASER0 + 8, 0x8407_0000_0002_0200n);
    rig.its.write(GITS.CTLR, 4, 1);
    assert.equal(rig.its.signalMsi(1, 0), 'aborted');
    assert.equal(rig.its.lastMsiResult, 'table-abort');
    post(rig, mapc(0, 0));
    assert.equal(rig.its.isStalled, true);
    assert.equal(rig.its.lastCommandError?.code, 0x0109ff);
    const at = creadr(rig);
    const errors = rig.its.commandErrors;
    write64(rig.its, GITS.CWRITER, BigInt(rig.widx * 32));
    assert.equal(rig.its.commandErrors, errors, 'Retry = 0: still stalled, nothing retried');
    write64(rig.its, GITS.CWRITER, BigInt(rig.widx * 32) | 1n);
    assert.equal(creadr(rig), at, 'the retry fails again at the same command');
    assert.equal(rig.its.commandErrors, errors + 1);
  }
  // ITT outside RAM: MAPTI stalls, a translation aborts.
  {
    const rig = booted();
    post(rig, mapd(1, 0x1000));
    assert.equal(rig.its.commandErrors, 0);
    post(rig, mapti(1, 0, 8192, 0));
    assert.equal(rig.its.isStalled, true);
    assert.equal(rig.its.lastCommandError?.code, 0x010aff);
    assert.equal(rig.its.signalMsi(1, 0), 'aborted');
  }
  // Pending table outside RAM: the redistributor reports an abort.
  {
    const rig = booted();
    post(rig, mapd(1, ittFor(0)), mapti(1, 0, 8192, 3));
    const region = rig.gic.redistributorRegion;
    region.write(3 * 0x2_0000 + GICR.CTLR, 4, 0);
    write64(region, 3 * 0x2_0000 + GICR.PENDBASER, 0x0000_0000_0003_0000n);
    region.write(3 * 0x2_0000 + GICR.CTLR, 4, 1);
    assert.equal(rig.its.signalMsi(1, 0), 'aborted');
    assert.equal(rig.its.lastMsiResult, 'lpi-aborted');
  }
});

test('ITS disabled, or LPIs disabled on the target, drops MSIs', () => {
  const rig = booted();
  post(rig, mapd(1, ittFor(0)), mapti(1, 0, 8192, 2));
  rig.gic.redistributorRegion.write(2 * 0x2_0000 + GICR.CTLR, 4, 0);
  assert.equal(rig.its.signalMsi(1, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'lpi-dropped');
  rig.its.write(GITS.CTLR, 4, 0);
  assert.equal(rig.its.signalMsi(1, 0), 'dropped');
  assert.equal(rig.its.lastMsiResult, 'its-disabled');
});

test('flat device tables with 4K, 16K and 64K pages bound the DeviceIDs', () => {
  for (const [ps, page] of [[0n, 0x1000], [1n, 0x4000], [2n, 0x1_0000]] as const) {
    const rig = makeRig();
    initIts(rig);
    rig.its.write(GITS.CTLR, 4, 0);
    write64(rig.its, GITS.BASER0, 0x8107_0000_4040_0000n | (ps << 8n)); // 1 page at 0x40400000
    write64(rig.its, GITS.BASER0 + 8, COLLECTION_BASER_LINUX);
    rig.its.write(GITS.CTLR, 4, 1);
    initRedistributors(rig);
    const last = page / 8 - 1;
    post(rig, mapc(0, 0), mapd(last, ittFor(0)), mapti(last, 0, 8192, 0));
    assert.equal(rig.its.commandErrors, 0, `page ${page}`);
    assert.equal(rig.mem.read32(0x4040_0000 + last * 8) & 1, 1, 'DTE written at base + id * 8');
    assert.equal(rig.its.signalMsi(last, 0), 'delivered');
    post(rig, mapd(last + 1, ittFor(1)));
    assert.equal(rig.its.lastCommandError?.code, 0x010801, `page ${page}: DeviceID beyond the table`);
  }
});

test('HCC collections need no collection table', () => {
  const rig = makeRig({}, { hcc: 2 });
  initIts(rig);
  rig.its.write(GITS.CTLR, 4, 0);
  write64(rig.its, GITS.BASER0 + 8, 0n); // no collection table
  rig.its.write(GITS.CTLR, 4, 1);
  initRedistributors(rig);
  post(rig, mapc(1, 3), mapc(2, 0));
  assert.equal(rig.its.commandErrors, 1);
  assert.equal(rig.its.lastCommandError?.code, 0x010903);
  post(rig, mapd(1, ittFor(0)), mapti(1, 0, 8192, 1));
  assert.equal(rig.its.signalMsi(1, 0), 'delivered');
  assert.ok(pendingBit(rig, 3, 8192));
});

test('PTA = 1: RDbase is the redistributor frame address', () => {
  const GICR_BASE = 0x080a_0000;
  const rig = makeRig({ redistributorBase: GICR_BASE }, { pta: true });
  initIts(rig);
  initRedistributors(rig);
  post(rig, mapc(0, (GICR_BASE + 2 * 0x2_0000) / 0x1_0000), mapc(1, (GICR_BASE + 0x1_0000) / 0x1_0000));
  assert.equal(rig.its.lastCommandError?.code, 0x010902, 'SGI_base frame is not an RDbase');
  assert.equal(rig.its.commandErrors, 1);
  post(rig, mapd(1, ittFor(0)), mapti(1, 0, 8192, 0));
  assert.equal(rig.its.signalMsi(1, 0), 'delivered');
  assert.ok(pendingBit(rig, 2, 8192));
  post(rig, movall((GICR_BASE + 2 * 0x2_0000) / 0x1_0000, GICR_BASE / 0x1_0000));
  assert.ok(pendingBit(rig, 0, 8192) && !pendingBit(rig, 2, 8192));
});

test('the queue wraps, and a CWRITER beyond the queue stalls', () => {
  const rig = makeRig();
  initIts(rig);
  rig.its.write(GITS.CTLR, 4, 0);
  write64(rig.its, GITS.CBASER, 0xb800_0000_4001_0400n); // Size 0: 4 KiB = 128 commands
  rig.its.write(GITS.CTLR, 4, 1);
  let w = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 50; i++) {
      rig.mem.write64(0x4001_0000 + w * 32, 5, 0);
      w = (w + 1) % 128;
    }
    write64(rig.its, GITS.CWRITER, BigInt(w * 32));
    assert.equal(Number(read64(rig.its, GITS.CREADR)), w * 32);
  }
  write64(rig.its, GITS.CWRITER, 0x1000n);
  assert.equal(rig.its.isStalled, true);
  write64(rig.its, GITS.CWRITER, BigInt(w * 32));
  assert.equal(rig.its.isStalled, false);
  // A restored GITS_CREADR outside the queue (IHI 0069 §12.19.4: UNPREDICTABLE) stalls instead of
  // fetching commands from beyond the queue.
  const snap = rig.its.saveState();
  rig.mem.writeBytes(0x4001_0000, new Uint8Array(0x4000)); // zeros: opcode 0 is an error if fetched
  rig.its.restoreState({ ...snap, creadr: 0x2000, cwriter: 0x20, stalled: false });
  const errors = rig.its.commandErrors;
  write64(rig.its, GITS.CWRITER, 0x20n);
  assert.equal(rig.its.isStalled, true);
  assert.equal(rig.its.commandErrors, errors, 'nothing fetched outside the queue');
});

test('qemu-7.2 profile writes QEMU-format DTEs and 12-byte ITEs', () => {
  const rig = makeRig({}, { profile: 'qemu-7.2' });
  initIts(rig);
  initRedistributors(rig);
  post(rig, mapc(1, 1), mapd(0x10, 0x4045_0000), mapti(0x10, 0, 8192, 1));
  const dte = read64({ read64: (o, out) => void rig.mem.read64(o, out) }, DEV_L2 + 0x10 * 8);
  assert.equal(dte, 0x0000_0000_1011_4009n);
  const ite = new Uint8Array(12);
  rig.mem.readBytes(0x4045_0000, ite);
  assert.deepEqual([...ite], [0x03, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0x03, 0x00, 0x00]);
  rig.its.signalMsi(0x10, 0);
  assert.equal(rig.mem.read8(PENDBASE + 0x1_0000 + 1024) & 1, 1);
});
