// Known answers for the in-memory ITS table formats: QEMU 7.2's DTE and ITE as observed in guest
// RAM (QEMU 7.2, verified against the binary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFields, decodeFields } from '../bits.js';
import { CTE, DTE, ITE, ITE_DOORBELL_NONE } from './its-tables.js';

test('DTE for ITT 0x40450000, Size 4 is 0x0000000010114009', () => {
  const [w] = encodeFields(DTE, { Valid: 1, Size: 4, ITT_addr: 0x40450000 / 256 }, 1);
  assert.equal(w, 0x0000_0000_1011_4009n);
  assert.deepEqual(decodeFields(DTE, [0x0000_0000_1011_4009n]), { Valid: 1n, Size: 4n, ITT_addr: 0x404500n });
});

test('ITE for LPI 8192, ICID 1 is 03 80 00 00 01 00 00 00 ff 03 00 00', () => {
  const w = encodeFields(ITE, { Valid: 1, IntType: 1, INTID: 8192, ICID: 1, Doorbell: ITE_DOORBELL_NONE }, 2);
  const bytes = new Uint8Array(16);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(0, w[0]!, true);
  dv.setBigUint64(8, w[1]!, true);
  assert.deepEqual([...bytes.subarray(0, 12)], [0x03, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0x03, 0x00, 0x00]);
});

test('CTE holds a processor number in [16:1]', () => {
  const [w] = encodeFields(CTE, { Valid: 1, RDbase: 3 }, 1);
  assert.equal(w, 0x7n);
});
