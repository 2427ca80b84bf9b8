// lint's ID resolution works on ranges: it equals a per-ID reference on random tables and maps,
// and its work, counted, grows with the size of the input, not with a product of sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeIort } from '../../src/firmware/acpi/iort-decode.js';
import { IortRangeResolver, pieceId } from '../../src/firmware/acpi/iort-ranges.js';
import { mapId, MSI_TYPES, nodeByOffset, routeIortRid, SMMU_TYPES } from '../../src/firmware/acpi/iort-resolve.js';
import type { IortIdMap, IortNode, IortTable } from '../../src/firmware/acpi/iort-types.js';
import { IortNodeType } from '../../src/spec/acpi/iort.js';
import { cells, node, parseDtb, strings, type Fdt } from '../../src/firmware/fdt/index.js';
import { crossDtIort, type LintWork } from '../../src/firmware/lint/cross.js';
import { lintFiles } from '../../src/firmware/lint/index.js';
import { dtHostBridges, dtMapRid, dtMapTable, dtMapTableIndex, isItsNode, type DtHostBridge, type DtMapEntry } from '../../src/firmware/lint/dt-maps.js';
import { hex } from '../../src/util/hex.js';
import { dtbWithLongIommuMap, dtbWithManyPhandles, iortWithCycle } from './lint-inputs.js';
import { buildIort } from '../../src/firmware/acpi/index.js';
import { loadPreset } from '../../src/platform/presets/index.js';

// ------------------------------------------------------------------ random IORTs (decoded form)

const NODE_TYPES = [IortNodeType.ROOT_COMPLEX, IortNodeType.NAMED_COMPONENT, IortNodeType.SMMU_V3, IortNodeType.ITS_GROUP] as const;
const KIND: Record<number, IortNode['kind']> = {
  [IortNodeType.ROOT_COMPLEX]: 'root-complex',
  [IortNodeType.NAMED_COMPONENT]: 'named-component',
  [IortNodeType.SMMU_V3]: 'smmuv3',
  [IortNodeType.ITS_GROUP]: 'its-group',
};

interface MapGen {
  inputBase: number;
  idCount: number;
  outputBase: number;
  ref: number; // index of the target node, or -1 (NULL), or -2 (dangling)
  single: boolean;
}

const HIGH = 0xffff_ff00; // IDs near 2^32: outputs that wrap

const mapGen = (nodes: number): fc.Arbitrary<MapGen> =>
  fc.record({
    inputBase: fc.oneof(fc.integer({ min: 0, max: 96 }), fc.integer({ min: HIGH, max: 0xffff_ffff })),
    idCount: fc.oneof(fc.integer({ min: 0, max: 48 }), fc.constant(0x100)),
    outputBase: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: HIGH, max: 0xffff_ffff })),
    ref: fc.integer({ min: -2, max: nodes - 1 }),
    single: fc.boolean(),
  });

const tableGen = fc.integer({ min: 2, max: 6 }).chain((n) =>
  fc.record({
    types: fc.tuple(fc.constant(IortNodeType.ROOT_COMPLEX as number), ...Array.from({ length: n - 1 }, () => fc.constantFrom(...NODE_TYPES) as fc.Arbitrary<number>)),
    maps: fc.array(fc.array(mapGen(n), { maxLength: 5 }), { minLength: n, maxLength: n }),
    revision: fc.integer({ min: 0, max: 3 }),
    deviceIdIndex: fc.integer({ min: 0, max: 4 }),
    wired: fc.boolean(),
  }),
);

function makeTable(g: { types: number[]; maps: MapGen[][]; revision: number; deviceIdIndex: number; wired: boolean }): IortTable {
  const offsetOf = (i: number): number => 0x30 + 0x100 * i;
  const nodes = g.types.map((type, i) => {
    const mappings: IortIdMap[] = g.maps[i]!.map((m, k) => ({
      offset: offsetOf(i) + 0x40 + 20 * k,
      inputBase: m.inputBase,
      idCount: m.idCount,
      outputBase: m.outputBase,
      outputReference: m.ref === -1 ? 0 : m.ref === -2 ? 0xdead : offsetOf(m.ref),
      flags: m.single ? 1 : 0,
      single: m.single,
    }));
    const gsiv = g.wired ? 100 : 0;
    return {
      kind: KIND[type]!, type, offset: offsetOf(i), length: 0x100, revision: g.revision, identifier: i,
      mappingCount: mappings.length, mappingOffset: 0x40, mappings,
      baseAddress: BigInt(0x1000_0000 + 0x10_0000 * i), eventGsiv: gsiv, priGsiv: gsiv, gerrGsiv: gsiv, syncGsiv: gsiv,
      deviceIdMappingIndex: g.deviceIdIndex, segment: 0, itsIds: [0],
    } as unknown as IortNode;
  });
  return { nodes, nodeCount: nodes.length, nodeOffset: 0x30, issues: [], header: {} as IortTable['header'] };
}

