import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ID_REGS } from '../spec/gic/gic-common.js';
import { readIdRegister } from './id-registers.js';

test('GIC identification block: PIDR0-4 from the frame, CIDR0-3 the CoreSight preamble, others not ID registers', () => {
  const pidr = [0x94, 0xb4, 0x3b, 0x00, 0x44];
  assert.deepEqual(
    [ID_REGS.PIDR0, ID_REGS.PIDR1, ID_REGS.PIDR2, ID_REGS.PIDR3, ID_REGS.PIDR4].map((o) => readIdRegister(o, pidr)),
    pidr,
  );
  // CIDR0-3 = 0x0D, 0xF0, 0x05, 0xB1 (component ID preamble, IHI 0069 §12.1).
  assert.deepEqual([ID_REGS.CIDR0, ID_REGS.CIDR1, ID_REGS.CIDR2, ID_REGS.CIDR3].map((o) => readIdRegister(o, pidr)), [0x0d, 0xf0, 0x05, 0xb1]);
  for (const o of [ID_REGS.PIDR5, ID_REGS.PIDR6, ID_REGS.PIDR7, 0x0, 0xffcc]) assert.equal(readIdRegister(o, pidr), -1);
});
