// Bounded work per register access for the ITS and the redistributors: guest-maximal inputs (the
// largest command queue, full LPI pending tables) and a count of what one register access does —
// commands executed and LPIs visited (sink calls) — against ITS_SLICE / LPI_SLICE; service() slices
// of the same bound finish the work with the architected result. Counts, not times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ITS_OPCODE as OP, encodeItsCommand } from '../spec/gic/its-commands.js';
import { GITS } from '../spec/gic/its-registers.js';
import { GICR, GICR_FRAME_STRIDE } from '../spec/gic/redistributor-registers.js';
import type { LpiSink } from './sinks.js';
import { ITS_SLICE } from './its.js';
import { LPI_SLICE } from './redistributor.js';
import { initIts, initRedistributors, makeRig, PENDBASE, PROPBASE, read64, write64, type Rig } from '../../test/support/its-kit.js';

const BIG_Q = 0x4300_0000; // 1 MiB queue (CBASER.Size = 255): 32,768 commands
const LPIS = 2 ** 16 - 8192; // LPI INTIDs the kit's tables cover (PROPBASER.IDbits + 1 = 16)

class CountingSink implements LpiSink {
  calls = 0;
  pending = new Map<number, Set<number>>();
  lpiPending(pe: number, intid: number): void {
    this.calls++;
    let s = this.pending.get(pe);
    if (!s) this.pending.set(pe, (s = new Set()));
    s.add(intid);
  }
  lpiCleared(pe: number, intid: number): void {
    this.calls++;
    this.pending.get(pe)?.delete(intid);
  }
  on(pe: number): number {
    return this.pending.get(pe)?.size ?? 0;
  }
}

function rig(): { r: Rig; sink: CountingSink } {
  const sink = new CountingSink();
  const r = makeRig({ lpiSink: sink });
  r.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa3)); // every LPI enabled
  return { r, sink };
}

/** Fills PE `pe`'s pending table: every LPI pending (the guest wrote it before EnableLPIs). */
function fillPending(r: Rig, pe: number): void {
  const t = new Uint8Array(0x2000).fill(0xff);
  t.fill(0, 0, 1024); // INTIDs 0..8191 are not LPIs
  r.mem.writeBytes(PENDBASE + pe * 0x1_0000, t);
}

/** PE 0 with every LPI pending and its LPI tables programmed, EnableLPIs still 0: the rig, its sink and PE 0's redistributor region. */
function fullPendingPe0() {
  const { r, sink } = rig();
  fillPending(r, 0);
  const region = r.gic.redistributorRegion;
  write64(region, GICR.PROPBASER, 0x4010_078fn);
  write64(region, GICR.PENDBASER, 0x4020_0780n);
  return { r, sink, region };
}

/** Services until quiescent; returns the largest number of sink calls one service() made. */
function settle(r: Rig, sink: CountingSink): number {
  let worst = 0;
  for (let n = 0; ; n++) {
    const before = sink.calls;
    const more = r.its.service();
    worst = Math.max(worst, sink.calls - before);
    if (!more) return worst;
    assert.ok(n < 1_000_000, 'service() makes progress');
  }
}

function measure(sink: CountingSink, access: () => void): number {
  const before = sink.calls;
  access();
  return sink.calls - before;
}

test('EnableLPIs with a full pending table: the write visits at most LPI_SLICE LPIs, service() forwards them all', () => {
  const { r, sink, region } = fullPendingPe0();
  const n = measure(sink, () => region.write(GICR.CTLR, 4, 1));
  assert.ok(n <= LPI_SLICE, `${n} LPIs visited by one GICR_CTLR write`);
  assert.equal(region.read(GICR.SYNCR, 4), 1, 'GICR_SYNCR.Busy while the table is read');
  const worst = settle(r, sink);
  assert.ok(worst <= LPI_SLICE, `${worst} LPIs in one service()`);
  assert.equal(sink.on(0), LPIS);
  assert.equal(r.gic.redistributors[0]!.indexedPending, LPIS);
  assert.equal(region.read(GICR.SYNCR, 4), 0);
});

