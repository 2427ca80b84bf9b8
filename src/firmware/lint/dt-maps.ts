// Reads PCI host bridges and their RID translations out of a device tree, with Linux 6.1's
// of_map_id semantics (Linux 6.1): the RID is masked with *-map-mask, a tuple
// <rid-base phandle out-base length> matches rid-base <= masked < rid-base + length (length is a
// COUNT, no minus one), first match wins; without msi-map the MSI parent's DeviceID is the RID.
import { byPhandle, propCells, propStrings, walk, type Fdt, type FdtNode } from '../fdt/index.js';

export interface DtTarget {
  readonly path: string;
  readonly compatible: readonly string[];
  /** First `reg` address (assuming #address-cells = 2 as in our and QEMU's trees), or null. */
  readonly base: number | null;
}

export interface DtMapEntry {
  readonly ridBase: number;
  readonly phandle: number;
  readonly outBase: number;
  readonly length: number;
  readonly target: DtTarget | null;
}

export interface DtHostBridge {
  readonly path: string;
  readonly segment: number | null;
  readonly busStart: number;
  readonly busEnd: number;
  readonly iommuMap: readonly DtMapEntry[] | null;
  readonly iommuMapMask: number;
  readonly msiMap: readonly DtMapEntry[] | null;
  readonly msiMapMask: number;
  readonly msiParent: DtTarget | null;
  /** Problems with the properties (bad lengths, dangling phandles). */
  readonly problems: readonly string[];
}

function regBase(n: FdtNode): number | null {
  const reg = propCells(n, 'reg');
  if (!reg || reg.length < 2) return null;
  return reg[0]! * 0x1_0000_0000 + reg[1]!;
}

function target(root: FdtNode, ph: number): DtTarget | null {
  const hit = byPhandle(root, ph);
  if (!hit) return null;
  return { path: hit.path, compatible: propStrings(hit.node, 'compatible') ?? [], base: regBase(hit.node) };
}

function readMap(root: FdtNode, n: FdtNode, prop: string, problems: string[]): DtMapEntry[] | null {
  const raw = n.props.find((p) => p.name === prop)?.value;
  if (!raw) return null;
  if (raw.length % 16 !== 0) {
    problems.push(`${prop} is ${raw.length} bytes, not a multiple of 16 (Linux: "Bad ${prop} length")`);
    return [];
  }
  const c = propCells(n, prop) ?? [];
  const out: DtMapEntry[] = [];
  for (let i = 0; i + 3 < c.length; i += 4) {
    const e = { ridBase: c[i]!, phandle: c[i + 1]!, outBase: c[i + 2]!, length: c[i + 3]!, target: target(root, c[i + 1]!) };
    if (!e.target) problems.push(`${prop} entry ${i / 4} references phandle ${e.phandle}, which no node has`);
    out.push(e);
  }
  return out;
}

export function dtHostBridges(fdt: Fdt): DtHostBridge[] {
  const out: DtHostBridge[] = [];
  for (const { path, node } of walk(fdt.root)) {
    const compat = propStrings(node, 'compatible') ?? [];
    if (!compat.includes('pci-host-ecam-generic') && !compat.includes('pci-host-cam-generic')) continue;
    const problems: string[] = [];
    const bus = propCells(node, 'bus-range');
    const seg = propCells(node, 'linux,pci-domain');
    const mp = propCells(node, 'msi-parent');
    const iommuMask = propCells(node, 'iommu-map-mask');
    const msiMask = propCells(node, 'msi-map-mask');
    const iommuMap = readMap(fdt.root, node, 'iommu-map', problems);
    const msiMap = readMap(fdt.root, node, 'msi-map', problems);
    for (const [prop, m, mask] of [['iommu-map', iommuMap, iommuMask], ['msi-map', msiMap, msiMask]] as const) {
      const k = mask?.[0] ?? 0xffff_ffff;
      for (const e of m ?? []) if ((e.ridBase & ~k) >>> 0 !== 0) problems.push(`${prop} rid-base ${e.ridBase} has bits outside the mask (Linux: "Invalid ${prop} translation")`);
    }
    out.push({
      path,
      segment: seg?.[0] ?? null,
      busStart: Math.min(bus?.[0] ?? 0, 255),
      busEnd: Math.min(bus?.[1] ?? 255, 255),
      iommuMap,
      iommuMapMask: iommuMask?.[0] ?? 0xffff_ffff,
      msiMap,
      msiMapMask: msiMask?.[0] ?? 0xffff_ffff,
      msiParent: mp && mp.length > 0 ? target(fdt.root, mp[0]!) : null,
      problems,
    });
  }
  return out;
}

/** of_map_id: the first entry containing the masked RID, or null (no translation). */
export function dtMapRid(map: readonly DtMapEntry[], mask: number, rid: number): { target: DtTarget | null; id: number } | null {
  const masked = (rid & mask) >>> 0;
  for (const e of map) {
    if (masked < e.ridBase || masked - e.ridBase >= e.length) continue;
    return { target: e.target, id: (masked - e.ridBase + e.outBase) >>> 0 };
  }
  return null;
}

export const isItsNode = (t: DtTarget | null): boolean => !!t && t.compatible.includes('arm,gic-v3-its');
