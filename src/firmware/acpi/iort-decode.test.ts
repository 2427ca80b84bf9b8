// IORT decoder: QEMU 7.2's documented table, Linux resolution, truncation, fuzzing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { qemu72Iort } from '../../../test/firmware/qemu72-iort.js';
import { UserInputError } from '../../util/errors.js';
import { decodeIort } from './iort-decode.js';
import { routeIortRid } from './iort-resolve.js';

test('decodes QEMU 7.2 IORT (documented 236-byte layout) to the documented values', () => {
  const t = decodeIort(qemu72Iort());
  assert.equal(t.header.revision, 3);
  assert.equal(t.header.length, 236);
  assert.equal(t.nodeCount, 3);
  assert.equal(t.nodeOffset, 0x30);
  assert.deepEqual(
    t.nodes.map((n) => [n.offset, n.kind, n.revision, n.identifier, n.length]),
    [
      [0x30, 'its-group', 1, 0, 24],
      [0x48, 'smmuv3', 4, 1, 88],
      [0xa0, 'root-complex', 3, 2, 76],
    ],
  );
  const [its, smmu, rc] = t.nodes;
  assert.ok(its?.kind === 'its-group' && smmu?.kind === 'smmuv3' && rc?.kind === 'root-complex');
  assert.deepEqual(its.itsIds, [0]);
  assert.equal(smmu.baseAddress, 0x0905_0000n);
  assert.equal(smmu.flags, 1);
  assert.deepEqual([smmu.eventGsiv, smmu.priGsiv, smmu.gerrGsiv, smmu.syncGsiv], [106, 107, 109, 108]);
  assert.deepEqual(smmu.mappings.map((m) => [m.inputBase, m.idCount, m.outputBase, m.outputReference, m.single]), [[0, 0xffff, 0, 0x30, false]]);
  assert.equal(rc.segment, 0);
  assert.equal(rc.memory.cacheCoherency, 1);
  assert.equal(rc.memory.memoryAccessFlags, 3);
  assert.equal(rc.memoryAddressLimit, 64);
  assert.equal(rc.pasidCapabilities, null);
  assert.deepEqual(
    rc.mappings.map((m) => [m.inputBase, m.idCount, m.outputBase, m.outputReference]),
    [
      [0, 0x100, 0, 0x48],
      [0x100, 0xfeff, 0x100, 0x30],
    ],
  );
  // Raw blob: checksum byte 0 -> one checksum issue and nothing else.
  assert.deepEqual(
    t.issues.map((i) => i.kind),
    ['checksum'],
  );
  assert.deepEqual(decodeIort(qemu72Iort({ fixChecksum: true })).issues, []);
});

test('Linux resolution of QEMU 7.2 IORT: bus 0 via SMMU, RID 0x100 to the ITS (off-by-one workaround)', () => {
  const t = decodeIort(qemu72Iort());
  const rc = t.nodes[2]!;
  const r8 = routeIortRid(t, rc, 0x8);
  assert.equal(r8.smmu?.offset, 0x48);
  assert.equal(r8.streamId, 0x8);
  assert.equal(r8.its?.offset, 0x30);
  assert.equal(r8.deviceId, 0x8);
  const r100 = routeIortRid(t, rc, 0x100);
  assert.equal(r100.smmu, null);
  assert.equal(r100.its?.offset, 0x30);
  assert.equal(r100.deviceId, 0x100);
  const rff = routeIortRid(t, rc, 0xff);
  assert.equal(rff.streamId, 0xff);
});

test('truncated IORT: clear error or issue, never a crash', () => {
  const full = qemu72Iort({ fixChecksum: true });
  assert.throws(() => decodeIort(full.subarray(0, 20)), UserInputError);
  assert.throws(() => decodeIort(full.subarray(0, 47)), UserInputError);
  const cut = decodeIort(full.subarray(0, 200));
  assert.ok(cut.issues.some((i) => i.kind === 'length'));
  assert.equal(cut.nodes.length, 3);
  assert.ok(cut.nodes[2]!.mappings.length < 2);
});

test('fuzz: decodeIort never throws anything but UserInputError, on random and mutated input', () => {
  const base = qemu72Iort({ fixChecksum: true });
  const check = (bytes: Uint8Array): void => {
    try {
      const t = decodeIort(bytes);
      assert.ok(t.nodes.length <= bytes.length / 16);
    } catch (e) {
      if (!(e instanceof UserInputError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(235), fc.nat(255)), { maxLength: 24 }), fc.nat(236), (muts, cut) => {
      const b = base.slice();
      for (const [i, v] of muts) b[i] = v;
      check(b.subarray(0, cut));
      check(b);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
      const b = new Uint8Array(junk.length + 4);
      b.set([0x49, 0x4f, 0x52, 0x54]);
      b.set(junk, 4);
      check(b);
    }),
    { numRuns: 2000 },
  );
});
