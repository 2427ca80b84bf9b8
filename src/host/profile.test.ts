import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuestMemory } from '../memory/guest-memory.js';
import { deriveIdRegisters } from '../smmu/id-registers.js';
import { SmmuV3 } from '../smmu/device/smmu-v3.js';
import { UserInputError } from '../util/errors.js';
import { BOOT_PROFILES, bootProfile, listProfiles } from './profile.js';

function smmuOf(name: string): SmmuV3 {
  const mem = new GuestMemory();
  mem.addRam(0x4000_0000, 0x10_0000);
  return new SmmuV3(mem, { features: bootProfile(name).features });
}

test('every profile is listed, named as its key, and the unknown one is a UserInputError', () => {
  const names = Object.keys(BOOT_PROFILES);
  assert.deepEqual(names, ['default', 'linear', 'stage2', 'sync-msi', 'sync-poll', 'wired', 'its-msi', 'small-queues', 'strict', 'lazy', 'passthrough']);
  for (const n of names) {
    assert.equal(BOOT_PROFILES[n]!.name, n);
    assert.match(listProfiles(), new RegExp(`^${n} +\\S`, 'm'));
    assert.ok(BOOT_PROFILES[n]!.groupTypes.length > 0);
  }
  assert.throws(() => bootProfile('fast'), UserInputError);
  assert.throws(() => bootProfile('toString'), UserInputError);
});

test('the ID registers a profile advertises: ST_LEVEL, S1P, MSI, queue sizes; its-msi needs IDR0.MSI', () => {
  const idr = (n: string) => deriveIdRegisters(bootProfile(n).features);
  assert.equal((idr('default').idr0 >>> 27) & 3, 1, 'default: 2-level stream table');
  assert.equal((idr('linear').idr0 >>> 27) & 3, 0, 'linear: ST_LEVEL 0');
  assert.equal((idr('stage2').idr0 >>> 1) & 1, 0, 'stage2: S1P 0');
  assert.equal((idr('stage2').idr0 >>> 0) & 1, 1, 'stage2: S2P 1');
  assert.equal((idr('sync-poll').idr0 >>> 13) & 1, 0, 'sync-poll: MSI 0');
  assert.equal((idr('sync-msi').idr0 >>> 13) & 1, 1, 'sync-msi: MSI 1');
  assert.equal((idr('small-queues').idr1 >>> 21) & 0x1f, 7, 'small-queues: CMDQS 7');
  assert.equal((idr('small-queues').idr1 >>> 16) & 0x1f, 3, 'small-queues: EVENTQS 3');
  for (const p of Object.values(BOOT_PROFILES)) if (p.smmuIrqs === 'msi') assert.equal(p.features.msi, true, p.name);
  assert.deepEqual(bootProfile('lazy').kernelArgs, ['iommu.strict=0']);
  assert.deepEqual(bootProfile('passthrough').groupTypes, ['identity']);
});

test('profile checks read the model: stream configs, CMD_SYNC completion, stream-table format', () => {
  const pt = bootProfile('passthrough');
  const s = smmuOf('passthrough');
  assert.deepEqual(pt.checks({ smmu: s, console: '', streamConfigs: new Map([[8, 'bypass']]) }).map((c) => c.pass), [true]);
  assert.deepEqual(pt.checks({ smmu: s, console: '', streamConfigs: new Map([[8, 's1']]) }).map((c) => c.pass), [false]);
  assert.deepEqual(pt.checks({ smmu: s, console: '', streamConfigs: new Map() }).map((c) => c.pass), [false], 'no streams is not a pass');
  // No CMD_SYNC consumed: neither completion check can pass.
  for (const n of ['sync-msi', 'sync-poll']) assert.equal(bootProfile(n).checks({ smmu: smmuOf(n), console: '', streamConfigs: new Map() })[0]!.pass, false);
  // A linear STRTAB_BASE_CFG (FMT 0) passes; the reset value is linear too, a 2-level one fails.
  const lin = smmuOf('linear');
  assert.equal(bootProfile('linear').checks({ smmu: lin, console: '', streamConfigs: new Map() })[0]!.pass, true);
  const two = smmuOf('default');
  two.write(0x88, 4, 0x10210);
  assert.equal(bootProfile('linear').checks({ smmu: two, console: '', streamConfigs: new Map() })[0]!.pass, false);
});
