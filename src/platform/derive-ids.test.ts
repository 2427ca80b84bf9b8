// ID-map derivation tests: known answers for the presets (QEMU 7.2: iommu-map and
// msi-map <0 &x 0 0x10000>; OpenVMM: device ID = segment << 16 | RID), and a
// fast-check property against a deliberately simple per-RID reference over random descriptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allGsivsWired, deriveIdMaps, idsReport, routeRid } from './derive-ids.js';
import { mapId } from '../pcie/id-map.js';
import { loadPreset } from './presets/index.js';
import { validatePlatform, type PlatformInput } from './schema.js';
import type { PlatformDescription } from './description.js';

test('qemu-virt: RC maps all 65536 RIDs to smmu0 (SID = RID) and the ITS (devid = RID); no SMMU MSIs', () => {
  const m = deriveIdMaps(loadPreset('qemu-virt'));
  assert.deepEqual(m.rootComplexes[0]?.toSmmu, [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'smmu0' }]);
  assert.deepEqual(m.rootComplexes[0]?.toMsi, [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'its0' }]);
  assert.deepEqual(m.rootComplexes[0]?.iort, [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'smmu0' }]);
  assert.deepEqual(m.smmus, [{ smmu: 'smmu0', toMsi: [{ inputBase: 0, count: 0x1_0000, outputBase: 0, target: 'its0' }], ownMsi: null }]);
});

test('openvmm with an SMMU on s0rc0 only: s1rc0 goes straight to the ITS with devid = 1 << 16 | RID', () => {
  const d = loadPreset('openvmm', { smmu: ['s0rc0'] });
  const m = deriveIdMaps(d);
  assert.deepEqual(m.rootComplexes[1]?.iort, [{ inputBase: 0, count: 0x1_0000, outputBase: 0x1_0000, target: 'its0' }]);
  assert.equal(m.rootComplexes[1]?.smmu, null);
  assert.deepEqual(routeRid(d, m, 's1rc0', 0x0108), { rid: 0x0108, smmu: null, streamId: null, msiController: 'its0', deviceId: 0x1_0108 });
  assert.deepEqual(routeRid(d, m, 's0rc0', 0x0108), { rid: 0x0108, smmu: 'smmu0', streamId: 0x0108, msiController: 'its0', deviceId: 0x0108 });
});

test('no ITS: IORT RC nodes of uncovered root complexes have no mappings and never name an ITS', () => {
  const d = loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0'] });
  const m = deriveIdMaps(d);
  assert.deepEqual(m.rootComplexes[1]?.iort, []);
  assert.deepEqual(m.rootComplexes[0]?.iort.map((x) => x.target), ['smmu0']);
  assert.deepEqual(m.smmus[0]?.toMsi, []);
  assert.equal(m.smmus[0]?.ownMsi, null);
  assert.deepEqual(routeRid(d, m, 's1rc0', 0x10), { rid: 0x10, smmu: null, streamId: null, msiController: 'v2m0', deviceId: null });
});

test('ids.json lists every enumerated function with hex IDs', () => {
  const d = loadPreset('openvmm', { smmu: ['s1rc0'] });
  const r = idsReport(d);
  assert.equal(r.functions.length, 8);
  const f = r.functions.find((x) => x.rootComplex === 's1rc0' && x.name === 's1rc0rp2');
  assert.deepEqual(f, { rootComplex: 's1rc0', segment: 1, bdf: '0001:00:02.0', rid: '0x10', name: 's1rc0rp2', path: 's1rc0rp2', kind: 'root-port', smmu: 'smmu0', streamId: '0x10', msiController: 'its0', deviceId: '0x10010' });
});

// ------------------------------------------------------------------ property vs reference

interface RcSpec {
  start: number;
  len: number;
  bypass: [number, number] | null;
  smmu: number | null;
  streamIdBase: number;
}

const rcSpec = fc.record({
  start: fc.nat({ max: 20 }),
  len: fc.integer({ min: 1, max: 56 }),
  bypass: fc.option(fc.tuple(fc.nat({ max: 55 }), fc.nat({ max: 55 })), { nil: null }),
  smmu: fc.option(fc.nat({ max: 1 }), { nil: null }),
  streamIdBase: fc.constantFrom(0, 0x100, 0x200),
});

