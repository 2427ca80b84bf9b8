// MADT builder/decoder (ACPI 6.5 §5.2.12): GIC structures of the presets, v2m frame, fuzzing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PlatformDescription } from '../../platform/description.js';
import { loadPreset } from '../../platform/presets/index.js';
import { UserInputError } from '../../util/errors.js';
import { byteSum } from './checksum.js';
import { decodeMadt } from './madt.js';
import { buildMadt } from './madt-build.js';

test('qemu-virt MADT: GICC, GICD v3, GICR 0x080a0000+0xf60000, GIC ITS 0x08080000 (QEMU 7.2)', () => {
  const bytes = buildMadt(loadPreset('qemu-virt'));
  assert.equal(byteSum(bytes), 0);
  const t = decodeMadt(bytes);
  assert.deepEqual(t.issues, []);
  assert.equal(t.header.signature, 'APIC');
  assert.deepEqual(
    t.entries.map((e) => [e.type, e.length]),
    [
      [0x0b, 80],
      [0x0c, 24],
      [0x0e, 16],
      [0x0f, 20],
    ],
  );
  const [gicc, gicd, gicr, its] = t.entries;
  assert.ok(gicc?.kind === 'gicc' && gicd?.kind === 'gicd' && gicr?.kind === 'gicr' && its?.kind === 'gic-its');
  assert.equal(gicc.enabled, true);
  assert.equal(gicc.mpidr, 0n);
  assert.equal(gicc.vgicMaintenanceInterrupt, 25);
  assert.equal(gicd.physicalBase, 0x0800_0000n);
  assert.equal(gicd.gicVersion, 3);
  assert.equal(gicr.base, 0x080a_0000n);
  assert.equal(gicr.rangeLength, 0xf6_0000);
  assert.equal(its.translationId, 0);
  assert.equal(its.physicalBase, 0x0808_0000n);
});

test('v2m MADT: GIC MSI frame with SPI select, count and base INTID; several CPUs with MPIDRs', () => {
  const base = loadPreset('openvmm', { gicMsi: 'v2m' });
  const d: PlatformDescription = { ...base, cpus: { ...base.cpus, count: 18 } };
  const t = decodeMadt(buildMadt(d));
  const gicc = t.entries.filter((e) => e.kind === 'gicc');
  assert.equal(gicc.length, 18);
  assert.equal(gicc[17]!.kind === 'gicc' && gicc[17]!.mpidr, 0x101n);
  const frame = t.entries.find((e) => e.kind === 'gic-msi-frame');
  assert.ok(frame?.kind === 'gic-msi-frame');
  assert.equal(frame.physicalBase, 0xeffe_8000n);
  assert.equal(frame.spiSelect, true);
  assert.equal(frame.spiCount, 64);
  assert.equal(frame.spiBase, 928); // OpenVMM: v2m -> INTIDs 928..991
  assert.equal(t.entries.some((e) => e.kind === 'gic-its'), false);
});

test('fuzz: decodeMadt only ever throws UserInputError', () => {
  const good = buildMadt(loadPreset('qemu-virt'));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { maxLength: 16 }), fc.nat(good.length), (muts, cut) => {
      const b = good.slice();
      for (const [i, v] of muts) b[i] = v;
      for (const x of [b, b.subarray(0, cut)]) {
        try {
          decodeMadt(x);
        } catch (e) {
          if (!(e instanceof UserInputError)) throw e;
        }
      }
    }),
    { numRuns: 2000 },
  );
});
