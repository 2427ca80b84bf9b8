// IORT encoder: property round trip through the decoder, count-1 encoding, host-misuse errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { byteSum } from './checksum.js';
import { encodeIort } from './iort-encode.js';
import { decodeIort } from './iort-decode.js';
import type { IortMappingSpec, IortNodeSpec } from './iort-types.js';

// Arbitrary node lists; mapping targets are chosen among the node keys.
const u32 = fc.nat(0xffff_ffff);
const mappingArb = (keys: number): fc.Arbitrary<IortMappingSpec> =>
  fc.record({ inputBase: fc.nat(0xffff), count: fc.integer({ min: 1, max: 0x10000 }), outputBase: fc.nat(0xffff_0000), target: fc.nat(keys - 1).map((k) => `n${k}`), single: fc.boolean() });

const nodesArb = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.oneof(
        fc.record({ kind: fc.constant('its-group' as const), itsIds: fc.array(u32, { maxLength: 4 }) }),
        fc.record({
          kind: fc.constant('smmuv3' as const),
          baseAddress: fc.nat(2 ** 48 - 1),
          coherent: fc.boolean(),
          gsiv: fc.record({ event: fc.nat(1019), pri: fc.nat(1019), gerr: fc.nat(1019), sync: fc.nat(1019) }),
          proximityDomain: fc.option(fc.nat(16)),
          mappings: fc.array(mappingArb(n), { maxLength: 3 }),
        }),
        fc.record({
          kind: fc.constant('root-complex' as const),
          cacheCoherent: fc.boolean(),
          memoryAccessFlags: fc.nat(3),
          ats: fc.boolean(),
          segment: fc.nat(0xffff),
          memoryAddressLimit: fc.integer({ min: 32, max: 64 }),
          mappings: fc.array(mappingArb(n), { maxLength: 3 }),
        }),
        fc.record({
          kind: fc.constant('named-component' as const),
          cacheCoherent: fc.boolean(),
          memoryAccessFlags: fc.nat(3),
          addressSizeLimit: fc.integer({ min: 32, max: 64 }),
          name: fc.stringMatching(/^\\_SB\.[A-Z0-9]{1,4}$/),
          mappings: fc.array(mappingArb(n), { maxLength: 3 }),
        }),
        fc.record({
          kind: fc.constant('rmr' as const),
          remapPermitted: fc.boolean(),
          privileged: fc.boolean(),
          accessAttributes: fc.nat(5),
          mappings: fc.array(mappingArb(n), { maxLength: 2 }),
          ranges: fc.array(fc.record({ base: fc.nat(2 ** 40).map((x) => x * 0x10000), length: fc.integer({ min: 1, max: 64 }).map((x) => x * 0x10000) }), { maxLength: 3 }),
        }),
      ).map((body) => {
        const common = { key: `n${i}`, identifier: i };
        if (body.kind === 'smmuv3') return { ...body, ...common, deviceIdMappingIndex: body.mappings.length ? 0 : null } as IortNodeSpec;
        return { ...body, ...common } as IortNodeSpec;
      }),
    ),
  ),
);

