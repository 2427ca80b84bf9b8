// Presets and the --gic-msi / --smmu flags: known addresses and SPIs of QEMU virt and OpenVMM
// (QEMU 7.2, OpenVMM) and the original's error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPlatform, loadPreset, PRESET_NAMES } from './presets/index.js';
import { applyOverrides, parseGicMsi } from './overrides.js';
import { loadPlatformFile } from './load.js';
import { spiIntid } from './description.js';
import { UserInputError } from '../util/errors.js';

const root = new URL('../../', import.meta.url).pathname;
const userError = (re: RegExp) => (e: unknown) => e instanceof UserInputError && re.test(e.message);

test('presets are listed and valid', () => {
  assert.deepEqual([...PRESET_NAMES].sort(), ['openvmm', 'qemu-hosted', 'qemu-virt']);
  assert.throws(() => loadPreset('pc'), userError(/^--preset: unknown preset 'pc'/));
});

test('qemu-virt has QEMU 7.2 virt addresses and SMMU SPIs 74..77 edge', () => {
  const d = loadPreset('qemu-virt');
  assert.equal(d.gic.distributor.base, 0x0800_0000);
  assert.equal(d.gic.redistributors[0]?.base, 0x080a_0000);
  assert.equal(d.gic.its?.base, 0x0808_0000);
  assert.equal(d.gic.msi, 'its');
  assert.equal(d.uart?.base, 0x0900_0000);
  assert.equal(d.memory[0]?.base, 0x4000_0000);
  const s = d.smmus[0];
  assert.ok(s);
  assert.equal(s.base, 0x0905_0000);
  assert.deepEqual([s.interrupts.eventq, s.interrupts.priq, s.interrupts.cmdqSync, s.interrupts.gerror].map((i) => i && [spiIntid(i), i.trigger]), [
    [106, 'edge'],
    [107, 'edge'],
    [108, 'edge'],
    [109, 'edge'],
  ]);
  assert.equal(s.features, 'qemu-7.2');
  const rc = d.rootComplexes[0];
  assert.equal(rc?.ecam.base, 0x40_1000_0000);
  assert.deepEqual(rc?.buses, { start: 0, end: 255 });
  assert.deepEqual(rc?.mmio32, { base: 0x1000_0000, size: 0x2eff_0000 });
});

test('openvmm: GIC/ITS/v2m/UART addresses of the original and no SMMU by default', () => {
  const d = loadPreset('openvmm');
  assert.equal(d.gic.distributor.base, 0xffff_0000);
  assert.equal(d.gic.redistributors[0]?.base, 0xeffe_e000);
  assert.equal(d.gic.its?.base, 0xeffc_0000);
  assert.equal(d.gic.v2m?.base, 0xeffe_8000);
  assert.equal(d.uart?.base, 0xeffe_c000);
  assert.equal(d.gic.msi, 'its'); // auto on GICv3
  assert.equal(d.smmus.length, 0);
  assert.deepEqual(d.rootComplexes.map((r) => [r.name, r.segment]), [['s0rc0', 0], ['s1rc0', 1]]);
  assert.equal(d.timer.virtual.ppi + 16, 20);
});

test('openvmm SPI allocation is top-down in the original order (spi_layout.rs known answers)', () => {
  const its = loadPreset('openvmm', { smmu: ['s0rc0', 's1rc0'] });
  assert.deepEqual(its.smmus.map((s) => [spiIntid(s.interrupts.eventq!), spiIntid(s.interrupts.gerror!)]), [[991, 990], [989, 988]]);
  const v2m = loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s0rc0', 's1rc0'] });
  assert.equal(v2m.gic.msi, 'v2m');
  assert.equal(v2m.gic.v2m && spiIntid({ spi: v2m.gic.v2m.spiBase, trigger: 'edge' }), 928);
  assert.equal(v2m.gic.v2m?.spiCount, 64);
  assert.deepEqual(v2m.smmus.map((s) => [spiIntid(s.interrupts.eventq!), spiIntid(s.interrupts.gerror!)]), [[927, 926], [925, 924]]);
  // 128 KiB windows, one per instance, distinct and below the reserved zone.
  assert.ok(its.smmus.every((s) => s.base % 0x2_0000 === 0 && s.base + 0x2_0000 <= 0xef00_0000));
  assert.notEqual(its.smmus[0]?.base, its.smmus[1]?.base);
  // Instance order follows the flags.
  assert.deepEqual(loadPreset('openvmm', { smmu: ['s1rc0', 's0rc0'] }).smmus.map((s) => s.rootComplexes[0]), ['s1rc0', 's0rc0']);
});