test('IORT ranges: every ID of every piece resolves as mapId resolves it alone', () => {
  fc.assert(
    fc.property(tableGen, fc.constantFrom(SMMU_TYPES, MSI_TYPES), fc.boolean(), fc.integer({ min: 0, max: 160 }), (g, mask, high, span) => {
      const t = makeTable(g);
      const rc = t.nodes[0]!;
      const lo = high ? HIGH : 0;
      const hi = high ? 0xffff_ffff : span;
      const pieces = new IortRangeResolver(t).mapRange(rc, lo, hi, mask);
      // The pieces cover lo..hi in order, without gaps or overlaps.
      assert.equal(pieces[0]!.lo, lo);
      assert.equal(pieces[pieces.length - 1]!.hi, hi);
      for (let k = 1; k < pieces.length; k++) assert.equal(pieces[k]!.lo, pieces[k - 1]!.hi + 1);
      const nodes = nodeByOffset(t);
      for (const p of pieces) {
        for (let id = p.lo; id <= p.hi; id++) {
          const want = mapId(t, rc, id, mask, nodes);
          assert.equal(p.node, want?.node ?? null, `id ${hex(id)}`);
          if (want) assert.equal(pieceId(p, id), want.id, `id ${hex(id)}`);
        }
      }
    }),
    { numRuns: 400 },
  );
});

// ------------------------------------------------------------------ device-tree maps

const dtEntryGen = fc.record({
  ridBase: fc.integer({ min: 0, max: 300 }),
  phandle: fc.constant(1),
  outBase: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0xffff_ff00, max: 0xffff_ffff })),
  length: fc.integer({ min: 0, max: 80 }),
  target: fc.constant(null),
});

test('device-tree map table: the interval lookup picks the entry of_map_id picks', () => {
  fc.assert(
    fc.property(fc.array(dtEntryGen, { maxLength: 12 }), (map: DtMapEntry[]) => {
      const table = dtMapTable(map);
      for (let rid = 0; rid <= 400; rid++) {
        const e = table.entries[dtMapTableIndex(table, rid)] ?? null;
        const want = dtMapRid(map, 0xffff_ffff, rid);
        if (want === null) assert.equal(e, null, `rid ${rid}`);
        else {
          assert.ok(e, `rid ${rid}`);
          assert.equal((rid - e.ridBase + e.outBase) >>> 0, want.id);
          assert.equal(map.find((x) => rid >= x.ridBase && rid - x.ridBase < x.length), e);
        }
      }
    }),
    { numRuns: 400 },
  );
});

// ------------------------------------------------------------------ the cross-check itself

const MAX_RUNS = 8;

