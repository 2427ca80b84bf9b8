// VIRTIO_F_ACCESS_PLATFORM (bit 33) must be offered by a virtio device whose RID the SMMU
// translates; decided from the same RID -> stream ID mappings as the routing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../memory/guest-memory.js';
import { PcieDevice } from './endpoint.js';
import { RootComplex } from './root-complex.js';
import { VIRTIO_F_ACCESS_PLATFORM, accessPlatformRequired, mustOfferAccessPlatform, withAccessPlatform } from './virtio.js';

const virtioNet = () => new PcieDevice('vnet', [{ vendorId: 0x1af4, pciDeviceId: 0x1041, classCode: 0x020000 }]);

test('behind an SMMU: required; in a bypass range or with no SMMU: not required', () => {
  const toSmmu = [{ inputBase: 0x0000, count: 0x0200, outputBase: 0, target: 'smmu0' }];
  const rc = new RootComplex({ name: 'r', segment: 0, buses: { start: 0, end: 0xff }, memory: new GuestMemory(), ids: { toSmmu } });
  const rp = rc.addRootPort('rp', 1);
  const dev = virtioNet();
  rp.plug(dev, 'cold');
  const f = dev.functions[0]!;
  assert.equal(mustOfferAccessPlatform(f), true, 'bus not assigned yet: conservative');
  rp.config.guestWrite(0x18, 4, 0x00010100);
  assert.equal(mustOfferAccessPlatform(f), true, '01:00.0 is translated');
  rp.config.guestWrite(0x18, 4, 0x00050500);
  assert.equal(mustOfferAccessPlatform(f), false, '05:00.0 is outside the SMMU mapping');
  assert.equal(VIRTIO_F_ACCESS_PLATFORM, 33);
  assert.equal(withAccessPlatform(1n, f), 1n);
  rp.config.guestWrite(0x18, 4, 0x00010100);
  assert.equal(withAccessPlatform(1n, f), 1n | (1n << 33n));

  const plain = new RootComplex({ name: 'p', segment: 1, buses: { start: 0, end: 0xff }, memory: new GuestMemory() });
  const d2 = virtioNet();
  plain.addIntegratedDevice(d2, 3);
  assert.equal(mustOfferAccessPlatform(d2.functions[0]!), false);
  assert.equal(mustOfferAccessPlatform(virtioNet().functions[0]!), false, 'detached');
  assert.equal(accessPlatformRequired(toSmmu, null), true);
  assert.equal(accessPlatformRequired([], null), false);
  assert.equal(accessPlatformRequired(toSmmu, 0x1ff), true);
  assert.equal(accessPlatformRequired(toSmmu, 0x200), false);
});