test("--smmu errors use the original's messages", () => {
  assert.throws(() => loadPreset('openvmm', { smmu: ['s9rc0'] }), (e: unknown) => e instanceof UserInputError && e.message === "--smmu s9rc0: SMMU instance references unknown root complex 's9rc0'");
  assert.throws(() => loadPreset('openvmm', { smmu: ['s0rc0', 's0rc0'] }), (e: unknown) => e instanceof UserInputError && e.message === "--smmu s0rc0: duplicate SMMU instance for root complex 's0rc0'");
});

test('--smmu on qemu-virt keeps the described SMMU; unknown root complexes are refused', () => {
  const d = loadPreset('qemu-virt', { gicMsi: 'its', smmu: ['pcie0'] });
  assert.deepEqual(d, loadPreset('qemu-virt'));
  assert.throws(() => loadPreset('qemu-virt', { smmu: ['pcie1'] }), userError(/SMMU instance references unknown root complex 'pcie1'/));
});

test('--gic-msi: ITS with GICv2 is refused, v2m needs a frame, none removes MSIs', () => {
  const v2 = loadPlatformFile(join(root, 'examples/platforms/gicv2-v2m.yaml'));
  assert.equal(v2.gic.msi, 'v2m');
  assert.throws(() => applyOverrides(v2, { gicMsi: 'its' }), (e: unknown) => e instanceof UserInputError && e.message === '--gic-msi its: ITS is incompatible with GICv2');
  assert.throws(() => loadPreset('qemu-virt', { gicMsi: 'v2m' }), userError(/v2m requested but the platform has no GICv2m frame/));
  assert.equal(loadPreset('qemu-virt', { gicMsi: 'none' }).gic.msi, 'none');
  assert.equal(loadPreset('openvmm', { gicMsi: 'v2m' }).gic.msi, 'v2m');
  assert.equal(loadPreset('openvmm', { gicMsi: 'auto' }).gic.msi, 'its');
  assert.equal(applyOverrides(v2, { gicMsi: 'auto' }).gic.msi, 'v2m');
  assert.throws(() => parseGicMsi('gicv2m'), userError(/^--gic-msi: unknown MSI controller 'gicv2m'/));
});

test('a config file must describe the SMMU --smmu asks for; SMMUs it has are restricted to the named root complexes', () => {
  const d = loadPlatformFile(join(root, 'examples/platforms/two-segments.yaml'));
  const one = applyOverrides(d, { smmu: ['rc1'] });
  assert.deepEqual(one.smmus.map((s) => [s.name, s.rootComplexes]), [['smmu0', ['rc1']]]);
  const v2 = loadPlatformFile(join(root, 'examples/platforms/gicv2-v2m.yaml'));
  const bare = { ...v2, smmus: [] };
  assert.throws(() => applyOverrides(bare, { smmu: ['pcie0'] }), userError(/no SMMU is described for root complex 'pcie0'/));
});

test('loadPlatform takes exactly one of CONFIG and --preset', () => {
  assert.throws(() => loadPlatform({}), userError(/exactly one/));
  assert.throws(() => loadPlatform({ preset: 'qemu-virt', config: 'x.yaml' }), userError(/exactly one/));
  assert.equal(loadPlatform({ config: join(root, 'examples/platforms/qemu-virt.yaml') }).smmus.length, 1);
});

test('an override that makes SPIs collide is refused (v2m block over the SMMU SPIs)', () => {
  const d = loadPlatformFile(join(root, 'examples/platforms/gicv2-v2m.yaml'));
  const clash = { ...d, gic: { ...d.gic, v2m: { ...d.gic.v2m!, spiBase: 48 } } };
  assert.throws(() => applyOverrides(clash, {}), userError(/SPI 74 of SMMU 'smmu0' eventq overlaps SPI 48\.\.111 of the GICv2m frame/));
});
