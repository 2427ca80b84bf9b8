// Save/restore: a snapshot of a programmed system restored into fresh models over the same guest
// memory keeps translating and delivering; malformed snapshots are UserInputErrors that change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ITS_OPCODE as OP, encodeItsCommand } from '../spec/gic/its-commands.js';
import { GicV3 } from './gicv3.js';
import { GicIts } from './its.js';
import { LpiRecorder } from './sinks.js';
import { UserInputError } from '../util/errors.js';
import { initIts, initRedistributors, ittFor, makeRig, pendingBit, post, setLpiConfig } from '../../test/support/its-kit.js';

test('snapshot -> JSON -> fresh models: state and behaviour carry over', () => {
  const rig = makeRig({}, { hcc: 2 });
  initIts(rig);
  initRedistributors(rig);
  post(
    rig,
    encodeItsCommand(OP.MAPC, { ICID: 1, RDbase: 3, V: 1 }),
    encodeItsCommand(OP.MAPC, { ICID: 4, RDbase: 2, V: 1 }),
    encodeItsCommand(OP.MAPD, { DeviceID: 7, ITT_addr: ittFor(0) / 256, Size: 3, V: 1 }),
    encodeItsCommand(OP.MAPTI, { DeviceID: 7, EventID: 2, pINTID: 8300, ICID: 1 }),
    encodeItsCommand(OP.MAPTI, { DeviceID: 7, EventID: 3, pINTID: 8301, ICID: 4 }),
  );
  setLpiConfig(rig, 8300, 0xa3);
  setLpiConfig(rig, 8301, 0xa3);
  rig.its.signalMsi(7, 2);
  const snap = JSON.parse(JSON.stringify({ gic: rig.gic.saveState(), its: rig.its.saveState() })) as { gic: unknown; its: unknown };

  const sink = new LpiRecorder();
  const gic = new GicV3(rig.mem, { peCount: 4, lpiSink: sink });
  const its = new GicIts(rig.mem, gic, { hcc: 2 });
  gic.restoreState(snap.gic);
  its.restoreState(snap.its);
  assert.deepEqual(gic.saveState(), rig.gic.saveState());
  assert.deepEqual(its.saveState(), rig.its.saveState());
  // Re-announce what is pending to the new CPU interface.
  for (const r of gic.redistributors) r.invalidateAll();
  assert.deepEqual(sink.pendingOn(3), [8300]);
  assert.equal(its.signalMsi(7, 3), 'delivered');
  assert.ok(pendingBit(rig, 2, 8301));
  // The command queue carries on where it was.
  const rig2 = { ...rig, gic, its, sink };
  post(rig2, encodeItsCommand(OP.INT, { DeviceID: 7, EventID: 2 }));
  assert.equal(its.commandErrors, 0);
});

test('malformed snapshots raise UserInputError and leave the models unchanged', () => {
  const rig = makeRig();
  initIts(rig);
  initRedistributors(rig);
  const gicBefore = rig.gic.saveState();
  const itsBefore = rig.its.saveState();
  const bad: [unknown, RegExp][] = [
    [null, /its state/],
    [{ ...itsBefore, version: 2 }, /version/],
    [{ ...itsBefore, cbaser: [1] }, /cbaser/],
    [{ ...itsBefore, cwriter: -1 }, /cwriter/],
    [{ ...itsBefore, baser: [] }, /baser/],
    [{ ...itsBefore, hcc: [0] }, /hcc/],
  ];
  for (const [s, re] of bad) assert.throws(() => rig.its.restoreState(s), (e: unknown) => e instanceof UserInputError && re.test(e.message));
  assert.deepEqual(rig.its.saveState(), itsBefore);
  const badRd = { ...gicBefore, redistributors: gicBefore.redistributors.map((r, i) => (i === 3 ? { ...r, ptz: 'no' } : r)) };
  assert.throws(() => rig.gic.restoreState(badRd), /redistributors\[3\]\.ptz/);
  assert.throws(() => rig.gic.restoreState({ ...gicBefore, redistributors: [] }), UserInputError);
  assert.deepEqual(rig.gic.saveState(), gicBefore);
});
