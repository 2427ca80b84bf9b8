// IORT builder from platform descriptions (DEN 0049 E.d / E.b): presets, coverage, segments, SMMU MSIs, RMR.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlatformDescription } from '../../platform/description.js';
import { loadPreset } from '../../platform/presets/index.js';
import { UserInputError } from '../../util/errors.js';
import { buildIort } from './iort-build.js';
import { decodeIort } from './iort-decode.js';
import type { IortNode, IortTable } from './iort-types.js';
import { byteSum } from './checksum.js';

const maps = (n: IortNode | undefined): number[][] => (n?.mappings ?? []).map((m) => [m.inputBase, m.idCount, m.outputBase, m.outputReference, m.single ? 1 : 0]);
const offsetOf = (t: IortTable, kind: IortNode['kind'], i = 0): number => t.nodes.filter((n) => n.kind === kind)[i]!.offset;

test('qemu-virt preset, revision 5 (E.d): node order, node revisions, fields, count-1 encoding', () => {
  const bytes = buildIort(loadPreset('qemu-virt'), { revision: 5 });
  assert.equal(byteSum(bytes), 0);
  const t = decodeIort(bytes);
  assert.deepEqual(t.issues, []);
  assert.equal(t.header.revision, 5);
  // ITS 24, SMMUv3 68+20, RC (E.d, 36 bytes)+20: 48 + 24 + 88 + 56
  assert.equal(bytes.length, 216);
  assert.deepEqual(
    t.nodes.map((n) => [n.kind, n.revision, n.identifier]),
    [
      ['its-group', 1, 0],
      ['smmuv3', 4, 1],
      ['root-complex', 4, 2],
    ],
  );
  const [its, smmu, rc] = t.nodes;
  assert.ok(its?.kind === 'its-group' && smmu?.kind === 'smmuv3' && rc?.kind === 'root-complex');
  assert.deepEqual(its.itsIds, [0]);
  assert.equal(smmu.baseAddress, 0x0905_0000n);
  assert.equal(smmu.flags, 1); // COHACC override only
  assert.deepEqual([smmu.eventGsiv, smmu.priGsiv, smmu.gerrGsiv, smmu.syncGsiv], [106, 107, 109, 108]);
  assert.deepEqual(maps(smmu), [[0, 0xffff, 0, its.offset, 0]]);
  assert.deepEqual(maps(rc), [[0, 0xffff, 0, smmu.offset, 0]]);
  assert.equal(rc.memory.cacheCoherency, 1);
  assert.equal(rc.memory.memoryAccessFlags, 3);
  assert.equal(rc.memoryAddressLimit, 64);
  assert.equal(rc.pasidCapabilities, 0);
  assert.equal(rc.rcFlags, null); // post-E.d field, not emitted
  assert.equal(rc.mappingOffset, 36);
});

test('revision 3 (E.b, as QEMU 7.2): root complex node revision 3', () => {
  const t = decodeIort(buildIort(loadPreset('qemu-virt'), { revision: 3 }));
  assert.equal(t.header.revision, 3);
  assert.equal(t.header.length, 216);
  const rc = t.nodes[2]!;
  assert.equal(rc.revision, 3);
  assert.equal(rc.mappingOffset, 36);
  assert.ok(rc.kind === 'root-complex' && rc.pasidCapabilities === null);
});