test('a full 1 MiB ITS queue of INVALLs over a full pending table: each access runs <= ITS_SLICE commands and <= LPI_SLICE LPIs', () => {
  const { r, sink } = rig();
  initIts(r);
  for (let pe = 0; pe < 2; pe++) fillPending(r, pe);
  initRedistributors(r); // property table 0xa2: pending LPIs indexed, none forwarded yet
  r.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa3));
  while (r.its.service());
  // A maximal queue: disable, CBASER.Size = 255 at BIG_Q, enable.
  r.its.write(GITS.CTLR, 4, 0);
  write64(r.its, GITS.CBASER, 0xb800_0000_0000_04ffn | BigInt(BIG_Q));
  write64(r.its, GITS.CWRITER, 0n);
  r.its.write(GITS.CTLR, 4, 1);
  const cmds = 32_767;
  const buf = new Uint8Array(cmds * 32);
  const dv = new DataView(buf.buffer);
  const put = (i: number, c: bigint[]): void => c.forEach((v, k) => dv.setBigUint64(i * 32 + k * 8, v, true));
  put(0, encodeItsCommand(OP.MAPC, { ICID: 0, RDbase: 0, V: 1 }));
  put(1, encodeItsCommand(OP.MAPC, { ICID: 1, RDbase: 1, V: 1 }));
  for (let i = 2; i < cmds - 2; i++) put(i, encodeItsCommand(OP.INVALL, { ICID: i & 1 }));
  put(cmds - 2, encodeItsCommand(OP.MOVALL, { RDbase: 0, RDbase2: 1 }));
  put(cmds - 1, encodeItsCommand(OP.SYNC, { RDbase: 1 }));
  r.mem.writeBytes(BIG_Q, buf);
  sink.calls = 0;
  const n = measure(sink, () => write64(r.its, GITS.CWRITER, BigInt(cmds * 32)));
  assert.ok(r.its.lastSliceCommands <= ITS_SLICE, `${r.its.lastSliceCommands} commands in one CWRITER write`);
  assert.ok(n <= LPI_SLICE, `${n} LPIs visited by one CWRITER write`);
  assert.equal(r.its.read(GITS.CTLR, 4) >>> 31, 0, 'not Quiescent while commands wait');
  let worstCmds = 0;
  let worstLpis = 0;
  for (let k = 0; ; k++) {
    const before = sink.calls;
    const more = r.its.service();
    worstCmds = Math.max(worstCmds, r.its.lastSliceCommands);
    worstLpis = Math.max(worstLpis, sink.calls - before);
    // A guest poll of CREADR is a plain read: no work.
    const c = sink.calls;
    r.its.read(GITS.CREADR, 4);
    assert.equal(sink.calls, c);
    if (!more) break;
    assert.ok(k < 1_000_000);
  }
  assert.ok(worstCmds <= ITS_SLICE, `${worstCmds} commands in one service()`);
  assert.ok(worstLpis <= 2 * LPI_SLICE, `${worstLpis} LPIs in one service() (GIC slice + ITS inline budget)`);
  assert.equal(Number(read64(r.its, GITS.CREADR)), cmds * 32, 'every command consumed, none stalled');
  assert.equal(r.its.commandErrors, 0);
  // MOVALL moved every pending LPI of PE 0 to PE 1 (both tables were full: PE 1 keeps all).
  assert.deepEqual(r.gic.redistributors[0]!.pendingLpis(), []);
  assert.equal(r.gic.redistributors[1]!.pendingLpis().length, LPIS);
  assert.equal(sink.on(0), 0);
  assert.equal(sink.on(1), LPIS);
  assert.equal(r.its.read(GITS.CTLR, 4) >>> 31, 1, 'Quiescent');
});

test('clearing EnableLPIs with a full pending table: bounded per access, RWP = 1 until the sink forgot every LPI', () => {
  const { r, sink } = rig();
  fillPending(r, 2);
  initRedistributors(r);
  r.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa3));
  r.gic.redistributors[2]!.invalidateAll();
  settle(r, sink);
  assert.equal(sink.on(2), LPIS);
  const region = r.gic.redistributorRegion;
  const rd = 2 * GICR_FRAME_STRIDE;
  const n = measure(sink, () => region.write(rd + GICR.CTLR, 4, 0));
  assert.ok(n <= LPI_SLICE, `${n} LPIs visited by one GICR_CTLR write`);
  assert.equal((region.read(rd + GICR.CTLR, 4) >>> 3) & 1, 1, 'RWP');
  region.write(rd + GICR.CTLR, 4, 1); // ignored while RWP = 1
  assert.equal(region.read(rd + GICR.CTLR, 4) & 1, 0);
  const worst = settle(r, sink);
  assert.ok(worst <= LPI_SLICE);
  assert.equal(sink.on(2), 0);
  assert.equal((region.read(rd + GICR.CTLR, 4) >>> 3) & 1, 0, 'RWP clears');
});

test('INVALLR (DirectLPI) over a full pending table is bounded per access and reaches every pending LPI', () => {
  const sink = new CountingSink();
  const r = makeRig({ lpiSink: sink, directLpi: true });
  r.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa2)); // disabled
  fillPending(r, 0);
  initRedistributors(r);
  settle(r, sink);
  assert.equal(sink.on(0), 0, 'disabled LPIs are not forwarded');
  r.mem.writeBytes(PROPBASE, new Uint8Array(0x1_0000).fill(0xa3));
  const n = measure(sink, () => r.gic.redistributorRegion.write(GICR.INVALLR, 4, 0));
  assert.ok(n <= LPI_SLICE);
  settle(r, sink);
  assert.equal(sink.on(0), LPIS);
});

test('a redistributor step over a full pending table visits at most its budget plus one byte of LPIs, whatever the budget', () => {
  const { r, sink, region } = fullPendingPe0();
  region.write(GICR.CTLR, 4, 1);
  const rd = r.gic.redistributors[0]!;
  // Budgets that are not a multiple of a pending-table chunk (a slice that shares its budget with
  // other work, as an ITS slice does with the redistributor's own).
  let steps = 0;
  for (const budget of [1, 7, 100, 513, 1000]) {
    for (let k = 0; k < 4 && rd.busy; k++, steps++) {
      const n = measure(sink, () => rd.step(budget));
      assert.ok(n <= budget + 8, `${n} LPIs visited by a step of budget ${budget}`);
    }
  }
  assert.ok(steps >= 16, `${steps} steps measured`);
  settle(r, sink);
  assert.equal(sink.on(0), LPIS, 'every pending LPI was imported in the end');
});
