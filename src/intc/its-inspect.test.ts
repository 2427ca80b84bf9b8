// Inspection views of the ITS after Linux-like programming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ITS_OPCODE as OP, encodeItsCommand } from '../spec/gic/its-commands.js';
import { CMDQ, DEV_L1, initIts, initRedistributors, ittFor, makeRig, post } from '../../test/support/its-kit.js';
import { itsCollections, itsDevice, itsMappedDevices, itsRegisters } from './its-inspect.js';

test('registers, devices, events and collections are reported as programmed', () => {
  const rig = makeRig();
  initIts(rig);
  initRedistributors(rig);
  post(
    rig,
    encodeItsCommand(OP.MAPC, { ICID: 0, RDbase: 2, V: 1 }),
    encodeItsCommand(OP.MAPD, { DeviceID: 0x10, ITT_addr: ittFor(0) / 256, Size: 1, V: 1 }),
    encodeItsCommand(OP.MAPD, { DeviceID: 0x300, ITT_addr: ittFor(1) / 256, Size: 4, V: 1 }),
    encodeItsCommand(OP.MAPTI, { DeviceID: 0x10, EventID: 1, pINTID: 8200, ICID: 0 }),
    encodeItsCommand(OP.MAPTI, { DeviceID: 0x10, EventID: 3, pINTID: 8201, ICID: 5 }),
  );
  const r = itsRegisters(rig.its);
  assert.equal(r.enabled, true);
  assert.equal(r.deviceIdBits, 16);
  assert.deepEqual(r.cbaser, { valid: true, address: CMDQ, bytes: 0x1_0000 });
  assert.equal(r.creadr, 5 * 32);
  assert.equal(r.stalled, false);
  assert.deepEqual(r.basers[0], { index: 0, type: 'devices', valid: true, indirect: true, address: DEV_L1, pageBytes: 0x1_0000, pages: 1, entryBytes: 8 });
  assert.equal(r.basers[1]!.type, 'collections');
  assert.equal(r.basers[2]!.type, 'unimplemented');
  assert.deepEqual(itsMappedDevices(rig.its), [0x10, 0x300]);
  assert.deepEqual([...itsCollections(rig.its)], [[0, 2]]);
  const d = itsDevice(rig.its, 0x10)!;
  assert.equal(d.eventIdBits, 2);
  assert.deepEqual(d.events, [
    { eventId: 1, intid: 8200, icid: 0, pe: 2 },
    { eventId: 3, intid: 8201, icid: 5, pe: null },
  ]);
  assert.equal(itsDevice(rig.its, 0x11), null);
  assert.equal(itsDevice(rig.its, -1), null);
  assert.equal(itsDevice(rig.its, 0x300, 4)!.truncated, true);
});
