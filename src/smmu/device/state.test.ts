// SMMUv3 restore is atomic: a corrupted snapshot raises UserInputError and leaves the device
// byte-identical (registers, stalls, held records) and behaving as before; a valid snapshot is
// masked the way register writes are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../memory/guest-memory.js';
import { REG } from '../../spec/smmuv3/registers.js';
import { UserInputError } from '../../util/errors.js';
import { DEFAULT_FEATURES, QEMU_7_2_FEATURES } from '../features.js';
import { SmmuV3 } from './smmu-v3.js';

const RAM = 0x4000_0000;

/** A device with some state: enabled queues, SMMUEN, GBPA abort, a stall in the stall-model profile. */
function busyDevice(features = { ...DEFAULT_FEATURES, stallModel: 'stall' as const, stallMax: 4 }): SmmuV3 {
  const mem = new GuestMemory();
  mem.addRam(RAM, 0x10_0000);
  const smmu = new SmmuV3(mem, { features });
  smmu.write64(REG.STRTAB_BASE, RAM, 0);
  smmu.write(REG.STRTAB_BASE_CFG, 4, 8);
  smmu.write64(REG.CMDQ_BASE, RAM + 0x8000 + 4, 0);
  smmu.write64(REG.EVENTQ_BASE, RAM + 0x9000 + 4, 0);
  smmu.write(REG.GBPA, 4, 0x8010_0000);
  smmu.write(REG.IRQ_CTRL, 4, 5);
  smmu.write(REG.CR0, 4, 0xd); // SMMUEN, EVENTQEN, CMDQEN
  return smmu;
}

function fingerprint(smmu: SmmuV3): string {
  return JSON.stringify({ lo: [...smmu.regs.lo], hi: [...smmu.regs.hi], state: smmu.saveState(), en: smmu.smmuEnabled() });
}

const corruptions: [string, (s: Record<string, unknown>) => void][] = [
  ['not a register value', (s) => ((s.registers as Record<string, unknown>).CR0 = 'zero')],
  ['negative value', (s) => ((s.registers as Record<string, unknown>).STRTAB_BASE = -1)],
  ['value above 2^64', (s) => ((s.registers as Record<string, unknown>).CMDQ_BASE = '0x1' + '0'.repeat(16))],
  ['unknown register', (s) => ((s.registers as Record<string, unknown>).NOT_A_REG = '0x0')],
  ['registers not an object', (s) => (s.registers = [1, 2])],
  ['stalls not an array', (s) => (s.stalls = { stag: 1 })],
  ['stall entry not an object', (s) => (s.stalls = [7])],
  ['stall STAG out of range', (s) => (s.stalls = [{ stag: 0x1_0000, sid: 1 }])],
  ['stall SID not an integer', (s) => (s.stalls = [{ stag: 1, sid: 1.5 }])],
  ['stall STAG repeated', (s) => (s.stalls = [{ stag: 1, sid: 1 }, { stag: 1, sid: 2 }])],
  ['too many stalls', (s) => (s.stalls = Array.from({ length: 5 }, (_, i) => ({ stag: i, sid: 0 })))],
  ['held record of 3 words', (s) => (s.heldEvents = [['0x0', '0x0', '0x0']])],
  ['held record word bad', (s) => (s.heldEvents = [['0x0', 'x', '0x0', '0x0']])],
  ['wrong version', (s) => (s.version = 2)],
  ['wrong kind', (s) => (s.kind = 'its')],
];

test('a corrupted snapshot raises UserInputError and leaves the device byte-identical (property)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...corruptions),
      fc.array(fc.tuple(fc.constantFrom(REG.CR0, REG.GBPA, REG.CR1, REG.CR2, REG.IRQ_CTRL, REG.GERRORN, REG.EVENTQ_CONS), fc.integer({ min: 0, max: 0xffff_ffff })), { maxLength: 6 }),
      ([, corrupt], writes) => {
        const smmu = busyDevice();
        for (const [o, v] of writes) smmu.write(o, 4, v);
        const good = JSON.parse(JSON.stringify(smmu.saveState())) as Record<string, unknown>;
        // Some other state in the snapshot (so applying it would change the device), then the corruption.
        (good.registers as Record<string, unknown>).CR0 = '0x0';
        (good.registers as Record<string, unknown>).GBPA = '0x0';
        corrupt(good);
        const before = fingerprint(smmu);
        assert.throws(() => smmu.restoreState(good), UserInputError);
        assert.equal(fingerprint(smmu), before);
      },
    ),
    { numRuns: 200 },
  );
});

test('a snapshot is masked as register writes are: RES0 and unimplemented bits read 0, ACK registers follow', () => {
  const smmu = new SmmuV3(new GuestMemory(), { features: QEMU_7_2_FEATURES }); // no PRI, no MSI
  smmu.restoreState({
    version: 1,
    kind: 'smmuv3',
    registers: { CR0: '0xffffffff', CR0ACK: '0x0', PRIQ_BASE: '0xffffffffffffffff', GERROR: '0xffffffff', STATUSR: '0x1', IDR0: '0x0' },
    stalls: [],
  });
  assert.equal(smmu.read(REG.CR0, 4), smmu.read(REG.CR0ACK, 4));
  assert.equal(smmu.read(REG.CR0, 4) & (1 << 1), 0, 'PRIQEN is RES0 without PRI');
  assert.equal(smmu.register('PRIQ_BASE'), 0n);
  assert.equal(smmu.read(REG.GERROR, 4) & 0xf0, 0, 'no MSI abort errors without MSI');
  assert.equal(smmu.read(REG.STATUSR, 4), 0);
  assert.notEqual(smmu.read(REG.IDR0, 4), 0, 'ID registers come from the profile');
});
