// The linter: every generated platform is clean (alone and cross-checked), and each rule catches
// a hand-corrupted case (only that rule, where the corruption allows).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildIort, buildMadt, encodeIort, encodeMadt, fixTableChecksum, type IortMappingSpec, type IortNodeSpec } from '../../src/firmware/acpi/index.js';
import { buildDeviceTree } from '../../src/firmware/dt/build.js';
import { cells, writeDtb, type Fdt, type FdtNode } from '../../src/firmware/fdt/index.js';
import { lintFiles, type LintRule } from '../../src/firmware/lint/index.js';
import type { PlatformDescription } from '../../src/platform/description.js';
import { loadPreset } from '../../src/platform/presets/index.js';
import { UserInputError } from '../../src/util/errors.js';
import { qemu72Iort } from './qemu72-iort.js';

const rules = (...files: [string, Uint8Array][]): LintRule[] => [...new Set(lintFiles(files.map(([file, bytes]) => ({ file, bytes }))).findings.map((f) => f.rule))].sort();

/** Patches a little-endian u32 and (unless told not to) fixes the checksum. */
function patch(b: Uint8Array, at: number, v: number, size: 1 | 2 | 4 = 4, fix = true): Uint8Array {
  const c = b.slice();
  const dv = new DataView(c.buffer);
  if (size === 4) dv.setUint32(at, v, true);
  else if (size === 2) dv.setUint16(at, v, true);
  else dv.setUint8(at, v);
  if (fix) fixTableChecksum(c);
  return c;
}

// qemu-virt, revision 5: ITS @0x30, SMMUv3 @0x48 (mapping @0x8c), RC @0xa0 (mapping @0xc4).
const QV = loadPreset('qemu-virt');
const IORT5 = buildIort(QV, { revision: 5 });
const SMMU = 0x48;
const SMMU_MAP = 0x8c;
const RC = 0xa0;
const RC_MAP = 0xc4;