/** The per-RID cross-check, as lint did it before it resolved ranges: the reference. */
function referenceCross(fdt: Fdt, iort: IortTable, dtbFile: string, iortFile: string): string[] {
  const out: string[] = [];
  const bridges = dtHostBridges(fdt);
  const rcs = iort.nodes.filter((n) => n.kind === 'root-complex');
  const nodes = nodeByOffset(iort);
  type Side = { smmu: number | null; sid: number | null; its: boolean; devid: number | null };
  const dtSide = (b: DtHostBridge, rid: number): Side => {
    const s = b.iommuMap ? dtMapRid(b.iommuMap, b.iommuMapMask, rid) : null;
    let its = false;
    let devid: number | null = null;
    if (b.msiMap) {
      const m = dtMapRid(b.msiMap, b.msiMapMask, rid);
      if (m && isItsNode(m.target)) (its = true), (devid = m.id);
    } else if (isItsNode(b.msiParent)) (its = true), (devid = rid);
    return { smmu: s?.target?.base ?? (s ? -1 : null), sid: s?.id ?? null, its, devid };
  };
  const iortSide = (rc: IortNode, rid: number): Side => {
    const r = routeIortRid(iort, rc, rid, nodes);
    const smmu = r.smmu && r.smmu.kind === 'smmuv3' ? Number(r.smmu.baseAddress) : r.smmu ? -1 : null;
    return { smmu, sid: r.streamId, its: r.its !== null, devid: r.deviceId };
  };
  const fmt = (s: Side): string => `${s.smmu === null ? 'no SMMU' : `SMMU ${s.smmu < 0 ? '?' : hex(s.smmu)} SID ${hex(s.sid ?? 0)}`}, ${s.its ? `ITS DeviceID ${hex(s.devid ?? 0)}` : 'no ITS'}`;
  for (const b of bridges) for (const p of b.problems) out.push(`${dtbFile} ${b.path} ${p}`);
  bridges.forEach((b, i) => {
    const seg = b.segment ?? (bridges.length === 1 ? 0 : i);
    const rc = rcs.find((n) => n.kind === 'root-complex' && n.segment === seg);
    if (!rc) return;
    let runs = 0;
    let runStart = -1;
    let runDt = '';
    let runIort = '';
    const flush = (end: number): void => {
      if (runStart < 0) return;
      if (runs++ < MAX_RUNS) out.push(`segment ${seg} RIDs ${hex(runStart)}..${hex(end)}: device tree ${b.path} gives ${runDt} but the IORT gives ${runIort} (first RID of the run)`);
      runStart = -1;
    };
    const lo = b.busStart << 8;
    const hi = (b.busEnd << 8) | 0xff;
    for (let rid = lo; rid <= hi; rid++) {
      const d = dtSide(b, rid);
      const a = iortSide(rc, rid);
      if (d.smmu === a.smmu && d.sid === a.sid && d.its === a.its && d.devid === a.devid) flush(rid - 1);
      else if (runStart < 0) (runStart = rid), (runDt = fmt(d)), (runIort = fmt(a));
    }
    flush(hi);
    if (runs > MAX_RUNS) out.push(`segment ${seg}: ${runs - MAX_RUNS} more mismatching RID runs not shown`);
  });
  return out;
}

const SMMU_BASE = 0x1000_0000 + 0x10_0000 * 2; // node 2 of makeTable's layout
const ITS_PHANDLE = 2;
const SMMU_PHANDLE = 3;

function dtWithMaps(iommu: DtMapEntry[] | null, msi: DtMapEntry[] | null, masks: [number | null, number | null], msiParent: boolean): Fdt {
  const tuple = (m: DtMapEntry[]): Uint8Array => cells(...m.flatMap((e) => [e.ridBase, e.phandle, e.outBase, e.length]));
  const props: [string, Uint8Array][] = [['compatible', strings('pci-host-ecam-generic')], ['bus-range', cells(0, 0)]];
  if (iommu) props.push(['iommu-map', tuple(iommu)]);
  if (msi) props.push(['msi-map', tuple(msi)]);
  if (masks[0] !== null) props.push(['iommu-map-mask', cells(masks[0])]);
  if (masks[1] !== null) props.push(['msi-map-mask', cells(masks[1])]);
  if (msiParent) props.push(['msi-parent', cells(ITS_PHANDLE)]);
  const root = node('', [['#address-cells', cells(2)], ['#size-cells', cells(2)]], [
    node('intc@8000000', [['compatible', strings('arm,gic-v3')], ['reg', cells(0, 0x800_0000, 0, 0x1_0000)]], [
      node('its@8080000', [['compatible', strings('arm,gic-v3-its')], ['reg', cells(0, 0x808_0000, 0, 0x2_0000)], ['phandle', cells(ITS_PHANDLE)]]),
    ]),
    node(`smmuv3@${SMMU_BASE.toString(16)}`, [['compatible', strings('arm,smmu-v3')], ['reg', cells(0, SMMU_BASE, 0, 0x2_0000)], ['phandle', cells(SMMU_PHANDLE)]]),
    node('pcie@10000000', props),
  ]);
  return { root, reservations: [], bootCpuidPhys: 0 };
}

const dtMapGen = fc.record({
  ridBase: fc.integer({ min: 0, max: 255 }),
  phandle: fc.constantFrom(ITS_PHANDLE, SMMU_PHANDLE, 77),
  outBase: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0xffff_ff00, max: 0xffff_ffff })),
  length: fc.integer({ min: 0, max: 300 }),
  target: fc.constant(null),
});

