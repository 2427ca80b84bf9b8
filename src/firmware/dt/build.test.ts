// Device tree builder tests: the qemu-virt preset's tree against QEMU 7.2's own dumpdtb (node by
// node, phandles resolved), dtc accepting every generated DTB without warnings, and the MSI /
// IOMMU wiring of the other description shapes (v2m msi-parent, SMMU msi-parent, bypass gaps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildDeviceTree } from './build.js';
import { byPhandle, findNode, parseDtb, propCells, propStrings, toDts, walk, writeDtb, type FdtNode } from '../fdt/index.js';
import { loadPreset } from '../../platform/presets/index.js';
import { loadPlatformFile } from '../../platform/load.js';
import type { PlatformDescription } from '../../platform/description.js';

const root = new URL('../../../', import.meta.url).pathname;
const qemu = parseDtb(new Uint8Array(gunzipSync(readFileSync(join(root, 'test/firmware/fixtures/qemu-7.2-virt-smmuv3-its.dtb.gz')))));

function dtcWarnings(dtb: Uint8Array): { status: number | null; stderr: string; dts: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vsmmu-dt-'));
  try {
    writeFileSync(join(dir, 'in.dtb'), dtb);
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', '-o', join(dir, 'out.dts'), join(dir, 'in.dtb')], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status, stderr: r.stderr, dts: r.status === 0 ? readFileSync(join(dir, 'out.dts'), 'utf8') : '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A node's properties with phandle cells replaced by the referenced node's path (for the
 * listed phandle-carrying properties), so trees with different phandle numbering compare. */
function resolved(rootNode: FdtNode, n: FdtNode, name: string): unknown {
  const c = propCells(n, name);
  const path = (ph: number): string => byPhandle(rootNode, ph)?.path.replace(/@[0-9a-f]+/g, '@*') ?? `?${ph}`;
  if (!c) return propStrings(n, name);
  if (name === 'msi-map' || name === 'iommu-map') return c.map((v, i) => (i % 4 === 1 ? path(v) : v));
  if (name === 'interrupt-map') return c.map((v, i) => (i % 10 === 4 ? path(v) : v));
  if (name === 'clocks' || name === 'interrupt-parent') return c.map(path);
  return c;
}

const QEMU_PATHS: Record<string, string> = {
  '/smmuv3@9050000': '/smmuv3@9050000',
  '/pcie@10000000': '/pcie@4010000000',
  '/intc@8000000': '/intc@8000000',
  '/intc@8000000/its@8080000': '/intc@8000000/its@8080000',
  '/pl011@9000000': '/pl011@9000000',
  '/psci': '/psci',
  '/timer': '/timer',
  '/apb-pclk': '/apb-pclk',
  '/memory@40000000': '/memory@40000000',
};

test("qemu-virt: every property of QEMU 7.2's SMMU, PCIe, GIC, ITS, UART, PSCI, timer, clock and memory nodes is in our tree with the same value", () => {
  const ours = buildDeviceTree(loadPreset('qemu-virt'));
  for (const [qp, op] of Object.entries(QEMU_PATHS)) {
    const q = findNode(qemu.root, qp);
    const o = findNode(ours.root, op);
    assert.ok(q, `QEMU has ${qp}`);
    assert.ok(o, `we have ${op}`);
    for (const p of q.props) {
      if (p.name === 'phandle') continue;
      assert.deepEqual(resolved(ours.root, o, p.name), resolved(qemu.root, q, p.name), `${op} ${p.name}`);
    }
  }
  // Root interrupt-parent, model, cells; chosen stdout-path points at the UART.
  for (const p of ['interrupt-parent', 'model', '#size-cells', '#address-cells', 'compatible']) assert.deepEqual(resolved(ours.root, ours.root, p), resolved(qemu.root, qemu.root, p), p);
  assert.deepEqual(propStrings(findNode(ours.root, '/chosen') as FdtNode, 'stdout-path'), ['/pl011@9000000']);
  const cpu = findNode(ours.root, '/cpus/cpu@0');
  assert.ok(cpu);
  assert.deepEqual(propStrings(cpu, 'compatible'), ['arm,cortex-a57']);
  assert.deepEqual(propCells(cpu, 'reg'), [0]);
});

test('qemu-virt: our nodes have no property that QEMU\'s corresponding nodes lack', () => {
  const ours = buildDeviceTree(loadPreset('qemu-virt'));
  for (const [qp, op] of Object.entries(QEMU_PATHS)) {
    const o = findNode(ours.root, op) as FdtNode;
    const q = findNode(qemu.root, qp) as FdtNode;
    const extra = o.props.map((p) => p.name).filter((n) => !q.props.some((x) => x.name === n));
    assert.deepEqual(extra, [], `${op}: properties QEMU does not have`);
  }
});

function allDescriptions(): [string, PlatformDescription][] {
  return [
    ['qemu-virt', loadPreset('qemu-virt')],
    ['qemu-virt --gic-msi none', loadPreset('qemu-virt', { gicMsi: 'none' })],
    ['openvmm', loadPreset('openvmm')],
    ['openvmm --smmu s0rc0 --smmu s1rc0', loadPreset('openvmm', { smmu: ['s0rc0', 's1rc0'] })],
    ['openvmm --gic-msi v2m --smmu s1rc0', loadPreset('openvmm', { gicMsi: 'v2m', smmu: ['s1rc0'] })],
    ['two-segments.yaml', loadPlatformFile(join(root, 'examples/platforms/two-segments.yaml'))],
    ['gicv2-v2m.yaml', loadPlatformFile(join(root, 'examples/platforms/gicv2-v2m.yaml'))],
  ];
}

test('dtc accepts every generated DTB without warnings and prints our DTS', () => {
  for (const [name, d] of allDescriptions()) {
    const t = buildDeviceTree(d);
    const r = dtcWarnings(writeDtb(t));
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${name}: dtc warnings`);
    assert.equal(r.dts, toDts(t), name);
  }
});

test('every phandle reference in generated trees resolves and phandles are unique', () => {
  for (const [name, d] of allDescriptions()) {
    const t = buildDeviceTree(d);
    const nodes = walk(t.root);
    const phs = nodes.map((e) => propCells(e.node, 'phandle')?.[0]).filter((x): x is number => x !== undefined);
    assert.equal(new Set(phs).size, phs.length, `${name}: unique phandles`);
    for (const e of nodes) {
      for (const [prop, stride, at] of [['iommu-map', 4, 1], ['msi-map', 4, 1], ['msi-parent', 99, 0], ['interrupt-parent', 1, 0], ['clocks', 1, 0]] as const) {
        const c = propCells(e.node, prop);
        if (!c) continue;
        c.forEach((v, i) => {
          if (i % stride === at) assert.ok(byPhandle(t.root, v), `${name}: ${e.path} ${prop} -> phandle ${v}`);
        });
      }
    }
  }
});

test('v2m platforms: PCIe uses msi-parent to the v2m frame, no msi-map; the frame advertises its SPI INTIDs', () => {
  const d = loadPlatformFile(join(root, 'examples/platforms/gicv2-v2m.yaml'));
  const t = buildDeviceTree(d);
  const pcie = findNode(t.root, '/pcie@4010000000') as FdtNode;
  const v2m = findNode(t.root, '/intc@8000000/v2m@8020000') as FdtNode;
  assert.ok(v2m);
  assert.equal(propCells(pcie, 'msi-map'), null);
  assert.deepEqual(propCells(pcie, 'msi-parent'), propCells(v2m, 'phandle'));
  assert.deepEqual(propCells(v2m, 'arm,msi-base-spi'), [80 + 32]);
  assert.deepEqual(propCells(v2m, 'arm,msi-num-spis'), [64]);
  assert.deepEqual(propStrings(findNode(t.root, '/intc@8000000') as FdtNode, 'compatible'), ['arm,cortex-a15-gic']);
  // GICv2 PPIs carry the CPU mask (2 CPUs -> 0x3 << 8) in the flags cell.
  assert.deepEqual(propCells(findNode(t.root, '/timer') as FdtNode, 'interrupts'), [1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304]);
});

test('an SMMU that uses MSIs gets msi-parent = <&its deviceId>; partial coverage leaves the bypass buses out of iommu-map but in msi-map', () => {
  const d = loadPlatformFile(join(root, 'examples/platforms/two-segments.yaml'));
  const t = buildDeviceTree(d);
  const its = findNode(t.root, '/intc@8000000/its@8080000') as FdtNode;
  const itsPh = propCells(its, 'phandle')?.[0] as number;
  const smmu = findNode(t.root, '/smmuv3@9050000') as FdtNode;
  const smmuPh = propCells(smmu, 'phandle')?.[0] as number;
  // Device IDs: rc0 0x0000..0x3fff, rc1 0x10000..0x11fff; the SMMU's own is the first above.
  assert.deepEqual(propCells(smmu, 'msi-parent'), [itsPh, 0x12000]);
  const rc1 = findNode(t.root, '/pcie@4020000000') as FdtNode;
  // rc1: buses 0..31, buses 1..31 bypass; stream IDs start at 0x4000.
  assert.deepEqual(propCells(rc1, 'iommu-map'), [0, smmuPh, 0x4000, 1 << 8]);
  assert.deepEqual(propCells(rc1, 'msi-map'), [0, itsPh, 0x10000, 32 << 8]);
  assert.deepEqual(propCells(rc1, 'linux,pci-domain'), [1]);
  assert.deepEqual(propCells(rc1, 'bus-range'), [0, 31]);
});

test('msi none: no MSI properties anywhere, no ITS node', () => {
  const t = buildDeviceTree(loadPreset('qemu-virt', { gicMsi: 'none' }));
  for (const e of walk(t.root)) {
    assert.equal(propCells(e.node, 'msi-map'), null, e.path);
    assert.equal(propCells(e.node, 'msi-parent'), null, e.path);
    assert.notEqual(propStrings(e.node, 'compatible')?.[0], 'arm,gic-v3-its', e.path);
  }
  assert.ok(propCells(findNode(t.root, '/pcie@4010000000') as FdtNode, 'iommu-map'));
});

test('qemu-hosted: the SMMU and virtio-mmio nodes sit in the register window, each transport names its own stream ID; dtc accepts the tree', () => {
  const d = loadPreset('qemu-hosted');
  const fdt = buildDeviceTree(d, undefined, { initrd: { start: 0x4800_0000, end: 0x4812_3456 } });
  const dtb = writeDtb(fdt);
  const r = dtcWarnings(dtb);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'dtc warnings');
  const smmu = findNode(fdt.root, '/smmuv3@80000000');
  assert.ok(smmu, 'SMMU node');
  const smmuPh = propCells(smmu, 'phandle')![0];
  const transports = fdt.root.children.filter((n) => n.name.startsWith('virtio_mmio@'));
  assert.equal(transports.length, d.virtioMmio.length);
  const sids = new Set<number>();
  transports.forEach((n, i) => {
    const v = d.virtioMmio[i]!;
    assert.equal(n.name, `virtio_mmio@${v.base.toString(16)}`);
    assert.deepEqual(propStrings(n, 'compatible'), ['virtio,mmio']);
    assert.deepEqual(propCells(n, 'reg'), [0, v.base, 0, v.size]);
    assert.deepEqual(propCells(n, 'iommus'), [smmuPh, v.streamId]);
    assert.deepEqual(propCells(n, 'interrupts'), [0, v.interrupt.spi, 1]);
    sids.add(v.streamId);
  });
  assert.equal(sids.size, transports.length, 'stream IDs distinct');
  const chosen = findNode(fdt.root, '/chosen')!;
  assert.deepEqual(propCells(chosen, 'linux,initrd-start'), [0, 0x4800_0000]);
  assert.deepEqual(propCells(chosen, 'linux,initrd-end'), [0, 0x4812_3456]);
  assert.deepEqual(propStrings(chosen, 'stdout-path'), ['/pl011@9000000']);
  assert.equal(findNode(fdt.root, '/pcie@4010000000'), null, 'no PCIe host: config space cannot live in a polled window');
  assert.deepEqual(walk(fdt.root).filter((n) => n.path.startsWith('/memory@')).map((n) => n.path), ['/memory@40000000'], 'the register window is not memory');
});