function inputOf(rcs: RcSpec[], msi: 'its' | 'v2m' | 'none', smmuMsi: boolean): PlatformInput {
  const used = new Set(rcs.map((r) => r.smmu).filter((x): x is number => x !== null));
  return {
    memory: [{ base: 0x4000_0000, size: 0x1000_0000 }],
    cpus: { count: 1 },
    gic: {
      version: 3,
      distributor: { base: 0x0800_0000, size: 0x1_0000 },
      redistributors: [{ base: 0x080a_0000, size: 0x2_0000 }],
      its: { base: 0x0808_0000 },
      v2m: { base: 0x0802_0000, spiBase: 200, spiCount: 64 },
      msi,
    },
    smmus: [...used].map((i) => ({
      name: `smmu${i}`,
      base: 0x0905_0000 + i * 0x2_0000,
      rootComplexes: rcs.flatMap((r, j) => (r.smmu === i ? [`rc${j}`] : [])),
      msi: smmuMsi,
      interrupts: { eventq: { spi: 74 + 4 * i }, gerror: { spi: 75 + 4 * i } },
    })),
    rootComplexes: rcs.map((r, j) => {
      // RC j owns buses j*80 + [0, 76]: stream-ID ranges stay disjoint and within 16 bits.
      const start = j * 80 + r.start;
      const end = start + r.len - 1;
      const by = r.bypass ? [Math.min(r.bypass[0], r.bypass[1]), Math.max(r.bypass[0], r.bypass[1])].map((b) => Math.min(end, start + b)) : null;
      return {
        name: `rc${j}`,
        segment: j,
        ecam: { base: 0x40_0000_0000 + j * 0x1000_0000 },
        buses: { start, end },
        streamIdBase: r.streamIdBase,
        iommuBypass: by ? [{ start: by[0] as number, end: by[1] as number }] : [],
      };
    }),
  };
}

/** The reference: what one RID should become, straight from the description. */
function reference(d: PlatformDescription, rcIndex: number, rid: number) {
  const rc = d.rootComplexes[rcIndex]!;
  const bus = rid >> 8;
  const inRange = bus >= rc.buses.start && bus <= rc.buses.end;
  const smmu = d.smmus.find((s) => s.rootComplexes.includes(rc.name));
  const bypass = rc.iommuBypass.some((b) => bus >= b.start && bus <= b.end);
  const covered = inRange && smmu !== undefined && !bypass;
  const its = d.gic.msi === 'its';
  return {
    smmu: covered ? { target: smmu.name, id: rc.streamIdBase + rid } : null,
    msi: inRange && its ? { target: 'its0', id: rc.deviceIdBase + rid } : null,
    iort: covered ? { target: smmu.name, id: rc.streamIdBase + rid } : inRange && its ? { target: 'its0', id: rc.deviceIdBase + rid } : null,
  };
}

test('property: derived maps agree with the per-RID reference, and RC -> SMMU -> ITS equals RC -> ITS', () => {
  fc.assert(
    fc.property(fc.array(rcSpec, { minLength: 1, maxLength: 3 }), fc.constantFrom('its', 'v2m', 'none') as fc.Arbitrary<'its' | 'v2m' | 'none'>, fc.boolean(), (rcs, msi, smmuMsi) => {
      const r = validatePlatform(inputOf(rcs, msi, smmuMsi));
      if (!r.ok) throw new Error(`generated description invalid: ${JSON.stringify(r.issues[0])}`);
      const d = r.description;
      const m = deriveIdMaps(d);
      d.rootComplexes.forEach((rc, i) => {
        const rm = m.rootComplexes[i]!;
        for (let bus = 0; bus < 256; bus++) {
          for (const devfn of [0, 1, 0xff]) {
            const rid = (bus << 8) | devfn;
            const ref = reference(d, i, rid);
            assert.deepEqual(mapId(rm.toSmmu, rid), ref.smmu, `${rc.name} toSmmu ${rid}`);
            assert.deepEqual(mapId(rm.toMsi, rid), ref.msi, `${rc.name} toMsi ${rid}`);
            assert.deepEqual(mapId(rm.iort, rid), ref.iort, `${rc.name} iort ${rid}`);
            if (ref.smmu && ref.msi) {
              const sm = m.smmus.find((s) => s.smmu === ref.smmu!.target)!;
              assert.deepEqual(mapId(sm.toMsi, ref.smmu.id), ref.msi, `${rc.name} chain ${rid}`);
            }
          }
        }
        // IORT ranges never overlap and only name nodes that exist.
        const sorted = [...rm.iort].sort((a, b) => a.inputBase - b.inputBase);
        sorted.forEach((x, k) => {
          if (k > 0) assert.ok(sorted[k - 1]!.inputBase + sorted[k - 1]!.count <= x.inputBase);
          assert.ok(d.smmus.some((s) => s.name === x.target) || (msi === 'its' && x.target === 'its0'));
        });
      });
      for (const s of m.smmus) {
        const sd = d.smmus.find((x) => x.name === s.smmu)!;
        assert.equal(s.ownMsi !== null, msi === 'its' && (smmuMsi || !allGsivsWired(sd)));
        if (s.ownMsi) assert.equal(s.ownMsi.deviceId, sd.msiDeviceId);
        if (s.ownMsi) for (const rm of m.rootComplexes) for (const x of rm.toMsi) assert.ok(s.ownMsi.deviceId < x.outputBase || s.ownMsi.deviceId >= x.outputBase + x.count);
      }
    }),
    { numRuns: 150 },
  );
});
