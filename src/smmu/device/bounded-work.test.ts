// Bounded work per register access for the SMMU command queue: a guest that fills the largest
// command queue the profile allows (QEMU 7.2: 2^19 entries) and writes CMDQ_PROD once gets at most
// CMDQ_SLICE commands consumed by that write; the rest is consumed by service() slices of the same
// bound, in order, and the queue ends empty. Counts, not times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../memory/guest-memory.js';
import { isServiceable } from '../../memory/types.js';
import { encodeCommand } from '../../spec/smmuv3/commands.js';
import { REG } from '../../spec/smmuv3/registers.js';
import { QEMU_7_2_FEATURES } from '../features.js';
import { CMDQ_SLICE } from './command-queue.js';
import { SmmuV3 } from './smmu-v3.js';

const Q = 0x100_0000;

function fullQueue(cmd: bigint[], log2: number): { smmu: SmmuV3; mem: GuestMemory; entries: number } {
  const mem = new GuestMemory();
  mem.addRam(0, 0x400_0000);
  const smmu = new SmmuV3(mem, { features: QEMU_7_2_FEATURES });
  const entries = 2 ** log2;
  const buf = new Uint8Array(entries * 16);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < entries; i++) {
    dv.setBigUint64(i * 16, cmd[0]!, true);
    dv.setBigUint64(i * 16 + 8, cmd[1]!, true);
  }
  mem.writeBytes(Q, buf);
  smmu.write64(REG.CMDQ_BASE, (Q | log2) >>> 0, 0);
  smmu.write(REG.CR0, 4, 1 << 3); // CMDQEN
  return { smmu, mem, entries };
}

test('one CMDQ_PROD write consumes at most CMDQ_SLICE commands of a full 2^19-entry queue; service() finishes it', () => {
  const log2 = QEMU_7_2_FEATURES.cmdqLog2;
  const { smmu, entries } = fullQueue(encodeCommand('TLBI_NSNH_ALL', {}), log2);
  assert.ok(isServiceable(smmu));
  // PROD = index entries-1, wrap 0: entries-1 commands outstanding (the guest-maximal fill).
  smmu.write(REG.CMDQ_PROD, 4, entries - 1);
  const first = smmu.cmdq.stats.executed;
  assert.ok(first > 0 && first <= CMDQ_SLICE, `${first} commands in one write`);
  assert.equal(smmu.read(REG.CMDQ_CONS, 4), first, 'CONS shows the progress');
  let calls = 0;
  let worst = 0;
  for (;;) {
    const before = smmu.cmdq.stats.executed;
    const more = smmu.service();
    calls++;
    worst = Math.max(worst, smmu.cmdq.stats.executed - before);
    if (!more) break;
    assert.ok(calls < entries, 'service() makes progress');
  }
  assert.ok(worst <= CMDQ_SLICE, `${worst} commands in one service() call`);
  assert.equal(smmu.cmdq.stats.executed, entries - 1);
  assert.equal(smmu.cmdq.stats.errors, 0);
  assert.equal(smmu.read(REG.CMDQ_CONS, 4), entries - 1);
  assert.equal(smmu.service(), false, 'quiescent');
  // A second write of the same PROD value and a CONS read do no work.
  const done = smmu.cmdq.stats.executed;
  smmu.write(REG.CMDQ_PROD, 4, entries - 1);
  smmu.read(REG.CMDQ_CONS, 4);
  assert.equal(smmu.cmdq.stats.executed, done);
});

test('an error stops the sliced consumption at the faulting command; service() does nothing until GERRORN', () => {
  const { smmu, mem } = fullQueue(encodeCommand('TLBI_NSNH_ALL', {}), 10);
  mem.write64(Q + 300 * 16, 0xff, 0); // opcode 0xff: ILLEGAL
  smmu.write(REG.CMDQ_PROD, 4, 1000);
  while (smmu.service());
  assert.equal(smmu.read(REG.CMDQ_CONS, 4) & 0xfffff, 300);
  assert.equal((smmu.read(REG.CMDQ_CONS, 4) >>> 24) & 0x7f, 1, 'CERROR_ILL');
  assert.equal(smmu.service(), false);
  mem.write64(Q + 300 * 16, 0x30, 0);
  smmu.write(REG.GERRORN, 4, smmu.read(REG.GERROR, 4));
  while (smmu.service());
  assert.equal(smmu.read(REG.CMDQ_CONS, 4), 1000);
});
