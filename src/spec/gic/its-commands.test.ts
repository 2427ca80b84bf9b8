// Known-answer tests for the ITS command encodings (Linux 6.1 its_encode_*)
// and the SEI-style command error codes (values as defined by Linux's arm-gic-v3.h E_ITS_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ITS_ERROR_REASON as R, ITS_OPCODE as OP, decodeItsCommand, encodeItsCommand, itsErrorCode } from './its-commands.js';

test('Linux 6.1 command encodings (DeviceID 0x10, ITT 0x41000000, 32 events)', () => {
  const rows: [string, bigint[], bigint[]][] = [
    ['MAPD', encodeItsCommand(OP.MAPD, { DeviceID: 0x10, Size: 4, ITT_addr: 0x41000000 / 256, V: 1 }), [0x0000001000000008n, 0x4n, 0x8000000041000000n]],
    ['MAPC', encodeItsCommand(OP.MAPC, { ICID: 1, RDbase: 1, V: 1 }), [0x9n, 0n, 0x8000000000010001n]],
    ['MAPTI', encodeItsCommand(OP.MAPTI, { DeviceID: 0x10, EventID: 0, pINTID: 8192, ICID: 1 }), [0x000000100000000an, 0x0000200000000000n, 0x1n]],
    ['SYNC', encodeItsCommand(OP.SYNC, { RDbase: 1 }), [0x5n, 0n, 0x0000000000010000n]],
    ['INV', encodeItsCommand(OP.INV, { DeviceID: 0x10, EventID: 3 }), [0x000000100000000cn, 0x3n, 0n]],
    ['INVALL', encodeItsCommand(OP.INVALL, { ICID: 1 }), [0xdn, 0n, 0x1n]],
  ];
  for (const [name, got, want] of rows) assert.deepEqual(got.slice(0, 3), want, name);
});

test('opcodes match the architecture (MOVI 0x01 ... DISCARD 0x0f)', () => {
  assert.deepEqual(
    [OP.MOVI, OP.INT, OP.CLEAR, OP.SYNC, OP.MAPD, OP.MAPC, OP.MAPTI, OP.MAPI, OP.INV, OP.INVALL, OP.MOVALL, OP.DISCARD],
    [0x01, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f],
  );
});

test('decode is the inverse of encode and names the command', () => {
  const d = decodeItsCommand([0x000000100000000an, 0x0000200000000000n, 0x1n, 0n]);
  assert.equal(d.name, 'MAPTI');
  assert.equal(d.DeviceID, 0x10n);
  assert.equal(d.pINTID, 8192n);
  assert.equal(d.ICID, 1n);
  assert.equal(decodeItsCommand([0x2an, 0n, 0n, 0n]).name, '0x2a');
});

test('command error codes follow E_ITS_* (0x01 << 16 | opcode << 8 | reason)', () => {
  assert.equal(itsErrorCode(OP.MAPD, R.DEVICE_OOR), 0x010801);
  assert.equal(itsErrorCode(OP.MAPD, R.SIZE_OR_PROCNUM_OOR), 0x010802);
  assert.equal(itsErrorCode(OP.MAPC, R.SIZE_OR_PROCNUM_OOR), 0x010902);
  assert.equal(itsErrorCode(OP.MAPC, R.COLLECTION_OOR), 0x010903);
  assert.equal(itsErrorCode(OP.MAPTI, R.UNMAPPED_DEVICE), 0x010a04);
  assert.equal(itsErrorCode(OP.MAPTI, R.ID_OOR), 0x010a05);
  assert.equal(itsErrorCode(OP.MAPTI, R.PHYSICALID_OOR), 0x010a06);
  assert.equal(itsErrorCode(OP.MOVI, R.UNMAPPED_INTERRUPT), 0x010107);
  assert.equal(itsErrorCode(OP.MOVI, R.UNMAPPED_COLLECTION), 0x010109);
  assert.equal(itsErrorCode(OP.INVALL, R.UNMAPPED_COLLECTION), 0x010d09);
  assert.equal(itsErrorCode(OP.MOVALL, R.DEVICE_OOR), 0x010e01);
  assert.equal(itsErrorCode(OP.DISCARD, R.UNMAPPED_INTERRUPT), 0x010f07);
});

test('a value too wide for its field is a host error', () => {
  assert.throws(() => encodeItsCommand(OP.MAPC, { ICID: 0x10000 }), RangeError);
});