test('property: encodeIort -> decodeIort returns every field of every node (revision 5)', () => {
  fc.assert(
    fc.property(nodesArb, (nodes) => {
      const bytes = encodeIort(nodes, { revision: 5 });
      assert.equal(byteSum(bytes), 0);
      const t = decodeIort(bytes);
      assert.deepEqual(t.issues, []);
      assert.equal(t.nodes.length, nodes.length);
      const offsetOfKey = new Map(nodes.map((n, i) => [n.key, t.nodes[i]!.offset]));
      nodes.forEach((s, i) => {
        const d = t.nodes[i]!;
        assert.equal(d.kind, s.kind);
        assert.equal(d.identifier, s.identifier);
        const sm = s.kind === 'its-group' ? [] : s.mappings;
        assert.deepEqual(
          d.mappings.map((m) => [m.inputBase, m.idCount, m.outputBase, m.outputReference, m.single]),
          sm.map((m) => [m.inputBase, m.count - 1, m.outputBase, offsetOfKey.get(m.target), m.single ?? false]),
        );
        if (s.kind === 'its-group' && d.kind === 'its-group') assert.deepEqual(d.itsIds, s.itsIds);
        if (s.kind === 'smmuv3' && d.kind === 'smmuv3') {
          assert.equal(d.baseAddress, BigInt(s.baseAddress));
          assert.equal(d.flags & 1, s.coherent ? 1 : 0);
          assert.equal((d.flags >> 3) & 1, s.proximityDomain === null ? 0 : 1);
          assert.equal(d.proximityDomain, s.proximityDomain ?? 0);
          assert.deepEqual([d.eventGsiv, d.priGsiv, d.gerrGsiv, d.syncGsiv], [s.gsiv.event, s.gsiv.pri, s.gsiv.gerr, s.gsiv.sync]);
          assert.equal(d.deviceIdMappingIndex, s.deviceIdMappingIndex ?? 0);
        }
        if (s.kind === 'root-complex' && d.kind === 'root-complex') {
          assert.deepEqual(
            [d.memory.cacheCoherency, d.memory.memoryAccessFlags, d.atsAttribute, d.segment, d.memoryAddressLimit],
            [s.cacheCoherent ? 1 : 0, s.memoryAccessFlags, s.ats ? 1 : 0, s.segment, s.memoryAddressLimit],
          );
        }
        if (s.kind === 'named-component' && d.kind === 'named-component') {
          assert.equal(d.name, s.name);
          assert.equal(d.addressSizeLimit, s.addressSizeLimit);
          assert.equal(d.mappingOffset % 4 === 0 || d.mappingCount === 0, true);
        }
        if (s.kind === 'rmr' && d.kind === 'rmr') {
          assert.deepEqual(
            d.ranges,
            s.ranges.map((r) => ({ base: BigInt(r.base), length: BigInt(r.length) })),
          );
          assert.equal(d.flags, (s.remapPermitted ? 1 : 0) | (s.privileged ? 2 : 0) | (s.accessAttributes << 2));
        }
      });
    }),
    { numRuns: 300 },
  );
});

test('encoder rejects host misuse: unknown target, bad DeviceID index, RMR at revision 3', () => {
  const its: IortNodeSpec = { kind: 'its-group', key: 'its', identifier: 0, itsIds: [0] };
  const rc = (target: string): IortNodeSpec => ({
    kind: 'root-complex',
    key: 'rc',
    identifier: 1,
    cacheCoherent: true,
    memoryAccessFlags: 3,
    ats: false,
    segment: 0,
    memoryAddressLimit: 64,
    mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, target }],
  });
  assert.throws(() => encodeIort([its, rc('smmu9')], { revision: 5 }), /not a node/);
  const bad = { ...rc('its'), mappings: [{ inputBase: 0, count: 0, outputBase: 0, target: 'its' }] } as IortNodeSpec;
  assert.throws(() => encodeIort([its, bad], { revision: 5 }), /count/);
  const rmr: IortNodeSpec = { kind: 'rmr', key: 'r', identifier: 2, remapPermitted: false, privileged: false, accessAttributes: 5, mappings: [], ranges: [] };
  assert.throws(() => encodeIort([rmr], { revision: 3 }), /revision 5/);
  const smmu: IortNodeSpec = {
    kind: 'smmuv3',
    key: 's',
    identifier: 3,
    baseAddress: 0x1000_0000,
    coherent: true,
    gsiv: { event: 0, pri: 0, gerr: 0, sync: 0 },
    proximityDomain: null,
    mappings: [],
    deviceIdMappingIndex: 0,
  };
  assert.throws(() => encodeIort([{ ...smmu, deviceIdMappingIndex: 1 } as IortNodeSpec], { revision: 5 }), /DeviceID mapping index/);
});