const variants = (): [string, PlatformDescription][] => {
  const rc = QV.rootComplexes[0]!;
  const s = QV.smmus[0]!;
  return [
    ['qemu-virt', QV],
    ['openvmm', loadPreset('openvmm')],
    ['openvmm --smmu s0rc0', loadPreset('openvmm', { smmu: ['s0rc0'] })],
    ['openvmm --smmu s1rc0 --smmu s0rc0', loadPreset('openvmm', { smmu: ['s1rc0', 's0rc0'] })],
    ['openvmm --gic-msi v2m --smmu s0rc0', loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0'] })],
    ['qemu-virt bypass buses 0x10-0x1f', { ...QV, rootComplexes: [{ ...rc, iommuBypass: [{ start: 0x10, end: 0x1f }] }] }],
    ['qemu-virt SMMU MSIs', { ...QV, smmus: [{ ...s, msi: true, msiDeviceId: 0x10000, interrupts: { ...s.interrupts, eventq: null, priq: null, cmdqSync: null, gerror: null } }] }],
  ];
};

test('every generated platform lints clean: IORT (rev 5 and 3) + MADT + DTB cross-checked', () => {
  for (const [name, d] of variants()) {
    for (const revision of [5, 3] as const) {
      const r = lintFiles([
        { file: 'IORT', bytes: buildIort(d, { revision }) },
        { file: 'MADT', bytes: buildMadt(d) },
        { file: 'DTB', bytes: writeDtb(buildDeviceTree(d)) },
      ]);
      assert.deepEqual(r.findings, [], `${name} rev ${revision}`);
    }
  }
});

test('checksum: one flipped byte', () => {
  assert.deepEqual(rules(['IORT', patch(IORT5, 9, IORT5[9]! ^ 1, 1, false)]), ['checksum']);
  const madt = buildMadt(QV);
  assert.deepEqual(rules(['MADT', patch(madt, 9, madt[9]! ^ 0x80, 1, false)]), ['checksum']);
});

test('length: header Length beyond the data; node running past the table; MADT entry length', () => {
  assert.deepEqual(rules(['IORT', patch(IORT5, 4, IORT5.length + 8, 4, false)]), ['length']);
  assert.ok(rules(['IORT', patch(IORT5, RC + 1, 0x100, 2)]).includes('length'));
  assert.ok(rules(['IORT', patch(IORT5, SMMU + 8, 9)]).includes('length')); // 9 mappings do not fit
  const madt = buildMadt(QV);
  assert.ok(rules(['MADT', patch(madt, 44 + 1, 60, 1)]).includes('length')); // GICC length 80 -> 60
});

test('structure: ID mapping array offset pointing into the node header', () => {
  assert.ok(rules(['IORT', patch(IORT5, RC + 12, 8)]).includes('structure'));
});

test('mapping-target: NULL reference, reference into the middle of a node, wrong node type', () => {
  assert.deepEqual(rules(['IORT', patch(IORT5, SMMU_MAP + 12, 0x34)]), ['mapping-target', 'rc-no-msi']);
  assert.deepEqual(rules(['IORT', patch(IORT5, SMMU_MAP + 12, 0)]), ['mapping-target', 'rc-no-msi']);
  assert.deepEqual(rules(['IORT', patch(IORT5, SMMU_MAP + 12, RC)]), ['mapping-target', 'rc-no-msi']); // SMMU -> RC
  // The original's review bug: an RC mapped to an ITS group that the table does not have.
  // v2m platform (no ITS group): SMMU @0x30, s0rc0 @0x74 with its mapping @0x98, s1rc0 @0xac.
  // Pointing s0rc0's mapping past the last node (where the early code assumed an ITS) is caught.
  const v2m = buildIort(loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0'] }));
  assert.deepEqual(rules(['IORT', v2m]), []);
  assert.deepEqual(rules(['IORT', patch(v2m, 0x98 + 12, v2m.length)]), ['mapping-target']);
});

const its: IortNodeSpec = { kind: 'its-group', key: 'its', identifier: 0, itsIds: [0] };
const rcWith = (mappings: IortMappingSpec[]): IortNodeSpec => ({
  kind: 'root-complex',
  key: 'rc',
  identifier: 2,
  cacheCoherent: true,
  memoryAccessFlags: 3,
  ats: false,
  segment: 0,
  memoryAddressLimit: 64,
  mappings,
});
const smmuWith = (gsiv: number, mappings: IortMappingSpec[], deviceIdMappingIndex: number | null): IortNodeSpec => ({
  kind: 'smmuv3',
  key: 'smmu',
  identifier: 1,
  baseAddress: 0x0905_0000,
  coherent: true,
  gsiv: { event: gsiv, pri: gsiv, gerr: gsiv, sync: gsiv },
  proximityDomain: null,
  mappings,
  deviceIdMappingIndex,
});
const toIts = { inputBase: 0, count: 0x10000, outputBase: 0, target: 'its' };

test('mapping-duplicate and mapping-overlap', () => {
  const dup = encodeIort([its, smmuWith(100, [toIts], null), rcWith([{ inputBase: 0, count: 0x100, outputBase: 0, target: 'smmu' }, { inputBase: 0, count: 0x100, outputBase: 0, target: 'smmu' }])], { revision: 5 });
  assert.deepEqual(rules(['IORT', dup]), ['mapping-duplicate']);
  const ovl = encodeIort([its, smmuWith(100, [toIts], null), rcWith([{ inputBase: 0, count: 0x1000, outputBase: 0, target: 'smmu' }, { inputBase: 0x800, count: 0x1000, outputBase: 0x800, target: 'its' }])], { revision: 5 });
  assert.deepEqual(rules(['IORT', ovl]), ['mapping-overlap']);
});

test('single-mapping: single flag on an SMMUv3 mapping that is not its DeviceID entry', () => {
  const t = encodeIort([its, smmuWith(0, [{ inputBase: 0, count: 1, outputBase: 5, target: 'its', single: true }, toIts, { inputBase: 0, count: 1, outputBase: 0x10000, target: 'its', single: true }], 2), rcWith([{ inputBase: 0, count: 0x10000, outputBase: 0, target: 'smmu' }])], { revision: 5 });
  assert.deepEqual(rules(['IORT', t]), ['single-mapping']);
  // and patched into a generated table: the RC -> SMMU mapping made single is fine for an RC...
  assert.deepEqual(rules(['IORT', patch(IORT5, RC_MAP + 16, 1)]), []);
});

test('smmu-msi-mapping: eventq not wired without a DeviceID mapping; DeviceID mapping ignored when all GSIVs are wired', () => {
  // With eventq no longer wired Linux honours DeviceID index 0 and skips the SMMU -> ITS mapping.
  assert.deepEqual(rules(['IORT', patch(IORT5, SMMU + 44, 0)]), ['rc-no-msi', 'smmu-msi-mapping']);
  const s = QV.smmus[0]!;
  const wired = buildIort({ ...QV, smmus: [{ ...s, msi: true, msiDeviceId: 0x10000 }] });
  assert.deepEqual(rules(['IORT', wired]), ['smmu-msi-mapping']);
  const f = lintFiles([{ file: 'IORT', bytes: wired }]).findings[0]!;
  assert.equal(f.severity, 'warning');
  // DeviceID mapping index beyond the mappings
  const msi = buildIort({ ...QV, smmus: [{ ...s, msi: true, msiDeviceId: 0x10000, interrupts: { eventq: null, priq: null, cmdqSync: null, gerror: null } }] });
  assert.deepEqual(rules(['IORT', msi]), []);
  assert.deepEqual(rules(['IORT', patch(msi, SMMU + 64, 7)]), ['single-mapping', 'smmu-msi-mapping']);
});

test('rc-no-msi: root complex without mappings; v2m platform whose MADT has no MSI frame', () => {
  assert.deepEqual(rules(['IORT', patch(IORT5, RC + 8, 0)]), ['rc-no-msi']);
  const v2m = loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0'] });
  const madtNoFrame = encodeMadt([{ kind: 'gicd', gicId: 0, physicalBase: 0xffff_0000, gicVersion: 3 }]);
  assert.deepEqual(rules(['IORT', buildIort(v2m)], ['MADT', buildMadt(v2m)]), []);
  assert.deepEqual(rules(['IORT', buildIort(v2m)], ['MADT', madtNoFrame]), ['rc-no-msi']);
});

test('id-count-off-by-one: QEMU 7.2 raw count 0x100; a range ending on the next range start', () => {
  assert.deepEqual(rules(['IORT', qemu72Iort({ fixChecksum: true })]), ['id-count-off-by-one']);
  const t = encodeIort(
    [its, smmuWith(100, [toIts], null), rcWith([{ inputBase: 0, count: 0, rawIdCount: 0x10, outputBase: 0, target: 'smmu' }, { inputBase: 0x10, count: 0x10000 - 0x10, outputBase: 0x10, target: 'its' }])],
    { revision: 5 },
  );
  assert.deepEqual(rules(['IORT', t]), ['id-count-off-by-one']);
});

test('its-id-mismatch: IORT ITS id absent from the MADT; duplicate MADT ITS ids', () => {
  const otherIts = { ...QV, gic: { ...QV.gic, its: { ...QV.gic.its!, id: 7 } } };
  assert.deepEqual(rules(['IORT', IORT5], ['MADT', buildMadt(otherIts)]), ['its-id-mismatch']);
  const dupIts = encodeMadt([
    { kind: 'gic-its', translationId: 0, physicalBase: 0x0808_0000 },
    { kind: 'gic-its', translationId: 0, physicalBase: 0x080a_0000 },
  ]);
  assert.deepEqual(rules(['MADT', dupIts]), ['its-id-mismatch']);
});

function pcie(fdt: Fdt): FdtNode {
  const n = fdt.root.children.find((c) => c.name.startsWith('pcie@'));
  assert.ok(n);
  return n;
}

test('dt-map and dt-iort-mismatch: corrupted iommu-map', () => {
  const fdt = buildDeviceTree(QV);
  const p = pcie(fdt);
  const i = p.props.findIndex((x) => x.name === 'iommu-map');
  const orig = p.props[i]!.value;
  p.props[i] = { name: 'iommu-map', value: orig.subarray(0, 12) };
  assert.ok(rules(['IORT', IORT5], ['DTB', writeDtb(fdt)]).includes('dt-map'));
  const c = new DataView(orig.buffer, orig.byteOffset).getUint32(4); // SMMU phandle
  p.props[i] = { name: 'iommu-map', value: cells(0, c, 0x100, 0x10000) };
  assert.deepEqual(rules(['IORT', IORT5], ['DTB', writeDtb(fdt)]), ['dt-iort-mismatch']);
  // msi-map giving other device IDs
  const j = p.props.findIndex((x) => x.name === 'msi-map');
  const m = p.props[j]!.value;
  p.props[i] = { name: 'iommu-map', value: orig };
  p.props[j] = { name: 'msi-map', value: cells(0, new DataView(m.buffer, m.byteOffset).getUint32(4), 0x10000, 0x10000) };
  const r = lintFiles([
    { file: 'IORT', bytes: IORT5 },
    { file: 'DTB', bytes: writeDtb(fdt) },
  ]);
  assert.deepEqual([...new Set(r.findings.map((f) => f.rule))], ['dt-iort-mismatch']);
  assert.match(r.findings[0]!.message, /RIDs 0x0\.\.0xffff/);
});

test('unusable input is a UserInputError naming the file', () => {
  assert.throws(() => lintFiles([{ file: 'x.bin', bytes: new Uint8Array([1, 2, 3, 4, 5]) }]), (e: unknown) => e instanceof UserInputError && /x\.bin/.test(e.message));
  assert.throws(() => lintFiles([{ file: 'short', bytes: IORT5.subarray(0, 40) }]), UserInputError);
});

test('fuzz: lint never throws on mutated generated tables except UserInputError', () => {
  const madt = buildMadt(QV);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(IORT5.length - 1), fc.nat(255)), { maxLength: 12 }), fc.nat(IORT5.length), (muts, cut) => {
      const b = IORT5.slice();
      for (const [i, v] of muts) b[i] = v;
      try {
        lintFiles([
          { file: 'IORT', bytes: b.subarray(0, Math.max(cut, 48)) },
          { file: 'MADT', bytes: madt },
        ]);
      } catch (e) {
        if (!(e instanceof UserInputError)) throw e;
      }
    }),
    { numRuns: 1500 },
  );
});