test('openvmm --smmu s0rc0: covered RC -> SMMU, the other segment -> ITS with seg<<16 device IDs', () => {
  const t = decodeIort(buildIort(loadPreset('openvmm', { smmu: ['s0rc0'] })));
  assert.deepEqual(
    t.nodes.map((n) => n.kind),
    ['its-group', 'smmuv3', 'root-complex', 'root-complex'],
  );
  const its = offsetOf(t, 'its-group');
  const smmu = offsetOf(t, 'smmuv3');
  const [rc0, rc1] = t.nodes.filter((n) => n.kind === 'root-complex');
  assert.ok(rc0?.kind === 'root-complex' && rc1?.kind === 'root-complex');
  assert.equal(rc1.segment, 1);
  assert.deepEqual(maps(rc0), [[0, 0xffff, 0, smmu, 0]]);
  assert.deepEqual(maps(rc1), [[0, 0xffff, 0x10000, its, 0]]);
  // SMMU -> ITS for stream IDs, then the SMMU's own single mapping (device ID above both segments).
  assert.deepEqual(maps(t.nodes[1]), [
    [0, 0xffff, 0, its, 0],
    [0, 0, 0x1_ff00 + 0x100, its, 1],
  ]);
  const s = t.nodes[1]!;
  assert.ok(s.kind === 'smmuv3');
  assert.equal(s.priGsiv, 0); // the original wires eventq and gerror only
  assert.deepEqual([s.eventGsiv, s.gerrGsiv], [991, 990]);
  // Not all GSIVs wired, so Linux honours the DeviceID mapping index: it must name the single
  // mapping, never index 0 (the SMMU -> ITS range) nor an index past the end (FW_BUG).
  assert.equal(s.deviceIdMappingIndex, 1);
});

test('no ITS (v2m): no ITS node, SMMU without mappings, uncovered RC without mappings (never a dangling reference)', () => {
  const t = decodeIort(buildIort(loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0'] })));
  assert.deepEqual(
    t.nodes.map((n) => [n.kind, n.mappingCount]),
    [
      ['smmuv3', 0],
      ['root-complex', 1],
      ['root-complex', 0],
    ],
  );
  const starts = new Set(t.nodes.map((n) => n.offset));
  for (const n of t.nodes) for (const m of n.mappings) assert.ok(starts.has(m.outputReference));
  assert.equal(t.nodes[1]!.mappings[0]!.outputReference, t.nodes[0]!.offset);
});

test('partial SMMU coverage: bypassed buses map straight to the ITS', () => {
  const base = loadPreset('qemu-virt');
  const rc = base.rootComplexes[0]!;
  const d: PlatformDescription = { ...base, rootComplexes: [{ ...rc, iommuBypass: [{ start: 0x10, end: 0x1f }] }] };
  const t = decodeIort(buildIort(d));
  const its = offsetOf(t, 'its-group');
  const smmu = offsetOf(t, 'smmuv3');
  assert.deepEqual(maps(t.nodes[2]), [
    [0, 0xfff, 0, smmu, 0],
    [0x1000, 0xfff, 0x1000, its, 0],
    [0x2000, 0xdfff, 0x2000, smmu, 0],
  ]);
  // SMMU -> ITS covers exactly the translated stream IDs
  assert.deepEqual(maps(t.nodes[1]), [
    [0, 0xfff, 0, its, 0],
    [0x2000, 0xdfff, 0x2000, its, 0],
  ]);
});

test("SMMU using MSIs: single mapping to the ITS at the DeviceID mapping index", () => {
  const base = loadPreset('qemu-virt');
  const s = base.smmus[0]!;
  const d: PlatformDescription = {
    ...base,
    smmus: [{ ...s, msi: true, msiDeviceId: 0x10000, interrupts: { ...s.interrupts, priq: null, cmdqSync: null } }],
  };
  const t = decodeIort(buildIort(d));
  const smmu = t.nodes[1]!;
  assert.ok(smmu.kind === 'smmuv3');
  assert.equal(smmu.deviceIdMappingIndex, 1);
  assert.deepEqual(maps(smmu), [
    [0, 0xffff, 0, t.nodes[0]!.offset, 0],
    [0, 0, 0x10000, t.nodes[0]!.offset, 1],
  ]);
});

test('RMR nodes: revision 5 only', () => {
  const d = loadPreset('qemu-virt');
  const rmrs = [{ smmu: 'smmu0', streamIdBase: 8, streamIdCount: 2, ranges: [{ base: 0x4800_0000, length: 0x2_0000 }] }];
  const t = decodeIort(buildIort(d, { revision: 5, rmrs }));
  const r = t.nodes[3]!;
  assert.ok(r.kind === 'rmr');
  assert.equal(r.revision, 3);
  assert.deepEqual(r.ranges, [{ base: 0x4800_0000n, length: 0x2_0000n }]);
  assert.deepEqual(maps(r), [[8, 1, 8, t.nodes[1]!.offset, 0]]);
  assert.throws(() => buildIort(d, { revision: 3, rmrs }), UserInputError);
});
