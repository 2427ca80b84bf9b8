// Generators for firmware inputs that made lint's cost grow with a product of sizes: an IORT whose
// root complex feeds a long reference cycle, a device tree with a very long iommu-map, and one
// with thousands of phandles that the map references.
import { encodeIort } from '../../src/firmware/acpi/iort-encode.js';
import type { IortNodeSpec } from '../../src/firmware/acpi/iort-types.js';
import { buildDeviceTree } from '../../src/firmware/dt/build.js';
import { cells, node, writeDtb, type FdtNode } from '../../src/firmware/fdt/index.js';
import { loadPreset } from '../../src/platform/presets/index.js';

/** An IORT: root complex (segment 0) -> named component 0 -> 1 -> ... -> n-1 -> 0 (a cycle; no SMMU, no ITS). */
export function iortWithCycle(n: number): Uint8Array {
  const nodes: IortNodeSpec[] = [
    { kind: 'root-complex', key: 'rc', identifier: 0, cacheCoherent: true, memoryAccessFlags: 3, ats: false, segment: 0, memoryAddressLimit: 64, mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, target: 'nc0' }] },
  ];
  for (let i = 0; i < n; i++) {
    nodes.push({ kind: 'named-component', key: `nc${i}`, identifier: i + 1, cacheCoherent: true, memoryAccessFlags: 3, addressSizeLimit: 48, name: `\\_SB.N${i}`, mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, target: `nc${(i + 1) % n}` }] });
  }
  return encodeIort(nodes, { revision: 5 });
}

function virtTree(): { root: FdtNode; dtb: () => Uint8Array } {
  const fdt = buildDeviceTree(loadPreset('qemu-virt', { gicMsi: 'its', smmu: ['pcie0'] }));
  return { root: fdt.root, dtb: () => writeDtb(fdt) };
}

/** <u32 ...> cells for a long list (the spread form overflows the call stack). */
function cellArray(v: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * v.length);
  const dv = new DataView(out.buffer);
  v.forEach((x, i) => dv.setUint32(4 * i, x));
  return out;
}

function setProp(n: FdtNode, name: string, value: Uint8Array): void {
  const i = n.props.findIndex((p) => p.name === name);
  if (i >= 0) n.props.splice(i, 1, { name, value });
  else n.props.push({ name, value });
}

function pcieNode(root: FdtNode): FdtNode {
  const pcie = root.children.find((c) => c.name.startsWith('pcie@'));
  if (!pcie) throw new Error('no pcie node');
  return pcie;
}

/**
 * qemu-virt's device tree with an `entries`-entry iommu-map: entries - 1 one-ID entries above the
 * RID space, then one entry for every RID (so a first-match scan per RID reads the whole map).
 */
export function dtbWithLongIommuMap(entries: number): Uint8Array {
  const t = virtTree();
  const smmu = t.root.children.find((c) => c.name.startsWith('smmuv3@'))!;
  const ph = smmu.props.find((p) => p.name === 'phandle')!.value;
  const phandle = new DataView(ph.buffer, ph.byteOffset).getUint32(0);
  const v: number[] = [];
  for (let i = 0; i < entries - 1; i++) v.push(0x10000 + i, phandle, i, 1);
  v.push(0, phandle, 0, 0x10000);
  setProp(pcieNode(t.root), 'iommu-map', cellArray(v));
  return t.dtb();
}

/** qemu-virt's device tree with `n` extra nodes carrying phandles, each the target of one iommu-map entry. */
export function dtbWithManyPhandles(n: number): Uint8Array {
  const t = virtTree();
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    const ph = 0x1000 + i;
    t.root.children.push(node(`iommu@${(0x1000_0000 + i * 0x1000).toString(16)}`, [['compatible', new TextEncoder().encode('vendor,iommu\0')], ['reg', cells(0, 0x1000_0000 + i * 0x1000, 0, 0x1000)], ['phandle', cells(ph)], ['#iommu-cells', cells(1)]]));
    v.push(i * 8, ph, i * 8, 8);
  }
  setProp(pcieNode(t.root), 'iommu-map', cellArray(v));
  return t.dtb();
}