test('rmr: single-ID mapping Linux skips, unaligned range, RMR in a revision 3 table', () => {
  const rmr = (count: number, base: number, revision: 3 | 5 = 5): Uint8Array =>
    encodeIort(
      [
        its,
        smmuWith(100, [toIts], null),
        rcWith([{ inputBase: 0, count: 0x10000, outputBase: 0, target: 'smmu' }]),
        { kind: 'rmr', key: 'r', identifier: 3, remapPermitted: false, privileged: false, accessAttributes: 5, mappings: [{ inputBase: 8, count, outputBase: 8, target: 'smmu' }], ranges: [{ base, length: 0x1_0000 }] },
      ],
      { revision },
    );
  assert.deepEqual(rules(['IORT', rmr(2, 0x4800_0000)]), []);
  assert.deepEqual(rules(['IORT', rmr(1, 0x4800_0000)]), ['rmr']);
  assert.deepEqual(rules(['IORT', rmr(2, 0x4800_1000)]), ['rmr']);
  const r3 = patch(rmr(2, 0x4800_0000), 8, 3, 1); // claim revision 3
  assert.deepEqual(rules(['IORT', r3]), ['rmr']);
});

test("QEMU 7.2's own DTB (dumpdtb fixture) against its own IORT: buses 1-255 disagree (DT: SMMU, IORT: ITS only)", async () => {
  const { gunzipSync } = await import('node:zlib');
  const { readFileSync } = await import('node:fs');
  const dtb = new Uint8Array(gunzipSync(readFileSync(new URL('./fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz', import.meta.url))));
  const r = lintFiles([
    { file: 'IORT', bytes: qemu72Iort({ fixChecksum: true }) },
    { file: 'DTB', bytes: dtb },
  ]);
  const dt = r.findings.filter((f) => f.rule === 'dt-iort-mismatch');
  assert.equal(dt.length, 1);
  assert.match(dt[0]!.message, /RIDs 0x100\.\.0xffff: device tree \/pcie@10000000 gives SMMU 0x9050000 SID 0x100, ITS DeviceID 0x100 but the IORT gives no SMMU, ITS DeviceID 0x100/);
  assert.deepEqual([...new Set(r.findings.map((f) => f.rule))].sort(), ['dt-iort-mismatch', 'id-count-off-by-one']);
});

test('fuzz: lint of the IORT against a mutated DTB only ever throws UserInputError', () => {
  const dtb = writeDtb(buildDeviceTree(QV));
  // Mutate the structure block region (after the 40-byte header) most of the time.
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: dtb.length - 1 }), fc.nat(255)), { minLength: 1, maxLength: 8 }), (muts) => {
      const b = dtb.slice();
      for (const [i, v] of muts) b[i] = v;
      try {
        lintFiles([
          { file: 'IORT', bytes: IORT5 },
          { file: 'DTB', bytes: b },
        ]);
      } catch (e) {
        if (!(e instanceof UserInputError)) throw e;
      }
    }),
    { numRuns: 60 },
  );
});