test('cross-check by ranges reports exactly what the per-RID reference reports', () => {
  fc.assert(
    fc.property(
      tableGen,
      fc.option(fc.array(dtMapGen, { maxLength: 5 })),
      fc.option(fc.array(dtMapGen, { maxLength: 5 })),
      fc.tuple(fc.option(fc.constantFrom(0xffff, 0xff, 0xf8, 0xffff_ffff)), fc.option(fc.constantFrom(0xffff, 0x7f, 0xffff_ffff))),
      fc.boolean(),
      (g, iommu, msi, masks, msiParent) => {
        // Node 0 is the root complex (segment 0); make node 2 the SMMUv3 the DT names and node 3 an ITS group.
        const types = [...g.types];
        while (types.length < 4) types.push(IortNodeType.NAMED_COMPONENT);
        types[2] = IortNodeType.SMMU_V3;
        types[3] = IortNodeType.ITS_GROUP;
        const maps = [...g.maps];
        while (maps.length < 4) maps.push([]);
        const t = makeTable({ ...g, types, maps });
        const fdt = dtWithMaps(iommu, msi, masks, msiParent);
        const got = crossDtIort(fdt, t, 'dtb', 'iort').map((f) => (f.rule === 'dt-map' ? `dtb ${f.at} ${f.message}` : f.message));
        assert.deepEqual(got, referenceCross(fdt, t, 'dtb', 'iort'));
      },
    ),
    { numRuns: 300 },
  );
});

// ------------------------------------------------------------------ bounded work, counted

function virtIort(): IortTable {
  return decodeIort(buildIort(loadPreset('qemu-virt', { gicMsi: 'its', smmu: ['pcie0'] })));
}

test('an IORT whose root complex feeds a 1,000-node reference cycle: work proportional to the nodes', () => {
  for (const n of [100, 1000]) {
    const iort = decodeIort(iortWithCycle(n));
    const work: LintWork = { steps: 0 };
    const fdt = parseDtb(dtbWithLongIommuMap(1));
    const findings = crossDtIort(fdt, iort, 'dtb', 'iort', work);
    assert.ok(findings.some((f) => /IORT gives no SMMU, no ITS/.test(f.message)));
    // Both walks (SMMU and ITS) follow the cycle once per range: a few steps per node, not per RID.
    assert.ok(work.steps <= 16 * n + 200, `n=${n}: ${work.steps} steps`);
  }
});

test('a 100,000-entry iommu-map: work proportional to the entries', () => {
  for (const n of [1000, 100_000]) {
    const work: LintWork = { steps: 0 };
    const findings = crossDtIort(parseDtb(dtbWithLongIommuMap(n)), virtIort(), 'dtb', 'iort', work);
    assert.deepEqual(findings, []);
    assert.ok(work.steps <= 4 * n + 400, `n=${n}: ${work.steps} steps`);
  }
});

test('5,000 phandles referenced by 5,000 map entries: the tree is indexed once', () => {
  for (const n of [500, 5000]) {
    const fdt = parseDtb(dtbWithManyPhandles(n));
    const work = { steps: 0 };
    const bridges = dtHostBridges(fdt, work);
    assert.equal(bridges[0]!.iommuMap!.length, n);
    assert.ok(bridges[0]!.iommuMap!.every((e, i) => e.target?.base === 0x1000_0000 + i * 0x1000));
    assert.ok(work.steps <= 3 * n + 100, `n=${n}: ${work.steps} steps`);
    const cross = { steps: 0 };
    const findings = crossDtIort(fdt, virtIort(), 'dtb', 'iort', cross);
    assert.ok(findings.length > 0);
    assert.ok(cross.steps <= 12 * n + 400, `n=${n}: ${cross.steps} steps`);
  }
});

test('lint of the three inputs end to end: the expected findings, no hang', () => {
  const cycle = lintFiles([{ file: 'cycle.dat', bytes: iortWithCycle(1000) }, { file: 'virt.dtb', bytes: dtbWithLongIommuMap(1) }]);
  assert.ok(cycle.findings.some((f) => f.rule === 'dt-iort-mismatch' && /RIDs 0x0\.\.0xffff/.test(f.message)));
  const iort = buildIort(loadPreset('qemu-virt', { gicMsi: 'its', smmu: ['pcie0'] }));
  assert.deepEqual(lintFiles([{ file: 'IORT', bytes: iort }, { file: 'long.dtb', bytes: dtbWithLongIommuMap(100_000) }]).findings, []);
  const many = lintFiles([{ file: 'IORT', bytes: iort }, { file: 'many.dtb', bytes: dtbWithManyPhandles(5000) }]);
  assert.ok(many.findings.some((f) => f.rule === 'dt-iort-mismatch' && /SMMU 0x10000000 SID 0x0/.test(f.message)));
});
