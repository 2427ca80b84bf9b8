// Interop tier: each QEMU peer's SMMU and ITS identification registers, read over qtest from the
// running binary, equal what our SmmuV3 and GicIts advertise with the peer's feature profiles
// (src/smmu/features.ts, src/intc/its-config.ts), and the SMMU's through the platform runtime.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FEATURE_PROFILES } from '../../src/smmu/features.js';
import { REG } from '../../src/spec/smmuv3/registers.js';
import { GITS } from '../../src/spec/gic/its-registers.js';
import { ID_REGS } from '../../src/spec/gic/gic-common.js';
import { VIRT, type Machine } from './lib/machine.js';
import { ModelMachine } from './lib/model-machine.js';
import { PEERS } from './lib/peers.js';
import { PlatformMachine } from './lib/platform-machine.js';
import { QemuMachine } from './lib/qemu-machine.js';

const SMMU_IDS = ['IDR0', 'IDR1', 'IDR2', 'IDR3', 'IDR4', 'IDR5', 'IIDR', 'AIDR'] as const;
const ITS_IDS = { IIDR: GITS.IIDR, PIDR0: ID_REGS.PIDR0, PIDR1: ID_REGS.PIDR1, PIDR2: ID_REGS.PIDR2, PIDR3: ID_REGS.PIDR3, PIDR4: ID_REGS.PIDR4 } as const;

async function idRegisters(m: Machine, its: boolean): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of SMMU_IDS) out[`SMMU_${n}`] = '0x' + (await m.read32(VIRT.smmuBase + REG[n])).toString(16);
  if (its) {
    out['GITS_TYPER'] = '0x' + (await m.read64(VIRT.itsBase + GITS.TYPER)).toString(16);
    for (const [n, off] of Object.entries(ITS_IDS)) out[`GITS_${n}`] = '0x' + (await m.read32(VIRT.itsBase + off)).toString(16);
  }
  await m.close();
  return out;
}

describe('identification registers: every QEMU peer vs its profiles', { timeout: 120_000 }, () => {
  for (const peer of PEERS) {
    test(`${peer.title}: SMMU IDR0-5/IIDR/AIDR = ${peer.smmuProfile}, ITS GITS_TYPER/IIDR/PIDR = ${peer.itsProfile}`, async (t) => {
      const qemu = await idRegisters(await QemuMachine.start({ binary: peer.binary() }), true);
      t.diagnostic(JSON.stringify(qemu));
      const model = await idRegisters(new ModelMachine({ features: FEATURE_PROFILES[peer.smmuProfile]!, itsProfile: peer.itsProfile }), true);
      assert.deepEqual(model, qemu);
      const platform = await idRegisters(new PlatformMachine({ smmuProfile: peer.smmuProfile }), false);
      assert.deepEqual(platform, Object.fromEntries(Object.entries(qemu).filter(([k]) => k.startsWith('SMMU_'))));
    });
  }
});
